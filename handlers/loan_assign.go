package handlers

import (
	"context"
	"errors"
	"net/http"

	"github.com/go-chi/chi/v5"

	"loandesk/application"
	"loandesk/auth"
	"loandesk/model"
	"loandesk/views"
)

// AssignLoan gives an application to a member of staff (or to nobody)
// through the loan service, against the version it was shown at. Only
// admins and underwriters assign, and only to admins and underwriters.
func (a *App) AssignLoan(w http.ResponseWriter, r *http.Request) {
	if !a.parseForm(w, r) {
		return
	}
	version, ok := a.versionField(w, r)
	if !ok {
		return
	}
	user, _ := auth.UserFrom(r.Context())
	res, err := a.Service.Assign(r.Context(), application.AssignRequest{
		Actor: user, LoanID: chi.URLParam(r, "id"), Version: version,
		Assignee: r.PostForm.Get("assignee"),
	})
	status, l, msg, ok := a.actionOutcome(w, r, err)
	if !ok {
		return
	}
	if status != 0 {
		ap := a.assignPanel(r.Context(), l, user)
		ap.Error = msg
		var conflict *application.Conflict
		if errors.As(err, &conflict) {
			// Show what changed instead of the form, so a second click
			// cannot assign blindly on the new version.
			to := r.PostForm.Get("assignee")
			tried := "assign it to " + a.staffNames(r.Context()).name(to)
			if to == "" {
				tried = "leave it unassigned"
			}
			ap.Error = ""
			ap.Conflict = a.panelConflict(r.Context(), conflict, tried, loanURL(l.HumanID)+"/assignee")
			ap.Conflict.RetryTo, ap.Conflict.CanRetry, ap.Conflict.RetryBtn = to, ap.CanAssign && to != l.Assignee, "Assign anyway"
			if to == "" {
				ap.Conflict.RetryBtn = "Unassign anyway"
			}
		}
		d := a.loanDetail(r.Context(), l, user)
		d.Assign = ap
		a.respond(w, r, status, views.PanelRefusal(views.LoanAssignPanel(ap, false), d, views.LoanStatusPanel(d.Status, true)), func() {
			a.renderLoanPage(w, r, status, l, d)
		})
		return
	}
	switch {
	case !res.Saved:
	case res.Loan.Assignee == "":
		a.flash(r, res.Loan.HumanID+" is no longer assigned.")
	default:
		// By name, as the page names staff (the API keeps the e-mail).
		a.flash(r, res.Loan.HumanID+" is now assigned to "+a.staffNames(r.Context()).name(res.Loan.Assignee)+".")
	}
	a.redirect(w, r, loanURL(res.Loan.HumanID))
}

// ShowAssignPanel is the assignee panel as it stands (a conflict's "Load
// latest"); without htmx, the application's page.
func (a *App) ShowAssignPanel(w http.ResponseWriter, r *http.Request) {
	l, ok := a.loadLoan(w, r)
	if !ok {
		return
	}
	user, _ := auth.UserFrom(r.Context())
	a.respond(w, r, http.StatusOK, views.LoanAssignPanel(a.assignPanel(r.Context(), l, user), false), func() {
		http.Redirect(w, r, loanURL(l.HumanID)+"#assign-panel", http.StatusSeeOther)
	})
}

// assignPanel is the assignee card as user sees it.
func (a *App) assignPanel(ctx context.Context, l model.Loan, user auth.User) views.AssignPanel {
	ap := views.AssignPanel{URL: loanURL(l.HumanID) + "/assignee", Version: l.Version}
	ap.Current, ap.CurrentEmail = a.staffNames(ctx).person(l.Assignee)
	if !application.CanWork(user.Role) {
		return ap
	}
	ap.CanAssign = true
	opts := []views.Choice{{Value: "", Label: "Nobody"}}
	ap.Choices = choices(append(opts, a.choicesOfStaff(ctx).withEmail...), l.Assignee)
	return ap
}
