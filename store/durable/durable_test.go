package durable

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func open(t *testing.T, path string) *DB {
	t.Helper()
	db, err := Open(path, Options{LockTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func TestDB_Commit(t *testing.T) {
	t.Parallel()

	t.Run("DeleteThenPutOfOneKeyKeepsTheDocument", func(t *testing.T) {
		t.Parallel()
		db := open(t, filepath.Join(t.TempDir(), "x.db"))
		k := []byte("k1")
		if err := db.Commit([]Change{{Namespace: "a.b", Puts: []Doc{{k, []byte("v1")}}}}); err != nil {
			t.Fatal(err)
		}
		if err := db.Commit([]Change{{Namespace: "a.b", Deletes: [][]byte{k}, Puts: []Doc{{k, []byte("v2")}}}}); err != nil {
			t.Fatal(err)
		}
		got, err := db.Load()
		if err != nil || len(got) != 1 || len(got[0].Docs) != 1 || string(got[0].Docs[0]) != "v2" {
			t.Fatalf("load = %+v, %v", got, err)
		}
	})

	t.Run("ConcurrentCommitsAllLand", func(t *testing.T) {
		t.Parallel()
		db := open(t, filepath.Join(t.TempDir(), "x.db"))
		var wg sync.WaitGroup
		for i := range 200 {
			wg.Go(func() {
				key := []byte{byte(i >> 8), byte(i)}
				if err := db.Commit([]Change{{Namespace: "a.b", Puts: []Doc{{key, key}}}}); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		got, _ := db.Load()
		if len(got) != 1 || len(got[0].Docs) != 200 {
			t.Fatalf("got %d namespaces / %d docs, want 200 docs", len(got), len(got[0].Docs))
		}
	})

	t.Run("RefusesDroppingIDIndex", func(t *testing.T) {
		t.Parallel()
		db := open(t, filepath.Join(t.TempDir(), "x.db"))
		_ = db.Commit([]Change{{Namespace: "a.b", Puts: []Doc{{[]byte("k"), []byte("v")}}, IndexPuts: map[string][]byte{"_id_": []byte("def")}}})
		for _, commit := range []func([]Change) error{db.Commit, db.CommitSerial} {
			err := commit([]Change{{Namespace: "a.b", Puts: []Doc{{[]byte("k2"), []byte("v2")}}, IndexDrops: []string{"_id_"}}})
			if !errors.Is(err, ErrRefused) {
				t.Fatalf("got %v, want ErrRefused", err)
			}
		}
		got, _ := db.Load()
		if len(got) != 1 || len(got[0].Docs) != 1 || len(got[0].Indexes) != 1 {
			t.Fatalf("a refused commit changed the file: %+v", got)
		}
	})

	t.Run("DropRemovesNamespaceAndIndexes", func(t *testing.T) {
		t.Parallel()
		db := open(t, filepath.Join(t.TempDir(), "x.db"))
		_ = db.Commit([]Change{{Namespace: "a.b", Puts: []Doc{{[]byte("k"), []byte("v")}}, IndexPuts: map[string][]byte{"i": []byte("def")}}})
		_ = db.Commit([]Change{{Namespace: "a.b", Drop: true}})
		if got, _ := db.Load(); len(got) != 0 {
			t.Fatalf("namespace survived drop: %+v", got)
		}
	})
}

func TestOpen(t *testing.T) {
	t.Parallel()

	t.Run("SecondOpenIsInUse", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "x.db")
		open(t, path)
		_, err := Open(path, Options{LockTimeout: 50 * time.Millisecond})
		if !errors.Is(err, ErrInUse) {
			t.Fatalf("got %v, want ErrInUse", err)
		}
	})

	t.Run("TruncatedOrForeignFilesAreRefusedByName", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		good := filepath.Join(dir, "good.db")
		db := open(t, good)
		_ = db.Commit([]Change{{Namespace: "a.b", Puts: []Doc{{[]byte("k"), bytes.Repeat([]byte("v"), 100_000)}}}})
		_ = db.Close()
		whole, _ := os.ReadFile(good)

		cases := map[string][]byte{
			"truncated.db": whole[:len(whole)/3],
			"text.db":      []byte("this is not a database at all, just some text"),
			"zeros.db":     make([]byte, 8192),
		}
		for name, content := range cases {
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatal(err)
			}
			db, err := Open(path, Options{LockTimeout: 50 * time.Millisecond})
			if err == nil {
				// bbolt may open a truncated file whose meta pages survive;
				// reading it must then fail, never return partial data.
				_, err = db.Load()
				_ = db.Close()
			}
			if err == nil || !strings.Contains(err.Error(), path) {
				t.Errorf("%s: got %v, want an error naming the file", name, err)
			}
		}
	})
}

func TestBackupRestore(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := open(t, filepath.Join(dir, "live.db"))
	_ = db.Commit([]Change{{Namespace: "a.b", Puts: []Doc{{[]byte("k"), []byte("v")}}, IndexPuts: map[string][]byte{"i": []byte("d")}}})

	backup := filepath.Join(dir, "backup.db")
	f, _ := os.Create(backup)
	if _, err := db.Backup(f); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
	// The live database goes on changing; the backup does not.
	_ = db.Commit([]Change{{Namespace: "a.b", Puts: []Doc{{[]byte("k2"), []byte("v2")}}}})

	restored := filepath.Join(dir, "restored.db")
	if err := Restore(backup, restored); err != nil {
		t.Fatal(err)
	}
	got, err := open(t, restored).Load()
	if err != nil || len(got) != 1 || len(got[0].Docs) != 1 || string(got[0].Indexes["i"]) != "d" {
		t.Fatalf("restored = %+v, %v", got, err)
	}
	if err := Restore(backup, restored); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("restore over an existing database: %v", err)
	}
	junk := filepath.Join(dir, "junk")
	_ = os.WriteFile(junk, []byte("nope"), 0o600)
	if err := Restore(junk, filepath.Join(dir, "other.db")); err == nil || !strings.Contains(err.Error(), "not a Loan Desk backup") {
		t.Fatalf("restore of junk: %v", err)
	}
}
