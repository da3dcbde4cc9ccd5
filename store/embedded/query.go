package embedded

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unsafe"

	"github.com/256dpi/lungo/bsonkit"
	"github.com/256dpi/lungo/mongokit"
	"go.mongodb.org/mongo-driver/bson"
)

// Query is a read: which documents, in which order, which window.
type Query struct {
	Filter bsonkit.Doc
	Sort   bsonkit.Doc
	Skip   int
	Limit  int // 0: no limit
}

// Plan says how a query was served: by an _id lookup ("_id_"), by an
// index (its name, with how many leading fields were equalities and
// whether the index order gave the sort), or by a full scan ("").
type Plan struct {
	Index         string
	EqualityKeys  int
	SortFromIndex bool
	Examined      int // documents Match ran on
}

// plan picks the access path for filter and sort over c.
type plan struct {
	Plan
	ix   *index
	eq   []any   // equality values for the index's leading columns
	alts [][]any // or several such prefixes (an $in), walked in turn
	// residual are further conditions on the column after eq (the other
	// values of an $all, the other $elemMatch ranges of an $and): a
	// candidate needs a value within each, checked on the document before
	// Match runs.
	residual       []bounds
	residualPath   string
	residualPrefix []any // the equalities before the residuals' column
	reverse        bool  // walk the index backwards for the sort
	// rng bounds the column after the equalities (a $gt/$gte/$lt/$lte):
	// the walk starts at one bound and stops past the other.
	rng  *bounds
	cost int // entries the walk may visit
	id   any // set for an _id lookup
	byID bool
	sort []bsonkit.Column
}

// equality returns the value a top-level filter field must equal, when
// the condition is a plain equality on a value an index can look up
// exactly: strings, numbers, dates, object ids and booleans. Anything else
// (null, which also matches missing; arrays and documents, which match
// by element or whole; regular expressions; operators) is left to Match.
func equality(filter bsonkit.Doc, path string) (any, bool) {
	if filter == nil {
		return nil, false
	}
	for _, e := range *filter {
		if e.Key != path {
			continue
		}
		v := e.Value
		if d, ok := v.(bson.D); ok {
			if len(d) != 1 || d[0].Key != "$eq" {
				return nil, false
			}
			v = d[0].Value
		}
		switch c, _ := bsonkit.Inspect(v); c {
		case bsonkit.String, bsonkit.Number, bsonkit.Date, bsonkit.ObjectID, bsonkit.Boolean:
			return v, true
		}
		return nil, false
	}
	return nil, false
}

// eligible reports whether an index can look v up exactly.
func eligible(v any) bool {
	switch c, _ := bsonkit.Inspect(v); c {
	case bsonkit.String, bsonkit.Number, bsonkit.Date, bsonkit.ObjectID, bsonkit.Boolean:
		return true
	}
	return false
}

// setCondition returns the values of a top-level {path: {$in: [...]}} or
// {path: {$all: [...]}} whose values an index can look up: a document
// matching $in has one of them, one matching $all has every one.
func setCondition(filter bsonkit.Doc, path string) (op string, values []any) {
	for _, e := range *filter {
		if e.Key != path {
			continue
		}
		d, ok := e.Value.(bson.D)
		if !ok || len(d) != 1 || d[0].Key != "$in" && d[0].Key != "$all" {
			return "", nil
		}
		list, ok := d[0].Value.(bson.A)
		if !ok || len(list) == 0 || len(list) > 100 {
			return "", nil
		}
		for _, v := range list {
			if !eligible(v) {
				return "", nil
			}
		}
		return d[0].Key, list
	}
	return "", nil
}

// rangeSize counts the entries whose keys start with prefix.
func rangeSize(ix *index, prefix []any) int {
	if len(prefix) == 0 {
		return ix.tree.Len()
	}
	return cachedRank(ix, prefix, highest) - cachedRank(ix, prefix, lowest)
}

// bounds are a range condition's limits (nil: open).
type bounds struct {
	lo, hi any
	// spanOf and span remember the last rangeSpan counted for these
	// bounds (in that index, after those equalities): a plan counts
	// a range to choose it and again to walk it, and each count is two
	// rank lookups of O(log² n).
	spanOf     *index
	spanPrefix []any
	span       int
}

