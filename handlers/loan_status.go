package handlers

import (
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
	user, _ := auth.UserFrom(r.Context())
	res, err := a.Service.ChangeStatus(r.Context(), application.StatusRequest{
		Actor: user, LoanID: chi.URLParam(r, "id"), Version: parseVersion(r.PostForm.Get("version")),
		To: r.PostForm.Get("to"), Reason: r.PostForm.Get("reason"),
	})
	status, l, msg, ok := a.actionOutcome(w, r, err)
	if !ok {
		return
	}
	if status != 0 {
		sp := a.statusPanel(l, user)
		sp.Error, sp.Reason = msg, r.PostForm.Get("reason")
		a.respond(w, r, status, views.LoanStatusPanel(sp, false), func() {
			d := a.loanDetail(r.Context(), l, user)
			d.Status = sp
			a.renderLoanPage(w, r, status, l, d)
		})
		return
	}
	a.flash(r, fmt.Sprintf("%s is now %s.", res.Loan.HumanID, application.StatusLabels[res.Loan.Status]))
	a.redirect(w, r, loanURL(res.Loan.HumanID))
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
		return http.StatusConflict, conflict.Loan, "Since you loaded it: " + conflict.Message() + " Check it and try again.", true
	default:
		a.ServerError(w, r, err)
	}
	return 0, model.Loan{}, "", false
}
