package embedded

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// A duplicate-key refusal is explained by a read right after it: the
// insert it clashed with may still be queued for the disk, and the
// refusal answers only once that is published (as a write that matched
// nothing does). Many writers race to insert the same unique key, round
// after round; every loser then finds the winner.
func TestGroupCommit_DuplicatesAreExplained(t *testing.T) {
	t.Parallel()
	e, closeEngine := openAt(t, filepath.Join(t.TempDir(), "d.db"))
	defer closeEngine()
	coll := NewClient(e).Database("t").Collection("c")
	ctx := context.Background()
	if _, err := coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "key", Value: 1}}, Options: options.Index().SetUnique(true)}); err != nil {
		t.Fatal(err)
	}
	var unexplained, losers atomic.Int64
	for round := range 30 {
		key := fmt.Sprint("k", round)
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				_, err := coll.InsertOne(ctx, bson.M{"key": key, "writer": w})
				if err == nil {
					return
				}
				if !mongo.IsDuplicateKeyError(err) {
					t.Error(err)
					return
				}
				losers.Add(1)
				if n, err := coll.CountDocuments(ctx, bson.M{"key": key}); err != nil || n != 1 {
					unexplained.Add(1)
				}
			})
		}
		wg.Wait()
	}
	t.Logf("%d refused inserts, %d not explained by a read right after", losers.Load(), unexplained.Load())
	if unexplained.Load() != 0 {
		t.Fatalf("%d duplicate-key refusals a read right after could not explain", unexplained.Load())
	}
}
