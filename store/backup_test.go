package store

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

func TestStore_BackupWhileRunning(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	if _, err := b.store.UserCreate(ctx, UserCreateParams{Email: "a@example.com", Name: "A", Role: "admin"}); err != nil {
		t.Fatal(err)
	}
	if err := b.store.ServeBackups(ctx, b.dir, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	// A second process cannot open the database, so it asks the server.
	if _, err := Open(ctx, Config{DataDir: b.dir}); !ErrInUse(err) {
		t.Fatalf("second open: %v, want database in use", err)
	}
	snap := filepath.Join(t.TempDir(), "snap.db")
	f, err := os.Create(snap)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := FetchBackup(b.dir, f); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
	// Writes after the snapshot are not in it.
	if _, err := b.store.UserCreate(ctx, UserCreateParams{Email: "b@example.com", Name: "B", Role: "viewer"}); err != nil {
		t.Fatal(err)
	}

	restored := filepath.Join(t.TempDir(), "restored")
	if err := Restore(snap, restored); err != nil {
		t.Fatal(err)
	}
	st, err := Open(context.Background(), Config{DataDir: restored})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(context.Background())
	if _, err := st.UserByEmail(ctx, "a@example.com"); err != nil {
		t.Fatalf("user from before the snapshot: %v", err)
	}
	if n, _ := st.UserCount(ctx); n != 1 {
		t.Fatalf("restored %d users, want 1", n)
	}
	if err := Restore(snap, restored); err == nil {
		t.Fatal("restore over an existing database succeeded")
	}
}
