package embedded_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/256dpi/lungo"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"loandesk/store/durable"
	"loandesk/store/embedded"
	"loandesk/store/wire"
	"loandesk/store/wire/wiretest"
)

// The conformance suite: one set of black-box checks over lungo's
// driver-shaped interfaces, run against lungo's engine, the indexed
// engine, the indexed engine served over the wire protocol (store/wire,
// what `loandesk db` runs) through the official driver and, when
// MONGO_URI is set, a real MongoDB.

type target struct {
	name string
	open func(t *testing.T) lungo.IDatabase
}

func targets() []target {
	ts := []target{
		{"lungo", func(t *testing.T) lungo.IDatabase {
			client, engine, err := lungo.Open(context.Background(), lungo.Options{Store: lungo.NewMemoryStore(), MinOplogAge: 1})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(engine.Close)
			return client.Database("conf")
		}},
		{"indexed", func(t *testing.T) lungo.IDatabase {
			db, err := durable.Open(filepath.Join(t.TempDir(), "c.db"), durable.Options{})
			if err != nil {
				t.Fatal(err)
			}
			e, err := embedded.Open(db)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { e.Close(); _ = db.Close() })
			return embedded.NewClient(e).Database("conf")
		}},
		{"wire", func(t *testing.T) lungo.IDatabase {
			srv := wiretest.Start(t, wire.Config{})
			client, err := lungo.Connect(context.Background(), options.Client().ApplyURI(srv.URI))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
			return client.Database("conf")
		}},
	}
	if uri := os.Getenv("MONGO_URI"); uri != "" {
		ts = append(ts, target{"mongodb", func(t *testing.T) lungo.IDatabase {
			client, err := lungo.Connect(context.Background(), options.Client().ApplyURI(uri))
			if err != nil {
				t.Fatal(err)
			}
			db := client.Database(fmt.Sprintf("conf_%d", time.Now().UnixNano()))
			t.Cleanup(func() { _ = db.Drop(context.Background()); _ = client.Disconnect(context.Background()) })
			return db
		}})
	}
	return ts
}

// conform runs check on every target.
func conform(t *testing.T, check func(t *testing.T, name string, db lungo.IDatabase)) {
	t.Helper()
	for _, tg := range targets() {
		t.Run(tg.name, func(t *testing.T) {
			t.Parallel()
			check(t, tg.name, tg.open(t))
		})
	}
}

func must[T any](t *testing.T) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// ids returns a function taking Find's results and listing the ids.
func ids(t *testing.T) func(cur lungo.ICursor, err error) []any {
	return func(cur lungo.ICursor, err error) []any {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		var docs []bson.M
		if err := cur.All(context.Background(), &docs); err != nil {
			t.Fatal(err)
		}
		out := make([]any, len(docs))
		for i, d := range docs {
			out[i] = d["_id"]
		}
		return out
	}
}

func TestConformance_CRUD(t *testing.T) {
	t.Parallel()
	conform(t, func(t *testing.T, _ string, db lungo.IDatabase) {
		ctx, c := context.Background(), db.Collection("crud")
		must[*mongo.InsertOneResult](t)(c.InsertOne(ctx, bson.M{"_id": 1, "n": 1, "tags": bson.A{"a", "b"}}))
		must[*mongo.InsertManyResult](t)(c.InsertMany(ctx, []any{bson.M{"_id": 2, "n": 2}, bson.M{"_id": 3, "n": int64(3), "v": nil}}))
		var got bson.M
		if err := c.FindOne(ctx, bson.M{"_id": 2}).Decode(&got); err != nil || got["n"] != int32(2) {
			t.Fatalf("FindOne: %v %v", got, err)
		}
		if err := c.FindOne(ctx, bson.M{"_id": 99}).Err(); err != mongo.ErrNoDocuments {
			t.Fatalf("missing: %v", err)
		}
		res := must[*mongo.UpdateResult](t)(c.UpdateOne(ctx, bson.M{"_id": 1}, bson.M{"$inc": bson.M{"n": 5}, "$set": bson.M{"s": "x"}, "$push": bson.M{"tags": "c"}}))
		if res.MatchedCount != 1 || res.ModifiedCount != 1 {
			t.Fatalf("update: %+v", res)
		}
		noop := must[*mongo.UpdateResult](t)(c.UpdateOne(ctx, bson.M{"_id": 1}, bson.M{"$set": bson.M{"s": "x"}}))
		if noop.MatchedCount != 1 || noop.ModifiedCount != 0 {
			t.Fatalf("no-op update counts as modified: %+v", noop)
		}
		_ = c.FindOne(ctx, bson.M{"_id": 1}).Decode(&got)
		if got["n"] != int32(6) || len(got["tags"].(bson.A)) != 3 {
			t.Fatalf("after update: %v", got)
		}
		many := must[*mongo.UpdateResult](t)(c.UpdateMany(ctx, bson.M{"n": bson.M{"$gte": 2}}, bson.M{"$unset": bson.M{"s": ""}}))
		if many.MatchedCount != 3 || many.ModifiedCount != 1 {
			t.Fatalf("updateMany: %+v", many)
		}
		if n := must[int64](t)(c.CountDocuments(ctx, bson.M{"n": bson.M{"$gt": 1}})); n != 3 {
			t.Fatalf("count %d", n)
		}
		if n := must[int64](t)(c.EstimatedDocumentCount(ctx)); n != 3 {
			t.Fatalf("estimated count %d", n)
		}
		del := must[*mongo.DeleteResult](t)(c.DeleteMany(ctx, bson.M{"n": bson.M{"$lt": 5}}))
		if del.DeletedCount != 2 {
			t.Fatalf("deleteMany %d", del.DeletedCount)
		}
		if got := ids(t)(c.Find(ctx, bson.M{})); !slices.Equal(got, []any{int32(1)}) {
			t.Fatalf("left %v", got)
		}
	})
}

