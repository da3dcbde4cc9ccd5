package handlers

import (
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"net/http/httptest"
	"testing"
	"time"

	"loandesk/application"
	"loandesk/model"
)

// TestWriteJSON_SameBytesAsEncodingJSON: the API's encoder gives exactly
// encoding/json's bytes (HTML characters escaped, nil slices null, empty
// ones [], omitempty, times in RFC 3339 with their zone), so clients see
// no change from the switch to the faster one. (Invalid UTF-8, which
// stored text never holds, becomes U+FFFD in both, written raw instead
// of as \ufffd.)
func TestWriteJSON_SameBytesAsEncodingJSON(t *testing.T) {
	ist := time.FixedZone("IST", 19800)
	values := []any{
		apiList{Items: []apiListItem{{ID: "LN-1", ApplicantName: "<script>alert('x')</script> & \u2028", City: "पुणे", CreatedAt: time.Date(2026, 11, 30, 10, 0, 0, 123456789, ist)}}},
		apiList{},
		apiApplication{ID: "LN-2", Fields: application.Values{"name": "Asha", "address": "a\x00b"}, History: []apiChange{{Fields: []model.FieldChange{}}}, Flags: nil},
		apiError{Error: "x", Message: "\"quoted\" \\ <>"},
		map[string]any{"n": int64(1) << 60, "f": 0.1, "nil": nil},
	}
	a := &App{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for i, v := range values {
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		a.writeJSON(rec, httptest.NewRequest("GET", "/api/x", nil), 200, v)
		if got := rec.Body.String(); got != string(want)+"\n" {
			t.Errorf("value %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

// TestWriteJSON_FailureIsACleanServerError: a value that cannot be
// encoded (NaN, which JSON has no number for) answers 500 with the
// generic error alone, never part of the document; and the buffer it
// used serves the next response cleanly.
func TestWriteJSON_FailureIsACleanServerError(t *testing.T) {
	a := &App{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	rec := httptest.NewRecorder()
	a.writeJSON(rec, httptest.NewRequest("GET", "/api/x", nil), 200, map[string]any{"a": "partial", "b": math.NaN()})
	if rec.Code != 500 || rec.Body.String() != `{"error":"internal","message":"The response could not be produced."}`+"\n" {
		t.Errorf("%d %q", rec.Code, rec.Body.String())
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("content type %q", ct)
	}
	for range 3 {
		rec = httptest.NewRecorder()
		a.writeJSON(rec, httptest.NewRequest("GET", "/api/x", nil), 201, apiError{Error: "e"})
		if rec.Code != 201 || rec.Body.String() != `{"error":"e"}`+"\n" {
			t.Errorf("after a failure: %d %q", rec.Code, rec.Body.String())
		}
	}
}