// contains reports whether v may lie within b: bounds are inclusive,
// since Match drops the equal ends of $gt and $lt anyway.
func (b bounds) contains(v any) bool {
	return (b.lo == nil || bsonkit.Compare(v, b.lo) >= 0) && (b.hi == nil || bsonkit.Compare(v, b.hi) <= 0)
}

// rangeCondition returns the limits of a top-level condition made only of
// $gt, $gte, $lt and $lte on values an index can look up. A document
// matching it has a key within [lo, hi] (Match then drops the equal ends
// of $gt and $lt, and values of other types).
func rangeCondition(filter bsonkit.Doc, path string) *bounds {
	for _, e := range *filter {
		if e.Key == path {
			return rangeBounds(e.Value)
		}
	}
	return nil
}

// rangeBounds returns the limits of an operator document made only of
// $gt, $gte, $lt and $lte on values an index can look up.
func rangeBounds(v any) *bounds {
	d, ok := v.(bson.D)
	if !ok || len(d) == 0 {
		return nil
	}
	var b bounds
	for _, op := range d {
		if !eligible(op.Value) {
			return nil
		}
		switch op.Key {
		case "$gt", "$gte":
			if b.lo == nil || bsonkit.Compare(op.Value, b.lo) > 0 {
				b.lo = op.Value
			}
		case "$lt", "$lte":
			if b.hi == nil || bsonkit.Compare(op.Value, b.hi) < 0 {
				b.hi = op.Value
			}
		default:
			return nil
		}
	}
	return &b
}

// elemRanges returns the limits of each {path: {$elemMatch: {range}}}
// condition, at the top level or as a clause of a top-level $and (how
// several are written): a document matching one has an element of path
// within its limits. This is how a prefix search is asked on an array
// of words: {$elemMatch: {$gte: "raj", $lt: "raj\U0010FFFF"}}.
func elemRanges(filter bsonkit.Doc, path string) []bounds {
	var out []bounds
	add := func(v any) {
		d, ok := v.(bson.D)
		if !ok || len(d) != 1 || d[0].Key != "$elemMatch" {
			return
		}
		if b := rangeBounds(d[0].Value); b != nil {
			out = append(out, *b)
		}
	}
	for _, e := range *filter {
		switch e.Key {
		case path:
			add(e.Value)
		case "$and":
			clauses, _ := e.Value.(bson.A)
			for _, c := range clauses {
				if d, ok := c.(bson.D); ok && len(d) == 1 && d[0].Key == path {
					add(d[0].Value)
				}
			}
		}
	}
	return out
}

// byRarity orders bs by how many entries after prefix each spans,
// fewest first.
func byRarity(ix *index, prefix []any, bs []bounds) []bounds {
	sizes := make([]int, len(bs))
	order := make([]int, len(bs))
	for i := range bs {
		sizes[i], order[i] = rangeSpan(ix, prefix, &bs[i]), i
	}
	slices.SortStableFunc(order, func(a, b int) int { return sizes[a] - sizes[b] })
	out := make([]bounds, len(bs))
	for i, j := range order {
		out[i] = bs[j]
	}
	return out
}

// maxResidual bounds the conditions checked per candidate; further ones
// are left to Match.
const maxResidual = 4

