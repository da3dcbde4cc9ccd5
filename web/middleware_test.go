package web

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"loandesk/store"
)

func TestRecoverPanics(t *testing.T) {
	t.Parallel()
	st, err := store.Open(context.Background(), store.Config{DataDir: filepath.Join(t.TempDir(), "db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(context.Background())
	var logs bytes.Buffer
	s, err := New(DefaultConfig(), st, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	boom := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom: secret internal detail") })
	h := s.logRequests(s.recoverPanics(boom))

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/explode", nil))
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", rec.Code)
	}
	if strings.Contains(rec.Body.String(), "secret internal detail") || !strings.Contains(rec.Body.String(), "Something went wrong") {
		t.Fatal("500 page missing or leaks the panic")
	}
	id := rec.Header().Get("X-Request-ID")
	if id == "" || !strings.Contains(rec.Body.String(), id) {
		t.Fatal("500 page does not show the request id")
	}
	for _, want := range []string{"panic serving request", "boom: secret internal detail", "request_id=" + id, "status=500"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q", want)
		}
	}
}

// newUnitServer builds a Server over a fresh database for middleware
// tests that call its middleware directly.
func newUnitServer(t *testing.T) *Server {
	t.Helper()
	st, err := store.Open(context.Background(), store.Config{DataDir: filepath.Join(t.TempDir(), "db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close(context.Background()) })
	s, err := New(DefaultConfig(), st, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRecoverPanics_APIAnswersJSON(t *testing.T) {
	t.Parallel()
	s := newUnitServer(t)
	boom := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom: secret internal detail") })
	rec := httptest.NewRecorder()
	s.logRequests(s.recoverPanics(boom)).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/applications", nil))
	if rec.Code != http.StatusInternalServerError || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("status %d, Content-Type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	if body := rec.Body.String(); !strings.Contains(body, `"error":"internal"`) || strings.Contains(body, "secret") || !strings.Contains(body, rec.Header().Get("X-Request-ID")) {
		t.Fatalf("body %s", body)
	}
}

// strictInput parses and checks the form before the handler, whose own
// ParseForm then reads exactly what was checked; a refused request never
// reaches the handler.
func TestStrictInput_Middleware(t *testing.T) {
	t.Parallel()
	s := newUnitServer(t)
	var seen url.Values
	reached := 0
	h := s.strictInput(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached++
		if err := r.ParseForm(); err != nil {
			t.Errorf("the handler's ParseForm: %v", err)
		}
		seen = r.Form
		w.WriteHeader(http.StatusNoContent)
	}))
	serve := func(method, target, ctype, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, target, strings.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	const form = "application/x-www-form-urlencoded"

	if rec := serve(http.MethodPut, "/loans/x/applicant?tab=1", form+"; charset=UTF-8", "version=1&city=Mumbai"); rec.Code != http.StatusNoContent ||
		seen.Get("version") != "1" || seen.Get("city") != "Mumbai" || seen.Get("tab") != "1" {
		t.Fatalf("a good form: status %d, handler saw %v", rec.Code, seen)
	}
	// Bodies net/http does not parse as forms are left alone.
	for _, tc := range []struct{ method, ctype, body string }{
		{http.MethodPost, "application/json", `{"a":1,"a":2}`},
		{http.MethodPost, "multipart/form-data; boundary=x", "--x--"},
		{http.MethodPost, "", "a=1&a=2"},
		{http.MethodDelete, form, "a=1&a=2"},
	} {
		if rec := serve(tc.method, "/x", tc.ctype, tc.body); rec.Code != http.StatusNoContent {
			t.Errorf("%s %q: status %d, want it passed on", tc.method, tc.ctype, rec.Code)
		}
	}

	reached = 0
	for _, tc := range []struct {
		name, method, target, ctype, body string
		status                            int
		want                              string
	}{
		{"RepeatedInBody", http.MethodPost, "/x", form, "a=1&a=2", http.StatusBadRequest, "sent more than once in the form"},
		{"ContentTypeCase", http.MethodPost, "/x", "Application/X-WWW-Form-URLEncoded", "a=1&a=2", http.StatusBadRequest, "sent more than once"},
		{"RepeatedInQueryOfGet", http.MethodGet, "/x?a=1&a=1", "", "", http.StatusBadRequest, "in the address"},
		{"InBoth", http.MethodPatch, "/x?a=1", form, "a=1", http.StatusBadRequest, "both in the address and in the form"},
		{"BadEscapeInBody", http.MethodPost, "/x", form, "a=%zz", http.StatusBadRequest, "not properly encoded"},
		{"NULInBody", http.MethodPost, "/x", form, "a=%00", http.StatusBadRequest, "not valid text"},
		{"TooLarge", http.MethodPost, "/x", form, "a=" + strings.Repeat("b", 64<<10), http.StatusRequestEntityTooLarge, "larger than 64 KB"},
		{"APIIsJSON", http.MethodPost, "/api/x", form, "a=1&a=2", http.StatusBadRequest, `"error":"repeated_field"`},
		{"APITooLargeIsJSON", http.MethodPost, "/api/x", form, "a=" + strings.Repeat("b", 64<<10), http.StatusRequestEntityTooLarge, `"error":"request_too_large"`},
	} {
		rec := serve(tc.method, tc.target, tc.ctype, tc.body)
		if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.want) {
			t.Errorf("%s: status %d, want %d with %q:\n%.300s", tc.name, rec.Code, tc.status, tc.want, rec.Body.String())
		}
	}
	if reached != 0 {
		t.Fatalf("refused requests reached the handler %d times", reached)
	}
}
