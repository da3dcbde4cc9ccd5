package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// A bulk form refused as a whole for something its user can put right
// (nothing ticked, no reason) comes back as the list it was sent from:
// the list's filters and tab, the typed reason (its part unfolded), the
// chosen assignee and the ticked rows as they were, the message at the
// form; 422 and nothing changed. It once was an error page that lost
// the reason and the filters.
func TestBulkRefusalKeepsTheFormAndFilters(t *testing.T) {
	t.Parallel()
	f := newLoanFixture(t)
	uw := newClient(t)
	mustLogin(t, uw, f.url, "uw@example.com")
	back := "/loans?product=personal&status=submitted"
	for name, tc := range map[string]struct {
		path   string
		form   url.Values
		says   string
		reason string
		ticked bool
	}{
		"hold, nothing ticked": {"/loans/bulk-hold", url.Values{"back": {back}, "reason": {"Waiting for salary slips"}, "assignee": {""}},
			"Nothing was put on hold: Tick the applications to put on hold on the list first.", "Waiting for salary slips", false},
		"hold, no reason": {"/loans/bulk-hold", url.Values{"back": {back}, "reason": {"  "}, "row-LN-2026-000042": {"1"}, "assignee": {""}},
			"a reason is required", "  ", true},
		"assign, nothing ticked": {"/loans/bulk-assign", url.Values{"back": {back}, "reason": {"Typed before choosing Assign"}, "assignee": {"uw@example.com"}},
			"Nothing selected: tick the applications to assign, then choose Assign selected.", "Typed before choosing Assign", false},
		// Someone who left the staff (or changed role) while the list was
		// open; it was a bare error page that lost the ticks (found by a
		// tester).
		"assign, not staff": {"/loans/bulk-assign", url.Values{"back": {back}, "reason": {""}, "row-LN-2026-000042": {"1"}, "assignee": {"left@example.com"}},
			"Nothing was assigned: left@example.com is not an admin or underwriter (any more).", "", true},
	} {
		res := send(t, uw, http.MethodPost, f.url, tc.path, tc.form, false)
		if res.status != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d, want 422\n%.300s", name, res.status, res.body)
			continue
		}
		doc := parse(t, res.body)
		if got := doc.Find(`[data-testid="bulk-error"]`).Text(); !strings.Contains(strings.ToLower(got), strings.ToLower(tc.says)) {
			t.Errorf("%s: the form says %q, want %q", name, got, tc.says)
		}
		if got, _ := doc.Find(`#bulk-hold-reason`).Attr("value"); got != tc.reason {
			t.Errorf("%s: the reason is %q, want %q as typed", name, got, tc.reason)
		}
		if _, open := doc.Find(`[data-testid="bulk-hold"]`).Attr("open"); open != (tc.path == "/loans/bulk-hold" || tc.reason != "") {
			t.Errorf("%s: the hold's part unfolded %v", name, open)
		}
		if got, _ := doc.Find(`#loan-product option[selected]`).Attr("value"); got != "personal" {
			t.Errorf("%s: the product filter is %q, want personal", name, got)
		}
		if got, _ := doc.Find(`#filter-status`).Attr("value"); got != "submitted" {
			t.Errorf("%s: the tab is %q, want submitted", name, got)
		}
		if got, _ := doc.Find(`#bulk-form input[name="back"]`).Attr("value"); got != back {
			t.Errorf("%s: the form goes back to %q, want %q", name, got, back)
		}
		wantAssignee := tc.form.Get("assignee")
		if name == "assign, not staff" {
			wantAssignee = "" // not offered
		}
		if got, _ := doc.Find(`#bulk-assignee option[selected]`).Attr("value"); got != wantAssignee {
			t.Errorf("%s: the assignee chosen is %q, want %q", name, got, wantAssignee)
		}
		if _, checked := doc.Find(`input[name="row-LN-2026-000042"]`).Attr("checked"); checked != tc.ticked {
			t.Errorf("%s: LN-2026-000042 ticked %v, want %v", name, checked, tc.ticked)
		}
	}
	if l := mustLoan(t, f, f.loan.HumanID); l.Version != f.loan.Version {
		t.Fatalf("a refused bulk form changed the application: version %d → %d", f.loan.Version, l.Version)
	}
}