func choosePlan(c *collection, q Query) (plan, error) {
	var p plan
	if q.Sort != nil && len(*q.Sort) > 0 {
		cols, err := mongokit.Columns(q.Sort)
		if err != nil {
			return p, err
		}
		p.sort = cols
	}
	if id, ok := equality(q.Filter, "_id"); ok {
		p.Index, p.id, p.byID = idIndexName, id, true
		return p, nil
	}
	for _, ix := range c.indexes {
		if ix.config.Partial != nil {
			continue // holds only some documents: never a complete candidate set
		}
		var eq []any
		var alts [][]any
		var rng *bounds
		var residual []bounds
		var residualPath string
		var residualPrefix []any
		for _, col := range ix.columns {
			if v, ok := equality(q.Filter, col.Path); ok {
				eq = append(eq, v)
				continue
			}
			// Several conditions on the column ($all values, $elemMatch
			// ranges): the walk takes the rarest, and the others are
			// checked on each candidate.
			switch op, vs := setCondition(q.Filter, col.Path); op {
			case "$all":
				bs := make([]bounds, len(vs))
				for i, v := range vs {
					bs[i] = bounds{lo: v, hi: v}
				}
				bs = byRarity(ix, eq, bs)
				residual, residualPath, residualPrefix = bs[1:min(len(bs), 1+maxResidual)], col.Path, eq
				eq = append(slices.Clip(eq), bs[0].lo)
			case "$in":
				for _, v := range vs {
					alts = append(alts, append(slices.Clip(eq), v))
				}
			default:
				if bs := elemRanges(q.Filter, col.Path); len(bs) > 0 {
					bs = byRarity(ix, eq, bs)
					rng = &bs[0]
					residual, residualPath, residualPrefix = bs[1:min(len(bs), 1+maxResidual)], col.Path, eq
				} else if !ix.multikey {
					rng = rangeCondition(q.Filter, col.Path)
				}
			}
			break
		}
		keys := len(eq)
		served, reverse := false, false
		if alts != nil {
			keys = len(alts[0]) // an $in: several ranges, in no useful order
		} else {
			served, reverse = sortServed(ix, keys, p.sort)
		}
		if ix.config.Unique && !ix.multikey && alts == nil && keys == len(ix.columns) {
			// Every key of a unique index is an equality: at most one
			// candidate, and no other index can do better. Taken at once,
			// without counting ranges (a session by its token, a loan by
			// its number: most look-ups).
			// A fresh plan: nothing of an index weighed before carries over.
			only := plan{sort: p.sort, ix: ix, eq: eq, reverse: reverse, cost: min(1, c.docs.Len())}
			only.Index, only.EqualityKeys, only.SortFromIndex = ix.name, keys, served
			return only, nil
		}
		if keys == 0 && !served && rng == nil {
			continue // the index narrows nothing
		}
		var size int
		switch {
		case rng != nil:
			size = rangeSpan(ix, eq, rng)
		case alts != nil:
			for _, a := range alts {
				size += rangeSize(ix, a)
			}
		default:
			size = rangeSize(ix, eq)
		}
		// The cost is the entries the walk may visit. A walk in sort order
		// over a prefix that is the whole filter stops after skip+limit.
		cost := size
		if served && q.Limit > 0 && filterFields(q.Filter) == keys {
			cost = min(size, q.Skip+q.Limit)
		}
		if p.ix == nil || cost < p.cost || cost == p.cost && served && !p.SortFromIndex {
			p.ix, p.eq, p.alts, p.reverse, p.rng, p.cost = ix, eq, alts, reverse, rng, cost
			p.residual, p.residualPath, p.residualPrefix = residual, residualPath, residualPrefix
			p.Index, p.EqualityKeys, p.SortFromIndex = ix.name, keys, served
		}
	}
	if p.ix != nil && p.cost >= c.docs.Len() && !p.SortFromIndex {
		p.ix, p.Index, p.EqualityKeys = nil, "", 0 // no better than a full scan
	}
	return p, nil
}

// rangeSpan counts the entries after prefix whose next key lies within
// b (by rank, in the column's own direction).
func rangeSpan(ix *index, prefix []any, b *bounds) int {
	same := func(a, b any) bool { return compareValues(a, b) == 0 }
	if b.spanOf == ix && slices.EqualFunc(b.spanPrefix, prefix, same) {
		return b.span
	}
	n := countSpan(ix, prefix, b)
	b.spanOf, b.spanPrefix, b.span = ix, prefix, n
	return n
}

func countSpan(ix *index, prefix []any, b *bounds) int {
	col := ix.columns[len(prefix)]
	first, last := b.lo, b.hi // in index order
	if col.Reverse {
		first, last = b.hi, b.lo
	}
	from, to := cachedRank(ix, prefix, lowest), cachedRank(ix, prefix, highest)
	if first != nil {
		from = cachedRank(ix, append(slices.Clip(prefix), first), lowest)
	}
	if last != nil {
		to = cachedRank(ix, append(slices.Clip(prefix), last), highest)
	}
	return max(0, to-from)
}

// filterFields counts a filter's top-level conditions.
func filterFields(filter bsonkit.Doc) int {
	if filter == nil {
		return 0
	}
	return len(*filter)
}

