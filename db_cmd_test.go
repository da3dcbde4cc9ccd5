package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"loandesk/store"
	"loandesk/store/wire"
	"loandesk/store/wire/wiretest"
)

// TestDBCommand_ServesTheStoreAndStopsGracefully runs `loandesk db` over
// a DATA_DIR, has the app's store use it through MONGO_URI while the
// process is told to stop (SIGTERM's context) in the middle of the
// writes, and then opens the same DATA_DIR embedded: every write that
// was acknowledged is there.
func TestDBCommand_ServesTheStoreAndStopsGracefully(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")
	cfg, err := loadConfig(env(map[string]string{"DATA_DIR": dataDir}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	ready := make(chan string, 1)
	done := make(chan error, 1)
	var logs strings.Builder
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		logMu.Lock()
		defer logMu.Unlock()
		return logs.Write(p)
	}), nil))
	go func() {
		done <- dbCommand(ctx, cfg, logger, dbParams{Addr: "127.0.0.1:0", MaxConnections: 100, Ready: func(a string) { ready <- a }})
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("db stopped at start: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("db did not start listening within 30 s")
	}

	st, err := store.Open(context.Background(), store.Config{MongoURI: "mongodb://" + addr + "/loandesk", ConnectTimeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("store over the wire server: %v", err)
	}
	if _, err := st.UserCreate(context.Background(), store.UserCreateParams{Email: "before@example.com", Name: "Before", Role: "admin"}); err != nil {
		t.Fatal(err)
	}

	// Writers keep creating users; the process is stopped after some
	// have been acknowledged.
	var acked sync.Map
	var nAcked atomic.Int64
	enough := make(chan struct{}) // closed at the 50th acknowledgement
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				email := fmt.Sprintf("w%d-%d@example.com", w, i)
				wctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				_, err := st.UserCreate(wctx, store.UserCreateParams{Email: email, Name: "W", Role: "underwriter"})
				cancel()
				if err != nil {
					return // the server went away: this one may or may not have landed
				}
				acked.Store(email, true)
				if nAcked.Add(1) == 50 {
					close(enough)
				}
			}
		})
	}
	select {
	case <-enough:
	case <-time.After(30 * time.Second):
		t.Fatalf("only %d writes acknowledged in 30 s", nAcked.Load())
	}
	stopAt := time.Now()
	stop() // SIGTERM
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("db after SIGTERM: %v", err)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("db did not stop within 40 s of SIGTERM")
	}
	t.Logf("db stopped %s after SIGTERM", time.Since(stopAt))
	wg.Wait()
	cctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	_ = st.Close(cctx) // the driver's endSessions has no server to reach
	cancel()

	// The same DATA_DIR, embedded: the file was released and every
	// acknowledged write is in it.
	local, err := store.Open(context.Background(), store.Config{DataDir: dataDir})
	if err != nil {
		t.Fatalf("reopen DATA_DIR after db stopped: %v", err)
	}
	defer local.Close(context.Background())
	missing := 0
	acked.Range(func(k, _ any) bool {
		if _, err := local.UserByEmail(context.Background(), k.(string)); err != nil {
			missing++
		}
		return true
	})
	if _, err := local.UserByEmail(context.Background(), "before@example.com"); err != nil {
		missing++
	}
	if missing != 0 {
		t.Fatalf("%d of %d acknowledged writes missing after a graceful stop", missing, nAcked.Load()+1)
	}
	logMu.Lock()
	out := logs.String()
	logMu.Unlock()
	if !strings.Contains(out, "NO AUTHENTICATION") {
		t.Errorf("no warning about authentication in the log:\n%s", out)
	}
	t.Logf("%d writes acknowledged before and during the stop, all on disk after it", nAcked.Load()+1)
}

