package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"loandesk/application"
	"loandesk/auth"
	"loandesk/model"
	"loandesk/store"
	"loandesk/views"
)

// AssignLoan gives an application to a member of staff (or to nobody),
// against the version it was shown at. Only admins and underwriters
// assign, and only to admins and underwriters.
func (a *App) AssignLoan(w http.ResponseWriter, r *http.Request) {
	l, user, ok := a.loadLoanForm(w, r)
	if !ok {
		return
	}
	to := r.PostForm.Get("assignee")
	refuse := func(status int, msg string) {
		ap := a.assignPanel(r.Context(), l, user)
		ap.Error = msg
		if isFragment(r) {
			a.render(w, r, status, views.LoanAssignPanel(ap))
			return
		}
		d := a.loanDetail(r.Context(), l, user)
		d.Assign = ap
		a.renderLoanPage(w, r, status, l, d)
	}
	if !application.CanWork(user.Role) {
		refuse(http.StatusForbidden, "Your role can view applications but not assign them.")
		return
	}
	if parseVersion(r.PostForm.Get("version")) != l.Version {
		refuse(http.StatusConflict, fmt.Sprintf("%s changed this application (now version %d) since you loaded it. Check it and try again.", l.UpdatedBy, l.Version))
		return
	}
	if to != "" && !isStaff(a.staff(r.Context()), to) {
		refuse(http.StatusUnprocessableEntity, "Choose an admin or underwriter from the list.")
		return
	}
	if to == l.Assignee {
		a.redirect(w, r, loanURL(l.HumanID))
		return
	}
	_, err := a.Loans.LoanUpdate(r.Context(), store.LoanUpdateParams{
		ID: l.ID, Version: l.Version,
		Set:    map[string]any{"assignee": to},
		Change: model.LoanChange{At: a.now(), By: user.Email, ByName: user.Name, Fields: []model.FieldChange{{Field: "assignee", From: l.Assignee, To: to}}},
	})
	if errors.Is(err, store.ErrConflict) {
		refuse(http.StatusConflict, "Someone changed this application just before you. Check it and try again.")
		return
	}
	if err != nil {
		a.ServerError(w, r, err)
		return
	}
	if to == "" {
		a.flash(r, l.HumanID+" is no longer assigned.")
	} else {
		a.flash(r, l.HumanID+" is now assigned to "+to+".")
	}
	a.redirect(w, r, loanURL(l.HumanID))
}

func isStaff(staff []store.User, email string) bool {
	for _, u := range staff {
		if u.Email == email {
			return true
		}
	}
	return false
}

// assignPanel is the assignee card as user sees it.
func (a *App) assignPanel(ctx context.Context, l model.Loan, user auth.User) views.AssignPanel {
	ap := views.AssignPanel{URL: loanURL(l.HumanID) + "/assignee", Version: l.Version, Current: l.Assignee}
	if !application.CanWork(user.Role) {
		return ap
	}
	ap.CanAssign = true
	opts := []views.Choice{{Value: "", Label: "Nobody"}}
	for _, u := range a.staff(ctx) {
		opts = append(opts, views.Choice{Value: u.Email, Label: u.Name + " (" + u.Email + ")"})
	}
	ap.Choices = choices(opts, l.Assignee)
	return ap
}
