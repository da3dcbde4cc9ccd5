package embedded

// Tests that kill mutants gremlins found surviving in store/embedded
// (issue 20); each names the mutation it catches. See
// docs/mutation-survivors.md.

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/256dpi/lungo/bsonkit"
	"github.com/256dpi/lungo/mongokit"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// A matcher answers its first document through mongokit and compiles the
// filter at the second, whose answer and every later one then comes from
// the fast path (match.go match: `m.preds == nil` → `!= nil` never
// compiles, so every document goes to mongokit: the same answers, the
// 7 % of CPU the matcher was written to save spent again).
func TestMatcher_CompilesAtTheSecondDocument(t *testing.T) {
	t.Parallel()
	now := primitive.NewDateTimeFromTime(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))
	filter := bson.D{{Key: "token", Value: "abc"}, {Key: "deleted", Value: bson.D{{Key: "$ne", Value: true}}}, {Key: "expiry", Value: bson.D{{Key: "$gt", Value: now}}}}
	live := bson.D{{Key: "_id", Value: matchID}, {Key: "token", Value: "abc"}, {Key: "expiry", Value: now + 1000}}
	expired := bson.D{{Key: "_id", Value: matchID}, {Key: "token", Value: "abc"}, {Key: "expiry", Value: now}}
	m := newMatcher(&filter)
	for i, c := range []struct {
		doc       bson.D
		want      bool
		fast      bool
		predCount int
	}{
		{live, true, false, 0}, // the first: mongokit, nothing compiled
		{expired, false, true, 3},
		{live, true, true, 3},
	} {
		got, err := m.match(&c.doc)
		if err != nil || got != c.want {
			t.Fatalf("document %d: %v, %v; want %v", i+1, got, err, c.want)
		}
		if m.fast != c.fast || len(m.preds) != c.predCount {
			t.Fatalf("after document %d: fast %v with %d predicates, want %v with %d", i+1, m.fast, len(m.preds), c.fast, c.predCount)
		}
	}
}

// An $in over a unique index's only column walks one key per value, not
// the index: the unique-key shortcut is for equalities alone (query.go
// choosePlan: `alts == nil` → `alts != nil` took the shortcut for an $in,
// whose values are in alts, not eq, so it walked every entry: the same
// documents, 100 examined instead of 2). And a unique equality takes the
// index even when the collection holds one document, where a counted
// range of 1 would not beat the full scan.
func TestPlanner_UniqueIndexInWalksEachKey(t *testing.T) {
	t.Parallel()
	code := bson.D{{Key: "code", Value: int32(1)}}
	unique := []mongokit.IndexConfig{{Key: &code, Unique: true}}
	var docs []bson.D
	for i := range 100 {
		docs = append(docs, bson.D{{Key: "_id", Value: int64(i)}, {Key: "code", Value: fmt.Sprint("c", i)}})
	}
	e := engineWith(t, unique, docs)
	ids, plan := findIDs(t, e, Query{Filter: dp(bson.D{{Key: "code", Value: bson.D{{Key: "$in", Value: bson.A{"c7", "c3"}}}}})})
	if !slices.Equal(ids, ints(7, 3)) || plan.Index != "code_1" || plan.EqualityKeys != 1 || plan.Examined != 2 {
		t.Errorf("$in over the unique index: ids %v, plan %+v; want [7 3] from code_1 with 1 equality key, 2 examined", ids, plan)
	}
	one := engineWith(t, unique, docs[:1])
	ids, plan = findIDs(t, one, Query{Filter: dp(bson.D{{Key: "code", Value: "c0"}})})
	if !slices.Equal(ids, ints(0)) || plan.Index != "code_1" || plan.EqualityKeys != 1 || plan.Examined != 1 {
		t.Errorf("unique key in a one-document collection: ids %v, plan %+v; want [0] from code_1, 1 examined", ids, plan)
	}
}

