package embedded

import (
	"bytes"
	"cmp"
	"fmt"
	"runtime"
	"slices"
	"strings"

	"github.com/256dpi/lungo/bsonkit"
	"github.com/256dpi/lungo/mongokit"
	"github.com/tidwall/btree"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"golang.org/x/sync/errgroup"
)

// record is one stored document, keyed by its _id.
type record struct {
	id  any
	doc bsonkit.Doc
}

func recordLess(a, b record) bool { return compareValues(a.id, b.id) < 0 }

// entry is one index entry: a document's key tuple (one per combination
// of array elements when the index is multikey) and the document.
//
// The first key is held inline and the others (compound indexes only) in
// rest, so a single-field index's entry is one value in the tree's node,
// not a value plus a slice allocated beside it.
type entry struct {
	k0   any
	rest []any
	id   any // lowest or highest marks a range bound, not a document
	doc  bsonkit.Doc
	// pfx orders the first key coarsely without following pointers (see
	// keyPrefix), plus one; 0 means the entry has no keys (an open bound).
	pfx uint64
}

func newEntry(keys []any, id any, doc bsonkit.Doc) entry {
	e := entry{id: id, doc: doc}
	if len(keys) > 0 {
		e.k0, e.pfx = keys[0], keyPrefix(keys[0])+1
		if len(keys) > 1 {
			e.rest = keys[1:]
		}
	}
	return e
}

// keyCount is how many keys the entry has.
func (e entry) keyCount() int {
	if e.pfx == 0 {
		return 0
	}
	return 1 + len(e.rest)
}

// key returns the entry's i-th key.
func (e entry) key(i int) any {
	if i == 0 {
		return e.k0
	}
	return e.rest[i-1]
}

// keys returns the entry's keys as a new slice.
func (e entry) keys() []any {
	out := make([]any, 0, e.keyCount())
	for i := range e.keyCount() {
		out = append(out, e.key(i))
	}
	return out
}

// keyPrefix maps a value to a number that never orders two values
// against bsonkit.Compare: its BSON type class in the top byte, then,
// for strings and object ids, their first seven bytes and for dates
// their time (coarsened). Equal prefixes say nothing; the full
// comparison decides. Comparing prefixes first saves the cache misses
// of reading keys, which live in separate allocations.
func keyPrefix(v any) uint64 {
	class, _ := bsonkit.Inspect(v)
	p := uint64(class) << 56
	switch x := v.(type) {
	case string:
		p |= first7(x)
	case primitive.ObjectID:
		p |= first7(string(x[:7]))
	case primitive.DateTime:
		p |= (uint64(int64(x)) ^ 1<<63) >> 8
	case bool:
		if x {
			p |= 1
		}
	}
	return p
}

func first7(s string) uint64 {
	var v uint64
	for i := range 7 {
		v <<= 8
		if i < len(s) {
			v |= uint64(s[i])
		}
	}
	return v
}

// bound is an id that sorts below (or above) every real id, to start or
// end a range scan over equal keys.
type bound int

const (
	lowest bound = iota - 1
	_
	highest
)

// compareValues is bsonkit.Compare with the common same-type cases
// first.
func compareValues(a, b any) int {
	switch x := a.(type) {
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y)
		}
	case primitive.ObjectID:
		if y, ok := b.(primitive.ObjectID); ok {
			return bytes.Compare(x[:], y[:])
		}
	case primitive.DateTime:
		if y, ok := b.(primitive.DateTime); ok {
			return cmp.Compare(x, y)
		}
	case int64:
		if y, ok := b.(int64); ok {
			return cmp.Compare(x, y)
		}
	case int32:
		if y, ok := b.(int32); ok {
			return cmp.Compare(x, y)
		}
	}
	return bsonkit.Compare(a, b)
}

func compareIDs(a, b any) int {
	ab, aIsBound := a.(bound)
	bb, bIsBound := b.(bound)
	switch {
	case aIsBound && bIsBound:
		return int(ab) - int(bb)
	case aIsBound:
		return int(ab)
	case bIsBound:
		return -int(bb)
	}
	return compareValues(a, b)
}

// index is a secondary index: its definition and its entries ordered by
// key tuple (each column in its direction), then _id.
type index struct {
	name    string
	config  mongokit.IndexConfig
	columns []bsonkit.Column
	tree    *btree.BTreeG[entry]
	// multikey is set once any document gave a column an array value (or
	// a key that differs from the value a sort reads, as for a path
	// through an array). From then on the index order cannot serve a sort
	// (MongoDB sorts an array by its smallest or largest element, not by
	// each element) and a range may list a document more than once.
	multikey bool
}

func newIndex(name string, config mongokit.IndexConfig) (*index, error) {
	if config.Key == nil || len(*config.Key) == 0 {
		return nil, fmt.Errorf("index %s: empty key", name)
	}
	columns, err := mongokit.Columns(config.Key)
	if err != nil {
		return nil, fmt.Errorf("index %s: %w", name, err)
	}
	if config.Expiry > 0 && len(columns) > 1 {
		return nil, fmt.Errorf("index %s: a TTL index has one field", name)
	}
	ix := &index{name: name, config: config, columns: columns}
	ix.tree = btree.NewBTreeGOptions(ix.less, btree.Options{Degree: 16})
	return ix, nil
}

