package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDeliverFirstPassword(t *testing.T) {
	t.Parallel()

	t.Run("OnATerminalNoFile", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		var tty bytes.Buffer
		path, err := deliverFirstPassword(&tty, dir, "admin@localhost", "the secret one")
		if err != nil || path != "" || !strings.Contains(tty.String(), "the secret one") {
			t.Fatalf("path %q err %v shown %q", path, err, tty.String())
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Fatalf("files written: %v", entries)
		}
	})

	t.Run("ElseAPrivateFileNeverOverwritten", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "data") // made if missing
		path, err := deliverFirstPassword(nil, dir, "admin@localhost", "the secret one")
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", path, fi, err)
		}
		if _, err := deliverFirstPassword(nil, dir, "admin@localhost", "another"); err == nil || !strings.Contains(err.Error(), "exists") {
			t.Fatalf("second delivery: %v, want a refusal", err)
		}
		if b, _ := os.ReadFile(path); !strings.Contains(string(b), "the secret one") {
			t.Fatalf("the file was overwritten: %q", b)
		}
	})
}
