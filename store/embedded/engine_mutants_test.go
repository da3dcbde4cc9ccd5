package embedded

// Engine rules checked with exact inputs and answers (each was a
// surviving mutant of scripts/mutation.sh).

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/256dpi/lungo/mongokit"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// Expire deletes the documents any TTL index says are past their time:
// a date strictly before now minus the index's expiry. A document due
// under two TTL indexes goes once; one without a date never does. The
// deletions reach the disk.
func TestEngine_ExpireUnderSeveralTTLIndexes(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) primitive.DateTime { return primitive.NewDateTimeFromTime(now.Add(-d)) }
	path := filepath.Join(t.TempDir(), "ttl.db")
	e, closeEngine := openAt(t, path)
	// c has an ordinary index: its dates never expire anything.
	for field, expiry := range map[string]time.Duration{"a": time.Hour, "b": 2 * time.Hour, "c": 0} {
		if _, err := e.CreateIndex("t.c", "", mongokit.IndexConfig{Key: dp(bson.D{{Key: field, Value: int32(1)}}), Expiry: expiry}); err != nil {
			t.Fatal(err)
		}
	}
	docs := []bson.D{
		{{Key: "_id", Value: int64(1)}, {Key: "a", Value: at(2 * time.Hour)}},                                       // due by a
		{{Key: "_id", Value: int64(2)}, {Key: "b", Value: at(3 * time.Hour)}},                                       // due by b
		{{Key: "_id", Value: int64(3)}, {Key: "a", Value: at(30 * time.Minute)}, {Key: "b", Value: at(time.Hour)}},  // due by neither
		{{Key: "_id", Value: int64(4)}, {Key: "a", Value: at(2 * time.Hour)}, {Key: "b", Value: at(3 * time.Hour)}}, // due by both
		{{Key: "_id", Value: int64(5)}, {Key: "a", Value: "yesterday"}},                                             // not a date
		{{Key: "_id", Value: int64(6)}, {Key: "a", Value: at(time.Hour)}},                                           // exactly at the cutoff
		{{Key: "_id", Value: int64(7)}, {Key: "a", Value: bson.A{at(time.Minute), at(5 * time.Hour)}}},
		{{Key: "_id", Value: int64(8)}, {Key: "c", Value: at(10 * time.Hour)}}, // its earliest date is due
	}
	var list []*bson.D
	for i := range docs {
		list = append(list, &docs[i])
	}
	for _, d := range list {
		if _, err := e.Insert(context.Background(), "t.c", []*bson.D{d}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := e.Expire(now)
	if err != nil || n != 4 {
		t.Fatalf("Expire = %d, %v; want 4 (documents 1, 2, 4 and 7)", n, err)
	}
	want := ints(3, 5, 6, 8)
	if got, _ := findIDs(t, e, Query{Sort: dp(bson.D{{Key: "_id", Value: int32(1)}})}); !slices.Equal(got, want) {
		t.Fatalf("left %v, want %v", got, want)
	}
	if n, err := e.Expire(now); err != nil || n != 0 {
		t.Fatalf("Expire again = %d, %v; want 0", n, err)
	}
	closeEngine()
	e, closeEngine = openAt(t, path)
	defer closeEngine()
	if got, _ := findIDs(t, e, Query{Sort: dp(bson.D{{Key: "_id", Value: int32(1)}})}); !slices.Equal(got, want) {
		t.Fatalf("after reopening: %v, want %v", got, want)
	}
}
