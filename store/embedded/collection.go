package embedded

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"

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
// Entries are most of the engine's memory (a loan has one per index, and
// one per search key), so they are kept to five words: the first key
// inline, the others (compound indexes only) behind a pointer, and no
// _id: equal keys are ordered by the document's _id, read from the
// document.
type entry struct {
	k0   any
	rest *[]any
	doc  bsonkit.Doc // lowest or highest marks a range bound, not a document
	// pfx orders the first key coarsely without following pointers (see
	// keyPrefix), plus one; 0 means the entry has no keys (an open bound).
	pfx uint64
}

// Range bounds: an entry with one of these documents sorts below (or
// above) every entry with equal keys, to start or end a range scan.
var (
	lowest  = &bson.D{}
	highest = &bson.D{}
)

func newEntry(keys []any, doc bsonkit.Doc) entry {
	e := entry{doc: doc}
	if len(keys) > 0 {
		e.k0, e.pfx = keys[0], keyPrefix(keys[0])+1
		if len(keys) > 1 {
			rest := keys[1:len(keys):len(keys)]
			e.rest = &rest
		}
	}
	return e
}

// keyCount is how many keys the entry has.
func (e entry) keyCount() int {
	switch {
	case e.pfx == 0:
		return 0
	case e.rest == nil:
		return 1
	}
	return 1 + len(*e.rest)
}

// key returns the entry's i-th key.
func (e entry) key(i int) any {
	if i == 0 {
		return e.k0
	}
	return (*e.rest)[i-1]
}

// docID is doc's _id: normally its first field.
func docID(doc bsonkit.Doc) any {
	if d := *doc; len(d) > 0 && d[0].Key == "_id" {
		return d[0].Value
	}
	return bsonkit.Get(doc, "_id")
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

// compareDocs orders entries with equal keys: by _id, bounds outside.
func compareDocs(a, b bsonkit.Doc) int {
	switch {
	case a == b:
		return 0
	case a == lowest || b == highest:
		return -1
	case a == highest || b == lowest:
		return 1
	}
	return compareValues(docID(a), docID(b))
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
	// idLast is set for a compound index whose last column is _id: its
	// entries leave that key to their document (see stored).
	idLast bool
	// ranks caches positions found in tree; nil until asked, and dropped
	// whenever tree changes.
	ranks atomic.Pointer[rankCache]
}

// changed drops what was cached about the tree's old contents.
func (ix *index) changed() { ix.ranks.Store(nil) }

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
	// What MongoDB refuses too: a path with an empty field name (".a",
	// "a..b") names no field a document can hold, and _id cannot expire.
	for _, col := range columns {
		if slices.Contains(strings.Split(col.Path, "."), "") {
			return nil, fmt.Errorf("index %s: an empty field name in %q", name, col.Path)
		}
	}
	if config.Expiry > 0 && columns[0].Path == "_id" {
		return nil, fmt.Errorf("index %s: the _id field does not support TTL indexes", name)
	}
	ix := &index{name: name, config: config, columns: columns}
	ix.idLast = len(columns) > 1 && columns[len(columns)-1].Path == "_id"
	ix.tree = btree.NewBTreeGOptions(ix.less, btree.Options{Degree: 16})
	return ix, nil
}

// stored returns the keys of tuple t an entry holds: all but a last _id
// column, which the entry's document gives (compound indexes end in _id
// to keep pages stable; storing it would be 16 bytes an entry, twice).
func (ix *index) stored(t []any) []any {
	if ix.idLast {
		return t[:len(t)-1]
	}
	return t
}

// keyCount is how many keys e has, counting the _id left to its document.
func (ix *index) keyCount(e entry) int {
	n := e.keyCount()
	if ix.idLast && n == len(ix.columns)-1 && e.doc != lowest && e.doc != highest {
		n++
	}
	return n
}

// key returns e's i-th key (i < ix.keyCount(e)).
func (ix *index) key(e entry, i int) any {
	if i < e.keyCount() {
		return e.key(i)
	}
	return docID(e.doc)
}

// keysOnly is e as the lowest bound of its keys: comparing two of them
// compares keys alone.
func (ix *index) keysOnly(e entry) entry {
	if ix.idLast && ix.keyCount(e) > e.keyCount() {
		return newEntry(ix.keys(e), lowest)
	}
	e.doc = lowest
	return e
}

