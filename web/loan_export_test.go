package web_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"loandesk/auth"
	"loandesk/model"
)

// readCSV parses an export, checking and dropping its UTF-8 BOM.
func readCSV(t *testing.T, body string) [][]string {
	t.Helper()
	rest, ok := strings.CutPrefix(body, "\uFEFF")
	if !ok {
		t.Fatalf("no BOM: %.40q", body)
	}
	rows, err := csv.NewReader(strings.NewReader(rest)).ReadAll()
	if err != nil {
		t.Fatalf("parse CSV: %v", err)
	}
	return rows
}

// The export is exactly the filtered list (every matching row, in the
// list's order), amounts in rupees with paise, times in IST, text cells
// that a spreadsheet would run as formulas defused, the filters in the
// file name; a filter that does not parse is refused.
func TestLoanExport_CSV(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createUser(t, "viewer@example.com", auth.RoleViewer)
	ist := time.FixedZone("IST", 5*3600+1800)
	at := time.Date(2026, 11, 30, 0, 5, 0, 0, ist) // 29 Nov in UTC
	names := []string{"=HYPERLINK(\"http://evil\",\"x\")", "+91 Sharma", "-Dash", "@SUM(A1)", "\tTabbed", "\rReturn", "Asha = Iyer", "Zoë Müller"}
	loans := make([]model.Loan, len(names))
	for i, name := range names {
		loans[i] = model.Loan{
			HumanID: fmt.Sprintf("LN-2026-%06d", i+1), Status: model.StatusSubmitted,
			Applicant: model.Applicant{Name: name, City: "=Pune"},
			Terms:     model.LoanTerms{Product: "home", Amount: 50_00_000_00 + int64(i), TenureMonths: 240, AnnualRateBps: 875},
			CreatedAt: at.Add(time.Duration(i) * time.Minute), UpdatedAt: at.Add(time.Hour), CreatedBy: "seed", UpdatedBy: "seed",
		}
	}
	loans[7].Terms.Product = "auto"
	if err := b.store.LoanInsertMany(context.Background(), loans); err != nil {
		t.Fatal(err)
	}
	c := newClient(t)
	mustLogin(t, c, b.url, "viewer@example.com")

	// The list links to the export with its filters.
	doc := parse(t, get(t, c, b.url+"/loans?product=home&sort=amount_asc&page=1&size=50").body)
	href, _ := doc.Find(`[data-testid="export-csv"]`).Attr("href")
	if href != "/loans/export.csv?product=home&sort=amount_asc" {
		t.Fatalf("export link %q", href)
	}
	if _, download := doc.Find(`[data-testid="export-csv"]`).Attr("download"); download {
		// Without JavaScript a download attribute saved the sign-in page
		// as login.html when the session had ended (found by a tester).
		t.Error("the export link has a download attribute")
	}
	// Signed out, it returns to the list it exports, filters kept.
	for _, path := range []string{href, strings.Replace(href, ".csv", ".xlsx", 1)} {
		if res := get(t, newClient(t), b.url+path); res.status != http.StatusSeeOther || res.header.Get("Location") != "/login?next="+url.QueryEscape("/loans?product=home&sort=amount_asc") {
			t.Errorf("signed out %s: %d %q", path, res.status, res.header.Get("Location"))
		}
	}
	res := get(t, c, b.url+href)
	if res.status != http.StatusOK || res.header.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Fatalf("export: %d %s", res.status, res.header.Get("Content-Type"))
	}
	if cd := res.header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="loans-home-`) || !strings.HasSuffix(cd, `.csv"`) {
		t.Errorf("Content-Disposition %q", cd)
	}
	rows := readCSV(t, res.body)
	if got := strings.Join(rows[0], "|"); got != "Application|Status|Applicant|City|Product|Amount (INR)|Tenure (months)|Rate (% a year)|Assignee|Submitted (IST)|Updated (IST)|Version" {
		t.Errorf("header %s", got)
	}
	if len(rows) != 1+7 {
		t.Fatalf("%d rows, want the 7 home loans", len(rows)-1)
	}
	wantNames := []string{"'=HYPERLINK(\"http://evil\",\"x\")", "'+91 Sharma", "'-Dash", "'@SUM(A1)", "'\tTabbed", "'\rReturn", "Asha = Iyer"}
	for i, row := range rows[1:] {
		want := []string{
			fmt.Sprintf("LN-2026-%06d", i+1), "Submitted", wantNames[i], "'=Pune", "Home",
			fmt.Sprintf("5000000.%02d", i), "240", "8.75", "", fmt.Sprintf("2026-11-30 00:%02d", 5+i), "2026-11-30 01:05", "1",
		}
		if strings.Join(row, "|") != strings.Join(want, "|") {
			t.Errorf("row %d\n got %q\nwant %q", i+1, row, want)
		}
	}

	// Filters that do not parse are refused, not dropped.
	if res := get(t, c, b.url+"/loans/export.csv?min=lots"); res.status != http.StatusBadRequest || !strings.Contains(res.body, "Enter an amount") {
		t.Errorf("bad min: %d", res.status)
	}
	// The dates of a range and the search are in the name, made safe: the
	// words searched, lower-cased as the search takes them, not the ones it ignores
	// (here "a", of one letter).
	res = get(t, c, b.url+"/loans/export.csv?from=2026-11-30&to=2026-11-30&q=Zo%C3%AB+a+M%C3%BCller&assignee=none&status=submitted")
	if cd := res.header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="loans-submitted-unassigned-from-2026-11-30-to-2026-11-30-search-zo_-m_ller-`) {
		t.Errorf("Content-Disposition %q", cd)
	}
	if rows := readCSV(t, res.body); len(rows) != 2 || rows[1][2] != "Zoë Müller" {
		t.Errorf("search export: %q", rows)
	}
}