func TestConformance_Upserts(t *testing.T) {
	t.Parallel()
	conform(t, func(t *testing.T, _ string, db lungo.IDatabase) {
		ctx, c := context.Background(), db.Collection("up")
		res := must[*mongo.UpdateResult](t)(c.UpdateOne(ctx, bson.M{"key": "k", "n": 1}, bson.M{"$inc": bson.M{"count": 1}, "$setOnInsert": bson.M{"created": true}}, options.Update().SetUpsert(true)))
		if res.UpsertedCount != 1 || res.UpsertedID == nil {
			t.Fatalf("upsert: %+v", res)
		}
		var doc bson.M
		_ = c.FindOne(ctx, bson.M{"key": "k"}).Decode(&doc)
		if doc["n"] != int32(1) || doc["count"] != int32(1) || doc["created"] != true {
			t.Fatalf("upserted %v: the filter's equalities and the update seed it", doc)
		}
		// A counter: FindOneAndUpdate with upsert, returning the new document.
		var ctr struct{ Seq int64 }
		for range 3 {
			err := c.FindOneAndUpdate(ctx, bson.M{"_id": "ctr"}, bson.M{"$inc": bson.M{"seq": int64(1)}},
				options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&ctr)
			if err != nil {
				t.Fatal(err)
			}
		}
		if ctr.Seq != 3 {
			t.Fatalf("counter %d", ctr.Seq)
		}
		// Returning the document before an upsert inserted it: nothing.
		err := c.FindOneAndUpdate(ctx, bson.M{"_id": "new"}, bson.M{"$set": bson.M{"x": 1}}, options.FindOneAndUpdate().SetUpsert(true)).Err()
		if err != mongo.ErrNoDocuments {
			t.Fatalf("before an upsert: %v", err)
		}
	})
}

func TestConformance_Indexes(t *testing.T) {
	t.Parallel()
	conform(t, func(t *testing.T, name string, db lungo.IDatabase) {
		ctx, c := context.Background(), db.Collection("ix")
		names := must[[]string](t)(c.Indexes().CreateMany(ctx, []mongo.IndexModel{
			{Keys: bson.D{{Key: "email", Value: 1}}, Options: options.Index().SetUnique(true)},
			{Keys: bson.D{{Key: "status", Value: 1}, {Key: "at", Value: -1}}},
			{Keys: bson.D{{Key: "tags", Value: 1}}},
			{Keys: bson.D{{Key: "expires", Value: 1}}, Options: options.Index().SetExpireAfterSeconds(0)},
		}))
		if !slices.Equal(names, []string{"email_1", "status_1_at_-1", "tags_1", "expires_1"}) {
			t.Fatalf("index names %v", names)
		}
		must[[]string](t)(c.Indexes().CreateMany(ctx, []mongo.IndexModel{{Keys: bson.D{{Key: "email", Value: 1}}, Options: options.Index().SetUnique(true)}}))
		must[*mongo.InsertOneResult](t)(c.InsertOne(ctx, bson.M{"_id": 1, "email": "a@x", "status": "s", "at": 1, "tags": bson.A{"x", "y"}}))
		_, err := c.InsertOne(ctx, bson.M{"_id": 2, "email": "a@x"})
		if err == nil {
			t.Fatal("a duplicate email was accepted")
		}
		if name != "lungo" && !mongo.IsDuplicateKeyError(err) {
			t.Fatalf("duplicate key error not recognisable: %v", err) // lungo's is a plain error (documented)
		}
		if _, err := c.InsertOne(ctx, bson.M{"_id": 1}); err == nil {
			t.Fatal("a duplicate _id was accepted")
		}
		cur := must[lungo.ICursor](t)(c.Indexes().List(ctx))
		var specs []bson.M
		_ = cur.All(ctx, &specs)
		found := map[string]bson.M{}
		for _, s := range specs {
			found[s["name"].(string)] = s
		}
		if len(found) != 5 || found["email_1"]["unique"] != true || found["expires_1"]["expireAfterSeconds"] == nil {
			t.Fatalf("listed %v", specs)
		}
		if _, err := c.Indexes().DropOne(ctx, "_id_"); err == nil && name != "lungo" {
			t.Fatal("dropped _id_") // lungo allows it (its store refuses; see store/durable)
		}
		must[bson.Raw](t)(c.Indexes().DropOne(ctx, "tags_1"))
	})
}

