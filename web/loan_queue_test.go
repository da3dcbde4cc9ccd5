package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"loandesk/auth"
	"loandesk/model"
)

// queueLoans inserts loans for the work-queue tests: loan i is
// (product, amount in rupees, created, assignee, status) of spec i.
type queueLoan struct {
	product  string
	rupees   int64
	created  time.Time
	assignee string
	status   string
}

func (b *testBundle) insertQueueLoans(t *testing.T, loans []queueLoan) {
	t.Helper()
	docs := make([]model.Loan, len(loans))
	for i, q := range loans {
		docs[i] = model.Loan{
			HumanID: fmt.Sprintf("LN-2026-%06d", i+1), Status: q.status, Assignee: q.assignee,
			Applicant: model.Applicant{Name: fmt.Sprintf("Applicant %d", i+1), City: "Pune"},
			Terms:     model.LoanTerms{Product: q.product, Amount: q.rupees * 100, TenureMonths: 24, AnnualRateBps: 1200},
			CreatedAt: q.created, CreatedBy: "seed", UpdatedAt: q.created, UpdatedBy: "seed",
		}
	}
	if err := b.store.LoanInsertMany(context.Background(), docs); err != nil {
		t.Fatal(err)
	}
}

// listedIDs are the application numbers a list page shows, in order.
func listedIDs(doc *goquery.Document) []string {
	var ids []string
	doc.Find(`[data-testid="loan-row"] td[data-label="Application"] a`).Each(func(_ int, s *goquery.Selection) { ids = append(ids, s.Text()) })
	return ids
}