// Past 10,000 matching rows the export stops there, the list says so,
// and the file name says "first-10000".
func TestLoanExport_Capped(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createUser(t, "viewer@example.com", auth.RoleViewer)
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for batch := 0; batch < 21; batch++ {
		loans := make([]model.Loan, 500)
		for i := range loans {
			n := batch*500 + i + 1
			loans[i] = model.Loan{
				HumanID: fmt.Sprintf("LN-2026-%06d", n), Status: model.StatusSubmitted,
				Applicant: model.Applicant{Name: "A"}, Terms: model.LoanTerms{Product: "personal", Amount: int64(n) * 100},
				CreatedAt: at.Add(time.Duration(n) * time.Second),
			}
		}
		if err := b.store.LoanInsertMany(context.Background(), loans); err != nil {
			t.Fatal(err)
		}
	}
	c := newClient(t)
	mustLogin(t, c, b.url, "viewer@example.com")
	doc := parse(t, get(t, c, b.url+"/loans").body)
	if got := doc.Find(`[data-testid="export-note"]`).Text(); got != "The export holds the first 10,000 of 10,500 applications, in this order; narrow the filters to export the rest." {
		t.Errorf("note %q", got)
	}
	res := get(t, c, b.url+"/loans/export.csv")
	if cd := res.header.Get("Content-Disposition"); !strings.Contains(cd, "-first-10000-") {
		t.Errorf("Content-Disposition %q", cd)
	}
	// The page's progress counts against the rows the file will hold.
	if n := res.header.Get("X-Export-Rows"); n != "10000" {
		t.Errorf("X-Export-Rows %q, want 10000 (the cap)", n)
	}
	if n := get(t, c, b.url+"/loans/export.csv?product=home").header.Get("X-Export-Rows"); n != "0" {
		t.Errorf("X-Export-Rows %q for no home loans, want 0", n)
	}
	rows := readCSV(t, res.body)
	if len(rows) != 1+10_000 || rows[1][0] != "LN-2026-010500" || rows[10_000][0] != "LN-2026-000501" {
		t.Errorf("%d rows, first %s, last %s", len(rows)-1, rows[1][0], rows[len(rows)-1][0])
	}
	// Narrowed below the cap: no note, every row.
	doc = parse(t, get(t, c, b.url+"/loans?max=5,000").body)
	if doc.Find(`[data-testid="export-note"]`).Length() != 0 {
		t.Error("a note under the cap")
	}
}
