package web_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"loandesk/auth"
	"loandesk/model"
)

// An application opened from the list keeps the way back to the list
// with its filters, and links to the previous and next applications in
// the list's order, across page edges; opened from elsewhere, the plain
// list and no neighbours.
func TestLoanPage_ListNavigation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createUser(t, "viewer@example.com", auth.RoleViewer)
	at := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	loans := make([]queueLoan, 30) // LN-2026-000001 … 30: amounts ₹1,00,001 … ₹1,00,030
	for i := range loans {
		loans[i] = queueLoan{"personal", 1_00_001 + int64(i), at.Add(time.Duration(i) * time.Minute), "", model.StatusSubmitted}
	}
	loans[29].product = "home" // filtered out below
	b.insertQueueLoans(t, loans)
	c := newClient(t)
	mustLogin(t, c, b.url, "viewer@example.com")
	open := func(path, referer string) (back, prev, next string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, b.url+path, nil)
		if referer != "" {
			req.Header.Set("Referer", referer)
		}
		res := do(t, c, req)
		if res.status != http.StatusOK {
			t.Fatalf("GET %s: %d", path, res.status)
		}
		doc := parse(t, res.body)
		back, _ = doc.Find(`[data-testid="back-to-list"]`).Attr("href")
		prev, _ = doc.Find(`[data-testid="prev-loan"]`).Attr("href")
		next, _ = doc.Find(`[data-testid="next-loan"]`).Attr("href")
		return
	}
	list := func(query string) string { return "?list=" + url.QueryEscape(query) }

	// From the list (the Referer), smallest amount first, personal loans.
	back, prev, next := open("/loans/LN-2026-000003", b.url+"/loans?product=personal&sort=amount_asc")
	if back != "/loans?product=personal&sort=amount_asc" {
		t.Errorf("back %q", back)
	}
	if prev != "/loans/LN-2026-000002"+list("product=personal&sort=amount_asc") || next != "/loans/LN-2026-000004"+list("product=personal&sort=amount_asc") {
		t.Errorf("prev %q next %q", prev, next)
	}
	// From the plain list (no filters, page 1: an empty query), newest
	// first.
	back, prev, next = open("/loans/LN-2026-000028", b.url+"/loans")
	if back != "/loans" || prev != "/loans/LN-2026-000029?list=" || next != "/loans/LN-2026-000027?list=" {
		t.Errorf("from the plain list: back %q prev %q next %q", back, prev, next)
	}
	if back, prev, _ := open(next, ""); back != "/loans" || prev != "/loans/LN-2026-000028?list=" {
		t.Errorf("next from the plain list: back %q prev %q", back, prev)
	}
	// The last of page 1 leads to the first of page 2, which leads back.
	_, _, next = open("/loans/LN-2026-000025"+list("product=personal&sort=amount_asc"), "")
	if next != "/loans/LN-2026-000026"+list("page=2&product=personal&sort=amount_asc") {
		t.Errorf("next across the page edge %q", next)
	}
	back, prev, next = open(next, "")
	if back != "/loans?page=2&product=personal&sort=amount_asc" || prev != "/loans/LN-2026-000025"+list("product=personal&sort=amount_asc") ||
		next != "/loans/LN-2026-000027"+list("page=2&product=personal&sort=amount_asc") {
		t.Errorf("on page 2: back %q prev %q next %q", back, prev, next)
	}
	// The ends of the list: no previous before the first, no next after the
	// last (the home loan is filtered out).
	if _, prev, _ := open("/loans/LN-2026-000001"+list("product=personal&sort=amount_asc"), ""); prev != "" {
		t.Errorf("before the first: %q", prev)
	}
	if _, _, next := open("/loans/LN-2026-000029"+list("page=2&product=personal&sort=amount_asc"), ""); next != "" {
		t.Errorf("after the last: %q", next)
	}
	// From elsewhere, or with a list that does not parse or no longer
	// holds the application: the plain list, no neighbours.
	for _, tc := range []struct{ path, referer string }{
		{"/loans/LN-2026-000003", "http://evil.example/loans?product=personal"},
		{"/loans/LN-2026-000003", b.url + "/admin/queue"},
		{"/loans/LN-2026-000003" + list("product=boat"), ""},
		{"/loans/LN-2026-000003" + list("min=lots"), ""},
		{"/loans/LN-2026-000030" + list("product=personal"), ""},
	} {
		back, prev, next := open(tc.path, tc.referer)
		want := "/loans"
		if tc.path == "/loans/LN-2026-000030"+list("product=personal") {
			want = "/loans?product=personal" // the way back stays; not in that list: no neighbours
		}
		if back != want || prev != "" || next != "" {
			t.Errorf("%s from %q: back %q prev %q next %q", tc.path, tc.referer, back, prev, next)
		}
	}
}
