package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"loandesk/application"
	"loandesk/auth"
	"loandesk/model"
	"loandesk/store"
	"loandesk/views"
)

// maxReasonLen bounds a status change's reason, in characters.
const maxReasonLen = 500

// ChangeLoanStatus moves an application along the workflow, against the
// version it was shown at. Refused moves answer 422 (403 for read-only
// roles), a newer version 409; either way with the status panel
// refreshed and nothing changed.
func (a *App) ChangeLoanStatus(w http.ResponseWriter, r *http.Request) {
	l, user, ok := a.loadLoanForm(w, r)
	if !ok {
		return
	}
	to := r.PostForm.Get("to")
	reason, reasonErr := normalizeReason(r.PostForm.Get("reason"))
	version := parseVersion(r.PostForm.Get("version"))

	refuse := func(status int, msg string) {
		sp := a.statusPanel(l, user)
		sp.Error, sp.Reason = msg, r.PostForm.Get("reason")
		a.renderStatusPanel(w, r, status, l, user, sp)
	}
	if !application.CanWork(user.Role) {
		refuse(http.StatusForbidden, "Your role can view applications but not change their status.")
		return
	}
	if version != l.Version {
		refuse(http.StatusConflict, fmt.Sprintf("%s changed this application (now version %d) since you loaded it. Check it and try again.", l.UpdatedBy, l.Version))
		return
	}
	if err := a.Policy.CheckTransition(user.Role, l.Status, to, l.Terms.Amount); err != nil {
		refuse(http.StatusUnprocessableEntity, err.Error())
		return
	}
	if reasonErr != "" {
		refuse(http.StatusUnprocessableEntity, reasonErr)
		return
	}
	reason, err := application.CheckScore(user.Role, to, l.Score, reason)
	if err != nil {
		refuse(http.StatusUnprocessableEntity, err.Error())
		return
	}
	if move, _ := application.Transition(l.Status, to); move.NeedsReason && reason == "" {
		refuse(http.StatusUnprocessableEntity, "Say why: a reason is required to "+strings.ToLower(move.Label)+".")
		return
	}

	_, err = a.Loans.LoanUpdate(r.Context(), store.LoanUpdateParams{
		ID:      l.ID,
		Version: l.Version,
		Set:     map[string]any{"status": to},
		Change: model.LoanChange{
			At: a.now(), By: user.Email, ByName: user.Name, Reason: reason,
			Fields: []model.FieldChange{{Field: "status", From: l.Status, To: to}},
		},
	})
	if errors.Is(err, store.ErrConflict) {
		if fresh, gerr := a.Loans.LoanGet(r.Context(), l.HumanID); gerr == nil {
			l = fresh
		}
		refuse(http.StatusConflict, fmt.Sprintf("%s changed this application (now version %d) just before you. Check it and try again.", l.UpdatedBy, l.Version))
		return
	}
	if err != nil {
		a.ServerError(w, r, err)
		return
	}
	a.flash(r, fmt.Sprintf("%s is now %s.", l.HumanID, application.StatusLabels[to]))
	a.redirect(w, r, loanURL(l.HumanID))
}

func (a *App) renderStatusPanel(w http.ResponseWriter, r *http.Request, status int, l model.Loan, user auth.User, sp views.StatusPanel) {
	if isFragment(r) {
		a.render(w, r, status, views.LoanStatusPanel(sp, false))
		return
	}
	d := a.loanDetail(r.Context(), l, user)
	d.Status = sp
	a.renderLoanPage(w, r, status, l, d)
}

// normalizeReason trims a reason and checks it; the message is for people.
func normalizeReason(s string) (string, string) {
	if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }) {
		return "", "The reason contains characters that are not allowed."
	}
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > maxReasonLen {
		return "", fmt.Sprintf("Keep the reason under %d characters.", maxReasonLen)
	}
	return s, ""
}
