package handlers

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"loandesk/application"
	"loandesk/auth"
	"loandesk/model"
	"loandesk/views"
)

// bulkMax bounds the applications one bulk action takes: a page of the
// list at its largest.
const bulkMax = 100

// bulkRowPrefix names a selected row's checkbox: "row-LN-2026-000123",
// its value the version the list showed. One field per row, so no field
// is ever sent twice (strict input refuses that).
const bulkRowPrefix = "row-"

// BulkAssignLoans is POST /loans/bulk-assign, the list's "Assign
// selected": each selected application is assigned through the loan
// service against the version the list showed, one at a time. A row
// that changed since is reported with who changed what and left as it
// is, never overwritten; so is one the actor may not assign. The answer
// is a page of per-row results with a link back to the list as it was.
// Viewers get a 403; no selection or an assignee who is not staff a 422.
func (a *App) BulkAssignLoans(w http.ResponseWriter, r *http.Request) {
	if !a.parseForm(w, r) {
		return
	}
	user, _ := auth.UserFrom(r.Context())
	if !application.CanWork(user.Role) {
		a.ErrorPage(w, r, http.StatusForbidden, "Not available to you", "Viewers read applications; underwriters and admins assign them.")
		return
	}
	back := r.PostForm.Get("back")
	if back != "/loans" && !strings.HasPrefix(back, "/loans?") {
		back = "/loans"
	}
	type pick struct {
		id      string
		version int64
	}
	var picks []pick
	for key, vs := range r.PostForm {
		if id, ok := strings.CutPrefix(key, bulkRowPrefix); ok && len(vs) == 1 {
			picks = append(picks, pick{id, parseVersion(vs[0])})
		}
	}
	slices.SortFunc(picks, func(x, y pick) int { return strings.Compare(x.id, y.id) })
	to := strings.TrimSpace(r.PostForm.Get("assignee"))
	switch {
	case len(picks) == 0:
		a.ErrorPage(w, r, http.StatusUnprocessableEntity, "Nothing selected", "Tick the applications to assign on the list, then choose Assign selected.")
		return
	case len(picks) > bulkMax:
		a.ErrorPage(w, r, http.StatusUnprocessableEntity, "Too many selected", "Assign at most "+strconv.Itoa(bulkMax)+" applications at a time.")
		return
	case to != "" && !a.isStaff(r, to):
		a.ErrorPage(w, r, http.StatusUnprocessableEntity, "No such assignee", "Choose an admin or underwriter from the list.")
		return
	}

	res := views.BulkResults{Back: back, To: to}
	for _, p := range picks {
		row := views.BulkRow{HumanID: p.id, URL: loanURL(p.id)}
		out, err := a.Service.Assign(r.Context(), application.AssignRequest{Actor: user, LoanID: p.id, Version: p.version, Assignee: to})
		var (
			conflict  *application.Conflict
			forbidden *application.Forbidden
			invalid   *application.Invalid
		)
		switch {
		case err == nil && out.Saved:
			row.Outcome, row.Text = "assigned", "Now "+assignedText(out.Loan)+" (version "+strconv.FormatInt(out.Loan.Version, 10)+")."
			res.Done++
		case err == nil:
			row.Outcome, row.Text = "unchanged", "Already "+assignedText(out.Loan)+": nothing to do."
			res.Done++
		case errors.As(err, &conflict):
			row.Outcome, row.Text = "conflict", "Not assigned, it changed since your list was loaded: "+conflict.Message()+" Open it to decide."
		case errors.As(err, &forbidden):
			row.Outcome, row.Text = "refused", "Not assigned: "+forbidden.Reason
		case errors.As(err, &invalid):
			row.Outcome, row.Text = "refused", "Not assigned: "+invalid.Message()
		case errors.Is(err, model.ErrNotFound):
			row.Outcome, row.Text = "missing", "There is no such application."
		default:
			a.ServerError(w, r, err)
			return
		}
		res.Rows = append(res.Rows, row)
	}
	res.Skipped = len(res.Rows) - res.Done
	a.render(w, r, http.StatusOK, views.BulkResultPage(a.page(r, "Assigned", "loans"), res))
}

func assignedText(l model.Loan) string {
	if l.Assignee == "" {
		return "unassigned"
	}
	return "assigned to " + l.Assignee
}

// isStaff reports whether email is a user applications can be assigned to.
func (a *App) isStaff(r *http.Request, email string) bool {
	for _, u := range a.staff(r.Context()) {
		if u.Email == email {
			return true
		}
	}
	return false
}

// ShowBulkAssign is GET /loans/bulk-assign: the results exist only as
// the answer to the form, so a reload or a bookmark goes to the list.
func (a *App) ShowBulkAssign(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/loans", http.StatusSeeOther)
}
