package embedded

import (
	"encoding/binary"
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
