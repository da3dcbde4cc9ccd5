package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"loandesk/auth"
)

func TestCrossOriginProtection(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createUser(t, "asha@example.com", auth.RoleAdmin)
	c := newClient(t)
	mustLogin(t, c, b.url, "asha@example.com")

	for _, path := range []string{"/login", "/logout", "/admin/users"} {
		for name, h := range map[string]map[string]string{
			"evil Origin":            {"Origin": "http://evil.example"},
			"cross-site fetch":       {"Sec-Fetch-Site": "cross-site"},
			"evil Origin, same-site": {"Origin": "http://evil.example", "Sec-Fetch-Site": "same-site"},
		} {
			form := url.Values{"email": {"x@example.com"}, "name": {"X"}, "role": {"admin"}, "password": {"a long enough password"}}
			req, _ := http.NewRequest(http.MethodPost, b.url+path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range h {
				req.Header.Set(k, v)
			}
			if res := do(t, c, req); res.status != http.StatusForbidden {
				t.Errorf("POST %s with %s: status %d, want 403", path, name, res.status)
			}
		}
	}
	if !signedIn(t, c, b.url) {
		t.Error("a cross-origin logout signed the user out")
	}
	if users := get(t, c, b.url+"/admin/users"); strings.Contains(users.body, "x@example.com") {
		t.Error("a cross-origin request created a user")
	}
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createUser(t, "asha@example.com", auth.RoleAdmin)
	c := newClient(t)
	mustLogin(t, c, b.url, "asha@example.com")

	for _, path := range []string{"/login", "/loans", "/admin/users", "/no-such-page"} {
		res := get(t, c, b.url+path)
		csp := res.header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP allows unsafe sources: %q", path, csp)
		}
		for k, want := range map[string]string{
			"X-Content-Type-Options": "nosniff",
			"Referrer-Policy":        "same-origin",
			"Cache-Control":          "no-store",
			"X-Frame-Options":        "DENY",
		} {
			if got := res.header.Get(k); got != want {
				t.Errorf("%s: %s = %q, want %q", path, k, got, want)
			}
		}
		if res.header.Get("X-Request-ID") == "" {
			t.Errorf("%s: no X-Request-ID", path)
		}
		// No inline scripts or styles anywhere (the CSP would block them).
		if strings.Contains(res.body, "<script>") || strings.Contains(res.body, "<style") || strings.Contains(res.body, " style=") || strings.Contains(res.body, "hx-on") {
			t.Errorf("%s: page has inline script or style", path)
		}
	}
	page := get(t, c, b.url+"/loans")
	for _, want := range []string{`"allowEval":false`, `"includeIndicatorStyles":false`, `"historyCacheSize":0`, `hx-history="false"`} {
		if !strings.Contains(page.body, want) && !strings.Contains(page.body, strings.ReplaceAll(want, `"`, "&#34;")) {
			t.Errorf("signed-in page lacks %s", want)
		}
	}
}

