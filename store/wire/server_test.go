package wire_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"loandesk/store/embedded"
	"loandesk/store/wire"
)

func TestServer_Handshake(t *testing.T) {
	t.Parallel()

	t.Run("AnswersAsTheOneMemberReplicaSet", func(t *testing.T) {
		t.Parallel()
		b := setup(t, wire.Config{})
		var hello bson.M
		if err := b.db.RunCommand(context.Background(), bson.D{{Key: "hello", Value: 1}}).Decode(&hello); err != nil {
			t.Fatal(err)
		}
		if hello["setName"] != "loandesk" || hello["isWritablePrimary"] != true || hello["primary"] != b.srv.Addr {
			t.Fatalf("hello: %v", hello)
		}
		if hello["maxMessageSizeBytes"] != int32(48_000_000) {
			t.Fatalf("maxMessageSizeBytes %v, want 48000000", hello["maxMessageSizeBytes"])
		}
	})

	t.Run("ReplicaSetURIConnects", func(t *testing.T) {
		t.Parallel()
		b := setup(t, wire.Config{})
		client, err := mongo.Connect(context.Background(), options.Client().ApplyURI(b.srv.URI+"?replicaSet=loandesk").SetServerSelectionTimeout(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		defer client.Disconnect(context.Background())
		if err := client.Ping(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("LocalhostURIFindsTheAdvertisedMember", func(t *testing.T) {
		t.Parallel()
		b := setup(t, wire.Config{})
		_, port, _ := strings.Cut(b.srv.Addr, ":")
		client, err := mongo.Connect(context.Background(), options.Client().ApplyURI("mongodb://localhost:"+port+"/loandesk").SetServerSelectionTimeout(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		defer client.Disconnect(context.Background())
		if _, err := client.Database("loandesk").Collection("c").InsertOne(context.Background(), bson.M{"_id": 1}); err != nil {
			t.Fatalf("a write through localhost: %v", err)
		}
	})

	t.Run("LegacyOPQueryHandshakeOnly", func(t *testing.T) {
		t.Parallel()
		b := setup(t, wire.Config{})
		c := dial(t, b.srv.Addr)
		for _, tc := range []struct {
			cmd      string
			wantCode int32
		}{{"isMaster", 0}, {"find", 352}} {
			if _, err := c.Write(opQuery(2, "admin.$cmd", marshal(t, bson.D{{Key: tc.cmd, Value: 1}}))); err != nil {
				t.Fatal(err)
			}
			doc, err := readReply(c)
			if err != nil {
				t.Fatal(err)
			}
			if code(doc) != tc.wantCode {
				t.Fatalf("OP_QUERY %s: %v, want code %d", tc.cmd, doc, tc.wantCode)
			}
		}
	})
}

func TestServer_Errors(t *testing.T) {
	t.Parallel()
	b := setup(t, wire.Config{})
	ctx := context.Background()

	t.Run("UnknownCommandIsCode59AndTheConnectionLives", func(t *testing.T) {
		c := dial(t, b.srv.Addr)
		doc := roundTrip(t, c, bson.D{{Key: "frobnicate", Value: 1}, {Key: "$db", Value: "loandesk"}})
		if code(doc) != 59 || doc.Lookup("codeName").StringValue() != "CommandNotFound" || doc.Lookup("ok").Double() != 0 {
			t.Fatalf("unknown command: %v", doc)
		}
		if doc := roundTrip(t, c, bson.D{{Key: "ping", Value: 1}, {Key: "$db", Value: "admin"}}); doc.Lookup("ok").Double() != 1 {
			t.Fatalf("ping after the unknown command: %v", doc)
		}
		var ce mongo.CommandError
		if err := b.db.RunCommand(ctx, bson.D{{Key: "frobnicate", Value: 1}}).Err(); !errors.As(err, &ce) || ce.Code != 59 {
			t.Fatalf("through the driver: %v", err)
		}
	})

	t.Run("DuplicateKeyCarriesKeyPatternAndKeyValue", func(t *testing.T) {
		coll := b.db.Collection("users")
		if _, err := coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "email", Value: 1}}, Options: options.Index().SetUnique(true)}); err != nil {
			t.Fatal(err)
		}
		if _, err := coll.InsertOne(ctx, bson.M{"_id": 1, "email": "a@x"}); err != nil {
			t.Fatal(err)
		}
		_, err := coll.InsertOne(ctx, bson.M{"_id": 2, "email": "a@x"})
		var we mongo.WriteException
		if !mongo.IsDuplicateKeyError(err) || !errors.As(err, &we) || len(we.WriteErrors) != 1 {
			t.Fatalf("duplicate email: %v", err)
		}
		raw := we.WriteErrors[0].Raw
		if raw.Lookup("keyPattern", "email").Int32() != 1 || raw.Lookup("keyValue", "email").StringValue() != "a@x" {
			t.Fatalf("write error %s: want keyPattern {email: 1} and keyValue {email: a@x}", raw)
		}
		// findAndModify reports it as a command error.
		err = coll.FindOneAndUpdate(ctx, bson.M{"_id": 3}, bson.M{"$set": bson.M{"email": "a@x"}}, options.FindOneAndUpdate().SetUpsert(true)).Err()
		var ce mongo.CommandError
		if !mongo.IsDuplicateKeyError(err) || !errors.As(err, &ce) || ce.Code != 11000 {
			t.Fatalf("findAndModify upsert onto a taken email: %v", err)
		}
		// An ordered insert stops at the duplicate; what came before stays.
		_, err = coll.InsertMany(ctx, []any{bson.M{"_id": 10, "email": "b@x"}, bson.M{"_id": 11, "email": "a@x"}, bson.M{"_id": 12, "email": "c@x"}})
		var bwe mongo.BulkWriteException
		if !errors.As(err, &bwe) || len(bwe.WriteErrors) != 1 || bwe.WriteErrors[0].Index != 1 {
			t.Fatalf("ordered insert: %v", err)
		}
		if n, _ := coll.CountDocuments(ctx, bson.M{}); n != 2 {
			t.Fatalf("%d documents after the ordered insert, want 2 (1 and 10)", n)
		}
		// An unordered one goes on past it.
		_, err = coll.InsertMany(ctx, []any{bson.M{"_id": 20, "email": "a@x"}, bson.M{"_id": 21, "email": "d@x"}}, options.InsertMany().SetOrdered(false))
		if !errors.As(err, &bwe) || len(bwe.WriteErrors) != 1 || bwe.WriteErrors[0].Index != 0 {
			t.Fatalf("unordered insert: %v", err)
		}
		if n, _ := coll.CountDocuments(ctx, bson.M{}); n != 3 {
			t.Fatalf("%d documents after the unordered insert, want 3", n)
		}
	})

	t.Run("BadValueAndFailedToParse", func(t *testing.T) {
		coll := b.db.Collection("things")
		if _, err := coll.InsertOne(ctx, bson.M{"_id": 1, "name": "x"}); err != nil {
			t.Fatal(err)
		}
		_, err := coll.UpdateOne(ctx, bson.M{"_id": 1}, bson.M{"$inc": bson.M{"name": 1}})
		var we mongo.WriteException
		if !errors.As(err, &we) || len(we.WriteErrors) != 1 || we.WriteErrors[0].Code != 2 {
			t.Fatalf("$inc on a string: %v, want write error code 2", err)
		}
		var ce mongo.CommandError
		err = b.db.RunCommand(ctx, bson.D{{Key: "findAndModify", Value: "things"}, {Key: "query", Value: bson.M{}}}).Err()
		if !errors.As(err, &ce) || ce.Code != 9 {
			t.Fatalf("findAndModify with neither update nor remove: %v, want code 9", err)
		}
		err = b.db.RunCommand(ctx, bson.D{{Key: "find", Value: "things"}, {Key: "filter", Value: "x"}}).Err()
		if !errors.As(err, &ce) || ce.Code != 14 {
			t.Fatalf("a string filter: %v, want code 14", err)
		}
		_, err = coll.Aggregate(ctx, mongo.Pipeline{{{Key: "$lookup", Value: bson.M{"from": "x"}}}})
		if !errors.As(err, &ce) || ce.Code != 40324 {
			t.Fatalf("$lookup: %v, want code 40324", err)
		}
	})
}

func TestServer_Reads(t *testing.T) {
	t.Parallel()
	b := setup(t, wire.Config{})
	ctx := context.Background()
	coll := b.db.Collection("items")
	var docs []any
	for i := range 250 {
		docs = append(docs, bson.M{"_id": i, "even": i%2 == 0, "tag": fmt.Sprint("t", i%3)})
	}
	if _, err := coll.InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}

	t.Run("CursorsHandOutEveryDocumentOnce", func(t *testing.T) {
		cur, err := coll.Find(ctx, bson.M{}, options.Find().SetBatchSize(7).SetSort(bson.D{{Key: "_id", Value: 1}}))
		if err != nil {
			t.Fatal(err)
		}
		var got []struct {
			ID int `bson:"_id"`
		}
		if err := cur.All(ctx, &got); err != nil {
			t.Fatal(err)
		}
		if len(got) != 250 || got[0].ID != 0 || got[249].ID != 249 {
			t.Fatalf("%d documents", len(got))
		}
		// Closed early: the server forgets the cursor.
		cur, err = coll.Find(ctx, bson.M{}, options.Find().SetBatchSize(5))
		if err != nil {
			t.Fatal(err)
		}
		if cur.ID() == 0 {
			t.Fatal("no cursor for 250 documents in batches of 5")
		}
		if err := cur.Close(ctx); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("CountsDistinctAndLimits", func(t *testing.T) {
		if n, err := coll.CountDocuments(ctx, bson.M{"even": true}); err != nil || n != 125 {
			t.Fatalf("CountDocuments %d, %v", n, err)
		}
		if n, err := coll.CountDocuments(ctx, bson.M{"even": true}, options.Count().SetSkip(100).SetLimit(10)); err != nil || n != 10 {
			t.Fatalf("CountDocuments with skip and limit: %d, %v", n, err)
		}
		if n, err := coll.CountDocuments(ctx, bson.M{"tag": "none"}); err != nil || n != 0 {
			t.Fatalf("CountDocuments of nothing: %d, %v", n, err)
		}
		if n, err := coll.EstimatedDocumentCount(ctx); err != nil || n != 250 {
			t.Fatalf("EstimatedDocumentCount %d, %v", n, err)
		}
		vals, err := coll.Distinct(ctx, "tag", bson.M{})
		if err != nil || len(vals) != 3 {
			t.Fatalf("Distinct %v, %v", vals, err)
		}
		cur, err := coll.Find(ctx, bson.M{}, options.Find().SetLimit(3).SetSkip(10).SetSort(bson.D{{Key: "_id", Value: -1}}))
		if err != nil {
			t.Fatal(err)
		}
		var got []bson.M
		if err := cur.All(ctx, &got); err != nil || len(got) != 3 || got[0]["_id"] != int32(239) {
			t.Fatalf("limit 3 skip 10 newest first: %v, %v", got, err)
		}
	})

	t.Run("ListsCollections", func(t *testing.T) {
		names, err := b.db.ListCollectionNames(ctx, bson.M{"name": "items"})
		if err != nil || len(names) != 1 || names[0] != "items" {
			t.Fatalf("ListCollectionNames %v, %v", names, err)
		}
	})
}

// TestServer_RetriedWriteAppliesOnce sends the same retryable write
// (one lsid, one txnNumber) twice, as the driver does after a network
// error: the second gets the first's reply and changes nothing.
func TestServer_RetriedWriteAppliesOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, wire.Config{})
	ctx := context.Background()
	coll := b.db.Collection("counters")
	if _, err := coll.InsertOne(ctx, bson.M{"_id": "c", "n": 0}); err != nil {
		t.Fatal(err)
	}
	lsid := bson.D{{Key: "id", Value: primitive.Binary{Subtype: 4, Data: []byte("0123456789abcdef")}}}
	inc := func(txn int64) bson.D {
		return bson.D{{Key: "update", Value: "counters"}, {Key: "updates", Value: bson.A{bson.D{{Key: "q", Value: bson.M{"_id": "c"}}, {Key: "u", Value: bson.M{"$inc": bson.M{"n": 1}}}}}},
			{Key: "lsid", Value: lsid}, {Key: "txnNumber", Value: txn}, {Key: "$db", Value: "loandesk"}}
	}
	first := roundTrip(t, dial(t, b.srv.Addr), inc(1))
	again := roundTrip(t, dial(t, b.srv.Addr), inc(1))
	next := roundTrip(t, dial(t, b.srv.Addr), inc(2))
	if string(first) != string(again) || next.Lookup("nModified").Int32() != 1 {
		t.Fatalf("replies %v / %v / %v", first, again, next)
	}
	if old := roundTrip(t, dial(t, b.srv.Addr), inc(1)); code(old) != 225 {
		t.Fatalf("a txnNumber older than the session's: %v, want TransactionTooOld", old)
	}
	var got struct{ N int }
	if err := coll.FindOne(ctx, bson.M{"_id": "c"}).Decode(&got); err != nil || got.N != 2 {
		t.Fatalf("counter %d, %v; want 2 (three sends, one a retry)", got.N, err)
	}
}

// TestServer_ConcurrentIncrementsLoseNothing: 16 clients × 100 $inc
// through the driver, each a retryable write.
func TestServer_ConcurrentIncrementsLoseNothing(t *testing.T) {
	t.Parallel()
	b := setup(t, wire.Config{})
	ctx := context.Background()
	coll := b.db.Collection("counters")
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 100 {
				if _, err := coll.UpdateOne(ctx, bson.M{"_id": "c"}, bson.M{"$inc": bson.M{"n": 1}}, options.Update().SetUpsert(true)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	var got struct{ N int }
	if err := coll.FindOne(ctx, bson.M{"_id": "c"}).Decode(&got); err != nil || got.N != 1600 {
		t.Fatalf("counter %d, %v; want 1600", got.N, err)
	}
}

// TestServer_AbandonedTransactionIsAborted: a transaction left open
// holds the engine's writer only until its lifetime ends.
func TestServer_AbandonedTransactionIsAborted(t *testing.T) {
	t.Parallel()
	b := setup(t, wire.Config{TransactionLifetime: 100 * time.Millisecond})
	ctx := context.Background()
	coll := b.db.Collection("tx")
	if _, err := coll.InsertOne(ctx, bson.M{"_id": "seed"}); err != nil {
		t.Fatal(err)
	}
	sess, err := b.client.StartSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.EndSession(ctx)
	if err := sess.StartTransaction(); err != nil {
		t.Fatal(err)
	}
	if _, err := coll.InsertOne(mongo.NewSessionContext(ctx, sess), bson.M{"_id": "never"}); err != nil {
		t.Fatal(err)
	}
	// Blocks until the server aborts the transaction.
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := coll.InsertOne(wctx, bson.M{"_id": "after"}); err != nil {
		t.Fatalf("a write after the abandoned transaction: %v", err)
	}
	if n, _ := coll.CountDocuments(ctx, bson.M{"_id": "never"}); n != 0 {
		t.Fatal("the abandoned transaction's insert was kept")
	}
	if err := sess.CommitTransaction(ctx); err == nil {
		t.Fatal("committing the aborted transaction succeeded")
	}
}

// TestServer_ShutdownAbortsOpenTransactions: an open transaction (not
// acknowledged) does not hold a shutdown up; its writes are discarded.
func TestServer_ShutdownAbortsOpenTransactions(t *testing.T) {
	t.Parallel()
	b := setup(t, wire.Config{})
	ctx := context.Background()
	// Raw connections only, so the one command in flight below is the
	// waiting write (the driver's monitors send hello now and then).
	_ = b.client.Disconnect(ctx)
	waitFor(t, func() bool { return b.srv.OpenConnections() == 0 })
	lsid := bson.D{{Key: "id", Value: primitive.Binary{Subtype: 4, Data: []byte("fedcba9876543210")}}}
	doc := roundTrip(t, dial(t, b.srv.Addr), bson.D{{Key: "insert", Value: "tx"}, {Key: "documents", Value: bson.A{bson.M{"_id": "uncommitted"}}},
		{Key: "lsid", Value: lsid}, {Key: "txnNumber", Value: int64(1)}, {Key: "startTransaction", Value: true}, {Key: "autocommit", Value: false}, {Key: "$db", Value: "loandesk"}})
	if doc.Lookup("ok").Double() != 1 {
		t.Fatalf("insert in a transaction: %v", doc)
	}
	waitFor(t, func() bool { return b.srv.InFlight() == 0 }) // that insert's command has ended
	// A write on its own connection waits for the transaction's writer.
	c := dial(t, b.srv.Addr)
	if _, err := c.Write(opMsg(9, marshal(t, bson.D{{Key: "insert", Value: "tx"}, {Key: "documents", Value: bson.A{bson.M{"_id": "outside"}}}, {Key: "$db", Value: "loandesk"}}))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return b.srv.InFlight() == 1 })
	blocked := make(chan error, 1)
	go func() {
		doc, err := readReply(c)
		if err == nil && doc.Lookup("ok").Double() != 1 {
			err = fmt.Errorf("reply %v", doc)
		}
		blocked <- err
	}()
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	start := time.Now()
	if err := b.srv.Shutdown(sctx); err != nil {
		t.Fatalf("shutdown with an open transaction: %v after %s", err, time.Since(start))
	}
	t.Logf("shutdown took %s", time.Since(start))
	select {
	case err := <-blocked:
		if err != nil {
			t.Fatalf("the write that waited for the transaction: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the write waiting for the transaction never returned")
	}
	docs, _, err := b.srv.Engine.Find(ctx, "loandesk.tx", embedded.Query{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 1 || (*docs[0])[0].Value != "outside" {
		t.Fatalf("stored %v, want only the write that waited (the open transaction's insert discarded)", docs)
	}
}