func TestConformance_QueriesAndSorts(t *testing.T) {
	t.Parallel()
	conform(t, func(t *testing.T, _ string, db lungo.IDatabase) {
		ctx, c := context.Background(), db.Collection("q")
		must[[]string](t)(c.Indexes().CreateMany(ctx, []mongo.IndexModel{
			{Keys: bson.D{{Key: "status", Value: 1}, {Key: "at", Value: -1}, {Key: "_id", Value: -1}}},
			{Keys: bson.D{{Key: "tags", Value: 1}}},
		}))
		docs := []any{
			bson.M{"_id": 1, "status": "a", "at": 3, "tags": bson.A{"x", "y"}},
			bson.M{"_id": 2, "status": "a", "at": 3, "tags": bson.A{"y"}},
			bson.M{"_id": 3, "status": "b", "at": 1.5, "v": nil},
			bson.M{"_id": 4, "status": "a", "at": int64(2), "tags": bson.A{}},
			bson.M{"_id": 5, "at": 9},
		}
		must[*mongo.InsertManyResult](t)(c.InsertMany(ctx, docs))
		check := func(what string, filter any, opts *options.FindOptions, want ...any) {
			t.Helper()
			if got := ids(t)(c.Find(ctx, filter, opts)); !slices.Equal(got, want) {
				t.Errorf("%s: got %v, want %v", what, got, want)
			}
		}
		byAtDesc := options.Find().SetSort(bson.D{{Key: "at", Value: -1}, {Key: "_id", Value: -1}})
		check("tab, newest first, ties by _id", bson.M{"status": "a"}, byAtDesc, int32(2), int32(1), int32(4))
		check("page 2 of size 1", bson.M{"status": "a"}, options.Find().SetSort(bson.D{{Key: "at", Value: -1}, {Key: "_id", Value: -1}}).SetSkip(1).SetLimit(1), int32(1))
		check("mixed number types sort together", bson.M{}, options.Find().SetSort(bson.D{{Key: "at", Value: 1}, {Key: "_id", Value: 1}}), int32(3), int32(4), int32(1), int32(2), int32(5))
		check("array element", bson.M{"tags": "y"}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}), int32(1), int32(2))
		check("$all", bson.M{"tags": bson.M{"$all": bson.A{"x", "y"}}}, nil, int32(1))
		check("$in", bson.M{"status": bson.M{"$in": bson.A{"b", "zz"}}}, nil, int32(3))
		check("null matches missing and null", bson.M{"v": nil}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}), int32(1), int32(2), int32(3), int32(4), int32(5))
		check("$exists false", bson.M{"status": bson.M{"$exists": false}}, nil, int32(5))
		check("empty array", bson.M{"tags": bson.A{}}, nil, int32(4))
		var p bson.M
		if err := c.FindOne(ctx, bson.M{"_id": 1}, options.FindOne().SetProjection(bson.M{"status": 1})).Decode(&p); err != nil || len(p) != 2 || p["status"] != "a" {
			t.Errorf("inclusion projection: %v %v", p, err)
		}
		if err := c.FindOne(ctx, bson.M{"_id": 1}, options.FindOne().SetProjection(bson.M{"tags": 0, "at": 0})).Decode(&p); err != nil || len(p) != 2 {
			t.Errorf("exclusion projection: %v %v", p, err)
		}
		if n := must[int64](t)(c.CountDocuments(ctx, bson.M{"status": "a"})); n != 3 {
			t.Errorf("tab count %d", n)
		}
	})
}

