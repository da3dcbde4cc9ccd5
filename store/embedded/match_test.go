package embedded

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/256dpi/lungo/bsonkit"
	"github.com/256dpi/lungo/mongokit"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// The matcher answers exactly as mongokit.Match on random documents and
// filters: the same verdict, and an error where it errs. Values are drawn
// from a small pool so equalities hit; documents hold arrays, nested
// documents, nulls, missing fields, numbers of three types and NaN, so
// every fallback is reached as well as the fast path.
func TestMatcher_AgreesWithMongokit(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 11))
	const docs, filters = 200, 3000
	pool := make([]bsonkit.Doc, docs)
	for i := range pool {
		d := randomMatchDoc(rng, 2)
		pool[i] = &d
	}
	fast, fellBack, matched := 0, 0, 0
	for f := range filters {
		filter := randomFilter(rng)
		m := compiled(&filter)
		if m.fast {
			fast++
		}
		for _, doc := range pool {
			want, wantErr := mongokit.Match(doc, &filter)
			got, gotErr := m.match(doc)
			if got != want || (gotErr == nil) != (wantErr == nil) {
				t.Fatalf("filter %d %v on %v: matcher %v, %v; mongokit %v, %v", f, filter, *doc, got, gotErr, want, wantErr)
			}
			if got {
				matched++
			}
			if m.fast {
				if _, plain := firstNonPlain(m, doc); !plain {
					fellBack++
				}
			}
		}
	}
	// The draw must exercise both paths and both verdicts, or the
	// comparison above proves little.
	if fast < filters/4 || fast > filters*3/4 || fellBack == 0 || matched < docs*filters/50 {
		t.Errorf("fast filters %d of %d, documents falling back %d, matches %d: the generator needs retuning", fast, filters, fellBack, matched)
	}
}

// compiled is a matcher past its first document: compiled, so every
// document it is given takes the path the filter's form decides.
func compiled(filter bsonkit.Doc) *matcher {
	m := newMatcher(filter)
	m.compileFilter()
	return m
}

// firstNonPlain reports whether some predicate's path meets an array or
// a document in doc (the matcher hands those to mongokit).
func firstNonPlain(m *matcher, doc bsonkit.Doc) (int, bool) {
	for i, p := range m.preds {
		if _, plain := p.test(*doc); !plain {
			return i, false
		}
	}
	return 0, true
}