// keys returns e's keys as a new slice.
func (ix *index) keys(e entry) []any {
	out := make([]any, ix.keyCount(e))
	for i := range out {
		out[i] = ix.key(e, i)
	}
	return out
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
	na, nb := ix.keyCount(a), ix.keyCount(b)
	for i, col := range ix.columns {
		if i >= na || i >= nb {
			break // a prefix bound: equal so far
		}
		c := compareValues(ix.key(a, i), ix.key(b, i))
		if col.Reverse {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return compareDocs(a.doc, b.doc)
}

// clone returns a copy that shares the tree copy-on-write (every field
// is listed: a new one must be too).
func (ix *index) clone() *index {
	c := &index{name: ix.name, config: ix.config, columns: ix.columns, tree: ix.tree.Copy(), multikey: ix.multikey, idLast: ix.idLast}
	c.ranks.Store(ix.ranks.Load()) // the same entries, until the copy changes
	return c
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

// scalarTuple fills t with doc's one key tuple when every column is a
// top-level field holding no array (what tuples then gives), and
// reports whether it did.
func (ix *index) scalarTuple(doc bsonkit.Doc, t []any) bool {
	for i, col := range ix.columns {
		if strings.IndexByte(col.Path, '.') >= 0 {
			return false
		}
		v := bsonkit.Get(doc, col.Path)
		if _, isArray := v.(bson.A); isArray {
			return false
		}
		t[i] = v
	}
	return true
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
			if other, taken := ix.holder(t); taken && compareValues(other, id) != 0 {
				return &DuplicateKeyError{Index: ix.name, Key: t}
			}
		}
	}
	ix.multikey = ix.multikey || multi
	ix.changed()
	for _, t := range tuples {
		ix.tree.Set(newEntry(ix.stored(t), doc))
	}
	return nil
}

// build fills an empty index with recs at once: all entries made, sorted
// and loaded in order (appending to a B-tree in order never searches it),
// which at start-up is several times faster than adding one by one.
func (ix *index) build(recs []record) error {
	entries := make([]entry, 0, len(recs))
	var slab keySlab
	scratch := make([]any, len(ix.columns))
	add := func(t []any, doc bsonkit.Doc) {
		t = ix.stored(t)
		e := newEntry(t[:1], doc)
		if len(t) > 1 {
			e.rest = slab.hold(t[1:])
		}
		entries = append(entries, e)
	}
	for _, r := range recs {
		if ok, err := ix.covers(r.doc); err != nil {
			return err
		} else if !ok {
			continue
		}
		if ix.scalarTuple(r.doc, scratch) {
			add(scratch, r.doc) // the common case, without allocating
			continue
		}
		tuples, multi := ix.tuples(r.doc)
		ix.multikey = ix.multikey || multi
		for _, t := range tuples {
			add(t, r.doc)
		}
	}
	order := sortEntries(ix, entries)
	if ix.config.Unique {
		for i := 1; i < len(order); i++ {
			prev, e := entries[order[i-1]], entries[order[i]]
			if prev.doc != e.doc && ix.compare(ix.keysOnly(prev), ix.keysOnly(e)) == 0 {
				return &DuplicateKeyError{Index: ix.name, Key: ix.keys(e)}
			}
		}
	}
	ix.changed()
	for _, pos := range order {
		ix.tree.Load(entries[pos])
	}
	ix.tree = compacted(ix.tree)
	return nil
}

// compacted returns tr with every node copied to an array of exactly its
// length. Loading in order leaves each node holding half of an array
// sized for twice its items (a full node splits in two views of one
// array, and the right one grows on); the copies free those arrays
// whole, which halves the tree's memory, and the garbage is all of one
// size class, so it returns to the system instead of fragmenting it.
func compacted[T any](tr *btree.BTreeG[T]) *btree.BTreeG[T] {
	out := tr.Copy()
	out.ScanMut(func(T) bool { return true }) // a mutable walk copies each node
	return out
}

// plainNumbers reports whether every number among the keys is an int32,
// an int64 or a float64 other than NaN.
func plainNumbers(entries []entry, key func(entry) any) bool {
	for _, e := range entries {
		switch v := key(e).(type) {
		case primitive.Decimal128:
			return false
		case float64:
			if math.IsNaN(v) {
				return false
			}
		}
	}
	return true
}

// sortPrefix is keyPrefix, with the numbers' order too when plain: the
// value as a float64 (rounding never reverses an order), its bits made
// to sort as unsigned, the top 56 kept.
func sortPrefix(v any, plain bool) uint64 {
	p := keyPrefix(v)
	if !plain {
		return p
	}
	var f float64
	switch x := v.(type) {
	case int32:
		f = float64(x)
	case int64:
		f = float64(x)
	case float64:
		f = x
	default:
		return p
	}
	return p | orderedFloat(f)>>8
}

// orderedFloat maps a float64 other than NaN to a number that orders
// like it (-0 as 0).
func orderedFloat(f float64) uint64 {
	if f == 0 {
		f = 0
	}
	bits := math.Float64bits(f)
	if bits>>63 == 1 {
		return ^bits
	}
	return bits | 1<<63
}

// keySlab holds the further keys of many compound entries in a few large
// arrays: one allocation per thousands of entries instead of two per
// entry, and nothing for the collector to scatter.
type keySlab struct {
	keys  []any
	heads [][]any
}

const slabEntries = 4096

func (s *keySlab) hold(keys []any) *[]any {
	if len(s.heads) == cap(s.heads) {
		s.heads = make([][]any, 0, slabEntries)
	}
	if cap(s.keys)-len(s.keys) < len(keys) {
		s.keys = make([]any, 0, max(slabEntries*len(keys), len(keys)))
	}
	n := len(s.keys)
	s.keys = append(s.keys, keys...)
	s.heads = append(s.heads, s.keys[n:len(s.keys):len(s.keys)])
	return &s.heads[len(s.heads)-1]
}

// sortEntries returns the positions of entries, made in _id order, in
// index order. It sorts small (prefix, position) records, which sit
// together in memory, and compares whole keys only within runs of equal
// prefixes; position breaks ties, which keeps equal keys in _id order.
// Sorting the entries themselves with the full comparison took most of
// the start-up time.
//
// The prefix is five words taken from the stored keys in order (see
// sortWords), moving on to a key only while the ones before it are told
// apart completely by their words. Keys such as "LN-2026-000123" share
// their first seven bytes, and a column of nulls (loans nobody is
// assigned) says nothing, so one coarse word a key left runs of
// thousands to the full comparison.
func sortEntries(ix *index, entries []entry) []uint32 {
	type record struct {
		p   [5]uint64 // in index direction
		pos uint32
	}
	stored := 1
	if len(entries) > 0 {
		stored = entries[0].keyCount() // every entry of a build has them all
	}
	plain := make([]bool, min(stored, 5))
	for c := range plain {
		plain[c] = plainNumbers(entries, func(e entry) any { return e.key(c) })
	}
	recs := make([]record, len(entries))
	for i, e := range entries {
		r := record{pos: uint32(i)}
		w := 0
	keys:
		for c := 0; c < min(e.keyCount(), len(plain)); c++ {
			words, complete := sortWords(e.key(c), plain[c])
			for _, word := range words {
				if w == len(r.p) {
					break keys
				}
				if ix.columns[c].Reverse {
					word = ^word
				}
				r.p[w] = word
				w++
			}
			if !complete {
				break
			}
		}
		recs[i] = r
	}
	slices.SortFunc(recs, func(a, b record) int {
		if c := cmp.Compare(a.p[0], b.p[0]); c != 0 {
			return c
		}
		if c := cmp.Compare(a.p[1], b.p[1]); c != 0 {
			return c
		}
		for i := 2; i < len(a.p); i++ {
			if c := cmp.Compare(a.p[i], b.p[i]); c != 0 {
				return c
			}
		}
		return cmp.Compare(a.pos, b.pos)
	})
	for start := 0; start < len(recs); {
		end := start + 1
		for end < len(recs) && recs[end].p == recs[start].p {
			end++
		}
		run := recs[start:end]
		sorted := true
		for i := 1; i < len(run) && sorted; i++ {
			sorted = ix.compare(entries[run[i-1].pos], entries[run[i].pos]) <= 0
		}
		if !sorted {
			slices.SortFunc(run, func(a, b record) int {
				if c := ix.compare(entries[a.pos], entries[b.pos]); c != 0 {
					return c
				}
				return cmp.Compare(a.pos, b.pos)
			})
		}
		start = end
	}
	order := make([]uint32, len(recs))
	for i, r := range recs {
		order[i] = r.pos
	}
	return order
}

// sortWords are up to two words that order v like the full comparison
// does (never against it), and whether they tell v apart from every
// other value completely, so that a next key's words may follow. That
// must depend on the words alone: two values with equal words are either
// both complete or both not.
func sortWords(v any, plain bool) ([]uint64, bool) {
	p := sortPrefix(v, plain)
	class, _ := bsonkit.Inspect(v)
	switch class {
	case bsonkit.Null, bsonkit.Boolean: // all nulls are equal; p holds the boolean
		return []uint64{p}, true
	case bsonkit.String:
		// Bytes 7 to 13, then the length: for strings of up to 14 bytes
		// (with trailing NULs, shorter first) that is their byte order.
		x, _ := v.(string)
		var rest uint64
		for i := 7; i < 14; i++ {
			rest <<= 8
			if i < len(x) {
				rest |= uint64(x[i])
			}
		}
		if len(x) > 14 {
			return []uint64{p, rest<<8 | 0xff}, false // longer: the words say no more
		}
		return []uint64{p, rest<<8 | uint64(len(x))}, true
	case bsonkit.ObjectID:
		if x, ok := v.(primitive.ObjectID); ok {
			return []uint64{p, uint64(x[7])<<32 | uint64(x[8])<<24 | uint64(x[9])<<16 | uint64(x[10])<<8 | uint64(x[11])}, true
		}
	case bsonkit.Date:
		if x, ok := v.(primitive.DateTime); ok {
			return []uint64{p, uint64(int64(x)) ^ 1<<63}, true
		}
	}
	// Numbers: p orders them (when plain), but 1 and 1.0 are equal and
	// large integers share a float64, so the words cannot be complete.
	return []uint64{p}, false
}

// remove drops doc's entries.
func (ix *index) remove(id any, doc bsonkit.Doc) error {
	if ok, err := ix.covers(doc); err != nil || !ok {
		return err
	}
	tuples, _ := ix.tuples(doc)
	ix.changed()
	for _, t := range tuples {
		ix.tree.Delete(newEntry(ix.stored(t), doc))
	}
	return nil
}

// holder returns the id of a document indexed under key, if any.
func (ix *index) holder(key []any) (any, bool) {
	var found any
	ok := false
	ix.tree.Ascend(newEntry(key, lowest), func(e entry) bool {
		if ix.compare(ix.keysOnly(e), newEntry(key, lowest)) == 0 {
			found, ok = docID(e.doc), true
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
	// counts remembers counts of plain equality filters (countMemo);
	// nil until asked, dropped whenever a document changes.
	counts atomic.Pointer[countMemo]
}

// changed drops what was remembered about the documents.
func (c *collection) changed() { c.counts.Store(nil) }

func newCollection() *collection {
	return &collection{docs: btree.NewBTreeGOptions(recordLess, btree.Options{Degree: 32}), indexes: map[string]*index{}}
}

func (c *collection) clone() *collection {
	out := &collection{docs: c.docs.Copy(), indexes: make(map[string]*index, len(c.indexes))}
	out.counts.Store(c.counts.Load()) // the same documents, until the copy changes
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
	c.changed()
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
	c.changed()
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
	c.changed()
	id := bsonkit.Get(doc, "_id")
	for _, ix := range c.indexes {
		if err := ix.remove(id, doc); err != nil {
			return err
		}
	}
	c.docs.Delete(record{id: id})
	return nil
}

// replace puts next in old's place (the same _id). An index whose keys
// for the document do not change has its entries swapped in place (the
// same positions, so its cached ranks stay true: most edits change no
// indexed field); the others take old's entries out and put next's in,
// checking uniqueness.
func (c *collection) replace(old, next bsonkit.Doc) error {
	c.changed()
	id := bsonkit.Get(old, "_id")
	for _, ix := range c.indexes {
		swapped, err := ix.swap(old, next)
		if err != nil {
			return err
		}
		if swapped {
			continue
		}
		if err := ix.remove(id, old); err != nil {
			return err
		}
		if err := ix.add(id, next); err != nil {
			return err
		}
	}
	c.docs.Set(record{id: id, doc: next})
	return nil
}

// swap replaces old's entries by next's when both give the index exactly
// the same keys (same values of the same types), reporting whether it
// did.
func (ix *index) swap(old, next bsonkit.Doc) (bool, error) {
	inOld, err := ix.covers(old)
	if err != nil {
		return false, err
	}
	inNext, err := ix.covers(next)
	if err != nil || inOld != inNext {
		return false, err
	}
	if !inOld {
		return true, nil // in neither: nothing to do
	}
	before, _ := ix.tuples(old)
	after, multi := ix.tuples(next)
	if len(before) != len(after) {
		return false, nil
	}
	for i := range before {
		if len(before[i]) != len(after[i]) {
			return false, nil
		}
		for j := range before[i] {
			a, b := before[i][j], after[i][j]
			if reflect.TypeOf(a) != reflect.TypeOf(b) || compareValues(a, b) != 0 {
				return false, nil
			}
		}
	}
	ix.multikey = ix.multikey || multi
	for _, t := range after {
		ix.tree.Set(newEntry(ix.stored(t), next)) // replaces old's entry: equal keys, the same _id
	}
	return true, nil
}

// DuplicateKeyError is a unique index violation.
type DuplicateKeyError struct {
	Index string
	Key   []any
}

func (e *DuplicateKeyError) Error() string {
	return fmt.Sprintf("E11000 duplicate key error index: %s dup key: %v", e.Index, e.Key)
}
