package embedded

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/256dpi/lungo/bsonkit"
	"github.com/256dpi/lungo/mongokit"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// TestToDoc_MatchesDriver: the quick conversion of filters, updates,
// sorts and projections gives exactly bsonkit.Transform's document (the
// driver's marshal and unmarshal) on random values of every shape it
// takes; values it does not take still convert, the driver's way.
func TestToDoc_MatchesDriver(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range 3000 {
		v := randomDoc(rng, 0)
		want, wantErr := bsonkit.Transform(v)
		got, gotErr := toDoc(v)
		if (wantErr == nil) != (gotErr == nil) {
			t.Fatalf("case %d %#v: error %v, the driver's %v", i, v, gotErr, wantErr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("case %d %#v:\n got %#v\nwant %#v", i, v, got, want)
		}
	}
	type shaped struct {
		Status string `bson:"status"`
	}
	// A nil bson.D at the top is an error for the driver (it cannot write
	// a null there), so it is one here too; nested, it is an empty document.
	for _, v := range []any{shaped{"x"}, bson.M{"a": map[string]int{"b": 1}}, bson.D{{Key: "a", Value: []int{1, 2}}}, bson.M{"u": uint8(3)}, bson.D(nil), bson.D{{Key: "n", Value: bson.D(nil)}}} {
		want, wantErr := bsonkit.Transform(v)
		got, err := toDoc(v)
		if (err == nil) != (wantErr == nil) || !reflect.DeepEqual(got, want) {
			t.Errorf("%#v: %#v, %v; want %#v, %v", v, got, err, want, wantErr)
		}
	}
}

// TestToDoc_MapKeysSorted: a map's keys come out in order, so a filter
// or an update written as bson.M converts the same way every time.
func TestToDoc_MapKeysSorted(t *testing.T) {
	got, err := toDoc(bson.M{"c": 1, "a": 2, "b": bson.M{"z": 1, "y": 2}})
	if err != nil {
		t.Fatal(err)
	}
	want := &bson.D{{Key: "a", Value: int32(2)}, {Key: "b", Value: bson.D{{Key: "y", Value: int32(2)}, {Key: "z", Value: int32(1)}}}, {Key: "c", Value: int32(1)}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%#v, want %#v", got, want)
	}
}

// randomDoc builds a filter-like document: bson.D at any size, bson.M
// with at most one key (the driver's order for more is Go's random map
// order, compared in TestToDoc_MapKeysSorted instead).
func randomDoc(rng *rand.Rand, depth int) any {
	n := rng.IntN(4)
	if rng.IntN(3) == 0 {
		m := bson.M{}
		if n > 0 {
			m[randomKey(rng)] = randomValue(rng, depth+1)
		}
		return m
	}
	d := bson.D{}
	for range n {
		d = append(d, bson.E{Key: randomKey(rng), Value: randomValue(rng, depth+1)})
	}
	if rng.IntN(4) == 0 {
		return &d
	}
	return d
}

func randomKey(rng *rand.Rand) string {
	keys := []string{"status", "$and", "$in", "searchKeys", "terms.amount", "_id", "$gte", "k"}
	return keys[rng.IntN(len(keys))]
}

func randomValue(rng *rand.Rand, depth int) any {
	if depth > 4 {
		return "leaf"
	}
	switch rng.IntN(16) {
	case 0:
		return nil
	case 1:
		return "under_review"
	case 2:
		return rng.IntN(2) == 0
	case 3:
		ints := []int{0, -1, math.MaxInt32, math.MaxInt32 + 1, math.MinInt32, math.MinInt32 - 1, math.MaxInt64}
		return ints[rng.IntN(len(ints))]
	case 4:
		return rng.Int32()
	case 5:
		return rng.Int64()
	case 6:
		return rng.NormFloat64()
	case 7:
		return time.Unix(rng.Int64N(4e9)-1e9, rng.Int64N(1e9)).In(time.FixedZone("IST", 19800))
	case 8:
		return primitive.NewObjectID()
	case 9:
		return primitive.DateTime(rng.Int64())
	case 10:
		a := bson.A{}
		for range rng.IntN(3) {
			a = append(a, randomValue(rng, depth+1))
		}
		return a
	case 11:
		a := []any{}
		for range rng.IntN(3) {
			a = append(a, randomValue(rng, depth+1))
		}
		return a
	case 12:
		return []string{"a", "b"}[:rng.IntN(3)]
	case 13:
		nils := []any{time.Time{}, []string(nil), bson.A(nil), []any(nil), bson.M(nil), bson.D(nil), (*bson.D)(nil)}
		return nils[rng.IntN(len(nils))]
	default:
		return randomDoc(rng, depth+1)
	}
}

// TestProject_TopLevelExclusionMatchesMongokit: the shared-value paths
// for projections that only leave out, or only keep, top-level fields
// (with or without _id) give what
// mongokit.Project gives, on random documents and projections (others,
// with paths, inclusions or non-zero values, go to mongokit).
func TestProject_TopLevelExclusionMatchesMongokit(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	keys := []string{"_id", "history", "searchKeys", "status", "a.b", "$x", "terms"}
	for i := range 2000 {
		doc := bson.D{}
		for _, k := range []string{"_id", "status", "history", "searchKeys", "terms"} {
			if rng.IntN(4) > 0 {
				doc = append(doc, bson.E{Key: k, Value: randomValue(rng, 2)})
			}
		}
		norm, err := bsonkit.Transform(doc) // values as the engine holds them
		if err != nil {
			t.Fatal(err)
		}
		doc = *norm
		proj := bson.D{}
		for range 1 + rng.IntN(3) {
			vals := []any{int32(0), int64(0), 0.0, false, int32(1), int64(1), 1.0, true, "x", int32(2)}
			proj = append(proj, bson.E{Key: keys[rng.IntN(len(keys))], Value: vals[rng.IntN(len(vals))]})
		}
		want := []bsonkit.Doc{}
		var wantErr error
		if d, err := mongokit.Project(&doc, &proj); err != nil {
			wantErr = err
		} else {
			want = append(want, d)
		}
		got, gotErr := project([]bsonkit.Doc{&doc}, &proj)
		if (wantErr == nil) != (gotErr == nil) {
			t.Fatalf("case %d %v on %v: error %v, mongokit's %v", i, proj, doc, gotErr, wantErr)
		}
		if wantErr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("case %d %v on %v:\n got %v\nwant %v", i, proj, doc, got, want)
		}
	}
}
