package web_test

import (
	"regexp"
	"strings"
	"testing"

	"loandesk/auth"
)

// Counts on the list are grouped as money is (Indian grouping), and the
// tab's own count is told apart from the total over every status.
func TestLoanList_CountsAreGroupedAndSayWhichTotal(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createUser(t, "viewer@example.com", auth.RoleViewer)
	b.seedLoans(t, 1200)
	c := newClient(t)
	mustLogin(t, c, b.url, "viewer@example.com")
	text := func(s string) string { return strings.Join(strings.Fields(s), " ") }

	doc := parse(t, get(t, c, b.url+"/loans").body)
	if got := text(doc.Find(`[aria-current="page"] [data-testid="tab-count"]`).Text()); got != "1,200" {
		t.Errorf("All tab count = %q, want 1,200", got)
	}
	if got := text(doc.Find(`[data-testid="loan-total"]`).Text()); got != "1,200 applications in all statuses" {
		t.Errorf("total = %q", got)
	}
	if got := text(doc.Find(`[data-testid="page-range"]`).Text()); got != "1–25 of 1,200" {
		t.Errorf("range = %q", got)
	}

	// A tab: its own count in the pager and first in the total line, the
	// total over every status after it, each named.
	doc = parse(t, get(t, c, b.url+"/loans?status=submitted").body)
	tab := text(doc.Find(`[aria-current="page"] [data-testid="tab-count"]`).Text())
	if !regexp.MustCompile(`^\d{1,3}(,\d{3})?$`).MatchString(tab) {
		t.Fatalf("Submitted tab count = %q", tab)
	}
	if got, want := text(doc.Find(`[data-testid="loan-total"]`).Text()), tab+" submitted · 1,200 in all statuses"; got != want {
		t.Errorf("total = %q, want %q", got, want)
	}
	if got := text(doc.Find(`[data-testid="page-range"]`).Text()); !strings.HasSuffix(got, " of "+tab) {
		t.Errorf("range = %q, want … of %s", got, tab)
	}
}
