package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"loandesk/auth"
	"loandesk/clock"
	"loandesk/store"
	"loandesk/web"
)

func TestLogin(t *testing.T) {
	t.Parallel()

	t.Run("SucceedsWithHttpOnlySessionCookie", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.createUser(t, "asha@example.com", auth.RoleAdmin)
		c := newClient(t)
		res := login(t, c, b.url, "Asha@Example.com", testPassword)
		if res.status != http.StatusSeeOther || res.header.Get("Location") != "/loans" {
			t.Fatalf("status %d location %q", res.status, res.header.Get("Location"))
		}
		var raw string // the session's (a device cookie comes too)
		for _, v := range res.header.Values("Set-Cookie") {
			if strings.HasPrefix(v, "loandesk_session=") {
				raw = v
			}
		}
		for _, want := range []string{"loandesk_session=", "HttpOnly", "SameSite=Lax", "Path=/", "Max-Age="} {
			if !strings.Contains(raw, want) {
				t.Errorf("Set-Cookie %q lacks %q", raw, want)
			}
		}
		if !signedIn(t, c, b.url) {
			t.Fatal("not signed in after login")
		}
		page := get(t, c, b.url+"/loans")
		if !strings.Contains(page.body, "asha@example.com") {
			t.Error("the layout does not show the signed-in user")
		}
	})

	t.Run("TokenChangesAtLogin", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.createUser(t, "asha@example.com", auth.RoleAdmin)
		c := newClient(t)
		// A flash-carrying anonymous session (as after sign-out) exists first.
		mustLogin(t, c, b.url, "asha@example.com")
		postForm(t, c, b.url, "/logout", nil)
		before := sessionCookie(t, c, b.url)
		if before == nil {
			t.Fatal("no anonymous session after sign-out")
		}
		mustLogin(t, c, b.url, "asha@example.com")
		after := sessionCookie(t, c, b.url)
		if after == nil || after.Value == before.Value {
			t.Fatal("session token was not renewed at login")
		}
	})

	t.Run("FailuresShowOneMessageAndNoSession", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.createUser(t, "asha@example.com", auth.RoleViewer)
		c := newClient(t)
		wrongPassword := login(t, c, b.url, "asha@example.com", "wrong password!!")
		unknownUser := login(t, c, b.url, "nobody@example.com", testPassword)
		for name, res := range map[string]response{"wrong password": wrongPassword, "unknown user": unknownUser} {
			if res.status != http.StatusUnauthorized {
				t.Errorf("%s: status %d, want 401", name, res.status)
			}
			if !strings.Contains(res.body, "Incorrect email or password.") {
				t.Errorf("%s: message missing", name)
			}
			if strings.Contains(res.header.Get("Set-Cookie"), "loandesk_session") {
				t.Errorf("%s: a session cookie was set", name)
			}
		}
		if signedIn(t, c, b.url) {
			t.Fatal("signed in after failed logins")
		}
	})

	t.Run("BadInputGetsTheFormAgainNever5xx", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.createUser(t, "asha@example.com", auth.RoleViewer)
		c := newClient(t)
		huge := strings.Repeat("a", 10_000)
		cases := map[string]url.Values{
			"empty":                {},
			"empty strings":        {"email": {""}, "password": {""}},
			"10 KB email":          {"email": {huge + "@example.com"}, "password": {testPassword}},
			"10 KB password":       {"email": {"asha@example.com"}, "password": {huge}},
			"RTL and joiner marks": {"email": {"asha@example.com\u202e"}, "password": {"pass word\u200d"}},
			"emoji":                {"email": {"🦄@example.com"}, "password": {"💥💥💥💥💥💥💥💥💥💥💥💥"}},
			"array keys":           {"email[$ne]": {"x"}, "password[$gt]": {""}},
			"script":               {"email": {`<script>alert(1)</script>`}, "password": {"x"}},
		}
		for name, form := range cases {
			res := postForm(t, c, b.url, "/login", form)
			if res.status < 400 || res.status >= 500 {
				t.Errorf("%s: status %d, want 4xx", name, res.status)
			}
			if !strings.Contains(res.body, `data-testid="login-form"`) || !strings.Contains(res.body, `data-testid="login-error"`) {
				t.Errorf("%s: the form with a message was not shown again", name)
			}
			if strings.Contains(res.body, "<script>alert(1)") {
				t.Errorf("%s: input echoed unescaped", name)
			}
		}
		// Text a browser's form cannot send is refused before the
		// handler, as on every route (400, nothing counted or stored).
		for name, form := range map[string]url.Values{
			"invalid UTF-8": {"email": {"\xff\xfe@example.com"}, "password": {"\xc3\x28"}},
			"NUL":           {"email": {"asha\x00@example.com"}, "password": {"pass\u0000word"}},
			"email twice":   {"email": {"asha@example.com", "x@example.com"}, "password": {testPassword}},
		} {
			if res := postForm(t, c, b.url, "/login", form); res.status != http.StatusBadRequest {
				t.Errorf("%s: status %d, want 400", name, res.status)
			}
		}
		if signedIn(t, c, b.url) {
			t.Fatal("bad input signed someone in")
		}
	})

	t.Run("OversizedBodyIsRefusedCleanly", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		c := newClient(t)
		res := postForm(t, c, b.url, "/login", url.Values{"email": {strings.Repeat("x", 200_000)}, "password": {"y"}})
		if res.status != http.StatusRequestEntityTooLarge || !strings.Contains(res.body, "64 KB") {
			t.Fatalf("status %d", res.status)
		}
	})

	t.Run("RateLimitedPerAccountAndAddress", func(t *testing.T) {
		t.Parallel()
		b := setup(t, func(c *web.Config) {
			c.LoginLimits = auth.SignInLimits{FreeFailures: 3, FirstDelay: time.Hour, MaxDelay: time.Hour, Window: time.Hour}
		})
		b.createUser(t, "asha@example.com", auth.RoleViewer)
		c := newClient(t)
		for i := range 3 {
			if res := login(t, c, b.url, "asha@example.com", "wrong password!!"); res.status != http.StatusUnauthorized {
				t.Fatalf("attempt %d: status %d", i+1, res.status)
			}
		}
		// Even the right password waits now: the account is being guessed from here.
		res := login(t, c, b.url, "ASHA@example.com", testPassword)
		if res.status != http.StatusTooManyRequests || !strings.Contains(res.body, "Too many sign-in attempts") || res.header.Get("Retry-After") == "" {
			t.Fatalf("4th attempt: status %d retry-after %q", res.status, res.header.Get("Retry-After"))
		}
		// Another account from the same IP is unaffected.
		b.createUser(t, "ravi@example.com", auth.RoleViewer)
		mustLogin(t, newClient(t), b.url, "ravi@example.com")
	})

	t.Run("BehindAProxyTheLastForwardedAddressCounts", func(t *testing.T) {
		t.Parallel()
		b := setup(t, func(c *web.Config) {
			c.TrustProxy = true
			c.LoginLimits = auth.SignInLimits{FreeFailures: 100, AddressCeiling: 2, Window: time.Hour}
		})
		c := newClient(t)
		attempt := func(i int, xff string) int {
			form := url.Values{"email": {fmt.Sprintf("u%d@example.com", i)}, "password": {"whatever password"}}
			req, _ := http.NewRequest(http.MethodPost, b.url+"/login", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", b.url)
			req.Header.Set("X-Forwarded-For", xff)
			req.Header.Set("X-Real-IP", fmt.Sprintf("10.9.9.%d", i)) // forged: ignored
			return do(t, c, req).status
		}
		// A client that forges the earlier entries is still the address
		// the proxy appended: its third attempt is refused.
		for i := range 2 {
			if st := attempt(i, fmt.Sprintf("1.2.3.%d, 203.0.113.7", i)); st != http.StatusUnauthorized {
				t.Fatalf("attempt %d: status %d", i+1, st)
			}
		}
		if st := attempt(2, "9.9.9.9, 203.0.113.7"); st != http.StatusTooManyRequests {
			t.Fatalf("third attempt from 203.0.113.7: status %d, want 429", st)
		}
		if st := attempt(3, "203.0.113.7, 198.51.100.4"); st != http.StatusUnauthorized {
			t.Fatalf("another client: status %d, want 401", st)
		}
	})

	t.Run("RateLimitedPerIPAcrossEmails", func(t *testing.T) {
		t.Parallel()
		b := setup(t, func(c *web.Config) {
			c.LoginLimits = auth.SignInLimits{FreeFailures: 100, AddressCeiling: 5, Window: time.Hour}
		})
		c := newClient(t)
		var wg sync.WaitGroup
		var mu sync.Mutex
		limited := 0
		for i := range 8 {
			wg.Go(func() {
				res := login(t, c, b.url, "user"+string(rune('a'+i))+"@example.com", "whatever password")
				mu.Lock()
				defer mu.Unlock()
				if res.status == http.StatusTooManyRequests {
					limited++
				}
			})
		}
		wg.Wait()
		if limited != 3 {
			t.Fatalf("%d of 8 attempts limited, want exactly 3 (limit 5 per IP)", limited)
		}
	})

	t.Run("NextParameterOnlyAllowsLocalPaths", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.createUser(t, "asha@example.com", auth.RoleAdmin)
		for next, want := range map[string]string{
			"/admin/users":           "/admin/users",
			"//evil.example/x":       "/loans",
			"https://evil.example/x": "/loans",
			"/\\evil.example":        "/loans",
			"/\t/evil.example":       "/loans", // browsers drop the tab: //evil.example
			"/\n/evil.example":       "/loans",
			"/ /evil.example":        "/loans",
			"/\u00a0/evil.example":   "/loans",
			"/%2F/evil.example":      "/loans",
			"/loans\\..\\..\\x":      "/loans",
			"javascript:alert(1)":    "/loans",
			"/loans?status=approved": "/loans?status=approved",
		} {
			c := newClient(t)
			res := postForm(t, c, b.url, "/login", url.Values{"email": {"asha@example.com"}, "password": {testPassword}, "next": {next}})
			if got := res.header.Get("Location"); got != want {
				t.Errorf("next=%q: redirected to %q, want %q", next, got, want)
			}
		}
	})
}