// sortServed reports whether walking ix within an equality prefix of eq
// columns yields documents in the sort's order, and in which direction.
// The entries tie-break on _id ascending, which serves a final _id
// column going the same way as the walk.
func sortServed(ix *index, eq int, sort []bsonkit.Column) (served, reverse bool) {
	if len(sort) == 0 || ix.multikey {
		return false, false
	}
	rest := ix.columns[eq:]
	for i, col := range sort {
		if i < len(rest) {
			if rest[i].Path != col.Path {
				return false, false
			}
			flipped := rest[i].Reverse != col.Reverse
			if i == 0 {
				reverse = flipped
			} else if flipped != reverse {
				return false, false
			}
			continue
		}
		// Past the index's columns only _id can follow, as the tiebreak,
		// and only if every index column was used (else ties are not by _id).
		if i == len(sort)-1 && col.Path == "_id" && len(rest) == i && col.Reverse == reverse {
			continue
		}
		return false, false
	}
	return true, reverse
}

// find runs q over c and returns the matching documents in order.
func find(ctx context.Context, c *collection, q Query) ([]bsonkit.Doc, Plan, error) {
	if q.Filter == nil {
		q.Filter = &bson.D{}
	}
	p, err := choosePlan(c, q)
	if err != nil {
		return nil, Plan{}, err
	}
	ordered := len(p.sort) == 0 || p.SortFromIndex
	if !ordered && q.Limit > 0 && p.ix != nil {
		return findSortedWindow(ctx, c, q, p)
	}
	var out []bsonkit.Doc
	skipped := 0
	m := newMatcher(q.Filter)
	// With the order given by the access path, skip and limit apply as the
	// documents come and the walk stops early.
	visit := func(doc bsonkit.Doc) (bool, error) {
		p.Examined++
		if p.Examined%512 == 0 {
			if err := ctx.Err(); err != nil {
				return false, err
			}
		}
		ok, err := m.match(doc)
		if err != nil || !ok {
			return err == nil, err
		}
		if ordered && skipped < q.Skip {
			skipped++
			return true, nil
		}
		out = append(out, doc)
		return !(ordered && q.Limit > 0 && len(out) >= q.Limit), nil
	}
	if err := p.walk(c, visit); err != nil {
		return nil, p.Plan, err
	}
	if !ordered {
		sortDocs(out, append(p.sort, bsonkit.Column{Path: "_id"}))
		out = window(out, q.Skip, q.Limit)
	}
	return out, p.Plan, nil
}

// findSortedWindow serves a sorted window (a limit) from an index that
// does not give the order: it sorts the index's candidates first and
// runs Match on them in order only until the window is full. Match is the
// costliest step per document, and most candidates past the window need
// none (a search page of 25 among 83 candidates matches 25, not 83).
func findSortedWindow(ctx context.Context, c *collection, q Query, p plan) ([]bsonkit.Doc, Plan, error) {
	var cands []bsonkit.Doc
	err := p.walk(c, func(doc bsonkit.Doc) (bool, error) {
		cands = append(cands, doc)
		if len(cands)%512 == 0 {
			if err := ctx.Err(); err != nil {
				return false, err
			}
		}
		return true, nil
	})
	if err != nil {
		return nil, p.Plan, err
	}
	sortDocs(cands, append(p.sort, bsonkit.Column{Path: "_id"}))
	var out []bsonkit.Doc
	skipped := 0
	m := newMatcher(q.Filter)
	for _, doc := range cands {
		p.Examined++
		ok, err := m.match(doc)
		if err != nil {
			return nil, p.Plan, err
		}
		if !ok {
			continue
		}
		if skipped < q.Skip {
			skipped++
			continue
		}
		if out = append(out, doc); len(out) == q.Limit {
			break
		}
	}
	return out, p.Plan, nil
}

