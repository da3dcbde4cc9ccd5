package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"loandesk/auth"
	"loandesk/model"
)

// POST /api/applications files an application: 201 with the document;
// the same Idempotency-Key returns the same application.
func TestAPICreateApplication(t *testing.T) {
	t.Parallel()
	f := newLoanFixture(t)
	if err := f.store.APITokenSet(context.Background(), "ADMIN_TOKEN", apiToken, auth.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	c := newClient(t)
	post := func(body, key string) (int, map[string]any, http.Header) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, f.url+"/api/applications", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+apiToken)
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		status, out, header := apiDo(t, c, req)
		return status, out, header
	}

	status, doc, header := post(newApplicationJSON, "intake-1")
	id, _ := doc["id"].(string)
	if status != http.StatusCreated || !strings.HasPrefix(id, "LN-2026-") && !strings.HasPrefix(id, "LN-2027-") || doc["version"].(float64) != 1 ||
		doc["status"] != model.StatusSubmitted || doc["emiPaise"].(float64) != 1074695 || header.Get("Location") != "/api/applications/"+id {
		t.Fatalf("create: %d %v %v", status, doc, header)
	}
	status, again, header := post(newApplicationJSON, "intake-1")
	if status != http.StatusCreated || again["id"] != id || header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry: %d %v", status, again["id"])
	}
	changed := strings.Replace(newApplicationJSON, `"amount": "500000"`, `"amount": "600000"`, 1)
	if status, body, _ := post(changed, "intake-1"); status != http.StatusUnprocessableEntity || !strings.Contains(body["fields"].(map[string]any)["idempotencyKey"].(map[string]any)["code"].(string), "reused") {
		t.Fatalf("the key with another body: %d %v", status, body)
	}

	// A second open application with the same PAN is flagged, naming the
	// first, and the first names the second.
	status, dup, _ := post(newApplicationJSON, "")
	flags, _ := dup["flags"].([]any)
	if status != http.StatusCreated || len(flags) != 1 || flags[0].(map[string]any)["code"] != "duplicate_pan" || flags[0].(map[string]any)["otherLoan"] != id {
		t.Fatalf("duplicate PAN: %d %v", status, dup)
	}
	first, _ := f.store.LoanGet(context.Background(), id)
	if len(first.Flags) != 1 || first.Flags[0].OtherLoan != dup["id"] {
		t.Fatalf("the first application's flags: %+v", first.Flags)
	}

	// A company's PAN on a personal loan, bad fields, repeated keys: 4xx,
	// nothing stored.
	before, _ := f.store.LoanCount(context.Background())
	for _, tc := range []struct {
		body, field, code string
		status            int
	}{
		{strings.Replace(newApplicationJSON, "ABCPI1234K", "ABCCD1234E", 1), "pan", "invalid_format", 422},
		{strings.Replace(newApplicationJSON, `"tenureMonths": 60`, `"tenureMonths": true`, 1), "tenureMonths", "wrong_type", 422},
		{strings.Replace(newApplicationJSON, `"city": "Bengaluru", `, "", 1), "city", "required", 422},
		{strings.Replace(newApplicationJSON, `"city": "Bengaluru"`, `"city": "Bengaluru", "city": "Pune"`, 1), "", "repeated_field", 400},
		{`{"fields": {}, "extra": 1}`, "", "unknown_member", 400},
	} {
		status, body, _ := post(tc.body, "")
		if status != tc.status {
			t.Errorf("%.50s…: %d %v", tc.body, status, body)
			continue
		}
		if tc.field == "" {
			if body["error"] != tc.code {
				t.Errorf("error %v, want %s", body["error"], tc.code)
			}
			continue
		}
		if got := body["fields"].(map[string]any)[tc.field].(map[string]any)["code"]; got != tc.code {
			t.Errorf("%s: code %v, want %s", tc.field, got, tc.code)
		}
	}
	if after, _ := f.store.LoanCount(context.Background()); after != before {
		t.Fatalf("refused requests stored %d applications", after-before)
	}
}

