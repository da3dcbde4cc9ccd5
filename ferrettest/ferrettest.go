// Package ferrettest runs FerretDB v1 in-process for compatibility
// tests: a MongoDB wire-protocol server on a loopback port, storing in
// SQLite files under the test's temporary directory, reached through
// MONGO_URI and the official driver like any MongoDB.
//
// FerretDB is the one MongoDB-compatible server that builds as a Go
// module here (pure Go, no cgo, no PostgreSQL), so it stands for the
// servers that are almost MongoDB: it lacks TTL indexes and applies
// updates as read-then-write, losing concurrent ones. Only tests import
// this package; the loandesk binary does not link FerretDB.
package ferrettest

import (
	"context"
	"log/slog"
	"net/url"
	"sync"
	"testing"

	"github.com/FerretDB/FerretDB/ferretdb"
)

var newMu sync.Mutex

// Start starts FerretDB on 127.0.0.1 with a free port and its SQLite
// backend in a new directory under t.TempDir, and stops it when the
// test ends. It returns the MongoDB URI naming database (for example
// "mongodb://127.0.0.1:40123/loandesk"). FerretDB's errors
// go to the test's output, the rest is dropped. It fails the test if
// FerretDB cannot start.
func Start(t testing.TB, database string) string {
	t.Helper()
	// New writes a package variable of FerretDB's (its version's
	// Package field): parallel tests must not call it at once.
	newMu.Lock()
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Logger:    slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelError})),
		Handler:   "sqlite",
		SQLiteURL: "file:" + t.TempDir() + "/",
	})
	newMu.Unlock()
	if err != nil {
		t.Fatalf("ferrettest: start FerretDB: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	// MongoDBURI waits until Run has opened the listener.
	u, err := url.Parse(f.MongoDBURI())
	if err != nil {
		t.Fatalf("ferrettest: FerretDB's URI: %v", err)
	}
	u.Path = "/" + database
	return u.String()
}
