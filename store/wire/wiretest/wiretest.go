// Package wiretest starts a wire server over a fresh embedded database
// for tests: the same role net/http/httptest plays for HTTP handlers.
package wiretest

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"testing"
	"time"

	"loandesk/store/durable"
	"loandesk/store/embedded"
	"loandesk/store/wire"
)

// Server is a running wire server and what it serves.
type Server struct {
	*wire.Server
	// URI is the MONGO_URI that reaches it (database "loandesk").
	URI string
	// Addr is its host:port on the loopback interface.
	Addr   string
	Engine *embedded.Engine
	// File is the durable database file, in a temporary directory.
	File string
}

// Start serves a new, empty embedded database on a free loopback port
// until the test ends. cfg.Engine is filled in; the rest is the caller's.
func Start(t testing.TB, cfg wire.Config) *Server {
	t.Helper()
	file := filepath.Join(t.TempDir(), "loandesk.db")
	db, err := durable.Open(file, durable.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e, err := embedded.Open(db)
	if err != nil {
		_ = db.Close()
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.Close()
		_ = db.Close()
		t.Fatal(err)
	}
	cfg.Engine = e
	srv, err := wire.New(cfg)
	if err != nil {
		_ = ln.Close()
		e.Close()
		_ = db.Close()
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("wire server shutdown: %v", err)
		}
		if err := <-served; !errors.Is(err, wire.ErrServerClosed) {
			t.Errorf("wire server: %v", err)
		}
		e.Close()
		_ = db.Close()
	})
	addr := ln.Addr().String()
	return &Server{Server: srv, URI: "mongodb://" + addr + "/loandesk", Addr: addr, Engine: e, File: file}
}
