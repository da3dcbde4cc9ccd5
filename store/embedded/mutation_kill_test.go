package embedded

// Tests that kill mutants gremlins found surviving in store/embedded
// (issue 20); each names the mutation it catches. See
// docs/mutation-survivors.md.

import (
	"fmt"
	"slices"
	"testing"
	"time"

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
