package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"loandesk/ferrettest"
)

// `loandesk doctor` passes on the embedded engine and prints its table.
func TestRun_DoctorEmbeddedPasses(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"DATA_DIR": filepath.Join(t.TempDir(), "data")}
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"doctor", "-writers", "4", "-ops", "20"}, env(vars), &stdout, &stderr)
	if err != nil || exitCode(err) != 0 {
		t.Fatalf("exit %d: %v\nstdout:\n%s\nstderr:\n%s", exitCode(err), err, stdout.String(), stderr.String())
	}
	out := stdout.String()
	// Nine database checks and the OCR programs (installed here, as
	// scripts/test.sh installs them).
	if !strings.HasPrefix(out, "CHECK") || strings.Count(out, "PASS") != 10 || strings.Contains(out, "FAIL") || !strings.Contains(out, "OCR programs") {
		t.Fatalf("table:\n%s", out)
	}
}

// Against FerretDB v1 (in-process, through MONGO_URI) doctor exits 1
// and its error names the lost updates and the duplicate claims.
func TestRun_DoctorFerretDBFailsNamingLostUpdates(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"MONGO_URI": ferrettest.Start(t, "loandesk"), "DATA_DIR": filepath.Join(t.TempDir(), "unused")}
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"doctor", "-ops", "10"}, env(vars), &stdout, &stderr)
	t.Logf("table:\n%s", stdout.String())
	if exitCode(err) != 1 {
		t.Fatalf("exit %d: %v, want 1", exitCode(err), err)
	}
	for _, want := range []string{"versioned update race", "LOST UPDATES", "concurrent $inc", "DUPLICATE CLAIMS", "TTL"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %q: %v", want, err)
		}
	}
	if !strings.Contains(stdout.String(), "FAIL") {
		t.Errorf("no FAIL in the table")
	}
}

// Out-of-range sizes are refused before the database is opened.
func TestRun_DoctorRefusesBadSizes(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")
	for _, args := range [][]string{{"doctor", "-writers", "0"}, {"doctor", "-ops", "10001"}, {"doctor", "-timeout", "0s"}} {
		err := run(context.Background(), args, env(map[string]string{"DATA_DIR": dataDir}), &bytes.Buffer{}, &bytes.Buffer{})
		if exitCode(err) != 1 || !strings.Contains(err.Error(), "-writers must be") {
			t.Errorf("%v: %v", args, err)
		}
	}
}
