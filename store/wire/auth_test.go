package wire_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
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
