package embedded

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/256dpi/lungo/mongokit"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// sortEntries orders by prefixes first and by the full comparison only
// within runs of equal prefixes; the order must be exactly the full
// comparison's. Random compound indexes over keys chosen to trip the
// prefixes: strings sharing 7 or 14 bytes, trailing NULs, long strings,
// int32/int64/float64 mixes, -0, integers a float64 cannot hold, dates,
// object ids, nulls, booleans and now and then a Decimal128.
func TestSortEntriesMatchesComparison(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 11))
	oid := primitive.NewObjectID()
	value := func(decimals bool) any {
		switch rnd.IntN(12) {
		case 0:
			return []string{"abcdefg", "abcdefgh", "abcdefgA", "abcdefghijklmn", "abcdefghijklmnX", "abcdefghijklmnAB", "abc", "abc\x00", "abcdefg\x00"}[rnd.IntN(9)]
		case 1:
			return int32(rnd.IntN(5) - 2)
		case 2:
			return []int64{0, 1, -1, 1 << 60, 1<<60 + 1, math.MaxInt64, math.MinInt64}[rnd.IntN(7)]
		case 3:
			if decimals { // lungo orders infinities against decimals as zero: no total order
				return []float64{0, math.Copysign(0, -1), 1, -1.5, 1.5, 1 << 60}[rnd.IntN(6)]
			}
			return []float64{0, math.Copysign(0, -1), 1, -1.5, 1.5, math.Inf(1), math.Inf(-1), 1 << 60}[rnd.IntN(8)]
		case 4:
			return primitive.DateTime(rnd.Int64N(5) * 100)
		case 5:
			o := oid
			o[11] = byte(rnd.IntN(3))
			o[8] = byte(rnd.IntN(2))
			return o
		case 6:
			return nil
		case 7:
			return rnd.IntN(2) == 0
		case 8:
			if decimals {
				d, _ := primitive.ParseDecimal128(fmt.Sprint(rnd.IntN(3)))
				return d
			}
			return int64(rnd.IntN(3))
		}
		return fmt.Sprint("s", rnd.IntN(4))
	}
	for round := range 300 {
		cols := 1 + rnd.IntN(3)
		key := bson.D{}
		for c := range cols {
			key = append(key, bson.E{Key: fmt.Sprint("k", c), Value: int32(1 - 2*rnd.IntN(2))})
		}
		if rnd.IntN(2) == 0 {
			key = append(key, bson.E{Key: "_id", Value: int32(1 - 2*rnd.IntN(2))})
		}
		ix, err := newIndex("t", mongokit.IndexConfig{Key: &key})
		if err != nil {
			t.Fatal(err)
		}
		decimals := round%5 == 0
		var entries []entry
		for i := range 200 {
			doc := bson.D{{Key: "_id", Value: int64(i)}}
			for c := range cols {
				doc = append(doc, bson.E{Key: fmt.Sprint("k", c), Value: value(decimals)})
			}
			tuples, _ := ix.tuples(&doc)
			for _, tp := range tuples {
				entries = append(entries, newEntry(ix.stored(tp), &doc))
			}
		}
		got := sortEntries(ix, entries)
		want := make([]uint32, len(entries))
		for i := range want {
			want[i] = uint32(i)
		}
		slices.SortStableFunc(want, func(a, b uint32) int {
			return cmp.Or(ix.compare(entries[a], entries[b]), cmp.Compare(a, b))
		})
		if !slices.Equal(got, want) {
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("round %d, index %v: position %d holds %v, want %v", round, key, i, ix.keys(entries[got[i]]), ix.keys(entries[want[i]]))
				}
			}
		}
	}
}

func TestDocSet(t *testing.T) {
	docs := make([]*bson.D, 3000)
	for i := range docs {
		docs[i] = &bson.D{{Key: "_id", Value: i}}
	}
	s := newDocSet(1000)
	for _, d := range docs[:1000] {
		s.add(d)
		s.add(d) // twice: still once
	}
	for i, d := range docs {
		if got, want := s.has(d), i < 1000; got != want {
			t.Fatalf("has(doc %d) = %v, want %v", i, got, want)
		}
	}
	if s := newDocSet(0); s.has(docs[0]) {
		t.Fatal("an empty set has a document")
	}
}
