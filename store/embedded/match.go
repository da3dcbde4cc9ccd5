package embedded

import (
	"strings"

	"github.com/256dpi/lungo/bsonkit"
	"github.com/256dpi/lungo/mongokit"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// matcher decides whether a document matches a query filter, with
// exactly mongokit.Match's answer (the differential test in
// match_test.go compares them on random documents and filters).
//
// mongokit.Match interprets the filter anew for every document: operator
// look-ups in maps, closures, paths split and joined, arrays collected.
// It was 7 % of the server's CPU under load, most of it on the simplest
// filters (a session by token, not deleted and not expired; a loan by
// number; staff by role). A matcher compiles the filter once per query
// into predicates on scalar fields (equality, $ne, $gt/$gte/$lt/$lte,
// $in/$nin of scalars, $exists, under implicit and $and) and evaluates
// them with mongokit's own comparison (bsonkit.Inspect and Compare).
// Anything else goes to mongokit.Match: a filter with another form
// ($or, $not, $elemMatch, a regular expression, a whole-document
// equality…), and any document whose path to a filtered field meets an
// array, where MongoDB's element-wise rules apply.
type matcher struct {
	filter   bsonkit.Doc
	compiled bool        // the filter is compiled at the second document: a look-up of one is cheaper without
	preds    []predicate // used when fast
	buf      [4]predicate
	fast     bool
}

type predOp uint8

const (
	opEq predOp = iota
	opNe
	opGt
	opGte
	opLt
	opLte
	opIn
	opNin
	opExists
	opElemMatch
)

// predicate is one condition on one field.
type predicate struct {
	path    string // dotted
	op      predOp
	operand any         // a scalar (see scalarOperand)
	list    bson.A      // $in, $nin: scalars
	exists  bool        // $exists: the operand's truth, as mongokit reads it
	elem    []predicate // $elemMatch: the conditions one element must meet together
}

// newMatcher returns a matcher for filter (nil matches everything).
func newMatcher(filter bsonkit.Doc) *matcher {
	if filter == nil {
		filter = &bson.D{}
	}
	return &matcher{filter: filter}
}

// compileFilter compiles the matcher's filter.
func (m *matcher) compileFilter() {
	m.compiled = true
	m.preds = m.buf[:0] // most filters have a few conditions: no allocation of their own
	m.fast = m.compile(*m.filter)
}

// compile appends filter's predicates and reports whether every part of
// it has a form the fast path takes.
func (m *matcher) compile(filter bson.D) bool {
	for _, e := range filter {
		if strings.HasPrefix(e.Key, "$") {
			if e.Key != "$and" {
				return false
			}
			arr, ok := e.Value.(bson.A)
			if !ok || len(arr) == 0 {
				return false
			}
			for _, item := range arr {
				sub, ok := item.(bson.D)
				if !ok || !m.compile(sub) {
					return false
				}
			}
			continue
		}
		path := e.Key
		if !plainPath(path) {
			return false
		}
		ops, isDoc := e.Value.(bson.D)
		if !isDoc || len(ops) == 0 || !strings.HasPrefix(ops[0].Key, "$") {
			if !scalarOperand(e.Value) {
				return false
			}
			m.preds = append(m.preds, predicate{path: path, op: opEq, operand: e.Value})
			continue
		}
		for _, o := range ops {
			p, ok := compileOperator(path, o)
			if !ok {
				return false
			}
			m.preds = append(m.preds, p)
		}
	}
	return true
}

func compileOperator(path string, o bson.E) (predicate, bool) {
	p := predicate{path: path, operand: o.Value}
	switch o.Key {
	case "$eq":
		p.op = opEq
	case "$ne":
		p.op = opNe
	case "$gt":
		p.op = opGt
	case "$gte":
		p.op = opGte
	case "$lt":
		p.op = opLt
	case "$lte":
		p.op = opLte
	case "$in", "$nin":
		p.op, p.operand = opIn, nil
		if o.Key == "$nin" {
			p.op = opNin
		}
		arr, ok := o.Value.(bson.A)
		if !ok {
			return p, false
		}
		for _, item := range arr {
			if !scalarOperand(item) {
				return p, false
			}
		}
		p.list = arr
		return p, true
	case "$exists":
		p.op, p.operand = opExists, nil
		p.exists = truthy(o.Value)
		return p, true
	case "$elemMatch":
		// Operators on the elements themselves ({$gte: "asha", $lt:
		// "ashb"}: a search word's prefix range over searchKeys); a
		// condition on the elements' fields goes to mongokit.
		p.op, p.operand = opElemMatch, nil
		conds, ok := o.Value.(bson.D)
		if !ok || len(conds) == 0 {
			return p, false
		}
		for _, c := range conds { // a plain key ({b: 1}) is no operator: refused below
			q, ok := compileOperator("", c)
			if !ok || q.op == opElemMatch {
				return p, false
			}
			p.elem = append(p.elem, q)
		}
		return p, true
	default:
		return p, false
	}
	return p, scalarOperand(o.Value)
}

// scalarOperand reports whether v is a value the fast path compares: one
// whose bsonkit comparison is a plain value comparison.
func scalarOperand(v any) bool {
	switch v.(type) {
	case nil, string, int32, int64, float64, bool, primitive.ObjectID, primitive.DateTime:
		return true
	}
	return false
}

// truthy is $exists's reading of its operand, as mongokit's matchExists:
// false, null and numeric zeros are false, anything else true.
func truthy(v any) bool {
	switch n := v.(type) {
	case bool:
		return n
	case nil:
		return false
	case int32:
		return n != 0
	case int64:
		return n != 0
	case float64:
		return n != 0
	}
	return true
}

// match reports whether doc matches the filter.
func (m *matcher) match(doc bsonkit.Doc) (bool, error) {
	if !m.compiled {
		m.compiled = true
		return mongokit.Match(doc, m.filter)
	}
	if m.preds == nil {
		m.compileFilter()
	}
	if !m.fast {
		return mongokit.Match(doc, m.filter)
	}
	for i := range m.preds {
		holds, plain := m.preds[i].test(*doc)
		if !plain {
			return mongokit.Match(doc, m.filter)
		}
		if !holds {
			return false, nil
		}
	}
	return true, nil
}

// test evaluates p on doc, or reports (plain false) that the value at its
// path has a form mongokit decides: a path through an array, a field
// that is an array or a document, or, for $elemMatch, an array holding
// arrays or documents.
func (p *predicate) test(doc bson.D) (holds, plain bool) {
	if p.op != opElemMatch {
		v, plain := scalarAt(doc, p.path)
		return p.holds(v), plain // not plain: the caller asks mongokit
	}
	v, plain := valueAt(doc, p.path)
	if !plain {
		return false, false
	}
	arr, isArray := v.(bson.A)
	if !isArray {
		return false, true // $elemMatch matches arrays only (mongokit's matchElem)
	}
	for _, item := range arr {
		switch item.(type) {
		case bson.A, bson.D:
			return false, false
		}
	}
	for _, item := range arr {
		if p.elemHolds(item) {
			return true, true
		}
	}
	return false, true
}

// elemHolds reports whether the array element item (a scalar) meets
// every condition of p's $elemMatch, as mongokit's matchElem evaluates
// them on the element alone.
func (p *predicate) elemHolds(item any) bool {
	for i := range p.elem {
		if !p.elem[i].holds(item) {
			return false
		}
	}
	return true
}

// plainPath reports whether path is dotted field names alone: no empty
// name and no positional or other $ name.
func plainPath(path string) bool {
	for name := range strings.SplitSeq(path, ".") {
		if name == "" || name[0] == '$' {
			return false
		}
	}
	return true
}

// scalarAt returns the value at the dotted path in doc
// (bsonkit.Missing when there is none), and false when the path meets an
// array or ends on an array or a document: mongokit decides those.
func scalarAt(doc bson.D, path string) (any, bool) {
	v, plain := valueAt(doc, path)
	switch v.(type) {
	case bson.A, bson.D:
		return nil, false
	}
	return v, plain
}

// valueAt returns the value at the dotted path in doc, whatever it is
// (bsonkit.Missing when there is none), and false when the path meets an
// array before its end.
func valueAt(doc bson.D, path string) (any, bool) {
	d := doc
	for {
		name, rest, nested := strings.Cut(path, ".")
		var cur any = bsonkit.Missing
		for _, el := range d {
			if el.Key == name {
				cur = el.Value
				break
			}
		}
		if !nested {
			return cur, true
		}
		switch next := cur.(type) {
		case bson.D:
			d, path = next, rest
		case bson.A:
			return nil, false
		default:
			return bsonkit.Missing, true
		}
	}
}

// holds evaluates p on the field value v (not an array or document), as
// mongokit's matchComp, matchNe, matchIn, matchNin and matchExists do.
func (p *predicate) holds(v any) bool {
	switch p.op {
	case opExists:
		return (v != bsonkit.Missing) == p.exists
	case opIn, opNin:
		in := false
		for _, item := range p.list {
			if bsonkit.Compare(v, item) == 0 {
				in = true
				break
			}
		}
		return in == (p.op == opIn)
	}
	lc, _ := bsonkit.Inspect(v)
	rc, _ := bsonkit.Inspect(p.operand)
	same := lc == rc
	res := bsonkit.Compare(v, p.operand)
	switch p.op {
	case opEq:
		return same && res == 0
	case opNe:
		return !(same && res == 0)
	case opGt:
		return same && res > 0
	case opGte:
		return same && res >= 0
	case opLt:
		return same && res < 0
	default: // opLte
		return same && res <= 0
	}
}
