package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"loandesk/application"
	"loandesk/auth"
	"loandesk/model"
	"loandesk/store"
	"loandesk/views"
)

// bulkMax bounds the applications one bulk action takes: a page of the
// list at its largest.
const bulkMax = application.MaxBulk

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
	back := bulkBack(r)
	picks, bad := bulkPicks(r)
	to := strings.TrimSpace(r.PostForm.Get("assignee"))
	switch {
	case bad != "":
		a.badPickVersion(w, r, bad)
		return
	case len(picks) == 0:
		a.bulkRefused(w, r, user, false, "Nothing selected: tick the applications to assign, then choose Assign selected.")
		return
	case len(picks) > bulkMax:
		a.bulkRefused(w, r, user, false, "Too many selected: assign at most "+strconv.Itoa(bulkMax)+" applications at a time.")
		return
	case to == "":
		a.bulkRefused(w, r, user, false, "Nothing was assigned: choose whom to assign them to (or Nobody to unassign them), then choose Assign selected.")
		return
	case to != store.AssigneeNone && !a.isStaff(r, to):
		// The list again with the ticks and filters (the choice may have
		// left the staff, or changed role, while the list was open).
		a.bulkRefused(w, r, user, false, "Nothing was assigned: "+to+" is not an admin or underwriter (any more). Choose one from the list.")
		return
	}

	if to == store.AssigneeNone {
		to = "" // unassign
	}
	names := a.staffNames(r.Context())
	res := views.BulkResults{Back: back}
	res.To, res.ToEmail = names.person(to)
	for _, p := range picks {
		row := views.BulkRow{HumanID: p.LoanID, URL: loanURL(p.LoanID)}
		out, err := a.Service.Assign(r.Context(), application.AssignRequest{Actor: user, LoanID: p.LoanID, Version: p.Version, Assignee: to})
		var (
			conflict  *application.Conflict
			forbidden *application.Forbidden
			invalid   *application.Invalid
		)
		switch {
		case err == nil && out.Saved:
			row.Outcome, row.Text = "assigned", "Now "+assignedText(out.Loan, names)+" (version "+strconv.FormatInt(out.Loan.Version, 10)+")."
			res.Done++
		case err == nil:
			row.Outcome, row.Text = "unchanged", "Already "+assignedText(out.Loan, names)+": nothing to do."
			res.Done++
		case errors.As(err, &conflict):
			row.Outcome, row.Text = "conflict", "Not assigned, it changed since your list was loaded: "+conflict.MessageNamed(names.name)+" Open it to decide."
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

func assignedText(l model.Loan, names staffNames) string {
	if l.Assignee == "" {
		return "unassigned"
	}
	return "assigned to " + names.name(l.Assignee)
}

// isStaff reports whether email is a user applications can be assigned to.
func (a *App) isStaff(r *http.Request, email string) bool {
	return a.staff(r.Context()).Has(email)
}

// ShowBulkAssign is GET /loans/bulk-assign: the results exist only as
// the answer to the form, so a reload or a bookmark goes to the list.
func (a *App) ShowBulkAssign(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/loans", http.StatusSeeOther)
}

// bulkBack is the list to return to from a bulk action's results: the
// form's back field when it is the list, else the plain list.
func bulkBack(r *http.Request) string {
	back := r.PostForm.Get("back")
	if back != "/loans" && !strings.HasPrefix(back, "/loans?") {
		back = "/loans"
	}
	return back
}

// bulkRefused answers a bulk form refused as a whole for something its
// user can put right (nothing ticked, too many, no reason): the list it
// was sent from again, with its filters, and the form as it was sent
// (the typed reason, the chosen assignee, the ticked rows) with msg at
// the form; 422, nothing changed. hold unfolds the hold's part.
func (a *App) bulkRefused(w http.ResponseWriter, r *http.Request, user auth.User, hold bool, msg string) {
	q, bad := parseListQuery(bulkBackQuery(bulkBack(r)), a.zone())
	if bad != "" {
		q, _ = parseListQuery(nil, a.zone())
	}
	vm, err := a.loanListView(r.Context(), q, user, false)
	if err != nil {
		a.ServerError(w, r, err)
		return
	}
	b := vm.Bulk
	if b == nil { // a role without the form (refused before this)
		a.ErrorPage(w, r, http.StatusUnprocessableEntity, "Nothing was changed", msg)
		return
	}
	reason := r.PostForm.Get("reason")
	b.Error, b.Reason, b.HoldOpen = msg, reason, hold || strings.TrimSpace(reason) != ""
	b.Assignees = choices(b.Assignees, strings.TrimSpace(r.PostForm.Get("assignee")))
	b.Ticked = map[string]bool{}
	for key := range r.PostForm {
		if id, ok := strings.CutPrefix(key, bulkRowPrefix); ok {
			b.Ticked[id] = true
		}
	}
	a.render(w, r, http.StatusUnprocessableEntity, views.LoanListPage(a.page(r, "Loans", "loans"), vm))
}

// bulkBackQuery is the query of back, a list address from bulkBack.
func bulkBackQuery(back string) url.Values {
	_, raw, _ := strings.Cut(back, "?")
	v, err := url.ParseQuery(raw)
	if err != nil {
		return nil
	}
	return v
}

// bulkPicks are the ticked rows of a bulk form, each with the version the
// list showed, in the order of their IDs. A version that is not a
// version number as the list writes them (formVersion) is a malformed
// form, not a change by someone else: its row's ID comes back as bad and
// the caller refuses the whole request.
func bulkPicks(r *http.Request) (picks []application.Pick, bad string) {
	for key, vs := range r.PostForm {
		id, ok := strings.CutPrefix(key, bulkRowPrefix)
		if !ok || len(vs) != 1 {
			continue
		}
		v, valid := formVersion(vs[0])
		if !valid {
			bad = id
			continue
		}
		picks = append(picks, application.Pick{LoanID: id, Version: v})
	}
	slices.SortFunc(picks, func(x, y application.Pick) int { return strings.Compare(x.LoanID, y.LoanID) })
	return picks, bad
}

// badPickVersion answers a bulk form with a malformed version (see
// bulkPicks): 422, nothing changed.
func (a *App) badPickVersion(w http.ResponseWriter, r *http.Request, id string) {
	a.ErrorPage(w, r, http.StatusUnprocessableEntity, "Nothing was changed",
		"The form sent a version for "+id+" that the list never writes. Reload the list and tick the applications again.")
}

// BulkHoldLoans is POST /loans/bulk-hold, the list's "Put selected on
// hold": the loan service puts each ticked application on hold with the
// one reason given, against the version the list showed. The answer is
// a page of per-row results: held (its history records the reason),
// already on hold, or left as it was with why (changed since, naming who
// changed what; a status the workflow cannot hold; missing). Viewers get
// a 403; no selection, too many, or no reason a 422 with nothing changed.
func (a *App) BulkHoldLoans(w http.ResponseWriter, r *http.Request) {
	if !a.parseForm(w, r) {
		return
	}
	user, _ := auth.UserFrom(r.Context())
	reason := r.PostForm.Get("reason")
	picks, bad := bulkPicks(r)
	if bad != "" && application.CanWork(user.Role) { // a viewer's gets the service's 403
		a.badPickVersion(w, r, bad)
		return
	}
	outcomes, err := a.Service.HoldMany(r.Context(), application.HoldManyRequest{Actor: user, Picks: picks, Reason: reason})
	var (
		forbidden *application.Forbidden
		invalid   *application.Invalid
	)
	switch {
	case errors.As(err, &forbidden):
		a.ErrorPage(w, r, http.StatusForbidden, "Not available to you", "Viewers read applications; underwriters and admins put them on hold.")
		return
	case errors.As(err, &invalid) && len(outcomes) == 0:
		a.bulkRefused(w, r, user, true, "Nothing was put on hold: "+invalid.Message())
		return
	case err != nil:
		a.ServerError(w, r, err)
		return
	}
	res := views.BulkResults{Back: bulkBack(r), Hold: true, Reason: strings.TrimSpace(reason)}
	names := a.staffNames(r.Context())
	for _, o := range outcomes {
		if n := len(o.Loan.History); o.Held && n > 0 {
			res.Reason = o.Loan.History[n-1].Reason // as recorded (normalised)
		}
	}
	for _, o := range outcomes {
		row := views.BulkRow{HumanID: o.LoanID, URL: loanURL(o.LoanID)}
		var (
			conflict  *application.Conflict
			invalid   *application.Invalid
			forbidden *application.Forbidden
		)
		switch {
		case o.Held:
			row.Outcome, row.Text = "held", "Now on hold (version "+strconv.FormatInt(o.Loan.Version, 10)+")."
			res.Done++
		case o.AlreadyHeld:
			row.Outcome, row.Text = "unchanged", "Already on hold: nothing to do."
			res.Done++
		case errors.As(o.Err, &conflict):
			row.Outcome, row.Text = "conflict", "Not put on hold, it changed since your list was loaded: "+conflict.MessageNamed(names.name)+" Open it to decide."
		case errors.As(o.Err, &invalid):
			row.Outcome, row.Text = "refused", "Not put on hold: "+invalid.Message()
		case errors.As(o.Err, &forbidden):
			row.Outcome, row.Text = "refused", "Not put on hold: "+forbidden.Reason
		default:
			row.Outcome, row.Text = "missing", "There is no such application."
		}
		res.Rows = append(res.Rows, row)
	}
	res.Skipped = len(res.Rows) - res.Done
	a.render(w, r, http.StatusOK, views.BulkResultPage(a.page(r, "Put on hold", "loans"), res))
}

// ShowBulkHold is GET /loans/bulk-hold: like ShowBulkAssign, the list.
func (a *App) ShowBulkHold(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/loans", http.StatusSeeOther)
}
