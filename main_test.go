package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"loandesk/auth"
	"loandesk/model"
	"loandesk/ocr/ocrtest"
	"loandesk/store"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadConfig(t *testing.T) {
	t.Parallel()

	t.Run("Defaults", func(t *testing.T) {
		t.Parallel()
		c, err := loadConfig(env(nil))
		if err != nil {
			t.Fatal(err)
		}
		if c.Port != "3001" || c.DataDir != "./data" || c.MongoURI != "" || c.Web.BcryptCost < 12 || c.Web.SessionLifetime.Hours() != 7*24 ||
			c.ServeJobs != "auto" || c.JobWorkers != 4 || c.Web.UploadMaxBytes != 10<<20 || c.Web.Zone.String() != "Asia/Kolkata" ||
			c.Web.Policy.UnderwriterApprovalLimit != 25_00_000_00 || c.Web.Policy.DualApprovalAbove != 25_00_000_00 {
			t.Fatalf("defaults: %+v", c)
		}
	})

	t.Run("BadValuesAreNamed", func(t *testing.T) {
		t.Parallel()
		_, err := loadConfig(env(map[string]string{
			"PORT": "http", "DB_POOL_MAX": "-1", "LOG_LEVEL": "loud", "ADMIN_EMAIL": "a@example.com",
			"SESSION_IDLE_TIMEOUT": "soon", "BCRYPT_COST": "4", "ADMIN_TOKEN": "short", "UNDERWRITER_APPROVAL_LIMIT": "lots",
			"SERVE_JOBS": "sometimes", "JOB_WORKERS": "0", "EVENT_RETENTION": "forever", "UPLOAD_MAX_BYTES": "10MB", "TIME_ZONE": "Mars/Olympus", "DUAL_APPROVAL_ABOVE": "a lot", "METRICS_ADDR": "9090",
		}))
		if err == nil {
			t.Fatal("no error")
		}
		for _, name := range []string{"PORT", "DB_POOL_MAX", "LOG_LEVEL", "ADMIN_PASSWORD", "SESSION_IDLE_TIMEOUT", "BCRYPT_COST", "ADMIN_TOKEN", "UNDERWRITER_APPROVAL_LIMIT",
			"SERVE_JOBS", "JOB_WORKERS", "EVENT_RETENTION", "UPLOAD_MAX_BYTES", "TIME_ZONE", "DUAL_APPROVAL_ABOVE", "METRICS_ADDR"} {
			if !strings.Contains(err.Error(), name) {
				t.Errorf("error does not name %s: %v", name, err)
			}
		}
	})

	t.Run("TimeZone", func(t *testing.T) {
		t.Parallel()
		c, err := loadConfig(env(map[string]string{"TIME_ZONE": "Asia/Dubai"}))
		if err != nil || c.Web.Zone.String() != "Asia/Dubai" {
			t.Fatalf("got %v, %v", c.Web.Zone, err)
		}
		if _, err := loadConfig(env(map[string]string{"TIME_ZONE": "Local"})); err == nil || !strings.Contains(err.Error(), "TIME_ZONE") {
			t.Fatalf("Local (the server's zone) accepted: %v", err)
		}
	})

	t.Run("WeakAdminPasswordIsRefused", func(t *testing.T) {
		t.Parallel()
		_, err := loadConfig(env(map[string]string{"ADMIN_EMAIL": "a@example.com", "ADMIN_PASSWORD": "short"}))
		if err == nil || !strings.Contains(err.Error(), "at least 12") {
			t.Fatalf("got %v", err)
		}
	})
}

func openTestStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), store.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close(context.Background()) })
	return st
}

func testConfig(t *testing.T, vars map[string]string) config {
	t.Helper()
	c, err := loadConfig(env(vars))
	if err != nil {
		t.Fatal(err)
	}
	c.Web.BcryptCost = 4 // fast under -race; the cost itself is tested in web
	return c
}