// TestLogin_ProductionCost checks that the server, as configured by
// default, stores passwords with bcrypt at cost ≥ 12.
func TestLogin_ProductionCost(t *testing.T) {
	t.Parallel()
	if web.DefaultConfig().BcryptCost < 12 {
		t.Fatalf("default bcrypt cost %d < 12", web.DefaultConfig().BcryptCost)
	}
	b := setup(t, func(c *web.Config) { c.BcryptCost = web.DefaultConfig().BcryptCost })
	b.createUser(t, "root@example.com", auth.RoleAdmin)
	c := newClient(t)
	mustLogin(t, c, b.url, "root@example.com")
	res := postForm(t, c, b.url, "/admin/users", url.Values{"email": {"new@example.com"}, "name": {"New"}, "role": {"viewer"}, "password": {"a long enough password"}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("create user: status %d", res.status)
	}
	u, err := b.store.UserByEmail(context.Background(), "new@example.com")
	if err != nil {
		t.Fatal(err)
	}
	cost, err := bcrypt.Cost(u.PasswordHash)
	if err != nil || cost < 12 {
		t.Fatalf("stored hash cost %d (err %v), want ≥ 12", cost, err)
	}
}

func TestLogout(t *testing.T) {
	t.Parallel()

	t.Run("DestroysSessionOnServer", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.createUser(t, "asha@example.com", auth.RoleAdmin)
		c := newClient(t)
		mustLogin(t, c, b.url, "asha@example.com")
		stolen := sessionCookie(t, c, b.url)
		res := postForm(t, c, b.url, "/logout", nil)
		if res.status != http.StatusSeeOther || res.header.Get("Location") != "/login" {
			t.Fatalf("logout: status %d location %q", res.status, res.header.Get("Location"))
		}
		if !strings.Contains(res.header.Get("Clear-Site-Data"), `"storage"`) {
			t.Error("logout does not clear site storage")
		}
		if signedIn(t, c, b.url) {
			t.Fatal("still signed in after logout")
		}
		// Replaying the old cookie (a copy taken before logout) fails too.
		replay := newClient(t)
		u, _ := url.Parse(b.url)
		replay.Jar.SetCookies(u, []*http.Cookie{stolen})
		if signedIn(t, replay, b.url) {
			t.Fatal("the old session token still works after logout")
		}
		// The sign-in page says so.
		if page := get(t, c, b.url+"/login"); !strings.Contains(page.body, "You have been signed out.") {
			t.Error("no signed-out message")
		}
	})

	t.Run("GetDoesNotSignOut", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.createUser(t, "asha@example.com", auth.RoleAdmin)
		c := newClient(t)
		mustLogin(t, c, b.url, "asha@example.com")
		if res := get(t, c, b.url+"/logout"); res.status != http.StatusMethodNotAllowed {
			t.Fatalf("GET /logout: status %d, want 405", res.status)
		}
		if !signedIn(t, c, b.url) {
			t.Fatal("a GET signed the user out")
		}
	})
}

