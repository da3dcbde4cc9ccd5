package web

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
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