// walk calls visit with each candidate document of the plan, in the plan's
// order, until visit returns false.
func (p *plan) walk(c *collection, visit func(bsonkit.Doc) (bool, error)) error {
	var err error
	step := func(doc bsonkit.Doc) bool {
		var more bool
		more, err = visit(doc)
		return more && err == nil
	}
	switch {
	case p.byID:
		if doc, ok := c.get(p.id); ok {
			step(doc)
		}
	case p.ix != nil:
		prefixes := p.alts
		if prefixes == nil {
			prefixes = [][]any{p.eq}
		}
		dedupe := p.ix.multikey || len(prefixes) > 1
		seen := map[bsonkit.Doc]bool{} // a document can sit under several keys
		sets, onDoc := p.residualSets()
		for _, prefix := range prefixes {
			more := true
			each := func(e entry) bool {
				if !p.ix.hasPrefix(e, prefix) {
					return false // past the prefix
				}
				for _, set := range sets {
					if !set.has(e.doc) {
						return true
					}
				}
				if dedupe {
					if seen[e.doc] {
						return true
					}
					seen[e.doc] = true
				}
				if !p.passes(e.doc, onDoc) {
					return true
				}
				more = step(e.doc)
				return more
			}
			switch {
			case p.rng != nil:
				p.walkRange(prefix, each)
			case p.reverse:
				p.ix.tree.Descend(newEntry(prefix, highest), each)
			default:
				p.ix.tree.Ascend(newEntry(prefix, lowest), each)
			}
			if !more {
				break
			}
		}
	default:
		c.docs.Scan(func(r record) bool { return step(r.doc) })
	}
	return err
}

// walkRange walks the entries after prefix whose next key is within
// the plan's bounds: it starts at the bound the walk meets first and
// stops past the other.
func (p *plan) walkRange(prefix []any, each func(entry) bool) {
	// Values ascend along the walk unless exactly one of the column's
	// direction and the walk's is reversed.
	ascending := p.ix.columns[len(prefix)].Reverse == p.reverse
	start := p.rng.lo
	if !ascending {
		start = p.rng.hi
	}
	pivot := prefix
	if start != nil {
		pivot = append(slices.Clip(prefix), start)
	}
	// Counted, not compared: reading each entry's key to find the end
	// cost a cache miss per entry, most of a search's time.
	n := rangeSpan(p.ix, prefix, p.rng)
	if n == 0 {
		return
	}
	counted := func(e entry) bool {
		n--
		return each(e) && n > 0
	}
	if p.reverse {
		p.ix.tree.Descend(newEntry(pivot, highest), counted)
	} else {
		p.ix.tree.Ascend(newEntry(pivot, lowest), counted)
	}
}

// residualSets gathers, for each residual condition whose range in the
// index is not much larger than the walk's, the documents in that range:
// checking a candidate against them reads no document (reading each
// candidate's keys cost a few cache misses apiece, most of a search).
// The other conditions are returned to check on the documents.
func (p *plan) residualSets() ([]*docSet, []bounds) {
	var sets []*docSet
	var onDoc []bounds
	for _, b := range p.residual {
		n := rangeSpan(p.ix, p.residualPrefix, &b)
		if n > 16*p.cost+64 {
			onDoc = append(onDoc, b)
			continue
		}
		set := newDocSet(n)
		eachInBounds(p.ix, p.residualPrefix, b, n, func(e entry) { set.add(e.doc) })
		sets = append(sets, set)
	}
	return sets, onDoc
}

// docSet is a set of documents by address: open addressing with linear
// probing over a power-of-two table at most half full. It does what a
// map[bsonkit.Doc]struct{} does for the residual checks, in a third of
// the time (no generic hashing, one flat array).
type docSet struct {
	slots []bsonkit.Doc
	shift uint
}

func newDocSet(n int) *docSet {
	size, shift := 8, uint(61)
	for size < 2*n {
		size, shift = size*2, shift-1
	}
	return &docSet{slots: make([]bsonkit.Doc, size), shift: shift}
}

func (s *docSet) slot(d bsonkit.Doc) uint {
	return uint((uint64(uintptr(unsafe.Pointer(d))) * 0x9E3779B97F4A7C15) >> s.shift)
}

func (s *docSet) add(d bsonkit.Doc) {
	mask := uint(len(s.slots) - 1)
	for i := s.slot(d); ; i = (i + 1) & mask {
		switch s.slots[i] {
		case nil:
			s.slots[i] = d
			return
		case d:
			return
		}
	}
}

func (s *docSet) has(d bsonkit.Doc) bool {
	mask := uint(len(s.slots) - 1)
	for i := s.slot(d); ; i = (i + 1) & mask {
		switch s.slots[i] {
		case nil:
			return false
		case d:
			return true
		}
	}
}