func TestSession(t *testing.T) {
	t.Parallel()

	t.Run("SurvivesServerRestart", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.createUser(t, "asha@example.com", auth.RoleAdmin)
		c := newClient(t)
		mustLogin(t, c, b.url, "asha@example.com")
		b.restart(t)
		if !signedIn(t, c, b.url) {
			t.Fatal("signed out by a restart")
		}
	})

	t.Run("WorksAcrossInstancesSharingADatabase", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.createUser(t, "asha@example.com", auth.RoleAdmin)
		other := newTestServer(t, newHandler(t, b.store))
		c := newClient(t)
		mustLogin(t, c, b.url, "asha@example.com")
		if !signedIn(t, c, other) {
			t.Fatal("instance B does not know instance A's session")
		}
		postForm(t, c, other, "/logout", nil)
		if signedIn(t, c, b.url) {
			t.Fatal("instance A still knows a session ended on B")
		}
	})

	// The timeout tests keep the activity in real time, because scs
	// stamps each commit's expiry with the wall clock: an active session
	// outlives its idle timeout only if that much time really passes. The
	// idle or expired stretch afterwards is a jump of the store's clock
	// instead of a sleep. It is also the stronger check: after a real
	// sleep the cookie jar itself drops the cookie (scs sets its Max-Age
	// to the session's expiry) and the server is never asked; after the
	// jump the browser still sends the cookie, and the server must refuse
	// it.
	t.Run("IdleTimeoutEndsUnusedSession", func(t *testing.T) {
		t.Parallel()
		// Requests a quarter of the timeout apart, five of them: past the
		// timeout, and a request may take seconds on a loaded machine
		// (-race, other work on both cores) without a gap reaching it.
		const idle = 6 * time.Second
		clk := &shiftedClock{}
		b := setupWithStoreClock(t, clk.Now, func(c *web.Config) { c.SessionIdleTimeout = idle })
		b.createUser(t, "asha@example.com", auth.RoleAdmin)
		c := newClient(t)
		mustLogin(t, c, b.url, "asha@example.com")
		for range 5 { // activity keeps it alive past the idle timeout
			time.Sleep(idle / 4)
			if !signedIn(t, c, b.url) {
				t.Fatal("an active session timed out")
			}
		}
		clk.jump(idle + 500*time.Millisecond) // the user leaves
		if sessionCookie(t, c, b.url) == nil {
			t.Fatal("the browser dropped the cookie: the server would not be asked")
		}
		if signedIn(t, c, b.url) {
			t.Fatal("an idle session did not time out")
		}
	})

	t.Run("AbsoluteTimeoutEndsActiveSession", func(t *testing.T) {
		t.Parallel()
		const lifetime = 6 * time.Second
		clk := &shiftedClock{}
		b := setupWithStoreClock(t, clk.Now, func(c *web.Config) { c.SessionLifetime = lifetime })
		b.createUser(t, "asha@example.com", auth.RoleAdmin)
		c := newClient(t)
		mustLogin(t, c, b.url, "asha@example.com")
		deadline := time.Now().Add(lifetime) // no earlier than the session's
		// Active until three seconds before the deadline (a request that
		// starts then may take seconds on a loaded machine and still be
		// answered before it): were activity to extend the session, it
		// would now end about three seconds late.
		for time.Now().Before(deadline.Add(-3 * time.Second)) {
			if !signedIn(t, c, b.url) {
				t.Fatal("signed out before the absolute timeout")
			}
			time.Sleep(250 * time.Millisecond)
		}
		clk.jump(time.Until(deadline) + 500*time.Millisecond)
		if sessionCookie(t, c, b.url) == nil {
			t.Fatal("the browser dropped the cookie: the server would not be asked")
		}
		if signedIn(t, c, b.url) {
			t.Fatal("activity extended the session past its absolute timeout")
		}
	})

	t.Run("AnonymousAndProbeRequestsCreateNoSession", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		c := newClient(t)
		for _, p := range []string{"/login", "/health", "/ready", "/loans", "/"} {
			get(t, c, b.url+p)
		}
		n, err := b.store.SessionCount(context.Background())
		if err != nil || n != 0 {
			t.Fatalf("sessions stored: %d (err %v), want 0", n, err)
		}
	})
}

// shiftedClock is the wall clock plus an offset a test jumps forward: time
// passes as usual, and a jump stands for a wait not slept.
type shiftedClock struct{ offset atomic.Int64 }

func (c *shiftedClock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

func (c *shiftedClock) jump(d time.Duration) { c.offset.Add(int64(d)) }

// setupWithStoreClock is setup with the store on the clock now, which
// decides when stored sessions have expired.
func setupWithStoreClock(t *testing.T, now clock.Func, opts ...option) *testBundle {
	t.Helper()
	b := &testBundle{dir: t.TempDir()}
	st, err := store.Open(context.Background(), store.Config{DataDir: b.dir, Now: now})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	b.store = st
	b.srv = httptest.NewServer(newHandler(t, st, opts...))
	b.url = b.srv.URL
	t.Cleanup(b.stop)
	return b
}
