package embedded

import (
	"encoding/binary"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/256dpi/lungo/bsonkit"
)

// rankCache remembers the ranks already found in one index's tree. A
// rank costs O(log² n) (a binary search over positions, each read from
// the counted tree), and the same few are asked for on every list
// request: the six status tabs' counts and the plan's range sizes. A
// published tree never changes, so its ranks stay true; a tree being
// written drops its cache on every change (see index.changed).
type rankCache struct {
	m sync.Map // key (rankKey) → int
	n atomic.Int32
}

// maxCachedRanks bounds a cache: searches ask for ranks of many prefixes.
const maxCachedRanks = 4096

// cachedRank is rank(ix, newEntry(keys, sentinel)), from the cache when
// the keys are strings or integers (the cases that repeat).
func cachedRank(ix *index, keys []any, sentinel bsonkit.Doc) int {
	key, ok := rankKey(keys, sentinel)
	if !ok {
		return rank(ix, newEntry(keys, sentinel))
	}
	c := ix.ranks.Load()
	if c == nil {
		c = &rankCache{}
		if !ix.ranks.CompareAndSwap(nil, c) {
			c = ix.ranks.Load()
		}
	}
	if n, ok := c.m.Load(key); ok {
		return n.(int)
	}
	n := rank(ix, newEntry(keys, sentinel))
	if c.n.Add(1) <= maxCachedRanks {
		c.m.Store(key, n)
	}
	return n
}

// rankKey encodes keys and the sentinel unambiguously (each key tagged
// with its type and, for strings, its length), or reports that a key is
// of another type.
func rankKey(keys []any, sentinel bsonkit.Doc) (string, bool) {
	var b []byte
	switch sentinel {
	case lowest:
		b = append(b, 'L')
	case highest:
		b = append(b, 'H')
	default:
		return "", false
	}
	for _, k := range keys {
		switch v := k.(type) {
		case string:
			b = append(b, 's')
			b = binary.AppendUvarint(b, uint64(len(v)))
			b = append(b, v...)
		case int32:
			b = append(b, 'i')
			b = binary.AppendVarint(b, int64(v))
		case int64:
			b = append(b, 'l')
			b = binary.AppendVarint(b, v)
		default:
			return "", false
		}
	}
	return string(b), true
}

// countMemo remembers a collection's counts of plain equality filters
// ({status: "submitted"}: the six tab counts every list page shows), by
// filter. Like rankCache it is only ever read on a state that no longer
// changes, or dropped on each change of the state being written.
type countMemo struct {
	m sync.Map // filterKey → int
	n atomic.Int32
}

// memoCount returns count(), remembered for plain equality filters.
func memoCount(c *collection, filter bsonkit.Doc, count func() (int, error)) (int, error) {
	key, ok := filterKey(filter)
	if !ok {
		return count()
	}
	memo := c.counts.Load()
	if memo == nil {
		memo = &countMemo{}
		if !c.counts.CompareAndSwap(nil, memo) {
			memo = c.counts.Load()
		}
	}
	if n, ok := memo.m.Load(key); ok {
		return n.(int), nil
	}
	n, err := count()
	if err == nil && memo.n.Add(1) <= maxCachedRanks {
		memo.m.Store(key, n)
	}
	return n, err
}

// filterKey encodes a filter of top-level equalities to strings or
// integers (no operators, no paths), or reports that it is another kind.
func filterKey(filter bsonkit.Doc) (string, bool) {
	if filter == nil {
		return "", false
	}
	var b []byte
	for _, e := range *filter {
		if e.Key == "" || strings.ContainsAny(e.Key, ".$") {
			return "", false
		}
		b = binary.AppendUvarint(b, uint64(len(e.Key)))
		b = append(b, e.Key...)
		switch v := e.Value.(type) {
		case string:
			b = append(b, 's')
			b = binary.AppendUvarint(b, uint64(len(v)))
			b = append(b, v...)
		case int32:
			b = append(b, 'i')
			b = binary.AppendVarint(b, int64(v))
		case int64:
			b = append(b, 'l')
			b = binary.AppendVarint(b, v)
		default:
			return "", false
		}
	}
	return string(b), true
}
