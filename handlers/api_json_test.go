package handlers

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	jsonv1 "github.com/go-json-experiment/json/v1"

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

// TestAPIListItemJSON: the list item's own writer gives the bytes
// reflection gives (encoding/json's, and the v2 encoder's on invalid
// UTF-8), on random items with the characters escaping treats specially,
// zones, and zero and sub-second times.
func TestAPIListItemJSON(t *testing.T) {
	type reflected apiListItem // the same fields, without MarshalJSONTo
	type apiListPlain struct {
		Items    []reflected `json:"items"`
		Page     int         `json:"page"`
		Pages    int         `json:"pages"`
		PageSize int         `json:"pageSize"`
		Total    int64       `json:"total"`
	}
	a := &App{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	rng := rand.New(rand.NewPCG(3, 5))
	texts := []string{"", "Asha", "<script>&amp;</script>", "\u2028\u2029", "\"q\" \\ /", "पुणे", "a\x00b\x1f", "tab\there", "😀", "\u2027\u202a", "x\u2028>y", "\x7f\u0080", "€&"}
	zones := []*time.Location{time.UTC, time.FixedZone("IST", 19800), time.FixedZone("", -3600)}
	pick := func() string { return texts[rng.IntN(len(texts))] + texts[rng.IntN(len(texts))] }
	when := func() time.Time {
		if rng.IntN(5) == 0 {
			return time.Time{}
		}
		return time.Unix(1_700_000_000+rng.Int64N(100_000_000), rng.Int64N(2)*rng.Int64N(1e9)).In(zones[rng.IntN(len(zones))])
	}
	for i := range 300 {
		items := make([]apiListItem, 1+rng.IntN(3))
		for j := range items {
			items[j] = apiListItem{ID: pick(), Version: rng.Int64N(1 << 40), Status: pick(), ApplicantName: pick(), City: pick(),
				Product: pick(), AmountPaise: rng.Int64N(1<<62) - 1<<61, Assignee: pick(), CreatedAt: when(), UpdatedAt: when()}
		}
		plain := make([]reflected, len(items))
		for j, it := range items {
			plain[j] = reflected(it)
		}
		want, err := json.Marshal(apiListPlain{Items: plain, Page: 2, Pages: 3, PageSize: 25, Total: 70})
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		a.writeJSON(rec, httptest.NewRequest("GET", "/api/x", nil), 200, apiList{Items: items, Page: 2, Pages: 3, PageSize: 25, Total: 70})
		if got := rec.Body.String(); got != string(want)+"\n" {
			t.Fatalf("items %d:\n got %s\nwant %s", i, got, want)
		}
	}
	// Invalid UTF-8: as the v2 encoder writes it by reflection.
	bad := apiListItem{ID: "LN-\xff", ApplicantName: "a\xc3"}
	var viaReflection, viaMethod bytes.Buffer
	if err := jsonv2.MarshalWrite(&viaReflection, reflected(bad), jsonv1.DefaultOptionsV1()); err != nil {
		t.Fatal(err)
	}
	if err := jsonv2.MarshalWrite(&viaMethod, bad, jsonv1.DefaultOptionsV1()); err != nil {
		t.Fatal(err)
	}
	if viaReflection.String() != viaMethod.String() {
		t.Errorf("invalid UTF-8:\n method %s\nreflect %s", viaMethod.String(), viaReflection.String())
	}
	// The list's own writer (writeJSON takes it, not the encoder) on
	// invalid UTF-8 and lone bytes of U+2028's encoding, against the
	// encoder's reflection.
	for _, text := range []string{"LN-\xff", "a\xc3", "\xe2\x80", "\xe2\x80\xa8<\xe2", "ok\xed\xa0\x80"} {
		list := apiList{Items: []apiListItem{{ID: text, City: text + "&"}}, Page: 1}
		plain := struct {
			Items    []reflected `json:"items"`
			Page     int         `json:"page"`
			Pages    int         `json:"pages"`
			PageSize int         `json:"pageSize"`
			Total    int64       `json:"total"`
		}{Items: []reflected{reflected(list.Items[0])}, Page: 1}
		var want bytes.Buffer
		if err := jsonv2.MarshalWrite(&want, plain, jsonv1.DefaultOptionsV1()); err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		a.writeJSON(rec, httptest.NewRequest("GET", "/api/x", nil), 200, list)
		if got := rec.Body.String(); got != want.String()+"\n" {
			t.Errorf("%q:\n got %s\nwant %s", text, got, want.String())
		}
	}
	// A time the encoder refuses (year 10000) is a clean 500 here too.
	rec := httptest.NewRecorder()
	a.writeJSON(rec, httptest.NewRequest("GET", "/api/x", nil), 200, apiList{Items: []apiListItem{{UpdatedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}}})
	if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "items") {
		t.Errorf("year 10000: %d %s, want a clean 500", rec.Code, rec.Body.String())
	}
	if _, err := json.Marshal(reflected{UpdatedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}); err == nil {
		t.Error("encoding/json no longer refuses year 10000: the writer's 500 has no reason")
	}
}

// TestAppendJSONTime_SameBytesAsMarshalJSON: the digit-by-digit writer
// gives time.Time.MarshalJSON's bytes (and its error) for UTC times at
// every width of the fraction, at the ends of the years it writes and
// past them, on random instants, and for times in other zones.
func TestAppendJSONTime_SameBytesAsMarshalJSON(t *testing.T) {
	t.Parallel()
	ist := time.FixedZone("IST", 5*3600+1800)
	times := []time.Time{
		{}, // year 1
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(2026, 12, 2, 9, 5, 7, 0, time.UTC),
		time.Date(2026, 12, 2, 9, 5, 7, 0, ist),
		time.Date(2026, 12, 2, 9, 5, 7, 120_000_000, ist),
		time.Date(2026, 12, 2, 9, 5, 7, 1, time.Local),
	}
	for ns := 100_000_000; ns >= 1; ns /= 10 { // fractions of 1 to 9 digits, trailing zeros and none
		times = append(times, time.Date(2026, 3, 4, 5, 6, 7, ns, time.UTC), time.Date(2026, 3, 4, 5, 6, 7, ns*9+ns/3, time.UTC))
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20_000 {
		at := time.Unix(rng.Int64N(253402300800), 0).UTC() // up to the end of 9999
		switch rng.IntN(3) {
		case 0:
			at = at.Add(time.Duration(rng.IntN(1000)) * time.Millisecond) // BSON dates: milliseconds
		case 1:
			at = at.Add(time.Duration(rng.IntN(1_000_000_000)))
		}
		times = append(times, at)
	}
	for _, at := range times {
		want, wantErr := at.MarshalJSON()
		got, err := appendJSONTime([]byte("x"), at)
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("%v: error %v, MarshalJSON's %v", at, err, wantErr)
		}
		if err == nil && string(got) != "x"+string(want) {
			t.Fatalf("%v: %s, want x%s", at, got, want)
		}
	}
}
