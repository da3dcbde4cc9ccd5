package store

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

func openAt(t *testing.T, dir string, cfg Config) *Store {
	t.Helper()
	cfg.DataDir = dir
	st, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return st
}

func TestEmbedded_TTLDeletionsArePersisted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	st := openAt(t, dir, Config{TTLInterval: 50 * time.Millisecond})
	coll := st.db.Collection("ttl")
	if _, err := coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "expiresAt", Value: 1}}, Options: options.Index().SetExpireAfterSeconds(0)}); err != nil {
		t.Fatal(err)
	}
	past, future := time.Now().Add(-time.Minute), time.Now().Add(time.Hour)
	docs := []any{
		bson.D{{Key: "_id", Value: "old-1"}, {Key: "expiresAt", Value: past}},
		bson.D{{Key: "_id", Value: "old-2"}, {Key: "expiresAt", Value: past}},
		bson.D{{Key: "_id", Value: "new-1"}, {Key: "expiresAt", Value: future}},
		bson.D{{Key: "_id", Value: "no-expiry"}},
	}
	if _, err := coll.InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	// Polled: the engine's TTL sweeps (sweepTTL, on a wall-clock ticker)
	// have no signal to wait on and the indexed engine has no change
	// streams. This waits for the TTL monitor, not for the queue.
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := coll.CountDocuments(ctx, bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d documents left after 10 s, want the 2 unexpired", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := st.Close(ctx); err != nil {
		t.Fatal(err)
	}

	// Reopen with the default interval, so nothing expires again before
	// the count: what is missing was deleted on disk.
	st = openAt(t, dir, Config{})
	defer st.Close(ctx)
	cur, err := st.db.Collection("ttl").Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		t.Fatal(err)
	}
	var left []struct {
		ID string `bson:"_id"`
	}
	if err := cur.All(ctx, &left); err != nil {
		t.Fatal(err)
	}
	if len(left) != 2 || left[0].ID != "new-1" || left[1].ID != "no-expiry" {
		t.Fatalf("after restart: %+v, want new-1 and no-expiry", left)
	}
}

func TestEmbedded_RefusesDroppingIDIndex(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	st := openAt(t, dir, Config{})
	coll := st.db.Collection("things")
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := coll.Indexes().DropOne(ctx, "_id_"); err == nil {
		t.Fatal("dropping _id_ succeeded")
	}
	// The refusal changed nothing, in memory or on disk, and later
	// commits still land without a resynchronisation.
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}}); !isDuplicateKey(err) {
		t.Fatalf("duplicate _id after the refused drop: got %v, want a duplicate-key error", err)
	}
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 2}}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(ctx); err != nil {
		t.Fatal(err)
	}
	st = openAt(t, dir, Config{})
	defer st.Close(ctx)
	cur, err := st.db.Collection("things").Indexes().List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var specs []struct {
		Name string `bson:"name"`
	}
	if err := cur.All(ctx, &specs); err != nil {
		t.Fatal(err)
	}
	if len(specs) != 1 || specs[0].Name != "_id_" {
		t.Fatalf("indexes after restart: %+v, want _id_", specs)
	}
	if n, _ := st.db.Collection("things").CountDocuments(ctx, bson.D{}); n != 2 {
		t.Fatalf("%d documents after restart, want 2", n)
	}
}

// TestEmbedded_EnginesShareTheFileFormat: a DATA_DIR written by one
// embedded engine opens with the other, data and unique indexes intact.
func TestEmbedded_EnginesShareTheFileFormat(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	engines := []string{EngineLungo, EngineIndexed, EngineLungo}
	for i, engine := range engines {
		st := openAt(t, dir, Config{Engine: engine})
		coll := st.db.Collection("shared")
		if _, err := coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "email", Value: 1}}, Options: options.Index().SetUnique(true)}); err != nil {
			t.Fatal(err)
		}
		if n, err := coll.CountDocuments(ctx, bson.D{}); err != nil || int(n) != i {
			t.Fatalf("%s (round %d): %d documents, %v; want %d", engine, i, n, err, i)
		}
		if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: i}, {Key: "email", Value: engine + "@x"}}); err != nil && i != 2 {
			t.Fatalf("%s: %v", engine, err)
		}
		if i == 2 {
			// lungo again: the address the first round stored is still taken.
			if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 99}, {Key: "email", Value: "lungo@x"}}); !isDuplicateKey(err) {
				t.Fatalf("the unique index did not survive the round trip: %v", err)
			}
		}
		if err := st.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
}
