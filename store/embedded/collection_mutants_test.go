package embedded

import (
	"context"
	"slices"
	"testing"

	"github.com/256dpi/lungo/mongokit"
	"go.mongodb.org/mongo-driver/bson"
)

// An empty array is indexed under itself (not left out of the index): a
// unique index refuses a second document with an empty array there, and
// an equality on the empty array finds the first.
func TestIndex_EmptyArrayIsIndexedUnderItself(t *testing.T) {
	t.Parallel()
	e := engineWith(t, []mongokit.IndexConfig{{Key: dp(bson.D{{Key: "tags", Value: int32(1)}}), Unique: true}},
		[]bson.D{{{Key: "_id", Value: int64(1)}, {Key: "tags", Value: bson.A{}}}, {{Key: "_id", Value: int64(2)}, {Key: "tags", Value: bson.A{"a", "b"}}}})
	if _, err := e.Insert(context.Background(), "t.c", []*bson.D{{{Key: "_id", Value: int64(3)}, {Key: "tags", Value: bson.A{}}}}); err == nil {
		t.Fatal("a second empty array under a unique index was accepted")
	}
	if _, err := e.Insert(context.Background(), "t.c", []*bson.D{{{Key: "_id", Value: int64(4)}, {Key: "tags", Value: bson.A{"c"}}}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := findIDs(t, e, Query{Filter: dp(bson.D{{Key: "tags", Value: bson.A{}}})}); !slices.Equal(got, ints(1)) {
		t.Fatalf("tags = []: %v, want [1]", got)
	}
}
