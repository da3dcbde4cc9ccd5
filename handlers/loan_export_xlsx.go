package handlers

import (
	"net/http"
	"strings"

	"github.com/xuri/excelize/v2"

	"loandesk/application"
	"loandesk/auth"
	"loandesk/model"
)

// ExportLoansXLSX is GET /loans/export.xlsx: the same rows, filters,
// order and cap as the CSV export (ExportLoans), as an Excel workbook
// written with excelize's stream writer (rows go to its temporary file as
// they are read, not into memory). Amounts, tenures, rates and versions
// are numbers (amounts in rupees with paise, shown with two decimals);
// text is stored as text, which a spreadsheet never runs as a formula, so
// it is written as it is. A filter that does not parse is refused.
func (a *App) ExportLoansXLSX(w http.ResponseWriter, r *http.Request) {
	q, f, matching, ok := a.exportQuery(w, r)
	if !ok {
		return
	}
	user, _ := auth.UserFrom(r.Context())
	book := excelize.NewFile()
	defer book.Close()
	const sheet = "Applications"
	if err := book.SetSheetName("Sheet1", sheet); err != nil {
		a.ServerError(w, r, err)
		return
	}
	sw, err := book.NewStreamWriter(sheet)
	if err != nil {
		a.ServerError(w, r, err)
		return
	}
	bold, _ := book.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	rupeeStyle, _ := book.NewStyle(&excelize.Style{NumFmt: 4}) // #,##0.00
	header := make([]any, len(exportHeader))
	for i, h := range exportHeader {
		header[i] = excelize.Cell{StyleID: bold, Value: h}
	}
	_ = sw.SetColWidth(1, 1, 16)
	_ = sw.SetColWidth(3, 3, 24)
	if err := sw.SetRow("A1", header, excelize.RowOpts{}); err != nil {
		a.ServerError(w, r, err)
		return
	}
	rows := 1
	err = a.Loans.LoanEach(r.Context(), f, q.Sort, exportMaxRows, func(l model.Loan) error {
		rows++
		cell, _ := excelize.CoordinatesToCellName(1, rows)
		return sw.SetRow(cell, []any{
			l.HumanID, application.StatusLabels[l.Status], l.Applicant.Name, l.Applicant.City,
			application.Display("product", l.Terms.Product),
			excelize.Cell{StyleID: rupeeStyle, Value: float64(l.Terms.Amount) / 100},
			l.Terms.TenureMonths, float64(l.Terms.AnnualRateBps) / 100, l.Assignee,
			a.csvTime(l.CreatedAt), a.csvTime(l.UpdatedAt), l.Version,
		})
	})
	if err == nil {
		err = sw.Flush()
	}
	if err != nil {
		a.ServerError(w, r, err) // nothing is sent before the workbook is whole
		return
	}
	name := strings.TrimSuffix(exportFilename(q, matching > exportMaxRows, a.now().In(a.zone()).Format("20060102-1504")), ".csv") + ".xlsx"
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	setExportRows(w, matching)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	if _, err := book.WriteTo(w); err != nil {
		a.Logger.Error("loan export (xlsx) failed", "user", user.Email, "rows", rows-1, "err", err)
		return
	}
	a.Logger.Info("loan export (xlsx)", "user", user.Email, "query", q.query(nil), "rows", rows-1)
}
