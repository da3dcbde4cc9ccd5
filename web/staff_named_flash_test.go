package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"loandesk/auth"
)

// The assignment's flash and a note's author name the staff member, not
// their e-mail (the e-mail is the note author's tooltip); the JSON API
// keeps e-mails.
func TestAssignFlashAndNoteAuthorNamed(t *testing.T) {
	t.Parallel()
	f := newLoanFixture(t)
	f.createNamedUser(t, "uma@example.com", "Uma Rao", auth.RoleUnderwriter)
	uma := newClient(t)
	mustLogin(t, uma, f.url, "uma@example.com")
	loanPath := "/loans/" + f.loan.HumanID

	if r := send(t, uma, http.MethodPost, f.url, loanPath+"/assignee", url.Values{"version": {v(f.current(t).Version)}, "assignee": {"uma@example.com"}}, false); r.status != http.StatusSeeOther {
		t.Fatalf("assign: %d %.300s", r.status, r.body)
	}
	doc := parse(t, get(t, uma, f.url+loanPath).body)
	if got := text(doc.Find(`[data-testid="flash"]`).Text()); !strings.Contains(got, f.loan.HumanID+" is now assigned to Uma Rao.") {
		t.Errorf("flash: %q, want the assignee by name", got)
	}
	if r := postForm(t, uma, f.url, loanPath+"/notes", url.Values{"text": {"Called the employer."}}); r.status != http.StatusSeeOther {
		t.Fatalf("note: %d %.300s", r.status, r.body)
	}
	doc = parse(t, get(t, uma, f.url+loanPath).body)
	by := doc.Find(`[data-testid="note-by"]`).First()
	if got := text(by.Text()); got != "Uma Rao" || by.Find(`[title="uma@example.com"]`).Length() != 1 {
		t.Errorf("note author: %q (title %q), want Uma Rao with the e-mail as the tooltip", got, by.Find("[title]").AttrOr("title", ""))
	}
}
