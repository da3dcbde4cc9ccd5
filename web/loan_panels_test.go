package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"loandesk/model"
	"loandesk/ocr/ocrtest"
	"loandesk/web"
)

func text(s string) string { return strings.Join(strings.Fields(s), " ") }

// A move someone may not make is not left out without a word: the panel
// says why and who can.
func TestStatusPanel_SaysWhyAMoveIsUnavailable(t *testing.T) {
	t.Parallel()
	f := newLoanFixture(t, func(c *web.Config) { c.Policy.UnderwriterApprovalLimit = 1_00_000_00 }) // the loan asks ₹5,00,000
	admin, uw, viewer := newClient(t), newClient(t), newClient(t)
	mustLogin(t, admin, f.url, "admin@example.com")
	mustLogin(t, uw, f.url, "uw@example.com")
	mustLogin(t, viewer, f.url, "viewer@example.com")
	page := func(c *http.Client) (buttons []string, unavailable string) {
		t.Helper()
		doc := parse(t, get(t, c, f.url+"/loans/LN-2026-000042").body)
		for _, n := range doc.Find(`[data-testid="status-panel"] button[name="to"]`).Nodes {
			for _, a := range n.Attr {
				if a.Key == "value" {
					buttons = append(buttons, a.Val)
				}
			}
		}
		var why []string
		for _, n := range doc.Find(`[data-testid="unavailable-action"]`).Nodes {
			why = append(why, text(goquery.NewDocumentFromNode(n).Text()))
		}
		return buttons, strings.Join(why, " | ")
	}
	move := func(c *http.Client, to, reason string) {
		t.Helper()
		l := f.current(t)
		if r := send(t, c, http.MethodPost, f.url, "/loans/LN-2026-000042/status", url.Values{"version": {v(l.Version)}, "to": {to}, "reason": {reason}}, true); r.status != http.StatusNoContent {
			t.Fatalf("→ %s: %d %s", to, r.status, r.body)
		}
	}

	if _, why := page(viewer); why != "Your role can view this application but not change its status: admins and underwriters do." {
		t.Errorf("viewer: %q", why)
	}
	move(admin, model.StatusUnderReview, "")
	f.score(t, "approve")

	// Over the underwriter's limit: Approve is not offered, and the panel
	// says who can.
	buttons, why := page(uw)
	if strings.Contains(strings.Join(buttons, " "), model.StatusApproved) || why != "Approve: Underwriters approve up to ₹1,00,000; this one needs an admin." {
		t.Errorf("underwriter over the limit: buttons %v, %q", buttons, why)
	}
	if buttons, why := page(admin); !strings.Contains(strings.Join(buttons, " "), model.StatusApproved) || why != "" {
		t.Errorf("admin: buttons %v, %q", buttons, why)
	}

	// A declined score: an underwriter is told only an admin overrides it.
	f.score(t, "decline")
	if _, why := page(uw); !strings.Contains(why, "Approve: ") {
		t.Errorf("declined, underwriter: %q", why)
	}
	if buttons, _ := page(admin); !strings.Contains(strings.Join(buttons, " "), model.StatusApproved) {
		t.Errorf("declined, admin may override: buttons %v", buttons)
	}

	// Approved: an underwriter cannot sanction; the panel says only an
	// admin does. The approver may not disburse, and is told so.
	f.score(t, "approve")
	move(admin, model.StatusApproved, "")
	if _, why := page(uw); why != "Sanction: Only an admin sanctions a loan." {
		t.Errorf("approved, underwriter: %q", why)
	}
	move(admin, model.StatusSanctioned, "")
	doc := parse(t, get(t, admin, f.url+"/loans/LN-2026-000042").body)
	if got := text(doc.Find(`[data-testid="disburse-unavailable"]`).Text()); got != "Maker-checker: you approved this loan; another admin disburses it." || doc.Find(`[data-testid="disburse-form"]`).Length() != 0 {
		t.Errorf("the approver on a sanctioned loan: %q", got)
	}
	doc = parse(t, get(t, uw, f.url+"/loans/LN-2026-000042").body)
	if got := text(doc.Find(`[data-testid="disburse-unavailable"]`).Text()); got != "Only an admin who did not approve this loan disburses it; your role cannot." {
		t.Errorf("an underwriter on a sanctioned loan: %q", got)
	}
}

