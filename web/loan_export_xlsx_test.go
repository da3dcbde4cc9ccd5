package web_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"loandesk/auth"
	"loandesk/model"
)

// The Excel export (issue 18) holds exactly the CSV export's rows, in
// its order and under its filters; amounts are numbers in rupees with
// paise, and text that looks like a formula is stored as text, never as
// a formula. The list links to it with its filters; a filter that does
// not parse is refused.
func TestLoanExport_XLSX(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createUser(t, "viewer@example.com", auth.RoleViewer)
	at := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	names := []string{"=HYPERLINK(\"http://evil\",\"x\")", "@SUM(A1)", "Asha Iyer", "Zoë Müller", "Ravi Kumar"}
	loans := make([]model.Loan, len(names))
	for i, name := range names {
		loans[i] = model.Loan{
			HumanID: fmt.Sprintf("LN-2026-%06d", i+1), Status: model.StatusSubmitted,
			Applicant: model.Applicant{Name: name, City: "Pune"},
			Terms:     model.LoanTerms{Product: "home", Amount: 50_00_000_00 + int64(i)*1_01, TenureMonths: 240, AnnualRateBps: 875},
			CreatedAt: at.Add(time.Duration(i) * time.Minute), UpdatedAt: at.Add(time.Hour), CreatedBy: "seed", UpdatedBy: "seed",
		}
	}
	loans[4].Terms.Product = "auto"
	if err := b.store.LoanInsertMany(context.Background(), loans); err != nil {
		t.Fatal(err)
	}
	c := newClient(t)
	mustLogin(t, c, b.url, "viewer@example.com")

	doc := parse(t, get(t, c, b.url+"/loans?product=home&sort=amount_desc").body)
	href, _ := doc.Find(`[data-testid="export-xlsx"]`).Attr("href")
	if href != "/loans/export.xlsx?product=home&sort=amount_desc" {
		t.Fatalf("the list links the Excel export as %q", href)
	}
	res := get(t, c, b.url+href)
	if res.status != http.StatusOK || res.header.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" ||
		!strings.Contains(res.header.Get("Content-Disposition"), `filename="loans-home-`) || !strings.Contains(res.header.Get("Content-Disposition"), `.xlsx"`) {
		t.Fatalf("export: %d %q %q", res.status, res.header.Get("Content-Type"), res.header.Get("Content-Disposition"))
	}
	if n := res.header.Get("X-Export-Rows"); n != "4" {
		t.Errorf("X-Export-Rows %q, want 4 (the page's progress counts against it)", n)
	}
	book, err := excelize.OpenReader(bytes.NewReader([]byte(res.body)))
	if err != nil {
		t.Fatal(err)
	}
	defer book.Close()
	rows, err := book.GetRows("Applications")
	if err != nil {
		t.Fatal(err)
	}
	csvRows := readCSV(t, get(t, c, b.url+"/loans/export.csv?product=home&sort=amount_desc").body)
	if len(rows) != len(csvRows) || len(rows) != 5 {
		t.Fatalf("%d rows in the workbook, %d in the CSV, want 5 (the header and four home loans)", len(rows), len(csvRows))
	}
	for i := range rows {
		if rows[i][0] != csvRows[i][0] {
			t.Errorf("row %d: %s in the workbook, %s in the CSV", i, rows[i][0], csvRows[i][0])
		}
	}
	// Largest first: LN-2026-000004 (₹50,00,003.03).
	if rows[1][0] != "LN-2026-000004" {
		t.Errorf("first row %v, want LN-2026-000004", rows[1])
	}
	amount, err := book.GetCellValue("Applications", "F2", excelize.Options{RawCellValue: true})
	if err != nil || amount != "5000003.03" {
		t.Errorf("F2 holds %q (%v), want the number 5000003.03", amount, err)
	}
	if typ, _ := book.GetCellType("Applications", "F2"); typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
		t.Errorf("F2 is of type %v, want a number", typ)
	}
	for r := 2; r <= 5; r++ {
		cell := fmt.Sprintf("C%d", r)
		if formula, _ := book.GetCellFormula("Applications", cell); formula != "" {
			t.Errorf("%s holds the formula %q", cell, formula)
		}
	}
	if got, _ := book.GetCellValue("Applications", "C5"); got != names[0] {
		t.Errorf("C5 %q, want the name as typed %q", got, names[0])
	}
	if res := get(t, c, b.url+"/loans/export.xlsx?min=lots"); res.status != http.StatusBadRequest || !strings.Contains(res.body, "Enter an amount") {
		t.Errorf("a mistyped amount: %d", res.status)
	}
}