func (ix *index) less(a, b entry) bool { return ix.compare(a, b) < 0 }

func (ix *index) compare(a, b entry) int {
	if a.pfx != 0 && b.pfx != 0 && a.pfx != b.pfx {
		c := 1
		if a.pfx < b.pfx {
			c = -1
		}
		if ix.columns[0].Reverse {
			c = -c
		}
		return c
	}
	for i, col := range ix.columns {
		if i >= a.keyCount() || i >= b.keyCount() {
			break // a prefix bound: equal so far
		}
		c := compareValues(a.key(i), b.key(i))
		if col.Reverse {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return compareIDs(a.id, b.id)
}

// clone returns a copy that shares the tree copy-on-write.
func (ix *index) clone() *index {
	c := *ix
	c.tree = ix.tree.Copy()
	return &c
}

// covers reports whether doc belongs in the index (partial indexes hold
// only the documents their filter matches).
func (ix *index) covers(doc bsonkit.Doc) (bool, error) {
	if ix.config.Partial == nil {
		return true, nil
	}
	return mongokit.Match(doc, ix.config.Partial)
}

// tuples are doc's key tuples: arrays at indexed paths expand to one tuple
// per element (the Cartesian product across columns), like MongoDB's
// multikey indexes. An empty array indexes under itself.
func (ix *index) tuples(doc bsonkit.Doc) ([][]any, bool) {
	tuples := [][]any{make([]any, 0, len(ix.columns))}
	multi := false
	for _, col := range ix.columns {
		v, _ := bsonkit.All(doc, col.Path, true, true)
		values := []any{v}
		if a, ok := v.(bson.A); ok {
			multi = true
			if len(a) > 0 {
				values = a
			}
		} else if bsonkit.Compare(v, bsonkit.Get(doc, col.Path)) != 0 {
			multi = true
		}
		next := make([][]any, 0, len(tuples)*len(values))
		for _, t := range tuples {
			for _, val := range values {
				nt := make([]any, len(t)+1)
				copy(nt, t)
				nt[len(t)] = val
				next = append(next, nt)
			}
		}
		tuples = next
	}
	return tuples, multi
}

// add indexes doc; for a unique index it first checks that no other
// document has any of its key tuples.
func (ix *index) add(id any, doc bsonkit.Doc) error {
	if ok, err := ix.covers(doc); err != nil || !ok {
		return err
	}
	tuples, multi := ix.tuples(doc)
	if ix.config.Unique {
		for _, t := range tuples {
			if other, taken := ix.holder(t); taken && compareIDs(other, id) != 0 {
				return &DuplicateKeyError{Index: ix.name, Key: t}
			}
		}
	}
	ix.multikey = ix.multikey || multi
	for _, t := range tuples {
		ix.tree.Set(newEntry(t, id, doc))
	}
	return nil
}

// build fills an empty index with recs at once: all entries made, sorted
// and loaded in order (appending to a B-tree in order never searches it),
// which at start-up is several times faster than adding one by one.
func (ix *index) build(recs []record) error {
	var entries []entry
	for _, r := range recs {
		if ok, err := ix.covers(r.doc); err != nil {
			return err
		} else if !ok {
			continue
		}
		tuples, multi := ix.tuples(r.doc)
		ix.multikey = ix.multikey || multi
		for _, t := range tuples {
			entries = append(entries, newEntry(t, r.id, r.doc))
		}
	}
	order := sortEntries(ix, entries)
	for i, pos := range order {
		e := entries[pos]
		if ix.config.Unique && i > 0 {
			prev := entries[order[i-1]]
			if compareIDs(prev.id, e.id) != 0 && ix.compare(entry{k0: prev.k0, rest: prev.rest, pfx: prev.pfx, id: lowest}, entry{k0: e.k0, rest: e.rest, pfx: e.pfx, id: lowest}) == 0 {
				return &DuplicateKeyError{Index: ix.name, Key: e.keys()}
			}
		}
		ix.tree.Load(e)
	}
	return nil
}

// sortEntries returns the positions of entries, made in _id order, in
// index order. It
// sorts small (prefix, position) pairs, which sit together in memory,
// and compares whole keys only within runs of equal prefixes; position
// breaks ties, which keeps equal keys in _id order. Sorting the entries
// themselves with the full comparison took most of the start-up time.
func sortEntries(ix *index, entries []entry) []uint32 {
	type pair struct {
		p0, p1 uint64 // the first two keys' prefixes, in index direction
		pos    uint32
	}
	pairs := make([]pair, len(entries))
	for i, e := range entries {
		p := pair{p0: e.pfx, pos: uint32(i)}
		if ix.columns[0].Reverse {
			p.p0 = ^p.p0
		}
		if len(e.rest) > 0 {
			p.p1 = keyPrefix(e.rest[0])
			if ix.columns[1].Reverse {
				p.p1 = ^p.p1
			}
		}
		pairs[i] = p
	}
	slices.SortFunc(pairs, func(a, b pair) int {
		if c := cmp.Compare(a.p0, b.p0); c != 0 {
			return c
		}
		if c := cmp.Compare(a.p1, b.p1); c != 0 {
			return c
		}
		return cmp.Compare(a.pos, b.pos)
	})
	keysOnly := func(e entry) entry { return entry{k0: e.k0, rest: e.rest, pfx: e.pfx, id: lowest} }
	for start := 0; start < len(pairs); {
		end := start + 1
		for end < len(pairs) && pairs[end].p0 == pairs[start].p0 && pairs[end].p1 == pairs[start].p1 {
			end++
		}
		run := pairs[start:end]
		sorted := true
		for i := 1; i < len(run) && sorted; i++ {
			sorted = ix.compare(keysOnly(entries[run[i-1].pos]), keysOnly(entries[run[i].pos])) <= 0
		}
		if !sorted {
			slices.SortFunc(run, func(a, b pair) int {
				if c := ix.compare(keysOnly(entries[a.pos]), keysOnly(entries[b.pos])); c != 0 {
					return c
				}
				return cmp.Compare(a.pos, b.pos)
			})
		}
		start = end
	}
	order := make([]uint32, len(pairs))
	for i, p := range pairs {
		order[i] = p.pos
	}
	return order
}

// remove drops doc's entries.
func (ix *index) remove(id any, doc bsonkit.Doc) error {
	if ok, err := ix.covers(doc); err != nil || !ok {
		return err
	}
	tuples, _ := ix.tuples(doc)
	for _, t := range tuples {
		ix.tree.Delete(newEntry(t, id, nil))
	}
	return nil
}

// holder returns the id of a document indexed under key, if any.
func (ix *index) holder(key []any) (any, bool) {
	var found any
	ok := false
	ix.tree.Ascend(newEntry(key, lowest, nil), func(e entry) bool {
		if ix.compare(entry{k0: e.k0, rest: e.rest, pfx: e.pfx, id: lowest}, newEntry(key, lowest, nil)) == 0 {
			found, ok = e.id, true
		}
		return false
	})
	return found, ok
}

// collection is one namespace's documents and indexes. Published
// collections are immutable; a writer works on a clone.
type collection struct {
	docs    *btree.BTreeG[record]
	indexes map[string]*index // never holds _id_: docs is that index
}

func newCollection() *collection {
	return &collection{docs: btree.NewBTreeGOptions(recordLess, btree.Options{Degree: 32}), indexes: map[string]*index{}}
}

func (c *collection) clone() *collection {
	out := &collection{docs: c.docs.Copy(), indexes: make(map[string]*index, len(c.indexes))}
	for name, ix := range c.indexes {
		out.indexes[name] = ix.clone()
	}
	return out
}

func (c *collection) get(id any) (bsonkit.Doc, bool) {
	r, ok := c.docs.Get(record{id: id})
	return r.doc, ok
}

// insert adds a new document. A taken _id or unique key is a
// DuplicateKeyError, and the collection may be left part-way: a failed
// write discards its transaction (or, inside one, its operation's child).
func (c *collection) insert(doc bsonkit.Doc) error {
	id := bsonkit.Get(doc, "_id")
	if _, taken := c.get(id); taken {
		return &DuplicateKeyError{Index: "_id_", Key: []any{id}}
	}
	for _, ix := range c.indexes {
		if err := ix.add(id, doc); err != nil {
			return err
		}
	}
	c.docs.Set(record{id: id, doc: doc})
	return nil
}

// insertMany adds new documents, each index filled on its own goroutine
// (the trees are independent). On a duplicate key the collection is left
// part-way: callers discard it (a failed write discards its transaction).
func (c *collection) insertMany(docs []bsonkit.Doc) error {
	if len(docs) < 64 {
		for _, d := range docs {
			if err := c.insert(d); err != nil {
				return err
			}
		}
		return nil
	}
	recs := make([]record, len(docs))
	for i, d := range docs {
		recs[i] = record{id: bsonkit.Get(d, "_id"), doc: d}
		if _, taken := c.get(recs[i].id); taken {
			return &DuplicateKeyError{Index: "_id_", Key: []any{recs[i].id}}
		}
		if _, replaced := c.docs.Set(recs[i]); replaced {
			return &DuplicateKeyError{Index: "_id_", Key: []any{recs[i].id}}
		}
	}
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for _, ix := range c.indexes {
		g.Go(func() error {
			for _, r := range recs {
				if err := ix.add(r.id, r.doc); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return g.Wait()
}

func (c *collection) remove(doc bsonkit.Doc) error {
	id := bsonkit.Get(doc, "_id")
	for _, ix := range c.indexes {
		if err := ix.remove(id, doc); err != nil {
			return err
		}
	}
	c.docs.Delete(record{id: id})
	return nil
}

// DuplicateKeyError is a unique index violation.
type DuplicateKeyError struct {
	Index string
	Key   []any
}

func (e *DuplicateKeyError) Error() string {
	return fmt.Sprintf("E11000 duplicate key error index: %s dup key: %v", e.Index, e.Key)
}