// eachInBounds calls fn with each of the n entries after prefix whose
// next key lies within b (n from rangeSpan: the walk counts instead of
// reading keys).
func eachInBounds(ix *index, prefix []any, b bounds, n int, fn func(entry)) {
	first := b.lo // in index order
	if ix.columns[len(prefix)].Reverse {
		first = b.hi
	}
	start := prefix
	if first != nil {
		start = append(slices.Clip(prefix), first)
	}
	if n == 0 {
		return
	}
	ix.tree.Ascend(newEntry(start, lowest), func(e entry) bool {
		fn(e)
		n--
		return n > 0
	})
}

// sortDocs sorts docs as bsonkit.Sort does (an array sorts by its least
// element ascending, its greatest descending), reading each document's
// sort values once instead of at every comparison.
func sortDocs(docs []bsonkit.Doc, cols []bsonkit.Column) {
	type keyed struct {
		doc  bsonkit.Doc
		keys []any
	}
	list := make([]keyed, len(docs))
	keys := make([]any, len(docs)*len(cols))
	for i, d := range docs {
		k := keys[i*len(cols) : (i+1)*len(cols)]
		for c, col := range cols {
			k[c] = sortValue(bsonkit.Get(d, col.Path), col.Reverse)
		}
		list[i] = keyed{doc: d, keys: k}
	}
	slices.SortStableFunc(list, func(a, b keyed) int {
		for c, col := range cols {
			if r := compareValues(a.keys[c], b.keys[c]); r != 0 {
				if col.Reverse {
					return -r
				}
				return r
			}
		}
		return 0
	})
	for i := range list {
		docs[i] = list[i].doc
	}
}

// sortValue is the value a sort compares for v: for a non-empty array
// its least element (its greatest, descending).
func sortValue(v any, reverse bool) any {
	arr, ok := v.(bson.A)
	if !ok || len(arr) == 0 {
		return v
	}
	best := arr[0]
	for _, item := range arr[1:] {
		c := bsonkit.Compare(item, best)
		if reverse && c > 0 || !reverse && c < 0 {
			best = item
		}
	}
	return best
}

// passes reports whether doc may satisfy the conditions bs on the
// residual path: for each, a value at the path (an element, for an
// array) within its bounds. Values an index would not hold exactly
// (null, documents, nested arrays) pass; Match decides.
func (p *plan) passes(doc bsonkit.Doc, bs []bounds) bool {
	if len(bs) == 0 {
		return true
	}
	var v any
	if strings.IndexByte(p.residualPath, '.') < 0 {
		v = topField(doc, p.residualPath) // the common case, without bsonkit.All's work
	} else {
		v, _ = bsonkit.All(doc, p.residualPath, true, true)
	}
	values := []any{v}
	if a, ok := v.(bson.A); ok && len(a) > 0 {
		values = a
	}
	for _, b := range bs {
		if !slices.ContainsFunc(values, b.mayHold) {
			return false
		}
	}
	return true
}

// topField is doc's top-level field key (nil if missing).
func topField(doc bsonkit.Doc, key string) any {
	for _, e := range *doc {
		if e.Key == key {
			return e.Value
		}
	}
	return nil
}

// mayHold reports whether a value may satisfy the condition b stands
// for: one an index would not hold exactly (null, a document, an array
// inside the array) may; any other must lie within b. Strings, the
// common case, compare directly.
func (b bounds) mayHold(v any) bool {
	if s, ok := v.(string); ok {
		lo, loOK := b.lo.(string)
		hi, hiOK := b.hi.(string)
		if (loOK || b.lo == nil) && (hiOK || b.hi == nil) {
			return (!loOK || s >= lo) && (!hiOK || s <= hi)
		}
	}
	return !eligible(v) || b.contains(v)
}

func window(list []bsonkit.Doc, skip, limit int) []bsonkit.Doc {
	if skip >= len(list) {
		return nil
	}
	list = list[skip:]
	if limit > 0 && limit < len(list) {
		list = list[:limit]
	}
	return list
}