// The work queue: product, amount range, submitted-date range (whole
// days in IST), my queue and unassigned narrow the list and its counts;
// every setting is in the URL and the links carry it; a typed amount or
// date that does not parse is a message beside its field (422), not an
// error page.
func TestLoanList_WorkQueueFilters(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createUser(t, "uw@example.com", auth.RoleUnderwriter)
	ist := time.FixedZone("IST", 5*3600+1800)
	// 29 Nov 23:59:59 IST and 30 Nov 00:00 IST: one second apart, on two
	// days in Pune though the same day in UTC.
	lateOn29 := time.Date(2026, 11, 29, 23, 59, 59, 0, ist)
	startOf30 := time.Date(2026, 11, 30, 0, 0, 0, 0, ist)
	b.insertQueueLoans(t, []queueLoan{
		{"home", 50_00_000, lateOn29, "uw@example.com", model.StatusUnderReview},                      // 1
		{"home", 5_00_000, startOf30, "", model.StatusSubmitted},                                      // 2
		{"personal", 5_00_000, startOf30.Add(time.Hour), "", model.StatusSubmitted},                   // 3
		{"personal", 4_99_999, startOf30.Add(2 * time.Hour), "uw@example.com", model.StatusSubmitted}, // 4
		{"auto", 20_00_000, startOf30.AddDate(0, 0, 1), "other@example.com", model.StatusUnderReview}, // 5
	})
	c := newClient(t)
	mustLogin(t, c, b.url, "uw@example.com")
	ids := func(path string) []string {
		t.Helper()
		res := get(t, c, b.url+path)
		if res.status != http.StatusOK {
			t.Fatalf("GET %s: %d", path, res.status)
		}
		return listedIDs(parse(t, res.body))
	}
	want := func(nums ...int) string {
		var out []string
		for _, n := range nums {
			out = append(out, fmt.Sprintf("LN-2026-%06d", n))
		}
		return strings.Join(out, " ")
	}
	for path, wantIDs := range map[string]string{
		"/loans?product=home":                                      want(2, 1),
		"/loans?min=5,00,000":                                      want(5, 3, 2, 1),
		"/loans?min=500000&max=20,00,000":                          want(5, 3, 2),
		"/loans?max=4,99,999.99":                                   want(4),
		"/loans?from=2026-11-30&to=2026-11-30":                     want(4, 3, 2),
		"/loans?to=2026-11-29":                                     want(1),
		"/loans?from=2026-12-01":                                   want(5),
		"/loans?assignee=me":                                       want(4, 1),
		"/loans?assignee=none&product=personal":                    want(3),
		"/loans?status=submitted&product=personal&sort=amount_asc": want(4, 3),
		"/loans?sort=amount_desc&from=2026-11-30":                  want(5, 3, 2, 4), // equal amounts: the later _id first
	} {
		if got := strings.Join(ids(path), " "); got != wantIDs {
			t.Errorf("%s lists %s, want %s", path, got, wantIDs)
		}
	}

	// The tab counts follow the filters.
	doc := parse(t, get(t, c, b.url+"/loans?product=personal&status=submitted").body)
	if got := strings.Join(strings.Fields(doc.Find(`[data-testid="loan-total"]`).Text()), " "); got != "2 submitted · 2 in all statuses (filtered)" {
		t.Errorf("total line = %q", got)
	}

	// Canonical URLs: amounts as plain rupees, defaults left out; the
	// htmx response pushes it, and the header, my-queue and clear links
	// carry the other filters.
	req, _ := http.NewRequest(http.MethodGet, b.url+"/loans?q=&assignee=&product=home&min=5%2C00%2C000&max=&from=2026-11-01&to=&sort=newest&size=25&status=", nil)
	req.Header.Set("HX-Request", "true")
	res := do(t, c, req)
	if got := res.header.Get("HX-Push-Url"); got != "/loans?from=2026-11-01&min=500000&product=home" {
		t.Errorf("pushed %q", got)
	}
	// Without htmx (a form sent without JavaScript) the same address is
	// sent on to the canonical one; a select=all is kept; a wrong field
	// is answered in place, beside what was typed.
	for from, to := range map[string]string{
		"/loans?q=&assignee=&product=home&min=5%2C00%2C000&max=&from=2026-11-01&to=&sort=newest&size=25&status=": "/loans?from=2026-11-01&min=500000&product=home",
		"/loans?q=&status=":                 "/loans",
		"/loans?q=&product=home&select=all": "/loans?product=home&select=all",
		"/loans?q=&select=all":              "/loans?select=all",
	} {
		if res := get(t, c, b.url+from); res.status != http.StatusSeeOther || res.header.Get("Location") != to {
			t.Errorf("GET %s: %d to %q, want 303 to %q", from, res.status, res.header.Get("Location"), to)
		}
	}
	if res := get(t, c, b.url+"/loans?q=&min=lots"); res.status != http.StatusUnprocessableEntity {
		t.Errorf("a wrong amount with empty fields: status %d, want 422 in place", res.status)
	}
	doc = parse(t, get(t, c, b.url+"/loans?product=home&min=500000&sort=amount_desc&size=50").body)
	links := map[string]string{
		"sort-amount":    "/loans?min=500000&product=home&size=50&sort=amount_asc", // clicked again: turned round
		"sort-submitted": "/loans?min=500000&product=home&size=50",
		"my-queue":       "/loans?assignee=me&min=500000&product=home&size=50&sort=amount_desc",
		"clear-filters":  "/loans?size=50&sort=amount_desc",
	}
	for id, wantURL := range links {
		if got, _ := doc.Find(`[data-testid="` + id + `"]`).Attr("href"); got != wantURL {
			t.Errorf("%s links to %q, want %q", id, got, wantURL)
		}
	}
	if got, _ := doc.Find(`th[aria-sort]`).Attr("aria-sort"); got != "descending" {
		t.Errorf("amount column aria-sort = %q", got)
	}
	for id, wantVal := range map[string]string{"loan-min": "500000", "loan-product": "home", "loan-size": "50"} {
		sel := doc.Find("#" + id)
		got, _ := sel.Attr("value")
		if sel.Is("select") {
			got, _ = sel.Find("option[selected]").Attr("value")
		}
		if got != wantVal {
			t.Errorf("#%s = %q, want %q", id, got, wantVal)
		}
	}

	// Typed input that does not parse: said beside the field, the rest
	// of the filters still apply.
	for _, tc := range []struct{ query, field, msg string }{
		{"min=abc&product=home", "loan-min", "Enter an amount in rupees"},
		{"min=10,00,000&max=5,00,000&product=home", "loan-max", "below the smallest"},
		{"from=30-11-2026&product=home", "loan-from", "Enter a date like"},
		{"from=2026-12-01&to=2026-11-01&product=home", "loan-to", "before the first"},
	} {
		res := get(t, c, b.url+"/loans?"+tc.query)
		if res.status != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d, want 422", tc.query, res.status)
		}
		doc := parse(t, res.body)
		if msg := doc.Find("#" + tc.field + "-error").Text(); !strings.Contains(msg, tc.msg) {
			t.Errorf("%s: message %q, want %q", tc.query, msg, tc.msg)
		}
		if inv, _ := doc.Find("#" + tc.field).Attr("aria-invalid"); inv != "true" {
			t.Errorf("%s: #%s not marked invalid", tc.query, tc.field)
		}
		if got := strings.Join(listedIDs(doc), " "); got != want(2, 1) {
			t.Errorf("%s: lists %s, want the home loans", tc.query, got)
		}
	}
	// Values no form offers are refused whole.
	for _, q := range []string{"product=boat", "size=7", "size=1000", "min=" + strings.Repeat("9", 41)} {
		if res := get(t, c, b.url+"/loans?"+q); res.status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", q, res.status)
		}
	}
	// The JSON list takes the same filters, and refuses bad ones as JSON.
	res = get(t, c, b.url+"/api/applications?product=home&size=50")
	if res.status != http.StatusOK || !strings.Contains(res.body, `"pageSize":50`) || strings.Count(res.body, `"id":"LN-`) != 2 {
		t.Errorf("API list: %d %s", res.status, res.body)
	}
	if res := get(t, c, b.url+"/api/applications?min=abc"); res.status != http.StatusBadRequest || !strings.Contains(res.body, "invalid_parameter") {
		t.Errorf("API bad min: %d %s", res.status, res.body)
	}
}