func TestRoles(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createUser(t, "admin@example.com", auth.RoleAdmin)
	b.createUser(t, "uw@example.com", auth.RoleUnderwriter)
	b.createUser(t, "viewer@example.com", auth.RoleViewer)

	newUser := url.Values{"email": {"sneaky@example.com"}, "name": {"S"}, "role": {"admin"}, "password": {"a long enough password"}}
	for _, tc := range []struct {
		email      string
		wantStatus int
	}{
		{"viewer@example.com", http.StatusForbidden},
		{"uw@example.com", http.StatusForbidden},
	} {
		c := newClient(t)
		mustLogin(t, c, b.url, tc.email)
		if res := get(t, c, b.url+"/admin/users"); res.status != tc.wantStatus {
			t.Errorf("%s GET /admin/users: status %d, want %d", tc.email, res.status, tc.wantStatus)
		}
		if res := postForm(t, c, b.url, "/admin/users", newUser); res.status != tc.wantStatus {
			t.Errorf("%s POST /admin/users: status %d, want %d", tc.email, res.status, tc.wantStatus)
		}
		if page := get(t, c, b.url+"/loans"); page.status != http.StatusOK || strings.Contains(page.body, `href="/admin/users"`) {
			t.Errorf("%s: loans page status %d, or shows the admin link", tc.email, page.status)
		}
	}
	admin := newClient(t)
	mustLogin(t, admin, b.url, "admin@example.com")
	if res := get(t, admin, b.url+"/admin/users"); res.status != http.StatusOK || strings.Contains(res.body, "sneaky@example.com") {
		t.Fatalf("admin GET /admin/users: status %d; or a forbidden POST created a user", res.status)
	}

	t.Run("SignedOutVisitorsAreSentToSignIn", func(t *testing.T) {
		c := newClient(t)
		res := get(t, c, b.url+"/admin/users")
		if res.status != http.StatusSeeOther || res.header.Get("Location") != "/login?next=%2Fadmin%2Fusers" {
			t.Fatalf("status %d location %q", res.status, res.header.Get("Location"))
		}
		req, _ := http.NewRequest(http.MethodGet, b.url+"/loans", nil)
		req.Header.Set("HX-Request", "true")
		if res := do(t, c, req); res.status != http.StatusUnauthorized || res.header.Get("HX-Redirect") == "" {
			t.Fatalf("htmx request: status %d HX-Redirect %q", res.status, res.header.Get("HX-Redirect"))
		}
		if res := get(t, c, b.url+"/"); res.header.Get("Location") != "/login" {
			t.Fatalf("/ sends a signed-out visitor to %q", res.header.Get("Location"))
		}
	})
}

func TestHealthAndReady(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := newClient(t)
	for _, path := range []string{"/health", "/ready"} {
		res := get(t, c, b.url+path)
		if res.status != http.StatusOK || strings.TrimSpace(res.body) != `{"status":"ok"}` || res.header.Get("Content-Type") != "application/json" {
			t.Fatalf("%s: %d %q", path, res.status, res.body)
		}
	}
	// The database goes away; the process is still alive but not ready.
	if err := b.store.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if res := get(t, c, b.url+"/ready"); res.status != http.StatusServiceUnavailable || !strings.Contains(res.body, "unavailable") {
		t.Fatalf("/ready with the database closed: %d %q", res.status, res.body)
	}
	if res := get(t, c, b.url+"/health"); res.status != http.StatusOK {
		t.Fatalf("/health with the database closed: %d", res.status)
	}
}

func TestStaticFiles(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := newClient(t)
	page := get(t, c, b.url+"/login")
	for _, name := range []string{"app.css", "htmx-2.0.11.min.js", "app.js"} {
		i := strings.Index(page.body, "/static/"+name+"?v=")
		if i < 0 {
			t.Fatalf("page does not link %s with a version", name)
		}
		link := page.body[i:]
		link = link[:strings.IndexByte(link, '"')]
		res := get(t, c, b.url+link)
		if res.status != http.StatusOK || !strings.Contains(res.header.Get("Cache-Control"), "immutable") || res.header.Get("ETag") == "" {
			t.Errorf("%s: status %d cache %q etag %q", link, res.status, res.header.Get("Cache-Control"), res.header.Get("ETag"))
		}
		stale := get(t, c, b.url+"/static/"+name+"?v=old")
		if stale.status != http.StatusOK || stale.header.Get("Cache-Control") != "no-cache" {
			t.Errorf("%s with a stale version: status %d cache %q", name, stale.status, stale.header.Get("Cache-Control"))
		}
		req, _ := http.NewRequest(http.MethodGet, b.url+link, nil)
		req.Header.Set("If-None-Match", res.header.Get("ETag"))
		if res := do(t, c, req); res.status != http.StatusNotModified {
			t.Errorf("%s revalidation: status %d, want 304", name, res.status)
		}
	}
	for _, p := range []string{"/static/embed.go", "/static/../main.go", "/static/src/app.css", "/static/"} {
		if res := get(t, c, b.url+p); res.status != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", p, res.status)
		}
	}
}
