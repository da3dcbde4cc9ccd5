package handlers

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/go-chi/chi/v5"

	"loandesk/application"
	"loandesk/auth"
	"loandesk/store"
	"loandesk/views"
)

// maxFormBytes bounds a submitted form; the largest real one is ~2 KB.
const maxFormBytes = 64 << 10

// UpdateLoanSection saves a section's form (PUT from htmx, POST without
// JavaScript) against the version it was loaded at. A newer version gives
// 409 with the conflict prompt; invalid fields 422 with their messages.
func (a *App) UpdateLoanSection(w http.ResponseWriter, r *http.Request) {
	section, ok := sectionParam(r)
	if !ok {
		a.NotFound(w, r)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		a.ErrorPage(w, r, http.StatusBadRequest, "Unreadable form", "The form could not be read. Reload the page and try again.")
		return
	}
	raw, rawErrs := sectionInput(r, section)
	user, _ := auth.UserFrom(r.Context())
	version := parseVersion(r.PostForm.Get("version"))

	out, err := a.saveLoanEdit(r.Context(), user, chi.URLParam(r, "id"), version, raw)
	if len(rawErrs) > 0 && err == nil && out.Refused == "" {
		out.Errors = rawErrs // repeated fields: report them, save nothing
		out.Conflict = nil
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		a.ErrorPage(w, r, http.StatusNotFound, "Application not found", "There is no such application.")
	case err != nil:
		a.ServerError(w, r, err)
	case out.Refused != "":
		a.ErrorPage(w, r, http.StatusForbidden, "Not editable", out.Refused)
	case len(out.Errors) > 0:
		values := application.ValuesOf(out.Loan)
		for k, v := range raw {
			values[k] = v // show what was typed
		}
		a.renderSection(w, r, http.StatusUnprocessableEntity, out.Loan, user, sectionForm(out.Loan, section, version, values, out.Errors))
	case out.Conflict != nil:
		s := sectionView(out.Loan, section, user)
		s.Conflict = conflictView(out.Conflict, out.Loan)
		a.renderSection(w, r, http.StatusConflict, out.Loan, user, s)
	default:
		notice := fmt.Sprintf("Saved as version %d.", out.Loan.Version)
		if out.Loan.Version == version {
			notice = "Nothing had changed."
		}
		if !isFragment(r) {
			a.flash(r, notice)
			a.redirect(w, r, loanURL(out.Loan.HumanID))
			return
		}
		s := sectionView(out.Loan, section, user)
		s.Notice = notice
		a.render(w, r, http.StatusOK, views.LoanSectionSaved(s, a.statusPanel(out.Loan, user), historyEntries(out.Loan.History)))
	}
}

// sectionInput collects the submitted fields of section. Other keys
// (version, anything a tampered form adds) are ignored; a field sent
// twice is an error rather than a guess.
func sectionInput(r *http.Request, section application.Section) (map[string]string, application.Errors) {
	raw, errs := map[string]string{}, application.Errors{}
	for _, f := range application.SectionFields(section) {
		vs, ok := r.PostForm[f.Key]
		switch {
		case !ok:
		case len(vs) != 1:
			errs.Add(f.Key, application.CodeRepeated, "Send this field once.")
		default:
			raw[f.Key] = vs[0]
		}
	}
	return raw, errs
}