// TestDBCommand_Refuses: a DATA_DIR another process holds, and the lungo
// engine, are clear errors.
func TestDBCommand_Refuses(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	held, err := store.Open(context.Background(), store.Config{DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close(context.Background())
	cfg, err := loadConfig(env(map[string]string{"DATA_DIR": dataDir}))
	if err != nil {
		t.Fatal(err)
	}
	err = dbCommand(context.Background(), cfg, slog.New(slog.DiscardHandler), dbParams{Addr: "127.0.0.1:0", MaxConnections: 10})
	if err == nil || !strings.Contains(err.Error(), "database in use") {
		t.Fatalf("DATA_DIR in use: %v", err)
	}
	cfg.Engine = store.EngineLungo
	if err := dbCommand(context.Background(), cfg, slog.New(slog.DiscardHandler), dbParams{Addr: "127.0.0.1:0", MaxConnections: 10}); err == nil || !strings.Contains(err.Error(), "indexed") {
		t.Fatalf("EMBEDDED_ENGINE=lungo: %v", err)
	}
	if err := dbCommand(context.Background(), cfg, slog.New(slog.DiscardHandler), dbParams{Addr: "127.0.0.1:0"}); err == nil || !strings.Contains(err.Error(), "-max-connections") {
		t.Fatalf("-max-connections 0: %v", err)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestDBCommand_DoctorPasses: `loandesk doctor` through MONGO_URI finds
// every guarantee the app relies on in the wire server: no lost
// updates, exactly-once claims, unique and TTL indexes, the lock.
func TestDBCommand_DoctorPasses(t *testing.T) {
	t.Parallel()
	srv := wiretest.Start(t, wire.Config{})
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"doctor", "-writers", "4", "-ops", "20"}, env(map[string]string{"MONGO_URI": srv.URI}), &stdout, &stderr)
	if err != nil || strings.Contains(stdout.String(), "FAIL") {
		t.Fatalf("doctor against the wire server: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	t.Logf("\n%s", stdout.String())
}

// TestDBCommand_AuthFile: with -auth-file the app's store signs in with
// the URI's credentials and is refused without them.
func TestDBCommand_AuthFile(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "db-auth")
	if err := os.WriteFile(file, []byte("loandesk:a long pass phrase\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	user, password, err := readAuthFile(file)
	if err != nil || user != "loandesk" || password != "a long pass phrase" {
		t.Fatalf("readAuthFile: %q %q %v", user, password, err)
	}
	if err := os.WriteFile(file, []byte("no colon\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := readAuthFile(file); err == nil {
		t.Fatal("a line without USER:PASSWORD was accepted")
	}
	cfg, err := loadConfig(env(map[string]string{"DATA_DIR": t.TempDir()}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- dbCommand(ctx, cfg, slog.New(slog.DiscardHandler), dbParams{Addr: "127.0.0.1:0", MaxConnections: 50, User: user, Password: password, Ready: func(a string) { ready <- a }})
	}()
	addr := <-ready
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("db: %v", err)
		}
	}()
	st, err := store.Open(context.Background(), store.Config{MongoURI: "mongodb://loandesk:a%20long%20pass%20phrase@" + addr + "/loandesk", ConnectTimeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("store with the credentials: %v", err)
	}
	if _, err := st.UserCreate(context.Background(), store.UserCreateParams{Email: "a@example.com", Name: "A", Role: "admin"}); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(context.Background(), time.Second)
	_ = st.Close(cctx)
	cancel()
	if _, err := store.Open(context.Background(), store.Config{MongoURI: "mongodb://" + addr + "/loandesk", ConnectTimeout: 2 * time.Second}); err == nil || !strings.Contains(err.Error(), "requires authentication") {
		t.Fatalf("store without credentials: %v", err)
	}
}

// TestDBCommand_TLS: with -tls-cert and -tls-key the server speaks TLS,
// and the store connects with tls=true and the CA file.
func TestDBCommand_TLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeSelfSigned(t, certFile, keyFile)
	cfg, err := loadConfig(env(map[string]string{"DATA_DIR": filepath.Join(dir, "data")}))
	if err != nil {
		t.Fatal(err)
	}
	if err := dbCommand(context.Background(), cfg, slog.New(slog.DiscardHandler), dbParams{Addr: "127.0.0.1:0", MaxConnections: 5, TLSCert: certFile}); err == nil {
		t.Fatal("-tls-cert without -tls-key was accepted")
	}
	ctx, stop := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- dbCommand(ctx, cfg, slog.New(slog.DiscardHandler), dbParams{Addr: "127.0.0.1:0", MaxConnections: 50, TLSCert: certFile, TLSKey: keyFile, Ready: func(a string) { ready <- a }})
	}()
	addr := <-ready
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("db: %v", err)
		}
	}()
	st, err := store.Open(context.Background(), store.Config{MongoURI: "mongodb://" + addr + "/loandesk?tls=true&tlsCAFile=" + url.QueryEscape(certFile), ConnectTimeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("store over TLS: %v", err)
	}
	if _, err := st.UserCreate(context.Background(), store.UserCreateParams{Email: "a@example.com", Name: "A", Role: "admin"}); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(context.Background(), time.Second)
	_ = st.Close(cctx)
	cancel()
	if _, err := store.Open(context.Background(), store.Config{MongoURI: "mongodb://" + addr + "/loandesk", ConnectTimeout: 2 * time.Second}); err == nil {
		t.Fatal("a plain connection to the TLS server worked")
	}
}

// writeSelfSigned writes a certificate for 127.0.0.1 (its own CA) and
// its key.
func writeSelfSigned(t *testing.T, certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "loandesk db test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestDBCommand_RefusesBeyondLoopbackWithoutAuth (issue 16/19, M2 found
// by a tester): without -auth-file, `loandesk db` listens on loopback
// addresses only; any other -addr is a usage error (exit 2) that says
// why, before DATA_DIR is touched. With -auth-file it starts there.
// Without the rule 0.0.0.0 was served with a warning.
func TestDBCommand_RefusesBeyondLoopbackWithoutAuth(t *testing.T) {
	t.Parallel()
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0"} {
		dataDir := filepath.Join(t.TempDir(), "data")
		var stdout, stderr bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second) // without the rule it serves until then
		err := run(ctx, []string{"db", "-addr", addr}, env(map[string]string{"DATA_DIR": dataDir}), &stdout, &stderr)
		cancel()
		if exitCode(err) != 2 {
			t.Fatalf("-addr %s without -auth-file: exit %d (%v), want 2", addr, exitCode(err), err)
		}
		if msg := stderr.String(); !strings.Contains(msg, "not a loopback address") || !strings.Contains(msg, "-auth-file") {
			t.Fatalf("-addr %s: stderr does not say why:\n%s", addr, msg)
		}
		if _, err := os.Stat(dataDir); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("-addr %s: DATA_DIR created: %v", addr, err)
		}
	}
	for addr, want := range map[string]bool{
		"127.0.0.1:27017": true, "127.1.2.3:1": true, "[::1]:27017": true, "localhost:27017": true,
		"0.0.0.0:27017": false, ":27017": false, "[::]:27017": false, "192.0.2.1:27017": false, "nonsense": false,
	} {
		if got := loopbackAddr(addr); got != want {
			t.Errorf("loopbackAddr(%q) = %v, want %v", addr, got, want)
		}
	}

	cfg, err := loadConfig(env(map[string]string{"DATA_DIR": t.TempDir()}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- dbCommand(ctx, cfg, slog.New(slog.DiscardHandler), dbParams{Addr: "0.0.0.0:0", MaxConnections: 5, User: "u", Password: "a long pass phrase", Ready: func(a string) { ready <- a }})
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("-addr 0.0.0.0:0 with -auth-file: %v", err)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("db: %v", err)
	}
}
