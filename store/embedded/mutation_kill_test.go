package embedded

// Tests that kill mutants gremlins found surviving in store/embedded
// (issue 20); each names the mutation it catches. See
// docs/mutation-survivors.md.

import (
	"testing"
	"time"

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
