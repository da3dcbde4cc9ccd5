package wire_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/xdg-go/scram"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"loandesk/store/wire"
	"loandesk/store/wire/wiretest"
)

// TestServer_Authentication: with a user configured, the driver signs in
// with SCRAM-SHA-256 from the URI's credentials; without them, or with a
// wrong password, nothing but the handshake and ping runs.
func TestServer_Authentication(t *testing.T) {
	t.Parallel()
	srv := wiretest.Start(t, wire.Config{User: "app", Password: "s3cret Pässword"})
	ctx := context.Background()
	connect := func(uri string) *mongo.Client {
		t.Helper()
		c, err := mongo.Connect(ctx, options.Client().ApplyURI(uri).SetServerSelectionTimeout(2*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			_ = c.Disconnect(ctx)
		})
		return c
	}
	host := strings.TrimPrefix(srv.URI, "mongodb://")

	signedIn := connect("mongodb://app:s3cret%20P%C3%A4ssword@" + host)
	coll := signedIn.Database("loandesk").Collection("things")
	if _, err := coll.InsertOne(ctx, bson.M{"_id": 1}); err != nil {
		t.Fatalf("insert when signed in: %v", err)
	}

	anonymous := connect(srv.URI)
	if err := anonymous.Ping(ctx, nil); err != nil {
		t.Fatalf("ping without credentials: %v", err)
	}
	_, err := anonymous.Database("loandesk").Collection("things").InsertOne(ctx, bson.M{"_id": 2})
	var ce mongo.CommandError
	if !errors.As(err, &ce) || ce.Code != 13 {
		t.Fatalf("insert without credentials: %v, want code 13", err)
	}
	if n, err := anonymous.Database("loandesk").Collection("things").CountDocuments(ctx, bson.M{}); err == nil {
		t.Fatalf("a count without credentials answered %d", n)
	}

	wrong := connect("mongodb://app:guess@" + host)
	if err := wrong.Ping(ctx, nil); err == nil || !strings.Contains(err.Error(), "auth") {
		t.Fatalf("ping with a wrong password: %v, want an authentication error", err)
	}

	if n, err := coll.CountDocuments(ctx, bson.M{}); err != nil || n != 1 {
		t.Fatalf("count when signed in: %d, %v", n, err)
	}
	var hello bson.M
	if err := anonymous.Database("admin").RunCommand(ctx, bson.D{{Key: "hello", Value: 1}, {Key: "saslSupportedMechs", Value: "admin.app"}}).Decode(&hello); err != nil {
		t.Fatal(err)
	}
	if mechs, _ := hello["saslSupportedMechs"].(bson.A); len(mechs) != 1 || mechs[0] != "SCRAM-SHA-256" {
		t.Fatalf("saslSupportedMechs %v", hello["saslSupportedMechs"])
	}
}

// signIn runs SCRAM-SHA-256 on a raw connection, as the driver does, and
// fails the test unless the server accepts it and proves it knows the
// password.
func signIn(t *testing.T, c net.Conn, user, password string) {
	t.Helper()
	client, err := scram.SHA256.NewClient(user, password, "")
	if err != nil {
		t.Fatal(err)
	}
	conv := client.NewConversation()
	first, err := conv.Step("")
	if err != nil {
		t.Fatal(err)
	}
	reply := roundTrip(t, c, bson.D{{Key: "saslStart", Value: 1}, {Key: "mechanism", Value: "SCRAM-SHA-256"}, {Key: "payload", Value: primitive.Binary{Data: []byte(first)}}, {Key: "$db", Value: "admin"}})
	for {
		if reply.Lookup("ok").Double() != 1 {
			t.Fatalf("SCRAM: %v", reply)
		}
		_, payload := reply.Lookup("payload").Binary()
		next, err := conv.Step(string(payload))
		if err != nil {
			t.Fatalf("SCRAM: %v", err)
		}
		if reply.Lookup("done").Boolean() {
			if !conv.Valid() {
				t.Fatal("SCRAM: the server's signature is wrong")
			}
			return
		}
		reply = roundTrip(t, c, bson.D{{Key: "saslContinue", Value: 1}, {Key: "conversationId", Value: 1}, {Key: "payload", Value: primitive.Binary{Data: []byte(next)}}, {Key: "$db", Value: "admin"}})
	}
}

// TestServer_EndSessionsNeedsAuthentication (issue 16, found by a
// tester): endSessions ends any session by id, forgetting its retryable
// writes' replies, so before authentication it is refused (code 13) like
// every command but the handshake, ping and SCRAM; a signed-in client's
// retried write is still answered once. Without the rule the retry
// below is applied again and fails with a duplicate key.
func TestServer_EndSessionsNeedsAuthentication(t *testing.T) {
	t.Parallel()
	srv := wiretest.Start(t, wire.Config{User: "app", Password: "s3cret"})
	lsid := bson.D{{Key: "id", Value: primitive.Binary{Subtype: 4, Data: []byte("0123456789abcdef")}}}
	insert := bson.D{{Key: "insert", Value: "things"}, {Key: "documents", Value: bson.A{bson.D{{Key: "_id", Value: 1}}}},
		{Key: "lsid", Value: lsid}, {Key: "txnNumber", Value: int64(1)}, {Key: "$db", Value: "loandesk"}}

	app := dial(t, srv.Addr)
	signIn(t, app, "app", "s3cret")
	if r := roundTrip(t, app, insert); r.Lookup("ok").Double() != 1 || r.Lookup("n").Int32() != 1 {
		t.Fatalf("the retryable insert: %v", r)
	}

	stranger := dial(t, srv.Addr)
	for _, cmd := range []bson.D{
		{{Key: "endSessions", Value: bson.A{lsid}}, {Key: "$db", Value: "admin"}},
		{{Key: "connectionStatus", Value: 1}, {Key: "$db", Value: "admin"}},
		{{Key: "getParameter", Value: "*"}, {Key: "$db", Value: "admin"}},
	} {
		if r := roundTrip(t, stranger, cmd); code(r) != 13 {
			t.Errorf("%s before authentication: %v, want code 13", cmd[0].Key, r)
		}
	}
	for _, cmd := range []bson.D{
		{{Key: "hello", Value: 1}, {Key: "$db", Value: "admin"}},
		{{Key: "isMaster", Value: 1}, {Key: "$db", Value: "admin"}},
		{{Key: "buildInfo", Value: 1}, {Key: "$db", Value: "admin"}},
		{{Key: "ping", Value: 1}, {Key: "$db", Value: "admin"}},
	} {
		if r := roundTrip(t, stranger, cmd); r.Lookup("ok").Double() != 1 {
			t.Errorf("%s before authentication: %v, want ok", cmd[0].Key, r)
		}
	}

	// The retry (the driver's, after a lost reply) gets the first reply.
	if r := roundTrip(t, app, insert); r.Lookup("ok").Double() != 1 || r.Lookup("n").Int32() != 1 || r.Lookup("writeErrors").Type != 0 {
		t.Fatalf("the retried insert after a stranger's endSessions: %v, want the first reply (n: 1)", r)
	}
	// A signed-in client still ends its sessions.
	if r := roundTrip(t, app, bson.D{{Key: "endSessions", Value: bson.A{lsid}}, {Key: "$db", Value: "admin"}}); r.Lookup("ok").Double() != 1 {
		t.Fatalf("endSessions when signed in: %v", r)
	}
}