// count returns how many documents match filter. When an index's
// equality prefix is the whole filter (and the index lists each document
// once), the count is the size of a key range, found by rank in the
// counted B-tree without visiting the documents.
func count(ctx context.Context, c *collection, filter bsonkit.Doc) (int, Plan, error) {
	if filter == nil {
		filter = &bson.D{}
	}
	p, err := choosePlan(c, Query{Filter: filter})
	if err != nil {
		return 0, Plan{}, err
	}
	if p.ix != nil && p.alts == nil && !p.ix.multikey && coversExactly(p.ix.columns[:p.EqualityKeys], filter) {
		lo := cachedRank(p.ix, p.eq, lowest)
		hi := cachedRank(p.ix, p.eq, highest)
		return hi - lo, p.Plan, nil
	}
	if (filter == nil || len(*filter) == 0) && !p.byID {
		return c.docs.Len(), p.Plan, nil
	}
	n := 0
	m := newMatcher(filter)
	err = p.walk(c, func(doc bsonkit.Doc) (bool, error) {
		p.Examined++
		if p.Examined%512 == 0 {
			if err := ctx.Err(); err != nil {
				return false, err
			}
		}
		ok, err := m.match(doc)
		if ok {
			n++
		}
		return err == nil, err
	})
	return n, p.Plan, err
}

// hasPrefix reports whether keys start with prefix (equal in BSON
// order: 1 and 1.0 are equal). Strings, the common case, skip the
// generic comparison.
func (ix *index) hasPrefix(e entry, prefix []any) bool {
	for i, p := range prefix {
		k := ix.key(e, i)
		if ks, ok := k.(string); ok {
			if ps, ok := p.(string); ok {
				if ks != ps {
					return false
				}
				continue
			}
		}
		if bsonkit.Compare(k, p) != 0 {
			return false
		}
	}
	return true
}

// coversExactly reports whether the filter is nothing but the equalities
// on these columns: one condition per column, no other field.
func coversExactly(cols []bsonkit.Column, filter bsonkit.Doc) bool {
	if len(cols) == 0 || len(*filter) != len(cols) {
		return false
	}
	for i, col := range cols {
		if _, ok := equality(filter, col.Path); !ok {
			return false
		}
		for _, other := range cols[:i] {
			if other.Path == col.Path {
				return false
			}
		}
	}
	return true
}

