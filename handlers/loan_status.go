package handlers

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"

	"github.com/go-chi/chi/v5"

	"loandesk/application"
	"loandesk/auth"
	"loandesk/model"
	"loandesk/views"
)

// ChangeLoanStatus moves an application along the workflow through the
// loan service, against the version it was shown at. A read-only role
// gets 403, a newer version 409 naming who changed what, a refused move
// 422; each with the status panel refreshed and nothing changed.
func (a *App) ChangeLoanStatus(w http.ResponseWriter, r *http.Request) {
	if !a.parseForm(w, r) {
		return
	}
	version, ok := a.versionField(w, r)
	if !ok {
		return
	}
	user, _ := auth.UserFrom(r.Context())
	res, err := a.Service.ChangeStatus(r.Context(), application.StatusRequest{
		Actor: user, LoanID: chi.URLParam(r, "id"), Version: version,
		To: r.PostForm.Get("to"), Reason: r.PostForm.Get("reason"),
	})
	status, l, msg, ok := a.actionOutcome(w, r, err)
	if !ok {
		return
	}
	if status != 0 {
		sp := a.statusPanel(l, user)
		sp.Error, sp.Reason = msg, r.PostForm.Get("reason")
		var conflict *application.Conflict
		if errors.As(err, &conflict) {
			// Show what changed instead of the buttons, so a second
			// click cannot apply the move blindly on the new version.
			to := r.PostForm.Get("to")
			sp.Error = ""
			sp.Conflict = a.panelConflict(r.Context(), conflict, "move it to "+cmp.Or(application.StatusLabels[to], to), loanURL(l.HumanID)+"/status")
			sp.Conflict.Reason, sp.Conflict.RetryTo = sp.Reason, to
			for _, act := range sp.Actions {
				if act.To == to {
					sp.Conflict.CanRetry, sp.Conflict.RetryBtn = true, act.Label+" anyway"
				}
			}
		}
		d := a.loanDetail(r.Context(), l, user)
		d.Status = sp
		a.respond(w, r, status, views.PanelRefusal(views.LoanStatusPanel(sp, false), d, views.LoanAssignPanel(d.Assign, true)), func() {
			a.renderLoanPage(w, r, status, l, d)
		})
		return
	}
	a.flash(r, fmt.Sprintf("%s is now %s.", res.Loan.HumanID, application.StatusLabels[res.Loan.Status]))
	a.redirect(w, r, loanURL(res.Loan.HumanID))
}

// ShowStatusPanel is the status panel as it stands (a conflict's "Load
// latest"); without htmx, the application's page.
func (a *App) ShowStatusPanel(w http.ResponseWriter, r *http.Request) {
	l, ok := a.loadLoan(w, r)
	if !ok {
		return
	}
	user, _ := auth.UserFrom(r.Context())
	a.respond(w, r, http.StatusOK, views.LoanStatusPanel(a.statusPanel(l, user), false), func() {
		http.Redirect(w, r, loanURL(l.HumanID)+"#status-panel", http.StatusSeeOther)
	})
}

// actionOutcome maps a loan service error of a panel action (status,
// assignee) to its status code, the loan to show and a message for
// people. status is 0 for success. It answers 404 and 500 itself and
// then returns ok false.
func (a *App) actionOutcome(w http.ResponseWriter, r *http.Request, err error) (status int, l model.Loan, msg string, ok bool) {
	var (
		invalid   *application.Invalid
		conflict  *application.Conflict
		forbidden *application.Forbidden
	)
	switch {
	case err == nil:
		return 0, model.Loan{}, "", true
	case errors.Is(err, model.ErrNotFound):
		a.ErrorPage(w, r, http.StatusNotFound, "Application not found", "There is no application "+chi.URLParam(r, "id")+".")
	case errors.As(err, &forbidden):
		return http.StatusForbidden, forbidden.Loan, forbidden.Reason, true
	case errors.As(err, &invalid):
		return http.StatusUnprocessableEntity, invalid.Loan, invalid.Message(), true
	case errors.As(err, &conflict):
		return http.StatusConflict, conflict.Loan, "Since you loaded it: " + conflict.MessageNamed(a.staffNames(r.Context()).name) + " Nothing was done.", true
	default:
		a.ServerError(w, r, err)
	}
	return 0, model.Loan{}, "", false
}
