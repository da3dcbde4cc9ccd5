package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"loandesk/model"
)

func (f loanFixture) notes(t *testing.T) []model.Note {
	t.Helper()
	notes, err := f.store.NotesOfLoan(context.Background(), f.loan.ID, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return notes
}

// Notes: staff add them (clean text, 2,000 characters at most), everyone
// who can open the application reads them, newest first, with who and
// when in IST, escaped. A note makes no version: an edit opened before it
// saves without a conflict. Viewers and other sites are refused with
// nothing stored.
func TestLoanNotes(t *testing.T) {
	t.Parallel()
	f := newLoanFixture(t)
	uw, admin, viewer := newClient(t), newClient(t), newClient(t)
	mustLogin(t, uw, f.url, "uw@example.com")
	mustLogin(t, admin, f.url, "admin@example.com")
	mustLogin(t, viewer, f.url, "viewer@example.com")
	path := "/loans/LN-2026-000042/notes"

	// A plain form: 303 back to the notes, the flash says so.
	res := send(t, uw, http.MethodPost, f.url, path, url.Values{"text": {"  <script>alert(1)</script> Called the\u202E employer;\r\nsalary slips due Monday.  "}}, false)
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/loans/LN-2026-000042#notes-panel" {
		t.Fatalf("add note: %d %q", res.status, res.header.Get("Location"))
	}
	// htmx: the panel comes back with the new note first.
	res = send(t, admin, http.MethodPost, f.url, path, url.Values{"text": {"Second: = cmd|' /C calc'!A0"}}, true)
	if res.status != http.StatusOK || !strings.Contains(res.body, `id="notes-panel"`) || strings.Contains(res.body, "<html") {
		t.Fatalf("htmx add: %d\n%.300s", res.status, res.body)
	}
	notes := f.notes(t)
	if len(notes) != 2 || notes[1].Text != "<script>alert(1)</script> Called the employer;\nsalary slips due Monday." || notes[1].By != "uw@example.com" {
		t.Fatalf("stored %+v", notes)
	}

	page := get(t, viewer, f.url+"/loans/LN-2026-000042")
	if strings.Contains(page.body, "<script>alert(1)") || !strings.Contains(page.body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("a note is not escaped")
	}
	doc := parse(t, page.body)
	var shown []string
	doc.Find(`[data-testid="note"]`).Each(func(_ int, s *goquery.Selection) {
		shown = append(shown, strings.Join(strings.Fields(s.Text()), " "))
	})
	// Authors by name, the e-mail as the tooltip (issue 18).
	when := regexp.MustCompile(`^(admin|uw) · \d\d [A-Z][a-z]{2} \d{4}, \d\d:\d\d IST`)
	if len(shown) != 2 || !strings.HasPrefix(shown[0], "admin ·") || !strings.HasPrefix(shown[1], "uw ·") ||
		!when.MatchString(shown[0]) || !when.MatchString(shown[1]) {
		t.Errorf("notes shown %q", shown)
	}
	if got := doc.Find(`[data-testid="note-by"] [title]`).First().AttrOr("title", ""); got != "admin@example.com" {
		t.Errorf("the newest note's author has the tooltip %q, want the e-mail", got)
	}
	if doc.Find(`[data-testid="note-form"]`).Length() != 0 {
		t.Error("a viewer is offered the note form")
	}

	// No version: the loan is untouched and an edit opened before the
	// notes saves without a conflict.
	if l := f.current(t); l.Version != 1 || len(l.History) != 0 {
		t.Fatalf("a note changed the loan: version %d, %d history entries", l.Version, len(l.History))
	}
	if r := send(t, uw, http.MethodPut, f.url, "/loans/LN-2026-000042/applicant", url.Values{"version": {"1"}, "city": {"Nagpur"}}, true); r.status != http.StatusOK {
		t.Fatalf("an edit at the version before the notes: %d", r.status)
	}

	// Refusals store nothing.
	for name, tc := range map[string]struct {
		c      *http.Client
		text   string
		hx     bool
		status int
		msg    string
	}{
		"viewer":         {viewer, "I may not", false, http.StatusForbidden, "Viewers read notes"},
		"empty":          {uw, " \r\n\t\u200B ", false, http.StatusUnprocessableEntity, "Write the note first."},
		"too long":       {uw, strings.Repeat("न", 2001), false, http.StatusUnprocessableEntity, "at most 2,000 characters (this one is 2,001)"},
		"too long, htmx": {uw, strings.Repeat("a", 2001), true, http.StatusUnprocessableEntity, "at most 2,000 characters"},
	} {
		res := send(t, tc.c, http.MethodPost, f.url, path, url.Values{"text": {tc.text}}, tc.hx)
		if res.status != tc.status || !strings.Contains(res.body, tc.msg) {
			t.Errorf("%s: %d, want %d with %q", name, res.status, tc.status, tc.msg)
		}
		if tc.status == http.StatusUnprocessableEntity {
			doc := parse(t, res.body)
			// (HTML drops a textarea's first line break: compare the rest)
			if got := doc.Find("#note-text").Text(); !strings.Contains(got, strings.TrimSpace(tc.text)) {
				t.Errorf("%s: the typing was not kept (%d characters back)", name, len(got))
			}
			if tc.hx == strings.Contains(res.body, "<html") {
				t.Errorf("%s: htmx %v, but a whole page %v", name, tc.hx, !tc.hx)
			}
		}
	}
	req, _ := http.NewRequest(http.MethodPost, f.url+path, strings.NewReader("text=from+elsewhere"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if res := do(t, uw, req); res.status != http.StatusForbidden {
		t.Errorf("cross-site note: %d", res.status)
	}
	if res := send(t, uw, http.MethodPost, f.url, "/loans/LN-2026-999999/notes", url.Values{"text": {"x"}}, false); res.status != http.StatusNotFound {
		t.Errorf("unknown application: %d", res.status)
	}
	if n := len(f.notes(t)); n != 2 {
		t.Errorf("%d notes after the refusals, want 2", n)
	}
}

// Text pasted from a word processor carries its line and page breaks as
// control characters (VT for Shift+Enter, FF, NEL): a note, a reason and
// a free-text field with them are accepted with the breaks as line
// breaks (a note's kept, a field's collapsed), not refused by the input
// check as a bad request (issue 18, found by a tester: the note failed
// with 'The request failed (400)' on every try).
func TestPastedLineBreaksAreText(t *testing.T) {
	t.Parallel()
	f := newLoanFixture(t)
	uw := newClient(t)
	mustLogin(t, uw, f.url, "uw@example.com")
	const page = "/loans/LN-2026-000042"
	if r := send(t, uw, http.MethodPost, f.url, page+"/notes", url.Values{"text": {"Called HR.\vSlips Monday.\fPage 2\u0085End"}}, true); r.status != http.StatusOK {
		t.Fatalf("note: %d %.300s", r.status, r.body)
	}
	if notes := f.notes(t); len(notes) != 1 || notes[0].Text != "Called HR.\nSlips Monday.\nPage 2\nEnd" {
		t.Errorf("stored notes %+v", notes)
	}
	cur := f.current(t)
	if r := send(t, uw, http.MethodPut, f.url, page+"/applicant", url.Values{"version": {v(cur.Version)}, "address": {"12, MG Road\vPune\f411001"}}, true); r.status != http.StatusOK {
		t.Fatalf("address: %d %.300s", r.status, r.body)
	}
	if got := f.current(t).Applicant.Address; got != "12, MG Road Pune 411001" {
		t.Errorf("stored address %q", got)
	}
	cur = f.current(t)
	if r := send(t, uw, http.MethodPost, f.url, page+"/status", url.Values{"version": {v(cur.Version)}, "to": {model.StatusUnderReview}, "reason": {""}}, true); r.status >= 300 {
		t.Fatalf("start review: %d", r.status)
	}
	cur = f.current(t)
	if r := send(t, uw, http.MethodPost, f.url, page+"/status", url.Values{"version": {v(cur.Version)}, "to": {model.StatusOnHold}, "reason": {"Awaiting\vslips"}}, true); r.status >= 300 {
		t.Fatalf("hold with a pasted reason: %d %.300s", r.status, r.body)
	}
	if h := f.current(t).History; len(h) == 0 || !strings.Contains(h[len(h)-1].Reason, "Awaiting\nslips") {
		t.Errorf("the reason kept: %+v", h[len(h)-1])
	}
}
