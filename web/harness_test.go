package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"loandesk/auth"
	"loandesk/seed"
	"loandesk/store"
	"loandesk/web"
)

// testCost keeps bcrypt fast under -race (cost 12 takes ~3 s per hash
// there); TestLogin_ProductionCost checks the real default separately.
const testCost = bcrypt.MinCost

const testPassword = "correct horse battery"

type testBundle struct {
	dir   string
	store *store.Store
	url   string
	srv   *httptest.Server
}

type option func(*web.Config)

// setup runs the real server over HTTP on a fresh embedded database.
func setup(t testing.TB, opts ...option) *testBundle {
	t.Helper()
	b := &testBundle{dir: t.TempDir()}
	b.start(t, opts...)
	return b
}

// start opens the database in b.dir and serves it on a new port.
func (b *testBundle) start(t testing.TB, opts ...option) {
	t.Helper()
	st, err := store.Open(context.Background(), store.Config{DataDir: b.dir})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	b.store = st
	b.srv = httptest.NewServer(newHandler(t, st, opts...))
	b.url = b.srv.URL
	t.Cleanup(b.stop)
}

func newHandler(t testing.TB, st *store.Store, opts ...option) http.Handler {
	t.Helper()
	cfg := web.DefaultConfig()
	cfg.BcryptCost = testCost
	// Admins need no second factor here unless a test asks
	// (withTwoFactor); the two-factor tests run with the default.
	cfg.TwoFactorRoles = nil
	for _, o := range opts {
		o(&cfg)
	}
	logger := slog.New(slog.DiscardHandler)
	h, err := web.New(cfg, st, logger)
	if err != nil {
		t.Fatalf("web.New: %v", err)
	}
	return h
}

// stop shuts the server and closes the database (idempotent).
func (b *testBundle) stop() {
	if b.srv != nil {
		b.srv.Close()
		b.srv = nil
	}
	if b.store != nil {
		_ = b.store.Close(context.Background())
		b.store = nil
	}
}

// restart stops the server and starts it again on the same data.
func (b *testBundle) restart(t testing.TB, opts ...option) {
	t.Helper()
	b.stop()
	b.start(t, opts...)
}

func (b *testBundle) createUser(t testing.TB, email, role string) {
	t.Helper()
	b.createNamedUser(t, email, strings.Split(email, "@")[0], role)
}

// createNamedUser adds a member of staff with the test password and a
// name of their own (createUser names them after their e-mail).
func (b *testBundle) createNamedUser(t testing.TB, email, name, role string) {
	t.Helper()
	hash, err := auth.NewHasher(testCost).Hash(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.store.UserCreate(context.Background(), store.UserCreateParams{Email: email, Name: name, Role: role, PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
}

func (b *testBundle) seedLoans(t testing.TB, n int) {
	t.Helper()
	if _, err := seed.Load(context.Background(), b.store, n, 42, time.Now()); err != nil {
		t.Fatal(err)
	}
}

// newClient is a browser stand-in: a cookie jar, redirects not followed.
func newClient(t testing.TB) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

type response struct {
	status int
	header http.Header
	body   string
}

func do(t testing.TB, c *http.Client, req *http.Request) response {
	t.Helper()
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: string(body)}
}

func get(t testing.TB, c *http.Client, u string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, c, req)
}

// postForm posts like a browser on the same site would (Origin and
// Sec-Fetch-Site set).
func postForm(t testing.TB, c *http.Client, base, path string, form url.Values) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return do(t, c, req)
}

func login(t testing.TB, c *http.Client, base, email, password string) response {
	t.Helper()
	return postForm(t, c, base, "/login", url.Values{"email": {email}, "password": {password}})
}

// mustLogin signs in and checks that it worked.
func mustLogin(t testing.TB, c *http.Client, base, email string) {
	t.Helper()
	res := login(t, c, base, email, testPassword)
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/loans" {
		t.Fatalf("login as %s: status %d location %q", email, res.status, res.header.Get("Location"))
	}
}

// signedIn reports whether c's session shows the loan list.
func signedIn(t testing.TB, c *http.Client, base string) bool {
	t.Helper()
	res := get(t, c, base+"/loans")
	switch res.status {
	case http.StatusOK:
		return strings.Contains(res.body, `data-testid="signed-in-user"`)
	case http.StatusSeeOther:
		return false
	}
	t.Fatalf("GET /loans: unexpected status %d", res.status)
	return false
}

func sessionCookie(t testing.TB, c *http.Client, base string) *http.Cookie {
	t.Helper()
	u, _ := url.Parse(base)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "loandesk_session" {
			return ck
		}
	}
	return nil
}

// newTestServer serves h on a new port (a second instance) until the test ends.
func newTestServer(t testing.TB, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