func TestEnsureAdmin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("RandomAdminWhenNoUsersAndNoVariables", func(t *testing.T) {
		t.Parallel()
		st := openTestStore(t)
		var logs bytes.Buffer
		logger := slog.New(slog.NewTextHandler(&logs, nil))
		cfg := testConfig(t, map[string]string{"DATA_DIR": t.TempDir()})
		if err := ensureAdmin(ctx, st, cfg, logger); err != nil {
			t.Fatal(err)
		}
		// Not in the log: in a file only this user can read, named there.
		path := filepath.Join(cfg.DataDir, "first-admin-password.txt")
		if !strings.Contains(logs.String(), path) {
			t.Fatalf("the log does not name %s: %s", path, logs.String())
		}
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("password file: %v, %v", fi, err)
		}
		note, _ := os.ReadFile(path)
		m := regexp.MustCompile(`password: (\S+)`).FindStringSubmatch(string(note))
		if m == nil || strings.Contains(logs.String(), m[1]) {
			t.Fatalf("password file %q, logs %q", note, logs.String())
		}
		u, err := st.UserByEmail(ctx, "admin@localhost")
		if err != nil || u.Role != auth.RoleAdmin || !u.MustChangePassword || !auth.NewHasher(4).Check(u.PasswordHash, m[1]) {
			t.Fatalf("admin@localhost: %+v, %v", u, err)
		}
		// The next start creates nothing and prints no password.
		logs.Reset()
		if err := ensureAdmin(ctx, st, cfg, logger); err != nil {
			t.Fatal(err)
		}
		if n, _ := st.UserCount(ctx); n != 1 || strings.Contains(logs.String(), "password=") {
			t.Fatalf("second start: %d users, logs %q", n, logs.String())
		}
	})

	t.Run("ConfiguredAdminIsCreatedThenKeptInStep", func(t *testing.T) {
		t.Parallel()
		st := openTestStore(t)
		var logs bytes.Buffer
		logger := slog.New(slog.NewTextHandler(&logs, nil))
		vars := map[string]string{"ADMIN_EMAIL": "Boss@Example.com", "ADMIN_PASSWORD": "first password 1"}
		if err := ensureAdmin(ctx, st, testConfig(t, vars), logger); err != nil {
			t.Fatal(err)
		}
		// Kept, but named weak (built on "password") in the log.
		if !strings.Contains(logs.String(), "ADMIN_PASSWORD is weak") || strings.Contains(logs.String(), "first password 1") {
			t.Fatalf("logs: %s", logs.String())
		}
		// The operator changes the password; a restart applies it.
		vars["ADMIN_PASSWORD"] = "second password 2"
		if err := ensureAdmin(ctx, st, testConfig(t, vars), logger); err != nil {
			t.Fatal(err)
		}
		u, err := st.UserByEmail(ctx, "boss@example.com")
		h := auth.NewHasher(4)
		if err != nil || u.Role != auth.RoleAdmin || !h.Check(u.PasswordHash, "second password 2") || h.Check(u.PasswordHash, "first password 1") {
			t.Fatalf("admin after restart: %+v, %v", u, err)
		}
		if n, _ := st.UserCount(ctx); n != 1 {
			t.Fatalf("%d users, want 1 (no admin@localhost when ADMIN_EMAIL is set)", n)
		}
	})
}

func TestEnsureAdminToken(t *testing.T) {
	t.Parallel()
	st := openTestStore(t)
	ctx := context.Background()
	logger := slog.New(slog.DiscardHandler)
	first, second := strings.Repeat("a", 40), strings.Repeat("b", 40)
	if err := ensureAdminToken(ctx, st, first, logger); err != nil {
		t.Fatal(err)
	}
	if tok, err := st.APITokenByValue(ctx, first); err != nil || tok.Role != auth.RoleAdmin {
		t.Fatalf("ADMIN_TOKEN not usable: %+v, %v", tok, err)
	}
	// A changed ADMIN_TOKEN replaces the old one; an unset one revokes it.
	if err := ensureAdminToken(ctx, st, second, logger); err != nil {
		t.Fatal(err)
	}
	if _, err := st.APITokenByValue(ctx, first); err == nil {
		t.Fatal("the replaced token still works")
	}
	if err := ensureAdminToken(ctx, st, "", logger); err != nil {
		t.Fatal(err)
	}
	if _, err := st.APITokenByValue(ctx, second); err == nil {
		t.Fatal("the token still works after ADMIN_TOKEN was unset")
	}
}