// Page size: 25, 50 or 100 rows, the pager counting in pages of that size.
func TestLoanList_PageSize(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createUser(t, "viewer@example.com", auth.RoleViewer)
	b.seedLoans(t, 120)
	c := newClient(t)
	mustLogin(t, c, b.url, "viewer@example.com")
	for size, wantRange := range map[int]string{25: "1–25 of 120", 50: "1–50 of 120", 100: "1–100 of 120"} {
		doc := parse(t, get(t, c, b.url+fmt.Sprintf("/loans?size=%d", size)).body)
		if n := doc.Find(`[data-testid="loan-row"]`).Length(); n != size {
			t.Errorf("size %d: %d rows", size, n)
		}
		if got := doc.Find(`[data-testid="page-range"]`).Text(); got != wantRange {
			t.Errorf("size %d: range %q", size, got)
		}
	}
	doc := parse(t, get(t, c, b.url+"/loans?size=50&page=3").body)
	if got := doc.Find(`[data-testid="page-range"]`).Text(); got != "101–120 of 120" {
		t.Errorf("page 3 of 50: range %q", got)
	}
	prev, _ := doc.Find(`[data-testid="prev-page"]`).Attr("href")
	if u, _ := url.Parse(prev); u.Query().Get("size") != "50" || u.Query().Get("page") != "2" {
		t.Errorf("previous page link %q", prev)
	}
}

// The search says which typed words it leaves out (found by a tester:
// "q=x" listed everything as "(filtered)", and a seventh word that
// matched nothing changed nothing, without a word).
func TestLoanList_SearchSaysWhatItLeavesOut(t *testing.T) {
	t.Parallel()
	f := newLoanFixture(t)
	c := newClient(t)
	mustLogin(t, c, f.url, "viewer@example.com")
	for q, want := range map[string]string{
		"x":                                  "Not searched: “x” (words of one letter, and words after the sixth, are left out).",
		"Asha a b Verma":                     "Not searched: “a”, “b” (words of one letter, and words after the sixth, are left out).",
		"Asha Verma Pune ab cd ef zzzzqq yy": "Not searched: “zzzzqq”, “yy” (words of one letter, and words after the sixth, are left out).",
		"Asha Verma":                         "",
		"+91 98765 43210":                    "",
	} {
		doc := parse(t, get(t, c, f.url+"/loans?q="+url.QueryEscape(q)).body)
		if got := text(doc.Find(`[data-testid="search-ignored"]`).Text()); got != want {
			t.Errorf("q=%q: %q, want %q", q, got, want)
		}
	}
}
