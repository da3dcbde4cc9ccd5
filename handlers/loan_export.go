package handlers

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"loandesk/application"
	"loandesk/auth"
	"loandesk/model"
	"loandesk/money"
	"loandesk/store"
)

// exportMaxRows caps an export: past it the list says how many are
// left out and the file name ends "first-10000".
const exportMaxRows = 10_000

var exportHeader = []string{
	"Application", "Status", "Applicant", "City", "Product", "Amount (INR)", "Tenure (months)",
	"Rate (% a year)", "Assignee", "Submitted (IST)", "Updated (IST)", "Version",
}

// ExportLoans is GET /loans/export.csv: the list under the same filters
// and order as /loans (every matching row, not one page), streamed as
// CSV, at most exportMaxRows rows. Amounts are rupees with two decimals
// of paise, times in the lender's zone; every text cell is made safe to
// open in a spreadsheet (see csvCell). A filter that does not parse is
// refused rather than left out, so the file is never wider than asked.
func (a *App) ExportLoans(w http.ResponseWriter, r *http.Request) {
	q, f, matching, ok := a.exportQuery(w, r)
	if !ok {
		return
	}
	user, _ := auth.UserFrom(r.Context())
	name := exportFilename(q, matching > exportMaxRows, a.now().In(a.zone()).Format("20060102-1504"))
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	setExportRows(w, matching)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	bw := bufio.NewWriterSize(w, 32<<10) // flushed to the client as it fills: the file streams
	_, _ = bw.WriteString("\uFEFF")      // a BOM, so spreadsheets read the names as UTF-8
	cw := csv.NewWriter(bw)
	_ = cw.Write(exportHeader)
	rows := 0
	err := a.Loans.LoanEach(r.Context(), f, q.Sort, exportMaxRows, func(l model.Loan) error {
		rows++
		return cw.Write([]string{
			l.HumanID, application.StatusLabels[l.Status], csvCell(l.Applicant.Name), csvCell(l.Applicant.City),
			application.Display("product", l.Terms.Product), rupees(l.Terms.Amount), strconv.Itoa(l.Terms.TenureMonths),
			percent(l.Terms.AnnualRateBps), csvCell(l.Assignee), a.csvTime(l.CreatedAt), a.csvTime(l.UpdatedAt), strconv.FormatInt(l.Version, 10),
		})
	})
	cw.Flush()
	if err == nil {
		err = cw.Error()
	}
	if err == nil {
		err = bw.Flush()
	}
	// The header is out: a failure can only cut the file short. Log it;
	// the client sees a broken download, never a page inside the CSV.
	if err != nil {
		a.Logger.Error("loan export failed", "user", user.Email, "rows", rows, "err", err)
		return
	}
	a.Logger.Info("loan export", "user", user.Email, "query", q.query(nil), "rows", rows)
}

// csvTime writes a moment in the lender's zone, sortable as text:
// "2026-11-30 14:05".
func (a *App) csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(a.zone()).Format("2006-01-02 15:04")
}

// percent writes basis points as a percentage: 1150 → "11.50".
func percent(bps int) string { return fmt.Sprintf("%d.%02d", bps/100, bps%100) }

// csvCell makes text safe to open in a spreadsheet (OWASP CSV
// injection): a cell starting with =, +, -, @, a tab or a carriage
// return would be read as a formula, so it gets a leading apostrophe,
// which spreadsheets show as text and do not display.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// matching counts the loans f matches: one count, not the tabs'.
func (a *App) matching(r *http.Request, f store.LoanFilter) (int64, error) {
	return a.Loans.LoanCountMatching(r.Context(), f)
}

func firstError(errs map[string]string) string {
	for _, field := range []string{"min", "max", "from", "to", "city"} {
		if m := errs[field]; m != "" {
			return m
		}
	}
	return ""
}

var unsafeFilename = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// exportFilename names an export by its filters and when it was made:
// loans-under_review-home-from-2026-11-01-20261201-0930.csv.
func exportFilename(q listQuery, capped bool, stamp string) string {
	parts := []string{"loans"}
	add := func(label, v string) {
		if v == "" {
			return
		}
		if label != "" {
			parts = append(parts, label)
		}
		parts = append(parts, v)
	}
	add("", q.Status)
	add("", q.Product)
	switch q.Assignee {
	case "me":
		add("", "my-queue")
	case store.AssigneeNone:
		add("", "unassigned")
	default:
		add("assignee", q.Assignee)
	}
	if q.narrow.AmountMin > 0 {
		add("min", money.FormatRupees(q.narrow.AmountMin))
	}
	if q.narrow.AmountMax > 0 {
		add("max", money.FormatRupees(q.narrow.AmountMax))
	}
	add("from", q.From)
	add("to", q.To)
	add("city", q.City)
	add("score", q.Rec)
	if q.Days > 0 {
		add("days", strconv.Itoa(q.Days))
	}
	add("search", strings.Join(store.SearchTokens(q.Q), "-")) // the words searched, not the ignored ones
	if capped {
		add("first", strconv.Itoa(exportMaxRows))
	}
	parts = append(parts, stamp)
	name := unsafeFilename.ReplaceAllString(strings.Join(parts, "-"), "_")
	if len(name) > 150 {
		name = name[:150]
	}
	return name + ".csv"
}

// exportRowsHeader tells the page's script how many rows an export will
// hold (the count before the rows are read: a progress figure, not a
// promise), so a large export shows "3,200 of 10,000 rows".
const exportRowsHeader = "X-Export-Rows"

func setExportRows(w http.ResponseWriter, matching int64) {
	w.Header().Set(exportRowsHeader, strconv.FormatInt(min(matching, exportMaxRows), 10))
}

// exportQuery reads an export's list settings as /loans does and counts
// the applications they match, answering the request itself (400 for a
// setting that does not parse, 500 for a failed count) when ok is false.
func (a *App) exportQuery(w http.ResponseWriter, r *http.Request) (q listQuery, f store.LoanFilter, matching int64, ok bool) {
	q, msg := parseListQuery(r.URL.Query(), a.zone())
	if msg == "" && len(q.Errors) > 0 {
		msg = "Correct the filters on the list first: " + firstError(q.Errors)
	}
	if msg != "" {
		a.ErrorPage(w, r, http.StatusBadRequest, "Unknown list settings", msg)
		return q, f, 0, false
	}
	user, _ := auth.UserFrom(r.Context())
	f = q.filter(user, a.now())
	matching, err := a.matching(r, f)
	if err != nil {
		a.ServerError(w, r, err)
		return q, f, 0, false
	}
	return q, f, matching, true
}