// rank is the number of entries ordered before pivot: a binary search
// over positions, each read in O(log n) from the counted tree.
func rank(ix *index, pivot entry) int {
	lo, hi := 0, ix.tree.Len()
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		e, _ := ix.tree.GetAt(mid)
		if ix.compare(e, pivot) < 0 {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// project applies a projection to each document (nil keeps them whole).
func project(docs []bsonkit.Doc, projection bsonkit.Doc) ([]bsonkit.Doc, error) {
	if projection == nil || len(*projection) == 0 {
		return docs, nil
	}
	out := make([]bsonkit.Doc, len(docs))
	if drop, ok := topLevelExclusion(projection); ok {
		withoutAll(docs, drop, out)
		return out, nil
	}
	paths, hideID, inclusion := inclusionPaths(projection)
	for i, d := range docs {
		if inclusion {
			if pd, ok := included(d, paths, hideID); ok {
				out[i] = pd
				continue
			}
		}
		// mongokit puts values inside the ones it shares with the stored
		// document ({a: 1, "a.l": {$slice: 1}} cut the stored a.l): it
		// gets a copy.
		pd, err := mongokit.Project(bsonkit.Clone(d), projection)
		if err != nil {
			return nil, fmt.Errorf("embedded: projection: %w", err)
		}
		out[i] = pd
	}
	return out, nil
}

// topLevelExclusion reads a projection that only leaves out top-level
// fields ({history: 0, searchKeys: 0}, the list's), the one the store
// sends with every list page.
func topLevelExclusion(projection bsonkit.Doc) ([]string, bool) {
	drop := make([]string, 0, len(*projection))
	for _, e := range *projection {
		if e.Key == "" || strings.ContainsAny(e.Key, ".$") {
			return nil, false
		}
		switch v := e.Value.(type) {
		case int32:
			if v != 0 {
				return nil, false
			}
		case int64:
			if v != 0 {
				return nil, false
			}
		case float64:
			if v != 0 {
				return nil, false
			}
		case bool:
			if v {
				return nil, false
			}
		default:
			return nil, false
		}
		drop = append(drop, e.Key)
	}
	return drop, true
}

// inclusionPaths reads a projection that keeps fields by path, dotted
// ones too ({name: 1, "totp.enrolledAt": 1, "sessions.<id>": 1}: the
// signed-in user every page reads; {status: 1, _id: 0}: the tab counts
// under a search read just the status of every match), each given as a
// 1/true flag, with
// _id: 0 allowed. Anything else (an exclusion, an operator, a $ in a
// path, a value that is not a flag, a path inside the _id or inside
// another path) is mongokit's.
func inclusionPaths(projection bsonkit.Doc) (paths []string, hideID, ok bool) {
	paths = make([]string, 0, len(*projection))
	for _, e := range *projection {
		if e.Key == "" || strings.Contains(e.Key, "$") {
			return nil, false, false
		}
		on, isFlag := flagValue(e.Value)
		switch {
		case !isFlag:
			return nil, false, false
		case e.Key == "_id" && !on:
			hideID = true
		case !on:
			return nil, false, false
		default:
			paths = append(paths, e.Key)
		}
	}
	for i, path := range paths {
		if strings.HasPrefix(path, "_id.") {
			return nil, false, false // it would be put inside the stored _id the output starts with
		}
		for j, other := range paths {
			if i != j && len(other) > len(path) && other[len(path)] == '.' && strings.HasPrefix(other, path) {
				return nil, false, false // other would be put inside path's value: a stored document
			}
		}
	}
	return paths, hideID, len(paths) > 0
}

// included is mongokit.Project's inclusion for paths, without its
// generic path access (which was all of a signed-in user's read): the
// _id, then each path's value at that path in a new document, in the
// projection's order, then the _id taken out when hidden. Values are
// shared with doc, as mongokit's are; the documents holding dotted
// paths are new. What mongokit decides by rules of its own is left to it
// (ok false): a path through an array, and a document without an _id
// (never a stored one: mongokit refuses it); inclusionPaths has left it
// the paths that nest in one another.
func included(doc bsonkit.Doc, paths []string, hideID bool) (bsonkit.Doc, bool) {
	id, _ := valueAt(*doc, "_id")
	if id == bsonkit.Missing {
		return nil, false
	}
	out := make(bson.D, 1, len(paths)+1)
	out[0] = bson.E{Key: "_id", Value: id}
	for _, path := range paths {
		v, plain := valueAt(*doc, path)
		if !plain {
			return nil, false
		}
		if v != bsonkit.Missing {
			out = putPath(out, path, v)
		}
	}
	if hideID {
		out = slices.DeleteFunc(out, func(e bson.E) bool { return e.Key == "_id" })
	}
	return &out, true
}

// putPath returns out with v at the dotted path, making the documents
// on the way (out's own: included puts no path inside another's value).
func putPath(out bson.D, path string, v any) bson.D {
	name, rest, nested := strings.Cut(path, ".")
	for i, e := range out {
		if e.Key == name {
			if nested {
				sub, _ := e.Value.(bson.D)
				out[i].Value = putPath(sub, rest, v)
			} else {
				out[i].Value = v
			}
			return out
		}
	}
	if nested {
		v = putPath(nil, rest, v)
	}
	return append(out, bson.E{Key: name, Value: v})
}

// flagValue reads a projection value given as 1/0 or true/false.
func flagValue(v any) (on, ok bool) {
	switch x := v.(type) {
	case int32:
		return x != 0, x == 0 || x == 1
	case int64:
		return x != 0, x == 0 || x == 1
	case float64:
		return x != 0, x == 0 || x == 1
	case bool:
		return x, true
	}
	return false, false
}

// without is doc less the dropped top-level fields, sharing its values
// (see withoutAll).
func without(doc bsonkit.Doc, drop []string) bsonkit.Doc {
	out := make([]bsonkit.Doc, 1)
	withoutAll([]bsonkit.Doc{doc}, drop, out)
	return out[0]
}

// withoutAll sets out[i] to docs[i] less the dropped fields: new
// top-level documents whose values are shared with the stored ones
// (stored documents are never modified; each write replaces them),
// where mongokit.Project clones every tree. All of them share one
// backing array: a list page is two allocations, not fifty.
func withoutAll(docs []bsonkit.Doc, drop []string, out []bsonkit.Doc) {
	total := 0
	for _, d := range docs {
		total += len(*d)
	}
	elems := make(bson.D, 0, total)
	heads := make([]bson.D, len(docs))
	for i, d := range docs {
		start := len(elems)
		for _, e := range *d {
			if !slices.Contains(drop, e.Key) {
				elems = append(elems, e)
			}
		}
		heads[i] = elems[start:len(elems):len(elems)]
		out[i] = &heads[i]
	}
}