// A stale status move or assignment says who changed what, applies
// nothing, offers no old buttons to click again, and can be done on top
// explicitly.
func TestPanels_ConflictShowsWhatChangedAndNeverAppliesBlindly(t *testing.T) {
	t.Parallel()
	f := newLoanFixture(t)
	admin, uw := newClient(t), newClient(t)
	mustLogin(t, admin, f.url, "admin@example.com")
	mustLogin(t, uw, f.url, "uw@example.com")
	post := func(c *http.Client, path string, form url.Values) response {
		t.Helper()
		return send(t, c, http.MethodPost, f.url, "/loans/LN-2026-000042/"+path, form, true)
	}

	// uw starts the review (version 2); admin's click was made on version 1.
	if r := post(uw, "status", url.Values{"version": {"1"}, "to": {model.StatusUnderReview}}); r.status != http.StatusNoContent {
		t.Fatalf("start review: %d", r.status)
	}
	r := post(admin, "status", url.Values{"version": {"1"}, "to": {model.StatusUnderReview}, "reason": {""}})
	doc := parse(t, r.body)
	c := text(doc.Find(`[data-testid="status-conflict"]`).Text())
	if r.status != http.StatusConflict || !strings.Contains(c, "uw saved version 2") || !strings.Contains(c, "Status: Submitted → Under review") ||
		!strings.Contains(c, "You asked to move it to Under review.") || !strings.Contains(c, "That is no longer possible from here.") {
		t.Fatalf("status conflict: %d %q", r.status, c)
	}
	if n := doc.Find(`button[name="to"]`).Length(); n != 0 {
		t.Errorf("%d move buttons under the conflict", n)
	}
	if got := f.current(t); got.Version != 2 || got.Status != model.StatusUnderReview {
		t.Fatalf("applied anyway: v%d %s", got.Version, got.Status)
	}

	// A move still possible on the new version is offered explicitly, with
	// the reason typed; it applies on version 2 only when clicked.
	r = post(admin, "status", url.Values{"version": {"1"}, "to": {model.StatusOnHold}, "reason": {"Waiting for salary slips"}})
	doc = parse(t, r.body)
	retry := doc.Find(`[data-testid="status-conflict"] form`)
	if r.status != http.StatusConflict || text(retry.Find(`[data-testid="status-retry"]`).Text()) != "Put on hold anyway" {
		t.Fatalf("retry offered: %d %q", r.status, text(doc.Find(`[data-testid="status-panel"]`).Text()))
	}
	form := url.Values{}
	for _, n := range retry.Find("input").Nodes {
		var name, value string
		for _, a := range n.Attr {
			switch a.Key {
			case "name":
				name = a.Val
			case "value":
				value = a.Val
			}
		}
		form.Set(name, value)
	}
	if form.Get("version") != "2" || form.Get("reason") != "Waiting for salary slips" {
		t.Fatalf("retry form: %v", form)
	}
	if r := post(admin, "status", form); r.status != http.StatusNoContent || f.current(t).Status != model.StatusOnHold {
		t.Fatalf("retry: %d %s", r.status, f.current(t).Status)
	}

	// Assignments: the same.
	if r := post(uw, "assignee", url.Values{"version": {"3"}, "assignee": {"uw@example.com"}}); r.status != http.StatusNoContent {
		t.Fatalf("uw assigns: %d", r.status)
	}
	r = post(admin, "assignee", url.Values{"version": {"3"}, "assignee": {"admin@example.com"}})
	doc = parse(t, r.body)
	c = text(doc.Find(`[data-testid="assign-conflict"]`).Text())
	if r.status != http.StatusConflict || !strings.Contains(c, "uw saved version 4") || !strings.Contains(c, "Assignee:") || !strings.Contains(c, "Assignee: Nobody → uw") ||
		!strings.Contains(c, "You asked to assign it to admin.") || text(doc.Find(`[data-testid="assign-retry"]`).Text()) != "Assign anyway" {
		t.Fatalf("assign conflict: %d %q", r.status, c)
	}
	if doc.Find(`[data-testid="assign"]`).Length() != 0 || f.current(t).Assignee != "uw@example.com" {
		t.Fatal("the old Assign button is offered, or the assignment applied blindly")
	}
	req, _ := http.NewRequest(http.MethodGet, f.url+"/loans/LN-2026-000042/assignee", nil)
	req.Header.Set("HX-Request", "true")
	if r := do(t, admin, req); r.status != http.StatusOK || parse(t, r.body).Find(`[data-testid="assign"]`).Length() != 1 || !strings.Contains(r.body, `value="4"`) {
		t.Fatalf("load latest: %d", r.status)
	}
}

// Score now on an application without documents says it is scoring, not
// that it waits for documents to be read (found by a new-user check);
// with a document being read it says it waits for it.
func TestScorePanel_SaysWhatItWaitsFor(t *testing.T) {
	t.Parallel()
	f := newLoanFixture(t)
	uw := newClient(t)
	mustLogin(t, uw, f.url, "uw@example.com")
	r := send(t, uw, http.MethodPost, f.url, "/loans/"+f.loan.HumanID+"/score", url.Values{}, true)
	if got := text(parse(t, r.body).Find(`[data-testid="score-waiting"]`).Text()); r.status != http.StatusOK || got != "Scoring…" {
		t.Errorf("Score now without documents: %d %q, want Scoring…", r.status, got)
	}
	if res := upload(t, uw, f.url, f.loan.HumanID, "pan", "pan.png", ocrtest.PNG([]string{"PAN ABCPV1234K"})); res.status != http.StatusOK {
		t.Fatalf("upload: %d", res.status)
	}
	page := parse(t, get(t, uw, f.url+"/loans/"+f.loan.HumanID).body)
	if got := text(page.Find(`[data-testid="score-waiting"]`).Text()); got != "Scoring once the documents are read…" {
		t.Errorf("with a document being read: %q", got)
	}
}