// syncBuffer is a log sink safe to read while the command writes. Each
// write signals on written, when set (a signal dropped when one is
// already pending).
type syncBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	written chan struct{}
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.b.Write(p)
	if s.written != nil {
		select {
		case s.written <- struct{}{}:
		default:
		}
	}
	return n, err
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// `loandesk jobs` runs the runner alone: a stored document is read and its
// application scored, and the command stops cleanly on cancel.
func TestJobsCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	st, err := store.Open(context.Background(), store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := st.LoanInsertMany(ctx, []model.Loan{{HumanID: "LN-2026-000001", Status: model.StatusSubmitted, Applicant: model.Applicant{PAN: "ABCPI1234K"}}}); err != nil {
		t.Fatal(err)
	}
	l, _ := st.LoanGet(ctx, "LN-2026-000001")
	d, err := st.DocumentUpload(ctx, model.Document{LoanID: l.ID, LoanHumanID: l.HumanID, Kind: "pan", Filename: "pan.pdf", ContentType: "application/pdf"},
		bytes.NewReader(ocrtest.TextPDF([]string{"PAN: ABCPI1234K"})))
	if err != nil {
		t.Fatal(err)
	}
	st.Close(ctx)

	logs := syncBuffer{written: make(chan struct{}, 1)}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- run(runCtx, []string{"jobs"}, env(map[string]string{"DATA_DIR": dir, "LOG_LEVEL": "debug"}), io.Discard, &logs)
	}()
	// The runner logs each job it completes: wait for two such lines,
	// looking again at each write to the log.
	deadline := time.After(5 * time.Minute) // a liveness guard: under -race on a loaded machine, minutes
	for waiting := true; waiting && strings.Count(logs.String(), "job done") < 2; {
		select {
		case <-logs.written:
		case <-deadline:
			waiting = false // the checks below say what is missing
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("jobs: %v\n%s", err, logs.String())
	}
	st, err = store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(ctx)
	got, _ := st.DocumentGet(ctx, d.ID)
	scored, _ := st.LoanGet(ctx, l.HumanID)
	if got.Status != model.DocumentDone || scored.Score == nil || !strings.Contains(logs.String(), "job runner stopped") {
		t.Fatalf("document %s, score %+v; log:\n%s", got.Status, scored.Score, logs.String())
	}
}

// A zero-byte database file (a failed copy, a full disk) stops serve at
// start with the file's name; it is never taken as a new database (which
// would load demo applications and hide the loss), and it is left as it was.
func TestServe_ZeroByteDatabaseIsRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "loandesk.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	logs.written = make(chan struct{}, 1)
	err := run(context.Background(), []string{"serve"}, env(map[string]string{"DATA_DIR": dir, "PORT": "0", "HOST": "127.0.0.1"}), io.Discard, &logs)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("serve on a zero-byte database: %v", err)
	}
	if info, err := os.Stat(path); err != nil || info.Size() != 0 {
		t.Fatalf("the file was changed: %v", err)
	}
	if strings.Contains(logs.String(), "demo") {
		t.Fatalf("demo data was loaded:\n%s", logs.String())
	}
}

// TestLoadConfig_PprofAddrIsLoopbackOnly: profiles show request data
// held in memory, so PPROF_ADDR takes only a loopback address.
func TestLoadConfig_PprofAddrIsLoopbackOnly(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:6060": true, "[::1]:6060": true, "localhost:6060": true, "127.0.0.2:6060": true,
		":6060": false, "0.0.0.0:6060": false, "10.0.0.5:6060": false, "example.com:6060": false, "6060": false, "127.0.0.1:": false,
	} {
		c, err := loadConfig(env(map[string]string{"PPROF_ADDR": addr}))
		if ok && (err != nil || c.PprofAddr != addr) {
			t.Errorf("PPROF_ADDR=%s refused: %v", addr, err)
		}
		if !ok && (err == nil || !strings.Contains(err.Error(), "PPROF_ADDR must be a loopback")) {
			t.Errorf("PPROF_ADDR=%s accepted (%v)", addr, err)
		}
	}
}

// TestServePprof: profiles are served on PPROF_ADDR (the index names
// the heap profile); unset serves nothing.
func TestServePprof(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	stop, err := servePprof("", logger)
	if err != nil {
		t.Fatal(err)
	}
	stop()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	stop, err = servePprof(addr, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	res, err := http.Get("http://" + addr + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), "heap") {
		t.Errorf("%d %.200s", res.StatusCode, body)
	}
}
