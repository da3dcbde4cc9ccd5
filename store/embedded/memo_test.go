package embedded

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/256dpi/lungo"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
)

// TestRankCache_CountsFollowEveryWrite: counts served from the count memo
// and from an index's
// cached ranks (an equality on an indexed field: the tab counts) are
// right after every kind of write (insert, an update that moves a
// document between keys, delete), inside a transaction for its own
// writes, and untouched in the snapshot outside it until it commits.
// Each count is compared with a count the cache cannot serve (the same
// equality plus a condition on an unindexed field that every document
// meets).
func TestRankCache_CountsFollowEveryWrite(t *testing.T) {
	t.Parallel()
	e, closeEngine := openAt(t, filepath.Join(t.TempDir(), "ranks.db"))
	defer closeEngine()
	ctx := context.Background()
	coll := NewClient(e).Database("d").Collection("loans")
	if _, err := coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "status", Value: 1}}}); err != nil {
		t.Fatal(err)
	}
	statuses := []string{"submitted", "under_review", "approved"}
	check := func(ctx context.Context, step string, want map[string]int64) {
		t.Helper()
		for _, st := range statuses {
			for range 2 { // the second from the cache
				n, err := coll.CountDocuments(ctx, bson.M{"status": st})
				if err != nil {
					t.Fatal(err)
				}
				scanned, err := coll.CountDocuments(ctx, bson.M{"status": st, "n": bson.M{"$gte": 0}})
				if err != nil {
					t.Fatal(err)
				}
				if n != want[st] || scanned != want[st] {
					t.Fatalf("%s: %s counts %d (scanned %d), want %d", step, st, n, scanned, want[st])
				}
			}
		}
	}
	for i := range 9 {
		if _, err := coll.InsertOne(ctx, bson.M{"_id": i, "n": i, "status": statuses[i%3]}); err != nil {
			t.Fatal(err)
		}
	}
	check(ctx, "after inserts", map[string]int64{"submitted": 3, "under_review": 3, "approved": 3})
	if _, err := coll.UpdateOne(ctx, bson.M{"_id": 0}, bson.M{"$set": bson.M{"status": "approved"}}); err != nil {
		t.Fatal(err)
	}
	check(ctx, "after an update", map[string]int64{"submitted": 2, "under_review": 3, "approved": 4})
	// An edit of an unindexed field swaps the index entries in place:
	// counts unchanged, and the index finds the new version.
	if _, err := coll.UpdateOne(ctx, bson.M{"_id": 3}, bson.M{"$set": bson.M{"n": 33}}); err != nil {
		t.Fatal(err)
	}
	check(ctx, "after an edit of an unindexed field", map[string]int64{"submitted": 2, "under_review": 3, "approved": 4})
	cur, err := coll.Find(ctx, bson.M{"status": "submitted"}) // served by the status index
	if err != nil {
		t.Fatal(err)
	}
	var viaIndex []struct {
		ID int `bson:"_id"`
		N  int `bson:"n"`
	}
	if err := cur.All(ctx, &viaIndex); err != nil {
		t.Fatal(err)
	}
	for _, d := range viaIndex {
		if d.ID == 3 && d.N != 33 {
			t.Fatalf("the index gives n=%d, want the edited 33", d.N)
		}
	}
	if _, err := coll.DeleteOne(ctx, bson.M{"_id": 1}); err != nil {
		t.Fatal(err)
	}
	check(ctx, "after a delete", map[string]int64{"submitted": 2, "under_review": 2, "approved": 4})
	if _, err := coll.InsertOne(ctx, bson.M{"_id": 100, "n": 100, "status": "submitted"}); err != nil {
		t.Fatal(err)
	}
	check(ctx, "after another insert", map[string]int64{"submitted": 3, "under_review": 2, "approved": 4})

	err = NewClient(e).UseSession(ctx, func(sc lungo.ISessionContext) error {
		if err := sc.StartTransaction(); err != nil {
			return err
		}
		for i := range 3 {
			if _, err := coll.InsertOne(sc, bson.M{"_id": 200 + i, "n": i, "status": "under_review"}); err != nil {
				return err
			}
			want := map[string]int64{"submitted": 3, "under_review": int64(3 + i), "approved": 4}
			check(sc, fmt.Sprintf("inside a transaction, insert %d", i+1), want)
			check(ctx, "outside the open transaction", map[string]int64{"submitted": 3, "under_review": 2, "approved": 4})
		}
		return sc.CommitTransaction(sc)
	})
	if err != nil {
		t.Fatal(err)
	}
	check(ctx, "after the commit", map[string]int64{"submitted": 3, "under_review": 5, "approved": 4})
}
