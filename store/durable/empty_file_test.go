package durable

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Only a missing file is a new database: an empty one (a failed copy, a
// full disk) is refused with its name and left as it was.
func TestOpen_EmptyFileIsRefused(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "loandesk.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := Open(path, Options{})
	if err == nil {
		_ = db.Close()
		t.Fatal("an empty file was opened as a database")
	}
	if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("the error does not name the file: %v", err)
	}
	if info, err := os.Stat(path); err != nil || info.Size() != 0 {
		t.Fatalf("the file was changed: %v %v", info.Size(), err)
	}
	// A missing file is a new database.
	fresh, err := Open(filepath.Join(t.TempDir(), "new.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	_ = fresh.Close()
}
