package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"loandesk/model"
	"loandesk/ocr/ocrtest"
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
	// The page's own poller address: its version and its stamp (no
	// activity or note yet: ".").
	stamp := "."
	poll := func(c *http.Client, at int64) response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, f.url+"/loans/LN-2026-000042/live?v="+v(at)+"&a="+stamp, nil)
		req.Header.Set("HX-Request", "true")
		return do(t, c, req)
	}
	before := f.current(t)
	if got := parse(t, get(t, viewer, f.url+"/loans/LN-2026-000042").body).Find("#loan-live").AttrOr("hx-get", ""); got != "/loans/LN-2026-000042/live?v="+v(before.Version)+"&a=." {
		t.Fatalf("the page's poller asks %q", got)
	}
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
	if got, _ := doc.Find("#loan-live").Attr("hx-get"); got != "/loans/LN-2026-000042/live?v="+v(after.Version)+"&a=." {
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

// What another admin or a job does to an application without making a
// version (an upload, a reading, a deletion, a note) reaches a page
// that is only being viewed: the poller's stamp (?a=) names the newest
// activity and note, so the next poll brings the documents, notes and
// history panels out of band, then answers 204 at the new stamp. A poll
// without a stamp (a page from before it) is refreshed once.
func TestLoanLive_FollowsUploadsNotesAndDeletions(t *testing.T) {
	t.Parallel()
	f := newLoanFixture(t)
	uw, viewer := newClient(t), newClient(t)
	mustLogin(t, uw, f.url, "uw@example.com")
	mustLogin(t, viewer, f.url, "viewer@example.com")
	const page = "/loans/LN-2026-000042"
	poller := parse(t, get(t, viewer, f.url+page).body).Find("#loan-live").AttrOr("hx-get", "")
	poll := func(addr string) response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, f.url+addr, nil)
		req.Header.Set("HX-Request", "true")
		return do(t, viewer, req)
	}
	// next polls at addr, wants a refresh whose panels contain want, and
	// returns the new poller address (which then answers 204).
	next := func(step, addr string, want map[string]string) string {
		t.Helper()
		r := poll(addr)
		if r.status != http.StatusOK {
			t.Fatalf("%s: poll %d, want the refresh", step, r.status)
		}
		doc := parse(t, r.body)
		for id, text := range want {
			sel := doc.Find("#" + id + `[hx-swap-oob="true"]`)
			if sel.Length() != 1 || !strings.Contains(sel.Text(), text) {
				t.Errorf("%s: #%s out of band %d times, without %q", step, id, sel.Length(), text)
			}
		}
		fresh := doc.Find("#loan-live").AttrOr("hx-get", "")
		if fresh == addr {
			t.Fatalf("%s: the poller stays at %q", step, addr)
		}
		if r := poll(fresh); r.status != http.StatusNoContent {
			t.Fatalf("%s: at the new stamp %d, want 204", step, r.status)
		}
		return fresh
	}
	if r := poll(poller); r.status != http.StatusNoContent {
		t.Fatalf("unchanged: %d", r.status)
	}
	if r := poll(page + "/live?v=" + v(f.current(t).Version)); r.status != http.StatusOK {
		t.Errorf("a poll without a stamp: %d, want one refresh", r.status)
	}

	png := ocrtest.PNG([]string{"PAN ABCPV1234K"})
	if r := upload(t, uw, f.url, "LN-2026-000042", "pan", "pan-card.png", png); r.status != http.StatusOK {
		t.Fatalf("upload: %d", r.status)
	}
	poller = next("another admin's upload", poller, map[string]string{"documents-panel": "pan-card.png", "loan-history": "Uploaded pan-card.png"})

	if r := send(t, uw, http.MethodPost, f.url, page+"/notes", url.Values{"text": {"Called the employer"}}, true); r.status != http.StatusOK {
		t.Fatalf("note: %d", r.status)
	}
	poller = next("another admin's note", poller, map[string]string{"notes-panel": "Called the employer", "loan-history": "Note: Called the employer"})

	docs, err := f.store.DocumentsOfLoan(context.Background(), f.loan.ID)
	if err != nil || len(docs) != 1 {
		t.Fatalf("documents: %v %d", err, len(docs))
	}
	if r := send(t, uw, http.MethodPost, f.url, page+"/documents/"+docs[0].ID.Hex()+"/delete", url.Values{"reason": {"Blurred"}}, true); r.status != http.StatusOK {
		t.Fatalf("delete: %d", r.status)
	}
	next("another admin's deletion", poller, map[string]string{"documents-panel": "Reason: Blurred", "loan-history": "Deleted pan-card.png"})
}

// The poll's address is the page's own: opened as a page (a link, or
// signing in with it as next) it is the application's page, changed or
// not; a signed-out poll sends the browser to sign in and back to the
// page it shows (HX-Current-URL), not to the poll's address (a tester
// signed in to '/live?v=1&a=…' and got a 204: the sign-in seemed to do
// nothing); a forged version or stamp is a 400.
func TestLoanLive_AddressesOutsideThePoller(t *testing.T) {
	t.Parallel()
	f := newLoanFixture(t)
	viewer := newClient(t)
	mustLogin(t, viewer, f.url, "viewer@example.com")
	const page = "/loans/LN-2026-000042"
	live := page + "/live?v=" + v(f.current(t).Version) + "&a=."
	if r := get(t, viewer, f.url+live); r.status != http.StatusSeeOther || r.header.Get("Location") != page {
		t.Errorf("opened as a page, unchanged: %d %q, want 303 to the page", r.status, r.header.Get("Location"))
	}
	if r := get(t, viewer, f.url+page+"/live?v=0&a=."); r.status != http.StatusSeeOther || r.header.Get("Location") != page {
		t.Errorf("opened as a page, changed: %d %q, want 303 to the page", r.status, r.header.Get("Location"))
	}
	poll := func(c *http.Client, addr, current string) response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, f.url+addr, nil)
		req.Header.Set("HX-Request", "true")
		if current != "" {
			req.Header.Set("HX-Current-URL", current)
		}
		return do(t, c, req)
	}
	for _, c := range []struct{ current, next string }{
		{f.url + page + "?from=list", "/login?next=" + url.QueryEscape(page+"?from=list")},
		{"https://evil.example" + page, "/login"}, // another host's page is no page of ours
		{"", "/login"},
	} {
		if r := poll(newClient(t), live, c.current); r.status != http.StatusUnauthorized || r.header.Get("HX-Redirect") != c.next {
			t.Errorf("signed out, showing %q: %d HX-Redirect %q, want 401 and %q", c.current, r.status, r.header.Get("HX-Redirect"), c.next)
		}
	}
	for _, addr := range []string{"/live?v=abc&a=.", "/live?v=-1&a=.", "/live?v=1e3&a=.", "/live?v=1&a=zz.", "/live?v=1&a=" + strings.Repeat("a", 30) + "."} {
		if r := poll(viewer, page+addr, ""); r.status != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", addr, r.status)
		}
	}
	if r := poll(viewer, live, ""); r.status != http.StatusNoContent {
		t.Errorf("the poller's own address: %d, want 204", r.status)
	}
}