// The "New application" form works without JavaScript: refusals come
// back with the messages beside the fields and the typed values kept,
// a good form files and shows the application; a viewer cannot file.
func TestNewApplicationForm(t *testing.T) {
	t.Parallel()
	f := newLoanFixture(t)
	uw, viewer := newClient(t), newClient(t)
	mustLogin(t, uw, f.url, "uw@example.com")
	mustLogin(t, viewer, f.url, "viewer@example.com")

	page := get(t, uw, f.url+"/loans/new")
	doc := parse(t, page.body)
	key, _ := doc.Find(`input[name="idempotencyKey"]`).Attr("value")
	if page.status != http.StatusOK || len(key) != 32 || doc.Find(`[data-testid="new-loan-form"] input, [data-testid="new-loan-form"] select`).Length() < 16 {
		t.Fatalf("form: %d, key %q", page.status, key)
	}
	form := newApplicationForm()
	form.Set("idempotencyKey", key)
	form.Set("pan", "ABCCD1234E")
	form.Set("amount", "5,00,00")
	r := postForm(t, uw, f.url, "/loans", form)
	doc = parse(t, r.body)
	if r.status != http.StatusUnprocessableEntity || doc.Find(`[data-testid="error-pan"]`).Text() == "" || doc.Find(`[data-testid="error-amount"]`).Text() == "" {
		t.Fatalf("bad form: %d", r.status)
	}
	if v, _ := doc.Find(`input[name="city"]`).Attr("value"); v != "Bengaluru" {
		t.Errorf("typed city not kept: %q", v)
	}
	if k, _ := doc.Find(`input[name="idempotencyKey"]`).Attr("value"); k != key {
		t.Errorf("the key changed on a refusal: %q", k)
	}
	form.Set("pan", "ABCPI1234K")
	form.Set("amount", "5,00,000")
	r = postForm(t, uw, f.url, "/loans", form)
	loc := r.header.Get("Location")
	if r.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/loans/LN-") {
		t.Fatalf("good form: %d %q", r.status, loc)
	}
	// A double submit of the same form files nothing more.
	if r2 := postForm(t, uw, f.url, "/loans", form); r2.header.Get("Location") != loc {
		t.Fatalf("double submit: %q, then %q", loc, r2.header.Get("Location"))
	}
	shown := get(t, uw, f.url+loc)
	if shown.status != http.StatusOK || !strings.Contains(shown.body, "Ishaan Iyer") || !strings.Contains(shown.body, "Filed "+strings.TrimPrefix(loc, "/loans/")) {
		t.Fatalf("the new application's page: %d", shown.status)
	}
	if n, _ := f.store.LoanCount(context.Background()); n != 2 {
		t.Fatalf("%d applications", n)
	}
	if r := get(t, viewer, f.url+"/loans/new"); r.status != http.StatusForbidden {
		t.Errorf("viewer's form: %d", r.status)
	}
	if r := postForm(t, viewer, f.url, "/loans", newApplicationForm()); r.status != http.StatusForbidden {
		t.Errorf("viewer's filing: %d", r.status)
	}
	// The warning of a duplicate PAN is acknowledged on the page, with a note.
	dupForm := newApplicationForm()
	r = postForm(t, uw, f.url, "/loans", dupForm)
	dupID := strings.TrimPrefix(r.header.Get("Location"), "/loans/")
	dupPage := parse(t, get(t, uw, f.url+"/loans/"+dupID).body)
	if dupPage.Find(`[data-testid="flag"]`).Length() != 1 || !strings.Contains(dupPage.Find(`[data-testid="flag"]`).Text(), strings.TrimPrefix(loc, "/loans/")) {
		t.Fatalf("flag not shown: %q", dupPage.Find(`[data-testid="flags-panel"]`).Text())
	}
	ack := url.Values{"version": {"1"}, "code": {"duplicate_pan"}, "otherLoan": {strings.TrimPrefix(loc, "/loans/")}, "note": {""}}
	if r := postForm(t, uw, f.url, "/loans/"+dupID+"/flags", ack); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "Say why") {
		t.Fatalf("ack without a note: %d", r.status)
	}
	ack.Set("note", "Second loan for the same wedding, checked")
	if r := postForm(t, uw, f.url, "/loans/"+dupID+"/flags", ack); r.status != http.StatusSeeOther {
		t.Fatalf("ack: %d", r.status)
	}
	if l, _ := f.store.LoanGet(context.Background(), dupID); len(l.OpenFlags()) != 0 || l.Version != 2 {
		t.Fatalf("after the ack: %+v", l.FlagAcks)
	}
}
