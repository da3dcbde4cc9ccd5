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

// Bulk assign from the list: each ticked application is assigned against
// the version the list showed; one changed since is reported with who
// changed what and left as it is; a missing one is reported; the answer
// links back to the list as it was. Viewers get no form and a 403.
func TestLoanBulkAssign(t *testing.T) {
	t.Parallel()
	f := newLoanFixture(t)
	ctx := context.Background()
	more := []model.Loan{f.loan, f.loan}
	for i, id := range []string{"LN-2026-000043", "LN-2026-000044"} {
		more[i].ID, more[i].HumanID, more[i].Version, more[i].CreatedAt = [12]byte{}, id, 0, time.Now()
		more[i].Applicant.PAN = []string{"ABCPV1234L", "ABCPV1234M"}[i]
	}
	if err := f.store.LoanInsertMany(ctx, more); err != nil {
		t.Fatal(err)
	}
	uw, admin, viewer := newClient(t), newClient(t), newClient(t)
	mustLogin(t, uw, f.url, "uw@example.com")
	mustLogin(t, admin, f.url, "admin@example.com")
	mustLogin(t, viewer, f.url, "viewer@example.com")

	// The list offers the form, each row a checkbox carrying its version.
	doc := parse(t, get(t, uw, f.url+"/loans?status=submitted").body)
	if back, _ := doc.Find(`#bulk-form input[name="back"]`).Attr("value"); back != "/loans?status=submitted" {
		t.Errorf("back = %q", back)
	}
	boxes := map[string]string{}
	doc.Find(`[data-testid="row-select"]`).Each(func(_ int, s *goquery.Selection) {
		if s.AttrOr("form", "") == "bulk-form" {
			boxes[s.AttrOr("name", "")] = s.AttrOr("value", "")
		}
	})
	if len(boxes) != 3 || boxes["row-LN-2026-000043"] != "1" {
		t.Fatalf("checkboxes %v", boxes)
	}
	if parse(t, get(t, viewer, f.url+"/loans").body).Find(`#bulk-form, [data-testid="row-select"]`).Length() != 0 {
		t.Error("a viewer is offered bulk assign")
	}

	// Meanwhile the admin takes 43.
	if r := send(t, admin, http.MethodPost, f.url, "/loans/LN-2026-000043/assignee", url.Values{"version": {"1"}, "assignee": {"admin@example.com"}}, false); r.status != http.StatusSeeOther {
		t.Fatalf("admin assigns 43: %d", r.status)
	}

	form := url.Values{"assignee": {"uw@example.com"}, "back": {"/loans?status=submitted"}, "row-LN-2026-999999": {"1"}}
	for name, v := range boxes {
		form.Set(name, v)
	}
	res := send(t, uw, http.MethodPost, f.url, "/loans/bulk-assign", form, false)
	if res.status != http.StatusOK {
		t.Fatalf("bulk assign: %d\n%.400s", res.status, res.body)
	}
	doc = parse(t, res.body)
	got := map[string]string{}
	doc.Find(`[data-testid="bulk-result"]`).Each(func(_ int, s *goquery.Selection) {
		got[s.Find("a").Text()] = s.AttrOr("data-outcome", "") + ": " + strings.Join(strings.Fields(s.Find("td").Last().Text()), " ")
	})
	for id, want := range map[string]string{
		"LN-2026-000042": "assigned: Now assigned to uw (version 2).",
		"LN-2026-000043": "conflict: Not assigned, it changed since your list was loaded: admin changed Assignee to admin (version 2)",
		"LN-2026-000044": "assigned: Now assigned to uw (version 2).",
		"LN-2026-999999": "missing: There is no such application.",
	} {
		if !strings.HasPrefix(got[id], want) {
			t.Errorf("%s: %q, want %q…", id, got[id], want)
		}
	}
	if s := strings.Join(strings.Fields(doc.Find(`[data-testid="bulk-summary"]`).Text()), " "); s != "2 done · 2 left as they were (see below)" {
		t.Errorf("summary %q", s)
	}
	if back, _ := doc.Find(`[data-testid="bulk-back"]`).Attr("href"); back != "/loans?status=submitted" {
		t.Errorf("back link %q", back)
	}
	for id, want := range map[string]string{"LN-2026-000042": "uw@example.com", "LN-2026-000043": "admin@example.com", "LN-2026-000044": "uw@example.com"} {
		l, err := f.store.LoanGet(ctx, id)
		if err != nil || l.Assignee != want {
			t.Errorf("%s stored assignee %q, want %q (%v)", id, l.Assignee, want, err)
		}
	}

	// Sent again at the new version: nothing to do; a foreign back URL is
	// not followed.
	res = send(t, uw, http.MethodPost, f.url, "/loans/bulk-assign", url.Values{"assignee": {"uw@example.com"}, "row-LN-2026-000042": {"2"}, "back": {"https://evil.example/loans"}}, false)
	doc = parse(t, res.body)
	if o := doc.Find(`[data-testid="bulk-result"]`).AttrOr("data-outcome", ""); o != "unchanged" {
		t.Errorf("again: %s", o)
	}
	if back, _ := doc.Find(`[data-testid="bulk-back"]`).Attr("href"); back != "/loans" {
		t.Errorf("back link %q", back)
	}

	// Refusals change nothing.
	for name, tc := range map[string]struct {
		c      *http.Client
		form   url.Values
		status int
	}{
		"viewer":    {viewer, url.Values{"assignee": {""}, "row-LN-2026-000044": {"2"}}, http.StatusForbidden},
		"nothing":   {uw, url.Values{"assignee": {""}}, http.StatusUnprocessableEntity},
		"not staff": {uw, url.Values{"assignee": {"viewer@example.com"}, "row-LN-2026-000044": {"2"}}, http.StatusUnprocessableEntity},
		// Nobody chosen (the form starts on "Choose who…"): never read as
		// unassign, nor as whoever sorts first.
		"not chosen":   {uw, url.Values{"assignee": {""}, "row-LN-2026-000044": {"2"}}, http.StatusUnprocessableEntity},
		"not sent":     {uw, url.Values{"row-LN-2026-000044": {"2"}}, http.StatusUnprocessableEntity},
		"blank spaces": {uw, url.Values{"assignee": {"   "}, "row-LN-2026-000044": {"2"}}, http.StatusUnprocessableEntity},
	} {
		if res := send(t, tc.c, http.MethodPost, f.url, "/loans/bulk-assign", tc.form, false); res.status != tc.status {
			t.Errorf("%s: %d, want %d", name, res.status, tc.status)
		}
	}
	if l, _ := f.store.LoanGet(ctx, "LN-2026-000044"); l.Version != 2 || l.Assignee != "uw@example.com" {
		t.Errorf("44 after the refusals: version %d assignee %q", l.Version, l.Assignee)
	}
	res = send(t, uw, http.MethodPost, f.url, "/loans/bulk-assign", url.Values{"assignee": {""}, "row-LN-2026-000044": {"2"}}, false)
	msgEl := parse(t, res.body).Find(`[data-testid="bulk-error"]`)
	if msg := strings.TrimSpace(msgEl.Text()); msg != "Nothing was assigned: choose whom to assign them to (or Nobody to unassign them), then choose Assign selected." {
		t.Errorf("not chosen: the message is %q", msg)
	}
	// The browser lands on the message (below the filters: off a phone's
	// screen otherwise).
	if _, focused := msgEl.Attr("autofocus"); !focused || msgEl.AttrOr("tabindex", "") != "-1" {
		t.Error("the refusal's message does not take the focus")
	}

	// The form starts on the prompt, not on a person; Nobody is offered
	// last, and unassigns.
	var options []string
	parse(t, get(t, uw, f.url+"/loans?status=submitted").body).Find(`#bulk-assignee option`).Each(func(_ int, s *goquery.Selection) {
		_, selected := s.Attr("selected")
		options = append(options, s.AttrOr("value", "?")+"="+s.Text()+map[bool]string{true: " (selected)"}[selected])
	})
	if len(options) < 3 || options[0] != "=Choose who…" || options[len(options)-1] != "none=Nobody (unassign)" || strings.Contains(strings.Join(options, ","), "(selected)") {
		t.Errorf("the bulk form's choices: %q", options)
	}
	res = send(t, uw, http.MethodPost, f.url, "/loans/bulk-assign", url.Values{"assignee": {"none"}, "row-LN-2026-000044": {"2"}}, false)
	if o := parse(t, res.body).Find(`[data-testid="bulk-result"]`).AttrOr("data-outcome", ""); res.status != http.StatusOK || o != "assigned" {
		t.Errorf("unassign: %d %q", res.status, o)
	}
	if l, _ := f.store.LoanGet(ctx, "LN-2026-000044"); l.Version != 3 || l.Assignee != "" {
		t.Errorf("44 after Nobody: version %d assignee %q, want 3 and nobody", l.Version, l.Assignee)
	}
}