// TestConformance_ExactlyOnceClaims has 16 goroutines claim 300 pending
// jobs with FindOneAndUpdate until none is left: every job is claimed
// once, never twice.
func TestConformance_ExactlyOnceClaims(t *testing.T) {
	t.Parallel()
	conform(t, func(t *testing.T, _ string, db lungo.IDatabase) {
		ctx, c := context.Background(), db.Collection("jobs")
		must[string](t)(c.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "status", Value: 1}, {Key: "due", Value: 1}}}))
		var jobs []any
		for i := range 300 {
			jobs = append(jobs, bson.M{"_id": i, "status": "pending", "due": i % 17})
		}
		must[*mongo.InsertManyResult](t)(c.InsertMany(ctx, jobs))
		var mu sync.Mutex
		claimed := map[int32]int{}
		var wg sync.WaitGroup
		for w := range 16 {
			wg.Go(func() {
				for {
					var job struct {
						ID int32 `bson:"_id"`
					}
					err := c.FindOneAndUpdate(ctx, bson.M{"status": "pending"},
						bson.M{"$set": bson.M{"status": "running", "worker": w}},
						options.FindOneAndUpdate().SetSort(bson.D{{Key: "due", Value: 1}, {Key: "_id", Value: 1}})).Decode(&job)
					if err == mongo.ErrNoDocuments {
						return
					}
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					claimed[job.ID]++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		dups := 0
		for _, n := range claimed {
			if n > 1 {
				dups++
			}
		}
		if len(claimed) != 300 || dups != 0 {
			t.Fatalf("%d jobs claimed, %d more than once", len(claimed), dups)
		}
	})
}

// TestConformance_GridFS stores a file through lungo's GridFS bucket
// (what document uploads use) and reads it back.
func TestConformance_GridFS(t *testing.T) {
	t.Parallel()
	conform(t, func(t *testing.T, _ string, db lungo.IDatabase) {
		ctx := context.Background()
		bucket := lungo.NewBucket(db, options.GridFSBucket().SetChunkSizeBytes(1024))
		if err := bucket.EnsureIndexes(ctx, false); err != nil {
			t.Fatal(err)
		}
		content := make([]byte, 5000) // five chunks, the last partial
		for i := range content {
			content[i] = byte(i * 7)
		}
		id, err := bucket.UploadFromStream(ctx, "scan.png", bytes.NewReader(content))
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		n, err := bucket.DownloadToStream(ctx, id, &out)
		if err != nil || n != int64(len(content)) || !bytes.Equal(out.Bytes(), content) {
			t.Fatalf("download: %d bytes, %v, equal %v", n, err, bytes.Equal(out.Bytes(), content))
		}
		if err := bucket.Delete(ctx, id); err != nil {
			t.Fatal(err)
		}
		if _, err := bucket.DownloadToStream(ctx, id, &out); err == nil {
			t.Fatal("a deleted file downloads")
		}
	})
}

// TestConformance_Transactions: a transaction's writes are its own until
// it commits; an abort leaves nothing.
func TestConformance_Transactions(t *testing.T) {
	t.Parallel()
	conform(t, func(t *testing.T, _ string, db lungo.IDatabase) {
		ctx, c := context.Background(), db.Collection("tx")
		must[*mongo.InsertOneResult](t)(c.InsertOne(ctx, bson.M{"_id": "seed"}))
		count := func(ctx context.Context) int64 {
			t.Helper()
			return must[int64](t)(c.CountDocuments(ctx, bson.M{}))
		}
		err := db.Client().UseSession(ctx, func(sc lungo.ISessionContext) error {
			if err := sc.StartTransaction(); err != nil {
				return err
			}
			if _, err := c.InsertOne(sc, bson.M{"_id": "aborted"}); err != nil {
				return err
			}
			if n := count(sc); n != 2 {
				t.Errorf("inside the transaction: %d documents, want its own insert seen", n)
			}
			if n := count(ctx); n != 1 {
				t.Errorf("outside the open transaction: %d documents, want its insert unseen", n)
			}
			return sc.AbortTransaction(sc)
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := count(ctx); n != 1 {
			t.Fatalf("after abort: %d documents", n)
		}
		sess := must[lungo.ISession](t)(db.Client().StartSession())
		defer sess.EndSession(ctx)
		_, err = sess.WithTransaction(ctx, func(sc lungo.ISessionContext) (any, error) {
			if _, err := c.InsertOne(sc, bson.M{"_id": "a"}); err != nil {
				return nil, err
			}
			_, err := c.UpdateOne(sc, bson.M{"_id": "seed"}, bson.M{"$set": bson.M{"touched": true}})
			return nil, err
		})
		if err != nil {
			t.Fatal(err)
		}
		var seed bson.M
		if n := count(ctx); n != 2 || c.FindOne(ctx, bson.M{"_id": "seed"}).Decode(&seed) != nil || seed["touched"] != true {
			t.Fatalf("after commit: %d documents, seed %v", n, seed)
		}
		// A failing transaction changes nothing.
		_, err = sess.WithTransaction(ctx, func(sc lungo.ISessionContext) (any, error) {
			if _, err := c.InsertOne(sc, bson.M{"_id": "b"}); err != nil {
				return nil, err
			}
			return c.InsertOne(sc, bson.M{"_id": "a"}) // duplicate
		})
		if err == nil || count(ctx) != 2 {
			t.Fatalf("a failed transaction: %v, %d documents", err, count(ctx))
		}
	})
}
