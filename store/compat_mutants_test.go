package store

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"loandesk/clock"
	"loandesk/ferrettest"
	"loandesk/store/wire"
	"loandesk/store/wire/wiretest"
)

// TestSweepExpired_HonoursExpireAfterSeconds: a TTL index the server
// refused (FerretDB v1) with expireAfterSeconds 60 is swept by the store
// a minute after its field's date, not at it. (The store's own TTL
// indexes all expire at the date, 0 s after.)
func TestSweepExpired_HonoursExpireAfterSeconds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := clock.NewManual(time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC))
	st, err := Open(ctx, Config{MongoURI: ferrettest.Start(t, "loandesk"), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close(ctx) })
	if err := st.createIndexesDegrading(ctx, "ttl_after", []mongo.IndexModel{
		{Keys: bson.D{{Key: "at", Value: 1}}, Options: options.Index().SetExpireAfterSeconds(60)},
	}); err != nil {
		t.Fatal(err)
	}
	now := clk.Now()
	coll := st.db.Collection("ttl_after")
	for _, d := range []bson.M{
		{"_id": "61 s ago", "at": now.Add(-61 * time.Second)},
		{"_id": "60 s ago", "at": now.Add(-60 * time.Second)},
		{"_id": "59 s ago", "at": now.Add(-59 * time.Second)},
		{"_id": "1 s ago", "at": now.Add(-time.Second)},
	} {
		if _, err := coll.InsertOne(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	n, err := st.SweepExpired(ctx)
	if err != nil || n != 2 {
		t.Fatalf("swept %d, %v; want the two a minute old or more", n, err)
	}
	left, err := coll.CountDocuments(ctx, bson.M{})
	if err != nil || left != 2 {
		t.Errorf("%d left after the sweep (%v), want 2 (59 s and 1 s ago)", left, err)
	}
}

// TestFerretDB_StoreSweepsOnItsOwn: where the server refused the TTL
// indexes, the store deletes expired documents every TTLInterval by
// itself: an expired sign-in counter is gone without anyone calling
// SweepExpired.
func TestFerretDB_StoreSweepsOnItsOwn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := clock.NewManual(time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC))
	st, err := Open(ctx, Config{MongoURI: ferrettest.Start(t, "loandesk"), Now: clk.Now, TTLInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close(ctx) })
	if _, err := st.loginAttempts.InsertOne(ctx, bson.M{"_id": "email:gone@example.com", "expiresAt": clk.Now().Add(-time.Second)}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		n, err := st.loginAttempts.CountDocuments(ctx, bson.M{})
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the expired sign-in counter is still there after 30 s of 20 ms sweeps")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestOpen_LogsToTheGivenLogger: the store logs to Config.Logger (here
// the warning for each feature FerretDB lacks), not to a discarding one.
func TestOpen_LogsToTheGivenLogger(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	st, err := Open(ctx, Config{MongoURI: ferrettest.Start(t, "loandesk"), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close(ctx) })
	if got := strings.Count(buf.String(), "the database lacks a feature Loan Desk relies on; degraded"); got != len(st.Degraded()) || got != 11 {
		t.Errorf("%d degradation warnings logged for %d degradations, want 11:\n%s", got, len(st.Degraded()), buf.String())
	}
}

// TestOpenMongo_DatabaseFromTheURI: MONGO_URI's database is the one
// used; a URI that names none uses DefaultDatabase.
func TestOpenMongo_DatabaseFromTheURI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := wiretest.Start(t, wire.Config{})
	base := strings.TrimSuffix(srv.URI, "/loandesk")
	for uri, want := range map[string]string{base + "/branch_7": "branch_7", base + "/": DefaultDatabase, base: DefaultDatabase} {
		st, err := Open(ctx, Config{MongoURI: uri, ConnectTimeout: 10 * time.Second})
		if err != nil {
			t.Fatalf("%s: %v", uri, err)
		}
		if got := st.db.Name(); got != want {
			t.Errorf("%s: database %q, want %q", uri, got, want)
		}
		_ = st.Close(ctx)
	}
}
