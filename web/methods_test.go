package web_test

import (
	"context"
	"encoding/json"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"loandesk/auth"
	"loandesk/ocr/ocrtest"
	"loandesk/store"
)

// route is one method and pattern of the route table, with the pattern's
// parameters filled in with real ids.
type route struct {
	method, pattern, path string
}

// routeFixture is a loan fixture with everything a route parameter can
// name (a loan, a section, an uploaded document, an event), an admin
// signed in, and the server's route table.
type routeFixture struct {
	loanFixture
	admin  *http.Client
	routes []route
}

func newRouteFixture(t *testing.T, opts ...option) routeFixture {
	t.Helper()
	f := newLoanFixture(t, opts...)
	admin := newClient(t)
	mustLogin(t, admin, f.url, "admin@example.com")

	ctx := context.Background()
	if res := upload(t, admin, f.url, f.loan.HumanID, "pan", "pan.png", ocrtest.PNG([]string{"PAN ABCPV1234K"})); res.status != http.StatusOK {
		t.Fatalf("upload: status %d", res.status)
	}
	docs, err := f.store.DocumentsOfLoan(ctx, f.loan.ID)
	if err != nil || len(docs) != 1 {
		t.Fatalf("documents of the loan: %d, %v", len(docs), err)
	}
	event, err := f.store.Publish(ctx, store.EventScoreApplication, store.ScoreEvent{LoanID: f.loan.ID}, store.PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// A user for the admin's user pages to act on.
	f.createUser(t, "target@example.com", auth.RoleUnderwriter)
	target, err := f.store.UserByEmail(ctx, "target@example.com")
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]string{
		"user":    target.ID.Hex(),
		"session": "0123456789abcdef0123456789abcdef", // listed nowhere
		"id":      f.loan.HumanID,
		"section": "applicant",
		"doc":     docs[0].ID.Hex(),
		"event":   event.Hex(),
		"*":       "app.js", // /static/*
	}
	return routeFixture{loanFixture: f, admin: admin, routes: walkRoutes(t, f.srv.Config.Handler, params)}
}

// paramRE matches a chi parameter, {name} or {name:regexp}, or a final *.
var paramRE = regexp.MustCompile(`\{([^}:]+)(?::[^}]*)?\}|\*$`)