var (
	matchKeys    = []string{"a", "b", "c"}
	matchStrings = []string{"", "x", "y", "X"}
	matchDate    = primitive.NewDateTimeFromTime(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	matchID      = primitive.ObjectID{1, 2, 3}
)

func randomScalar(rng *rand.Rand) any {
	switch rng.IntN(13) {
	case 0:
		return nil
	case 1:
		return int32(rng.IntN(3))
	case 2:
		return int64(rng.IntN(3))
	case 3:
		return float64(rng.IntN(3)) + []float64{0, 0.5}[rng.IntN(2)]
	case 4:
		return math.NaN()
	case 5, 6:
		return matchStrings[rng.IntN(len(matchStrings))]
	case 7:
		return rng.IntN(2) == 0
	case 8:
		return matchDate + primitive.DateTime(rng.IntN(3)-1)
	case 9:
		return matchID
	case 10:
		return primitive.Null{}
	case 11:
		return primitive.Regex{Pattern: "x"}
	default:
		return math.Inf(1 - 2*rng.IntN(2))
	}
}

func randomMatchValue(rng *rand.Rand, depth int) any {
	switch n := rng.IntN(10); {
	case n < 6 || depth == 0:
		return randomScalar(rng)
	case n < 8:
		return randomMatchDoc(rng, depth-1)
	default:
		arr := bson.A{}
		for range rng.IntN(3) {
			arr = append(arr, randomMatchValue(rng, depth-1))
		}
		return arr
	}
}

func randomMatchDoc(rng *rand.Rand, depth int) bson.D {
	d := bson.D{}
	for _, k := range matchKeys {
		if rng.IntN(4) > 0 {
			d = append(d, bson.E{Key: k, Value: randomMatchValue(rng, depth)})
		}
	}
	return d
}

func randomPath(rng *rand.Rand) string {
	p := matchKeys[rng.IntN(len(matchKeys))]
	for rng.IntN(3) == 0 {
		p += "." + []string{"a", "b", "0", "1"}[rng.IntN(4)]
	}
	if rng.IntN(40) == 0 {
		p += []string{".", ".$", ".$[]"}[rng.IntN(3)]
	}
	return p
}

var matchOps = []string{"$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists", "$not", "$size", "$type", "$elemMatch"}

func randomCondition(rng *rand.Rand) any {
	if rng.IntN(3) == 0 {
		if rng.IntN(8) == 0 {
			return randomMatchValue(rng, 1) // a document or array equality
		}
		return randomScalar(rng)
	}
	ops := bson.D{}
	for range 1 + rng.IntN(2) {
		op := matchOps[rng.IntN(len(matchOps))]
		var v any
		switch op {
		case "$in", "$nin":
			arr := bson.A{}
			for range rng.IntN(3) {
				arr = append(arr, randomScalar(rng))
			}
			v = arr
			if rng.IntN(20) == 0 {
				v = randomScalar(rng) // not an array: an error
			}
		case "$exists":
			v = []any{true, false, int32(0), int64(1), 0.0, nil, "no"}[rng.IntN(7)]
		case "$not":
			v = bson.D{{Key: "$eq", Value: randomScalar(rng)}}
		case "$elemMatch":
			conds := bson.D{}
			for range 1 + rng.IntN(2) {
				c := []string{"$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$exists"}[rng.IntN(8)]
				var cv any = randomScalar(rng)
				switch c {
				case "$in":
					cv = bson.A{randomScalar(rng), randomScalar(rng)}
				case "$exists":
					cv = rng.IntN(2) == 0
				}
				conds = append(conds, bson.E{Key: c, Value: cv})
			}
			switch rng.IntN(12) {
			case 0:
				conds = bson.D{{Key: "a", Value: randomScalar(rng)}} // a condition on the elements' fields
			case 1:
				conds = bson.D{} // matches nothing
			case 2:
				conds = append(conds, bson.E{Key: "$not", Value: bson.D{{Key: "$eq", Value: randomScalar(rng)}}})
			case 3:
				conds = append(conds, bson.E{Key: "$elemMatch", Value: bson.D{{Key: "$gte", Value: randomScalar(rng)}}})
			}
			v = conds
			if rng.IntN(30) == 0 {
				v = randomScalar(rng) // not a document: an error
			}
		case "$size":
			v = int32(rng.IntN(2))
		case "$type":
			v = "string"
		default:
			v = randomScalar(rng)
		}
		ops = append(ops, bson.E{Key: op, Value: v})
	}
	if rng.IntN(30) == 0 {
		ops = append(ops, bson.E{Key: "plain", Value: 1}) // an operator document with a plain key: an error
	}
	return ops
}

func randomFilter(rng *rand.Rand) bson.D {
	f := bson.D{}
	for range rng.IntN(4) {
		switch rng.IntN(12) {
		case 0:
			sub := bson.A{}
			for range rng.IntN(3) {
				sub = append(sub, bson.D{{Key: randomPath(rng), Value: randomCondition(rng)}})
			}
			f = append(f, bson.E{Key: "$and", Value: sub})
		case 1:
			f = append(f, bson.E{Key: "$or", Value: bson.A{bson.D{{Key: randomPath(rng), Value: randomCondition(rng)}}}})
		default:
			f = append(f, bson.E{Key: randomPath(rng), Value: randomCondition(rng)})
		}
	}
	return f
}

// $elemMatch with operators on the elements: the fast path answers for
// an array of scalars and for anything that is not an array, and hands
// mongokit every array of arrays or documents and every path through an
// array, each answer equal to mongokit's.
func TestMatcher_ElemMatch(t *testing.T) {
	t.Parallel()
	prefix := bson.D{{Key: "$gte", Value: "as"}, {Key: "$lt", Value: "as\U0010ffff"}}
	for _, tc := range []struct {
		doc        bson.D
		path       string
		want, fast bool
	}{
		{bson.D{{Key: "k", Value: bson.A{"pune", "asha"}}}, "k", true, true},
		{bson.D{{Key: "k", Value: bson.A{"pune", "ashok"}}}, "k", true, true},
		{bson.D{{Key: "k", Value: bson.A{"pune", "a", "at"}}}, "k", false, true},
		{bson.D{{Key: "k", Value: bson.A{int64(1), nil, "b"}}}, "k", false, true},
		{bson.D{{Key: "k", Value: bson.A{}}}, "k", false, true},
		{bson.D{{Key: "k", Value: "asha"}}, "k", false, true}, // not an array
		{bson.D{{Key: "k", Value: bson.D{{Key: "x", Value: "asha"}}}}, "k", false, true},
		{bson.D{{Key: "j", Value: bson.A{"asha"}}}, "k", false, true}, // missing
		{bson.D{{Key: "k", Value: bson.D{{Key: "w", Value: bson.A{"asha"}}}}}, "k.w", true, true},
		{bson.D{{Key: "k", Value: bson.A{bson.A{"asha"}}}}, "k", true, false}, // an element array: its elements compared
		{bson.D{{Key: "k", Value: bson.A{"b", bson.D{{Key: "w", Value: "asha"}}}}}, "k", false, false},
		{bson.D{{Key: "k", Value: bson.A{bson.D{{Key: "w", Value: bson.A{"b", "asha"}}}}}}, "k.w", true, false},
		{bson.D{{Key: "k", Value: bson.A{bson.A{"b", "asha"}}}}, "k.0", true, false},
	} {
		filter := bson.D{{Key: tc.path, Value: bson.D{{Key: "$elemMatch", Value: prefix}}}}
		m := compiled(&filter)
		if !m.fast {
			t.Fatalf("%v: not compiled for the fast path", filter)
		}
		doc := tc.doc
		want, err := mongokit.Match(&doc, &filter)
		if err != nil || want != tc.want {
			t.Fatalf("%v on %v: mongokit %v, %v; the case says %v", filter, doc, want, err, tc.want)
		}
		got, err := m.match(&doc)
		if got != want || err != nil {
			t.Errorf("%v on %v: matcher %v, %v; mongokit %v", filter, doc, got, err, want)
		}
		if _, plain := firstNonPlain(m, &doc); plain != tc.fast {
			t.Errorf("%v on %v: fast path %v, want %v", filter, doc, plain, tc.fast)
		}
	}
}

// The filters the app sends most take the fast path.
func TestMatcher_AppFiltersAreFast(t *testing.T) {
	t.Parallel()
	now := primitive.NewDateTimeFromTime(time.Now())
	for _, f := range []bson.D{
		{{Key: "token", Value: "abc"}, {Key: "deleted", Value: bson.D{{Key: "$ne", Value: true}}}, {Key: "expiry", Value: bson.D{{Key: "$gt", Value: now}}}},
		{{Key: "humanId", Value: "LN-2026-000001"}},
		{{Key: "role", Value: bson.D{{Key: "$in", Value: bson.A{"admin", "underwriter"}}}}},
		{{Key: "_id", Value: matchID}, {Key: "sessions.0a1b", Value: bson.D{{Key: "$exists", Value: true}}}},
		// a search of two words (store/loans.go loanQuery)
		{{Key: "$and", Value: bson.A{
			bson.D{{Key: "searchKeys", Value: bson.D{{Key: "$elemMatch", Value: bson.D{{Key: "$gte", Value: "asha"}, {Key: "$lt", Value: "asha\U0010ffff"}}}}}},
			bson.D{{Key: "searchKeys", Value: bson.D{{Key: "$elemMatch", Value: bson.D{{Key: "$gte", Value: "pune"}, {Key: "$lt", Value: "pune\U0010ffff"}}}}}},
		}}, {Key: "status", Value: "submitted"}},
		{{Key: "$and", Value: bson.A{bson.D{{Key: "status", Value: "submitted"}}, bson.D{{Key: "amount", Value: bson.D{{Key: "$gte", Value: int64(100)}, {Key: "$lte", Value: int64(900)}}}}}}},
	} {
		if m := compiled(&f); !m.fast {
			t.Errorf("%v: not on the fast path", f)
		}
	}
	for _, f := range []bson.D{
		{{Key: "$or", Value: bson.A{bson.D{{Key: "a", Value: 1}}}}},
		{{Key: "a", Value: bson.D{{Key: "$not", Value: bson.D{{Key: "$eq", Value: 1}}}}}},
		{{Key: "a", Value: bson.D{{Key: "b", Value: 1}}}},
		{{Key: "a", Value: bson.D{{Key: "$elemMatch", Value: bson.D{{Key: "b", Value: 1}}}}}},
		{{Key: "a", Value: bson.D{{Key: "$elemMatch", Value: bson.D{}}}}},
		{{Key: "a", Value: bson.D{{Key: "$elemMatch", Value: bson.D{{Key: "$elemMatch", Value: bson.D{{Key: "$gte", Value: int32(1)}}}}}}}},
		{{Key: "a", Value: primitive.Regex{Pattern: "x"}}},
		{{Key: "a", Value: bson.D{{Key: "$in", Value: bson.A{primitive.Regex{Pattern: "x"}}}}}},
	} {
		if m := compiled(&f); m.fast {
			t.Errorf("%v: took the fast path", f)
		}
	}
}

func BenchmarkMatcher_SessionFilter(b *testing.B) {
	now := primitive.NewDateTimeFromTime(time.Now())
	filter := bson.D{{Key: "token", Value: "abc"}, {Key: "deleted", Value: bson.D{{Key: "$ne", Value: true}}}, {Key: "expiry", Value: bson.D{{Key: "$gt", Value: now}}}}
	doc := bson.D{{Key: "_id", Value: matchID}, {Key: "token", Value: "abc"}, {Key: "data", Value: primitive.Binary{Data: []byte("x")}}, {Key: "expiry", Value: now + 1000}}
	b.Run("mongokit", func(b *testing.B) {
		for b.Loop() {
			if ok, _ := mongokit.Match(&doc, &filter); !ok {
				b.Fatal("no match")
			}
		}
	})
	b.Run("matcher_two_documents", func(b *testing.B) {
		for b.Loop() {
			m := newMatcher(&filter)
			if ok, _ := m.match(&doc); !ok {
				b.Fatal("no match")
			}
			if ok, _ := m.match(&doc); !ok {
				b.Fatal("no match")
			}
		}
	})
}

func BenchmarkMatcher_Compiled(b *testing.B) {
	now := primitive.NewDateTimeFromTime(time.Now())
	filter := bson.D{{Key: "token", Value: "abc"}, {Key: "deleted", Value: bson.D{{Key: "$ne", Value: true}}}, {Key: "expiry", Value: bson.D{{Key: "$gt", Value: now}}}}
	doc := bson.D{{Key: "_id", Value: matchID}, {Key: "token", Value: "abc"}, {Key: "data", Value: primitive.Binary{Data: []byte("x")}}, {Key: "expiry", Value: now + 1000}}
	m := compiled(&filter)
	for b.Loop() {
		if ok, _ := m.match(&doc); !ok {
			b.Fatal("no match")
		}
	}
}

func BenchmarkMatcher_Compile(b *testing.B) {
	now := primitive.NewDateTimeFromTime(time.Now())
	filter := bson.D{{Key: "token", Value: "abc"}, {Key: "deleted", Value: bson.D{{Key: "$ne", Value: true}}}, {Key: "expiry", Value: bson.D{{Key: "$gt", Value: now}}}}
	for b.Loop() {
		m := newMatcher(&filter)
		m.compileFilter()
	}
}
