package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"loandesk/auth"
	"loandesk/ocr/ocrtest"
)

// People are named, not shown by e-mail (issue 18), wherever the page
// names staff: the header's "updated … by", the Assignee panel and the
// list's column, a conflict's changes and its "You asked to", a bulk
// assignment's heading and rows, a deleted document's "Deleted by" — the
// e-mail as the name's tooltip, as the history does.
func TestStaffNamedNotByEmail(t *testing.T) {
	t.Parallel()
	f := newLoanFixture(t)
	f.createNamedUser(t, "uma@example.com", "Uma Rao", auth.RoleUnderwriter)
	uma, admin := newClient(t), newClient(t)
	mustLogin(t, uma, f.url, "uma@example.com")
	mustLogin(t, admin, f.url, "admin@example.com")
	loanPath := "/loans/" + f.loan.HumanID
	named := func(where string, s *goquery.Selection) {
		t.Helper()
		p := s.Find(`[data-testid="person"]`)
		if s.Length() == 0 || p.Length() == 0 || text(p.First().Text()) != "Uma Rao" || p.First().AttrOr("title", "") != "uma@example.com" || strings.Contains(s.Text(), "uma@example.com") {
			t.Errorf("%s: %q (person %q, title %q)", where, text(s.Text()), text(p.Text()), p.AttrOr("title", ""))
		}
	}

	// Uma assigns it to herself.
	if r := send(t, uma, http.MethodPost, f.url, loanPath+"/assignee", url.Values{"version": {v(f.current(t).Version)}, "assignee": {"uma@example.com"}}, false); r.status != http.StatusSeeOther {
		t.Fatalf("assign: %d %.300s", r.status, r.body)
	}
	doc := parse(t, get(t, admin, f.url+loanPath).body)
	named("header", doc.Find(`[data-testid="loan-updated"]`))
	named("assignee panel", doc.Find(`[data-testid="assignee"]`))
	row := parse(t, get(t, admin, f.url+"/loans?status=submitted").body).Find(`[data-testid="loan-row"]`).FilterFunction(func(_ int, s *goquery.Selection) bool {
		return strings.Contains(s.Text(), f.loan.HumanID)
	})
	named("list row", row.Find(`td[data-label="Assignee"]`))

	// An assignment from the version before: the conflict names her.
	r := send(t, admin, http.MethodPost, f.url, loanPath+"/assignee", url.Values{"version": {"1"}, "assignee": {"uma@example.com"}}, true)
	if r.status != http.StatusConflict {
		t.Fatalf("stale assign: %d", r.status)
	}
	c := parse(t, r.body).Find(`[data-testid="assign-panel"]`)
	named("assign conflict", c)
	if !strings.Contains(text(c.Text()), "Assignee: Nobody → Uma Rao") || !strings.Contains(text(c.Text()), "You asked to assign it to Uma Rao.") {
		t.Errorf("assign conflict: %q", text(c.Text()))
	}
	// The changed-notice of an open form names her too.
	req, _ := http.NewRequest(http.MethodGet, f.url+loanPath+"/changed?since=1", nil)
	req.Header.Set("HX-Request", "true")
	if n := do(t, admin, req); !strings.Contains(n.body, "Uma Rao changed Assignee to Uma Rao") {
		t.Errorf("changed notice: %.300s", n.body)
	}

	// A bulk assignment to her.
	res := send(t, admin, http.MethodPost, f.url, "/loans/bulk-assign", url.Values{"assignee": {"uma@example.com"}, "row-" + f.loan.HumanID: {v(f.current(t).Version)}}, false)
	b := parse(t, res.body)
	named("bulk heading", b.Find("h1"))
	if got := text(b.Find(`[data-testid="bulk-result"]`).Text()); !strings.Contains(got, "Already assigned to Uma Rao") {
		t.Errorf("bulk row: %q", got)
	}

	// A document she deleted.
	if res := upload(t, uma, f.url, f.loan.HumanID, "pan", "card.png", ocrtest.PNG([]string{"PAN ABCPV1234K"})); res.status != http.StatusOK {
		t.Fatalf("upload: %d", res.status)
	}
	docs, err := f.store.DocumentsOfLoan(context.Background(), f.loan.ID)
	if err != nil || len(docs) != 1 {
		t.Fatalf("documents: %d %v", len(docs), err)
	}
	if res := postForm(t, uma, f.url, loanPath+"/documents/"+docs[0].ID.Hex()+"/delete", url.Values{"reason": {"Blurred copy"}}); res.status != http.StatusSeeOther {
		t.Fatalf("delete: %d", res.status)
	}
	d := text(parse(t, get(t, admin, f.url+loanPath).body).Find(`[data-testid="documents-panel"]`).Text())
	if !strings.Contains(d, "Deleted by Uma Rao on") || strings.Contains(d, "uma@example.com") {
		t.Errorf("documents panel: %q", d)
	}
}
