package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"loandesk/application"
	"loandesk/auth"
	"loandesk/model"
	"loandesk/views"
)

// maxFormBytes bounds a submitted form; the largest real one is ~2 KB.
const maxFormBytes = 64 << 10

// UpdateLoanSection saves a section's form (PUT from htmx, POST without
// JavaScript) against the version it was loaded at, through the loan
// service. A newer version gives 409 with the conflict prompt; invalid
// fields 422 with their messages; a read-only role 403.
func (a *App) UpdateLoanSection(w http.ResponseWriter, r *http.Request) {
	section, ok := sectionParam(r)
	if !ok {
		a.NotFound(w, r)
		return
	}
	if !a.parseForm(w, r) {
		return
	}
	version, ok := a.versionField(w, r)
	if !ok {
		return
	}
	user, _ := auth.UserFrom(r.Context())
	req := application.EditRequest{
		Actor: user, LoanID: chi.URLParam(r, "id"),
		Version: version, Fields: sectionInput(r, section),
	}

	res, err := a.Service.Edit(r.Context(), req)
	var (
		invalid   *application.Invalid
		conflict  *application.Conflict
		forbidden *application.Forbidden
	)
	switch {
	case errors.Is(err, model.ErrNotFound):
		a.ErrorPage(w, r, http.StatusNotFound, "Application not found", "There is no such application.")
	case errors.As(err, &forbidden):
		a.ErrorPage(w, r, http.StatusForbidden, "Not editable", forbidden.Reason)
	case errors.As(err, &invalid):
		values := application.ValuesOf(invalid.Loan)
		for k, v := range req.Fields {
			values[k] = v // show what was typed
		}
		form := sectionForm(invalid.Loan, section, req.Version, values, invalid.Fields)
		form.Focus = views.FocusError
		a.renderSection(w, r, http.StatusUnprocessableEntity, invalid.Loan, user, form)
	case errors.As(err, &conflict):
		s := sectionView(conflict.Loan, section, user)
		s.Conflict = a.conflictView(r.Context(), conflict)
		s.Focus = views.FocusConflict
		// The prompt, and out of band what the newer version changed
		// elsewhere on the page (header, history, the panels that carry
		// the version), as a successful save refreshes them.
		d := a.loanDetail(r.Context(), conflict.Loan, user)
		a.respond(w, r, http.StatusConflict, views.LoanSectionSaved(s, d), func() {
			a.renderSection(w, r, http.StatusConflict, conflict.Loan, user, s)
		})
	case err != nil:
		a.ServerError(w, r, err)
	default:
		a.rescoreEdited(r, res)
		notice := fmt.Sprintf("Saved as version %d.", res.Loan.Version)
		if !res.Saved {
			notice = "Nothing had changed."
		}
		s := sectionView(res.Loan, section, user)
		s.Notice, s.Focus = notice, views.FocusHeading
		a.respond(w, r, http.StatusOK, views.LoanSectionSaved(s, a.loanDetail(r.Context(), res.Loan, user)), func() {
			a.flash(r, notice)
			a.redirect(w, r, loanURL(res.Loan.HumanID))
		})
	}
}

// sectionInput collects the submitted fields of section. Other keys
// (version, anything a tampered form adds) are ignored; a field sent
// twice never gets here (the request is refused before any handler).
func sectionInput(r *http.Request, section application.Section) map[string]string {
	raw := map[string]string{}
	for _, f := range application.SectionFields(section) {
		if vs, ok := r.PostForm[f.Key]; ok && len(vs) > 0 {
			raw[f.Key] = vs[0]
		}
	}
	return raw
}

// rescoreEdited asks for the application to be scored again when the
// loan service says an edit calls for it (application.RescoreAfterEdit),
// once per version (its dedupe key).
func (a *App) rescoreEdited(r *http.Request, res application.Result) {
	if !application.RescoreAfterEdit(res) {
		return
	}
	a.rescore(r, res.Loan, "edited (version "+strconv.FormatInt(res.Loan.Version, 10)+")", res.Loan.HumanID+"@v"+strconv.FormatInt(res.Loan.Version, 10))
}