// A projection that only leaves out top-level fields (the list's) shares
// the stored document's values instead of cloning them as
// mongokit.Project does: that sharing is what the fast path is for
// (query.go topLevelExclusion: `e.Key == ""` → `!=` sent every such
// projection to mongokit: the same documents, every value cloned). One
// that only keeps top-level fields gives the same values, shared, either
// way. An empty key is not a field to keep or leave out: mongokit
// ignores it, and so must the fast paths (with `e.Key != ""` a lone
// {"": 0} dropped the field named "", in the inclusion fast path {"": 1}
// kept it).
func TestProject_SharesStoredValuesAndIgnoresAnEmptyKey(t *testing.T) {
	t.Parallel()
	terms := bson.D{{Key: "amount", Value: int64(50_000_000)}, {Key: "months", Value: int32(36)}}
	stored := bson.D{{Key: "_id", Value: int64(1)}, {Key: "status", Value: "submitted"}, {Key: "terms", Value: terms}, {Key: "history", Value: bson.A{"created"}}}
	shared := func(d bsonkit.Doc) bool {
		got, ok := bsonkit.Get(d, "terms").(bson.D)
		return ok && len(got) == 2 && &got[0] == &terms[0]
	}
	for _, tc := range []struct {
		proj bson.D
		want bson.D
	}{
		{bson.D{{Key: "history", Value: int32(0)}}, bson.D{{Key: "_id", Value: int64(1)}, {Key: "status", Value: "submitted"}, {Key: "terms", Value: terms}}},
		{bson.D{{Key: "terms", Value: int32(1)}, {Key: "_id", Value: int32(0)}}, bson.D{{Key: "terms", Value: terms}}},
		{bson.D{{Key: "status", Value: true}, {Key: "terms", Value: 1.0}}, bson.D{{Key: "_id", Value: int64(1)}, {Key: "status", Value: "submitted"}, {Key: "terms", Value: terms}}},
	} {
		got, err := project([]bsonkit.Doc{&stored}, &tc.proj)
		if err != nil || len(got) != 1 || !reflect.DeepEqual(*got[0], tc.want) {
			t.Errorf("project %v: %v, %v; want %v", tc.proj, got, err, tc.want)
			continue
		}
		if !shared(got[0]) {
			t.Errorf("project %v: terms cloned, want the stored value shared", tc.proj)
		}
	}
	withEmpty := bson.D{{Key: "_id", Value: int64(1)}, {Key: "", Value: int32(2)}, {Key: "a", Value: int32(3)}}
	for _, tc := range []struct {
		proj bson.D
		want bson.D
	}{
		{bson.D{{Key: "", Value: int32(0)}}, withEmpty},
		{bson.D{{Key: "", Value: int32(1)}}, bson.D{{Key: "_id", Value: int64(1)}}},
	} {
		got, err := project([]bsonkit.Doc{&withEmpty}, &tc.proj)
		if err != nil || len(got) != 1 || !reflect.DeepEqual(*got[0], tc.want) {
			t.Errorf("project %v on %v: %v, %v; want %v", tc.proj, withEmpty, got, err, tc.want)
		}
	}
}

// Only 0 and 1 (and false and true) are a projection's flags, in each
// number type: mongokit refuses {a: 2}, and so must the fast path for
// keeping top-level fields (query.go flagValue: `x == 0 || x == 1` with
// either comparison negated took an int64 or float64 2 for "keep";
// TestProject_TopLevelExclusionMatchesMongokit draws 2 only as an int32).
func TestProject_OnlyZeroAndOneAreFlags(t *testing.T) {
	t.Parallel()
	doc := bson.D{{Key: "_id", Value: int64(1)}, {Key: "a", Value: int32(3)}, {Key: "b", Value: int32(4)}}
	for _, v := range []any{int32(2), int64(2), 2.0, 0.5, int64(-1)} {
		for _, proj := range []bson.D{{{Key: "a", Value: v}}, {{Key: "a", Value: int32(1)}, {Key: "b", Value: v}}} {
			if got, err := project([]bsonkit.Doc{&doc}, &proj); err == nil {
				t.Errorf("project %v: %v, want mongokit's 'invalid projection argument'", proj, got)
			}
		}
	}
	for _, v := range []any{int32(1), int64(1), 1.0, true} {
		proj := bson.D{{Key: "a", Value: v}}
		got, err := project([]bsonkit.Doc{&doc}, &proj)
		want := bson.D{{Key: "_id", Value: int64(1)}, {Key: "a", Value: int32(3)}}
		if err != nil || !reflect.DeepEqual(*got[0], want) {
			t.Errorf("project %v: %v, %v; want %v", proj, got, err, want)
		}
	}
}
