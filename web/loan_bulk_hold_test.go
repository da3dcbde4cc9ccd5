package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"loandesk/model"
)

// Bulk hold from the list: one reason for every ticked application, each
// held against the version the list showed with the reason in its
// history; one changed since, one whose status cannot be held and a
// missing one are reported by name and left exactly as they were; one
// already on hold is nothing to do. The request as a whole is refused
// before anything is touched: viewers 403, no reason or nothing ticked
// 422, another site's form 403.
func TestLoanBulkHold(t *testing.T) {
	t.Parallel()
	f := newLoanFixture(t) // LN-2026-000042, submitted: the workflow cannot hold it
	ctx := context.Background()
	var more []model.Loan
	for i, st := range []string{model.StatusUnderReview, model.StatusUnderReview, model.StatusOnHold} {
		l := f.loan
		l.ID, l.HumanID, l.Version, l.CreatedAt, l.Status = [12]byte{}, []string{"LN-2026-000043", "LN-2026-000044", "LN-2026-000045"}[i], 0, time.Now(), st
		l.Applicant.PAN = []string{"ABCPV1234L", "ABCPV1234M", "ABCPV1234N"}[i]
		more = append(more, l)
	}
	if err := f.store.LoanInsertMany(ctx, more); err != nil {
		t.Fatal(err)
	}
	uw, admin, viewer := newClient(t), newClient(t), newClient(t)
	mustLogin(t, uw, f.url, "uw@example.com")
	mustLogin(t, admin, f.url, "admin@example.com")
	mustLogin(t, viewer, f.url, "viewer@example.com")

	// The list's bulk form offers the hold with a required reason and its
	// own button, and the hold is the form's default button (the first
	// submit button: the one Enter presses), never the assign; viewers get
	// no form.
	doc := parse(t, get(t, uw, f.url+"/loans").body)
	if doc.Find(`#bulk-form input[name="reason"][required]`).Length() != 1 || doc.Find(`#bulk-form [data-testid="bulk-hold-submit"][formaction="/loans/bulk-hold"]`).Length() != 1 {
		t.Error("the bulk form offers no hold with a reason")
	}
	if first := doc.Find(`#bulk-form button[type="submit"]`).First(); first.AttrOr("formaction", "") != "/loans/bulk-hold" {
		t.Errorf("the bulk form's default button is %q (formaction %q), want the hold", first.Text(), first.AttrOr("formaction", ""))
	}
	if doc.Find(`#bulk-form [data-testid="bulk-assign"][formnovalidate]`).Length() != 1 {
		t.Error("Assign selected would ask for the hold's reason")
	}

	// Meanwhile the admin takes 44.
	if r := send(t, admin, http.MethodPost, f.url, "/loans/LN-2026-000044/assignee", url.Values{"version": {"1"}, "assignee": {"admin@example.com"}}, false); r.status != http.StatusSeeOther {
		t.Fatalf("admin assigns 44: %d", r.status)
	}
	ticked := url.Values{"back": {"/loans?status=under_review"}}
	for _, id := range []string{"42", "43", "44", "45"} {
		ticked.Set("row-LN-2026-0000"+id, "1")
	}
	ticked.Set("row-LN-2026-999999", "1")

	// Refused as a whole: nothing changes on any of them.
	before := map[string]int64{}
	for _, id := range []string{"42", "43", "44", "45"} {
		before[id] = mustLoan(t, f, "LN-2026-0000"+id).Version
	}
	with := func(kv ...string) url.Values {
		v := url.Values{}
		for k, vs := range ticked {
			v[k] = vs
		}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	for name, tc := range map[string]struct {
		c      *http.Client
		form   url.Values
		status int
		says   string
	}{
		"viewer":        {viewer, with("reason", "Waiting for salary slips"), http.StatusForbidden, "underwriters and admins put them on hold"},
		"no reason":     {uw, with("reason", "   "), http.StatusUnprocessableEntity, "a reason is required"},
		"reason absent": {uw, ticked, http.StatusUnprocessableEntity, "a reason is required"},
		"nothing":       {uw, url.Values{"reason": {"Waiting for salary slips"}}, http.StatusUnprocessableEntity, "Tick the applications"},
		"too long":      {uw, with("reason", strings.Repeat("x", 501)), http.StatusUnprocessableEntity, "under 500 characters"},
	} {
		res := send(t, tc.c, http.MethodPost, f.url, "/loans/bulk-hold", tc.form, false)
		if res.status != tc.status || !strings.Contains(res.body, tc.says) {
			t.Errorf("%s: %d, want %d saying %q\n%.300s", name, res.status, tc.status, tc.says, res.body)
		}
	}
	// A version the list never writes is a malformed form, refused as a
	// whole, not reported as someone else's change (it once was: "seed
	// changed this application"); bulk assign the same.
	for _, v := range []string{"abc", "0", "-1", " 1", "01", "+1", "1.0", "99999999999999999999", ""} {
		for _, path := range []string{"/loans/bulk-hold", "/loans/bulk-assign"} {
			form := with("reason", "Waiting for salary slips", "assignee", "uw@example.com", "row-LN-2026-000042", v)
			res := send(t, uw, http.MethodPost, f.url, path, form, false)
			if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "that the list never writes") {
				t.Errorf("%s with version %q: %d, want 422 naming the malformed version\n%.300s", path, v, res.status, res.body)
			}
		}
	}
	// Another site's form (CSRF) is refused like every other form.
	req, _ := http.NewRequest(http.MethodPost, f.url+"/loans/bulk-hold", strings.NewReader(with("reason", "Waiting for salary slips").Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://evil.example")
	if res := do(t, uw, req); res.status != http.StatusForbidden {
		t.Errorf("cross-site bulk hold: %d, want 403", res.status)
	}
	for id, v := range before {
		if l := mustLoan(t, f, "LN-2026-0000"+id); l.Version != v {
			t.Errorf("%s changed by a refused request: version %d, was %d", id, l.Version, v)
		}
	}

	res := send(t, uw, http.MethodPost, f.url, "/loans/bulk-hold", with("reason", "  Waiting for salary slips  "), false)
	if res.status != http.StatusOK {
		t.Fatalf("bulk hold: %d\n%.400s", res.status, res.body)
	}
	doc = parse(t, res.body)
	got := map[string]string{}
	doc.Find(`[data-testid="bulk-result"]`).Each(func(_ int, s *goquery.Selection) {
		got[s.Find("a").Text()] = s.AttrOr("data-outcome", "") + ": " + strings.Join(strings.Fields(s.Find("td").Last().Text()), " ")
	})
	for id, want := range map[string]string{
		"LN-2026-000042": `refused: Not put on hold: An application that is "Submitted" cannot be moved to "On hold".`,
		"LN-2026-000043": "held: Now on hold (version 2).",
		"LN-2026-000044": "conflict: Not put on hold, it changed since your list was loaded: admin changed Assignee to admin (version 2).",
		"LN-2026-000045": "unchanged: Already on hold: nothing to do.",
		"LN-2026-999999": "missing: There is no such application.",
	} {
		if !strings.HasPrefix(got[id], want) {
			t.Errorf("%s: %q, want %q…", id, got[id], want)
		}
	}
	if len(got) != 5 {
		t.Errorf("%d rows: %v", len(got), got)
	}
	if s := strings.Join(strings.Fields(doc.Find(`[data-testid="bulk-summary"]`).Text()), " "); s != "2 done · 3 left as they were (see below)" {
		t.Errorf("summary %q", s)
	}
	if s := doc.Find(`[data-testid="bulk-reason"]`).Text(); !strings.HasSuffix(s, ": Waiting for salary slips") {
		t.Errorf("reason shown %q", s)
	}
	if back := doc.Find(`[data-testid="bulk-back"]`).AttrOr("href", ""); back != "/loans?status=under_review" {
		t.Errorf("back link %q", back)
	}

	// Stored: 43 held with the reason in its history, by the underwriter;
	// the others exactly as they were.
	held := mustLoan(t, f, "LN-2026-000043")
	last := held.History[len(held.History)-1]
	if held.Status != model.StatusOnHold || held.Version != 2 || last.Reason != "Waiting for salary slips" || last.By != "uw@example.com" ||
		len(last.Fields) != 1 || last.Fields[0].Field != "status" || last.Fields[0].To != model.StatusOnHold {
		t.Errorf("43: status %s v%d, last entry %+v", held.Status, held.Version, last)
	}
	for id, want := range map[string]struct {
		status  string
		version int64
	}{"42": {model.StatusSubmitted, 1}, "44": {model.StatusUnderReview, 2}, "45": {model.StatusOnHold, 1}} {
		if l := mustLoan(t, f, "LN-2026-0000"+id); l.Status != want.status || l.Version != want.version {
			t.Errorf("%s: %s v%d, want %s v%d", id, l.Status, l.Version, want.status, want.version)
		}
	}
	// The application's page shows the reason in its history.
	if page := get(t, uw, f.url+"/loans/LN-2026-000043").body; !strings.Contains(page, "Reason: Waiting for salary slips") {
		t.Error("the history does not show the hold's reason")
	}
}

func mustLoan(t *testing.T, f loanFixture, id string) model.Loan {
	t.Helper()
	l, err := f.store.LoanGet(context.Background(), id)
	if err != nil {
		t.Fatalf("%s: %v", id, err)
	}
	return l
}
