package embedded

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// sameBytes is what same answered before it walked documents: equal
// encodings, and an encoding failure is never the same.
func sameBytes(a, b bson.D) bool {
	ab, err1 := bson.Marshal(a)
	bb, err2 := bson.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ab, bb)
}

// sameValues are values that encode alike or almost alike: each pair
// drawn from them tests a boundary of the comparison (types that encode
// the same, 0 and -0, NaNs, null spellings, empty and nil containers,
// regex options in another order, binary subtypes, a key with a NUL,
// at its end or its start).
var sameValues = []any{
	nil, primitive.Null{}, primitive.Undefined{},
	int32(1), int64(1), float64(1), 1, int32(0), int64(0),
	0.0, math.Copysign(0, -1), math.NaN(), math.Float64frombits(0x7ff8000000000001), math.Inf(1),
	"", "a", "a\x00b", "b", true, false,
	primitive.DateTime(0), primitive.DateTime(1), primitive.Timestamp{T: 1, I: 2}, primitive.Timestamp{T: 1, I: 3},
	primitive.ObjectID{1}, primitive.ObjectID{2},
	primitive.NewDecimal128(1, 2), primitive.NewDecimal128(1, 3),
	primitive.Binary{Subtype: 0, Data: []byte("x")}, primitive.Binary{Subtype: 4, Data: []byte("x")}, primitive.Binary{Data: nil}, primitive.Binary{Data: []byte{}},
	primitive.Regex{Pattern: "a", Options: "im"}, primitive.Regex{Pattern: "a", Options: "mi"},
	primitive.MinKey{}, primitive.MaxKey{}, primitive.JavaScript("x"), primitive.Symbol("x"),
	bson.D{}, bson.D(nil), bson.D{{Key: "a", Value: int32(1)}}, bson.D{{Key: "a", Value: int64(1)}}, bson.D{{Key: "a\x00", Value: int32(1)}}, bson.D{{Key: "\x00a", Value: int32(1)}},
	bson.A{}, bson.A(nil), bson.A{int32(1)}, bson.A{int32(1), "a"}, bson.A{bson.D{{Key: "x", Value: nil}}},
	make(chan int), // cannot be encoded
}

// TestSame_MatchesEncodedBytes: walking two documents answers exactly as
// comparing their encodings does, on every pair of boundary values and on
// random documents with random changes.
func TestSame_MatchesEncodedBytes(t *testing.T) {
	for i, a := range sameValues {
		for j, b := range sameValues {
			da := bson.D{{Key: "k", Value: a}}
			db := bson.D{{Key: "k", Value: b}}
			if got, want := sameDoc(da, db), sameBytes(da, db); got != want {
				t.Errorf("values %d %#v and %d %#v: same %v, encodings say %v", i, a, j, b, got, want)
			}
		}
	}
	rng := rand.New(rand.NewPCG(11, 12))
	agree := 0
	for n := range 5000 {
		a := randomSameDoc(rng, 0)
		b := mutateSameDoc(rng, a)
		got, want := sameDoc(a, b), sameBytes(a, b)
		if got != want {
			t.Fatalf("case %d:\n a %#v\n b %#v\nsame %v, encodings say %v", n, a, b, got, want)
		}
		if want {
			agree++
		}
	}
	// Both answers must occur often, or the random cases test one side.
	if agree < 1000 || agree > 4000 {
		t.Errorf("%d of 5000 random pairs were the same; the generator is lopsided", agree)
	}
	// The key itself: a different name or order is never the same.
	if sameDoc(bson.D{{Key: "a", Value: int32(1)}, {Key: "b", Value: int32(2)}}, bson.D{{Key: "b", Value: int32(2)}, {Key: "a", Value: int32(1)}}) {
		t.Error("the same fields in another order were the same")
	}
}

func randomSameValue(rng *rand.Rand, depth int) any {
	if depth < 2 {
		switch rng.IntN(8) {
		case 0:
			return randomSameDoc(rng, depth+1)
		case 1:
			a := bson.A{}
			for range rng.IntN(3) {
				a = append(a, randomSameValue(rng, depth+1))
			}
			return a
		}
	}
	v := sameValues[rng.IntN(len(sameValues)-1)] // not the channel: most documents must encode
	return v
}

func randomSameDoc(rng *rand.Rand, depth int) bson.D {
	d := bson.D{}
	for i := range rng.IntN(4) {
		d = append(d, bson.E{Key: string(rune('a' + i)), Value: randomSameValue(rng, depth)})
	}
	return d
}

// mutateSameDoc copies d, and about half the time changes one value
// somewhere in it to another (which may still encode alike).
func mutateSameDoc(rng *rand.Rand, d bson.D) bson.D {
	out := make(bson.D, len(d))
	copy(out, d)
	if len(out) == 0 || rng.IntN(2) == 0 {
		return out
	}
	i := rng.IntN(len(out))
	if sub, ok := out[i].Value.(bson.D); ok && rng.IntN(2) == 0 {
		out[i].Value = mutateSameDoc(rng, sub)
	} else {
		out[i].Value = randomSameValue(rng, 2)
	}
	return out
}
