package handlers

import (
	"net/http"
	"net/url"
	"strings"

	"loandesk/money"
	"loandesk/store"
	"loandesk/views"
)

// statusLabels are the people-facing names of loan statuses.
var statusLabels = map[string]string{
	store.StatusSubmitted:   "Submitted",
	store.StatusUnderReview: "Under review",
	store.StatusOnHold:      "On hold",
	store.StatusApproved:    "Approved",
	store.StatusRejected:    "Rejected",
	store.StatusDisbursed:   "Disbursed",
}

const loanPageSize = 25

// ShowLoanList renders the loan list: status tabs with counts and the
// newest applications in the chosen status. htmx tab clicks get tabs and
// table alone.
func (a *App) ShowLoanList(w http.ResponseWriter, r *http.Request) {
	status := r.URL.Query().Get("status")
	if _, ok := statusLabels[status]; status != "" && !ok {
		a.ErrorPage(w, r, http.StatusBadRequest, "Unknown status", "There is no loan status by that name.")
		return
	}
	counts, err := a.Loans.LoanCountByStatus(r.Context())
	if err != nil {
		a.ServerError(w, r, err)
		return
	}
	loans, err := a.Loans.LoanList(r.Context(), store.LoanListParams{Status: status, Limit: loanPageSize})
	if err != nil {
		a.ServerError(w, r, err)
		return
	}

	vm := views.LoanList{Shown: len(loans)}
	for _, c := range counts {
		vm.Total += c
	}
	vm.Tabs = append(vm.Tabs, views.StatusTab{Label: "All", URL: "/loans", Count: vm.Total, Active: status == ""})
	for _, st := range store.LoanStatuses {
		vm.Tabs = append(vm.Tabs, views.StatusTab{
			Label:  statusLabels[st],
			URL:    "/loans?status=" + url.QueryEscape(st),
			Count:  counts[st],
			Active: st == status,
		})
	}
	for _, l := range loans {
		vm.Rows = append(vm.Rows, views.LoanRow{
			HumanID:   l.HumanID,
			Applicant: l.Applicant.Name,
			City:      l.Applicant.City,
			Product:   titleCase(l.Terms.Product),
			Amount:    money.FormatINR(l.Terms.Amount),
			Status:    statusLabels[l.Status],
			StatusKey: l.Status,
			Created:   formatDate(l.CreatedAt),
		})
	}
	if isFragment(r) {
		a.render(w, r, http.StatusOK, views.LoanListBody(vm))
		return
	}
	a.render(w, r, http.StatusOK, views.LoanListPage(a.page(r, "Loans", "loans"), vm))
}

func titleCase(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