// walkRoutes lists the server's whole route table (chi.Walk) with every
// parameter filled from params. A route with a parameter params lacks
// fails the test: a new route must be covered here.
func walkRoutes(t *testing.T, h http.Handler, params map[string]string) []route {
	t.Helper()
	srv, ok := h.(interface{ Routes() chi.Routes })
	if !ok {
		t.Fatalf("%T does not expose its routes", h)
	}
	var routes []route
	err := chi.Walk(srv.Routes(), func(method, pattern string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		path := paramRE.ReplaceAllStringFunc(pattern, func(p string) string {
			name := "*"
			if m := paramRE.FindStringSubmatch(p); m[1] != "" {
				name = m[1]
			}
			v, ok := params[name]
			if !ok {
				t.Errorf("route %s %s: no test value for the parameter %q; add one to the route fixture", method, pattern, name)
			}
			return v
		})
		routes = append(routes, route{method: method, pattern: pattern, path: path})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(routes, func(a, b route) int { return strings.Compare(a.path+" "+a.method, b.path+" "+b.method) })
	if len(routes) < 20 {
		t.Fatalf("the route table has %d routes; the walk is broken", len(routes))
	}
	return routes
}

// sameSite makes a request as a same-site browser page would.
func sameSite(t *testing.T, c *http.Client, method, base, path string) response {
	t.Helper()
	req, err := http.NewRequest(method, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return do(t, c, req)
}

func isAPIPath(path string) bool { return path == "/api" || strings.HasPrefix(path, "/api/") }

// assertJSONError checks an API error: JSON content type, an object with
// the error code.
func assertJSONError(t *testing.T, what string, res response, code string) {
	t.Helper()
	if mt, _, _ := mime.ParseMediaType(res.header.Get("Content-Type")); mt != "application/json" {
		t.Errorf("%s: Content-Type %q, want application/json", what, res.header.Get("Content-Type"))
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(res.body), &body); err != nil {
		t.Errorf("%s: body is not JSON: %.200s", what, res.body)
		return
	}
	if body["error"] != code {
		t.Errorf("%s: error %v, want %q", what, body["error"], code)
	}
}

// allowOf is the set of methods a response's Allow header lists (one
// header or several).
func allowOf(h http.Header) []string {
	var out []string
	for _, line := range h.Values("Allow") {
		for m := range strings.SplitSeq(line, ",") {
			if m = strings.TrimSpace(m); m != "" {
				out = append(out, m)
			}
		}
	}
	slices.Sort(out)
	return out
}

// TestHead: HEAD answers wherever GET does, for every GET route, with
// the same status and headers and no body; the fixture's real ids make
// every GET answer (no 4xx), so the statuses compared are meaningful.
func TestHead(t *testing.T) {
	t.Parallel()
	f := newRouteFixture(t)
	n := 0
	for _, r := range f.routes {
		if r.method != http.MethodGet {
			continue
		}
		n++
		get := sameSite(t, f.admin, http.MethodGet, f.url, r.path)
		head := sameSite(t, f.admin, http.MethodHead, f.url, r.path)
		if get.status >= 400 {
			t.Errorf("GET %s (%s): status %d; the fixture's ids should make it answer", r.path, r.pattern, get.status)
		}
		if head.status != get.status {
			t.Errorf("HEAD %s: status %d, GET answers %d", r.path, head.status, get.status)
		}
		if head.body != "" {
			t.Errorf("HEAD %s: has a body (%d bytes)", r.path, len(head.body))
		}
		// Content-Length is left out: net/http may omit it on HEAD (a
		// redirect's body is written for GET only) and dynamic pages differ
		// in length from one request to the next.
		for _, k := range []string{"Content-Type", "Location", "Content-Disposition", "Cache-Control", "Content-Security-Policy", "Vary", "ETag"} {
			if g, h := get.header.Get(k), head.header.Get(k); g != h {
				t.Errorf("HEAD %s: %s %q, GET has %q", r.path, k, h, g)
			}
		}
	}
	if n < 10 {
		t.Fatalf("only %d GET routes walked", n)
	}

	t.Run("SignedOut", func(t *testing.T) {
		c := newClient(t)
		for _, r := range f.routes {
			if r.method != http.MethodGet {
				continue
			}
			get := sameSite(t, c, http.MethodGet, f.url, r.path)
			head := sameSite(t, c, http.MethodHead, f.url, r.path)
			if head.status != get.status || head.header.Get("Location") != get.header.Get("Location") || head.body != "" {
				t.Errorf("HEAD %s signed out: %d to %q, GET %d to %q", r.path, head.status, head.header.Get("Location"), get.status, get.header.Get("Location"))
			}
		}
	})
}

// TestMethodNotAllowed: on every path of the route table, every method
// the path is not routed for is a 405 whose Allow lists exactly the
// methods it is routed for (HEAD wherever GET); under /api the 405 is
// JSON.
func TestMethodNotAllowed(t *testing.T) {
	t.Parallel()
	f := newRouteFixture(t)
	allowed := map[string][]string{}
	for _, r := range f.routes {
		allowed[r.path] = append(allowed[r.path], r.method)
		if r.method == http.MethodGet {
			allowed[r.path] = append(allowed[r.path], http.MethodHead)
		}
	}
	probes := []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions, "QUERY", "BREW"}
	for path, methods := range allowed {
		slices.Sort(methods)
		methods = slices.Compact(methods)
		for _, m := range probes {
			if slices.Contains(methods, m) {
				continue
			}
			res := sameSite(t, f.admin, m, f.url, path)
			if res.status != http.StatusMethodNotAllowed {
				t.Errorf("%s %s: status %d, want 405", m, path, res.status)
				continue
			}
			if got := allowOf(res.header); !slices.Equal(got, methods) {
				t.Errorf("%s %s: Allow %v, want %v", m, path, got, methods)
			}
			switch {
			case m == http.MethodHead:
				if res.body != "" {
					t.Errorf("HEAD %s: 405 has a body", path)
				}
			case isAPIPath(path):
				assertJSONError(t, m+" "+path, res, "method_not_allowed")
			default:
				if mt, _, _ := mime.ParseMediaType(res.header.Get("Content-Type")); mt != "text/html" || !strings.Contains(res.body, "Method not allowed") {
					t.Errorf("%s %s: 405 is %q, not the page", m, path, mt)
				}
			}
		}
	}

	t.Run("APIErrorsAreJSON", func(t *testing.T) {
		for _, tc := range []struct{ method, path string }{
			{http.MethodGet, "/api/nothing"},
			{http.MethodPut, "/api/nothing"},
			{"BREW", "/api/nothing"},
			{http.MethodGet, "/api"},
			{http.MethodPost, "/api/"},
			{"BREW", "/api"},
			{http.MethodGet, "/api/applications/LN-2026-000042/nothing"},
		} {
			res := sameSite(t, f.admin, tc.method, f.url, tc.path)
			if res.status != http.StatusNotFound || res.header.Get("Allow") != "" {
				t.Errorf("%s %s: status %d Allow %q, want 404", tc.method, tc.path, res.status, res.header.Get("Allow"))
			}
			assertJSONError(t, tc.method+" "+tc.path, res, "not_found")
		}
		// Without credentials the 401 is JSON too.
		res := sameSite(t, newClient(t), http.MethodDelete, f.url, "/api/applications")
		if res.status != http.StatusUnauthorized {
			t.Errorf("signed out: status %d, want 401", res.status)
		}
		assertJSONError(t, "signed out", res, "unauthorized")
		// So is a cross-origin refusal.
		req, _ := http.NewRequest(http.MethodPatch, f.url+"/api/applications/"+f.loan.HumanID, strings.NewReader(`{"version": 1, "changes": {"city": "Delhi"}}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", "http://evil.example")
		res = do(t, f.admin, req)
		if res.status != http.StatusForbidden {
			t.Errorf("cross-origin: status %d, want 403", res.status)
		}
		assertJSONError(t, "cross-origin", res, "cross_origin")
	})

	t.Run("UnknownPathIsNotFoundWhateverTheMethod", func(t *testing.T) {
		for _, m := range []string{http.MethodGet, http.MethodPut, "BREW"} {
			res := sameSite(t, f.admin, m, f.url, "/no-such-page")
			if res.status != http.StatusNotFound || res.header.Get("Allow") != "" {
				t.Errorf("%s /no-such-page: status %d Allow %q", m, res.status, res.header.Get("Allow"))
			}
		}
		// A section that does not exist is not a section route.
		for _, m := range []string{http.MethodGet, http.MethodPut} {
			if res := sameSite(t, f.admin, m, f.url, "/loans/"+f.loan.HumanID+"/nosuchsection"); res.status != http.StatusNotFound {
				t.Errorf("%s of an unknown section: status %d", m, res.status)
			}
		}
	})
}
