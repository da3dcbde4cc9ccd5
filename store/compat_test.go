package store

import (
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/x/mongo/driver/connstring"
)

// MONGO_URI decides retryable writes when it names retryWrites (Amazon
// DocumentDB before 8.0.2 needs retryWrites=false); otherwise they are
// on. Writes are always acknowledged by a majority.
func TestMongoClientOptions(t *testing.T) {
	t.Parallel()
	for uri, want := range map[string]bool{
		"mongodb://db.example:27017/loandesk":                   true,
		"mongodb://db.example:27017/loandesk?retryWrites=false": false,
		"mongodb://db.example:27017/loandesk?retryWrites=true":  true,
	} {
		cs, err := connstring.ParseAndValidate(uri)
		if err != nil {
			t.Fatal(err)
		}
		opts := mongoClientOptions(Config{MongoURI: uri, ConnectTimeout: time.Second, PoolMax: 7}, cs)
		if opts.RetryWrites == nil || *opts.RetryWrites != want {
			t.Errorf("%s: retryWrites %v, want %v", uri, opts.RetryWrites, want)
		}
		if opts.WriteConcern == nil || opts.WriteConcern.W != "majority" {
			t.Errorf("%s: write concern %+v, want majority", uri, opts.WriteConcern)
		}
		if opts.MaxPoolSize == nil || *opts.MaxPoolSize != 7 {
			t.Errorf("%s: pool %v, want 7", uri, opts.MaxPoolSize)
		}
	}
}

// With PoolMax unset the driver keeps its own pool size (100): a
// maxPoolSize of 0 would mean no limit at all.
func TestMongoClientOptions_PoolMaxUnset(t *testing.T) {
	t.Parallel()
	uri := "mongodb://db.example:27017/loandesk"
	cs, err := connstring.ParseAndValidate(uri)
	if err != nil {
		t.Fatal(err)
	}
	if opts := mongoClientOptions(Config{MongoURI: uri, ConnectTimeout: time.Second}, cs); opts.MaxPoolSize != nil {
		t.Errorf("pool %d, want the driver's default (unset)", *opts.MaxPoolSize)
	}
}

// Connection errors name the server without its credentials.
func TestRedactURI(t *testing.T) {
	t.Parallel()
	for uri, want := range map[string]string{
		"mongodb://asha:s3cret@db.example:27017/loandesk?authSource=admin": "mongodb://REDACTED@db.example:27017/loandesk?authSource=admin",
		"mongodb://db.example:27017/loandesk":                              "mongodb://db.example:27017/loandesk",
		"mongodb://db.example:27017/%zz":                                   "(unparseable URI)",
	} {
		if got := redactURI(uri); got != want {
			t.Errorf("%s: %q, want %q", uri, got, want)
		}
	}
}
