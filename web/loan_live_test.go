package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"loandesk/model"
)

// The loan page's live poll: at the page's version a bare 204 (nothing
// rendered); once someone else changed the application, its sections and
// panels out of band as the viewer may see them, with the poller at the
// new version.
func TestLoanLive_RefreshesOnlyWhenNewer(t *testing.T) {
	t.Parallel()
	f := newLoanFixture(t)
	admin, viewer := newClient(t), newClient(t)
	mustLogin(t, admin, f.url, "admin@example.com")
	mustLogin(t, viewer, f.url, "viewer@example.com")
	poll := func(c *http.Client, at int64) response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, f.url+"/loans/LN-2026-000042/live?v="+v(at), nil)
		req.Header.Set("HX-Request", "true")
		return do(t, c, req)
	}
	before := f.current(t)
	// A page without warnings still has their place, so warnings found
	// later are swapped in out of band (not an htmx "no target" error).
	if page := parse(t, get(t, viewer, f.url+"/loans/LN-2026-000042").body); page.Find("#flags-panel").Length() != 1 {
		t.Error("no #flags-panel on a page without warnings")
	}
	if r := poll(viewer, before.Version); r.status != http.StatusNoContent || r.body != "" {
		t.Fatalf("unchanged: %d %q", r.status, r.body)
	}

	// Another admin starts the review.
	if r := send(t, admin, http.MethodPost, f.url, "/loans/LN-2026-000042/status", url.Values{"version": {v(before.Version)}, "to": {model.StatusUnderReview}, "reason": {""}}, true); r.status != http.StatusNoContent {
		t.Fatalf("start review: %d %s", r.status, r.body)
	}
	after := f.current(t)

	r := poll(viewer, before.Version)
	if r.status != http.StatusOK {
		t.Fatalf("changed: %d %s", r.status, r.body)
	}
	doc := parse(t, r.body)
	for _, id := range []string{"loan-live", "status-panel", "assign-panel", "loan-history", "loan-updated", "section-applicant", "section-terms"} {
		if sel := doc.Find("#" + id + `[hx-swap-oob="true"]`); sel.Length() != 1 {
			t.Errorf("#%s out of band: %d", id, sel.Length())
		}
	}
	if got, _ := doc.Find("#loan-live").Attr("hx-get"); got != "/loans/LN-2026-000042/live?v="+v(after.Version) {
		t.Errorf("poller now at %q, want version %d", got, after.Version)
	}
	if st := text(doc.Find(`[data-testid="status-panel"]`).Text()); !strings.Contains(st, "Under review") {
		t.Errorf("status panel: %q", st)
	}
	// A viewer sees what a viewer may: no moves, no edit links.
	if n := doc.Find(`[data-testid="status-panel"] button[name="to"], [data-testid="edit"]`).Length(); n != 0 {
		t.Errorf("viewer is offered %d actions", n)
	}
	if n := parse(t, poll(admin, before.Version).body).Find(`[data-testid="status-panel"] button[name="to"]`).Length(); n == 0 {
		t.Error("admin is offered no moves")
	}
	if r := poll(viewer, after.Version); r.status != http.StatusNoContent {
		t.Errorf("at the new version: %d", r.status)
	}
	// Signed out: no answer about the application.
	if r := poll(newClient(t), before.Version); r.status == http.StatusOK {
		t.Errorf("signed out: %d", r.status)
	}
}
