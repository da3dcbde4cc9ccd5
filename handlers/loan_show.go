package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"loandesk/application"
	"loandesk/auth"
	"loandesk/model"
	"loandesk/store"
	"loandesk/views"
)

// ShowLoan renders an application's page.
func (a *App) ShowLoan(w http.ResponseWriter, r *http.Request) {
	l, ok := a.loadLoan(w, r)
	if !ok {
		return
	}
	user, _ := auth.UserFrom(r.Context())
	d := a.loanDetail(r.Context(), l, user)
	a.listNav(r.Context(), r, l, user, &d)
	a.renderLoanPage(w, r, http.StatusOK, l, d)
}

// ShowLoanSection renders one section read-only: the "Cancel" and "Load
// latest" of an edit. Without htmx it is the whole page.
func (a *App) ShowLoanSection(w http.ResponseWriter, r *http.Request) {
	section, l, user, ok := a.loadLoanSection(w, r)
	if !ok {
		return
	}
	s := sectionView(l, section, user)
	s.Focus = views.FocusHeading // back from the form: the keyboard stays in the section
	d := a.loanDetail(r.Context(), l, user)
	// With htmx (Cancel, a conflict's "Load latest"): the section, and
	// out of band the panels the version it shows may have changed.
	a.respond(w, r, http.StatusOK, views.LoanSectionSaved(s, d), func() {
		a.renderLoanPage(w, r, http.StatusOK, l, d)
	})
}

// EditLoanSection turns a section into its form, at the version shown.
func (a *App) EditLoanSection(w http.ResponseWriter, r *http.Request) {
	section, l, user, ok := a.loadLoanSection(w, r)
	if !ok {
		return
	}
	if !application.CanEdit(user.Role, l.Status) {
		a.ErrorPage(w, r, http.StatusForbidden, "Not editable", application.EditRefusal(user.Role, l.Status))
		return
	}
	form := sectionForm(l, section, l.Version, application.ValuesOf(l), nil)
	form.Focus = views.FocusFirst
	a.renderSection(w, r, http.StatusOK, l, user, form)
}

// loadLoan reads the application named in the URL, answering 404 itself.
func (a *App) loadLoan(w http.ResponseWriter, r *http.Request) (model.Loan, bool) {
	id := chi.URLParam(r, "id")
	l, err := a.Loans.LoanGet(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		a.ErrorPage(w, r, http.StatusNotFound, "Application not found", "There is no application "+id+".")
		return model.Loan{}, false
	}
	if err != nil {
		a.ServerError(w, r, err)
		return model.Loan{}, false
	}
	return l, true
}

// loadLoanSection reads the section and application named in the URL,
// answering 404 itself.
func (a *App) loadLoanSection(w http.ResponseWriter, r *http.Request) (application.Section, model.Loan, auth.User, bool) {
	section, ok := sectionParam(r)
	if !ok {
		a.NotFound(w, r)
		return "", model.Loan{}, auth.User{}, false
	}
	l, ok := a.loadLoan(w, r)
	user, _ := auth.UserFrom(r.Context())
	return section, l, user, ok
}

// parseForm reads a posted urlencoded form (64 KB at most), answering a
// 400 page itself when it cannot be read or is ambiguous: a field sent
// twice, or text that is not valid UTF-8. (The router refuses those
// before any handler; this keeps a handler safe wherever it is mounted.)
func (a *App) parseForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		a.ErrorPage(w, r, http.StatusBadRequest, "Unreadable form", "The form could not be read. Reload the page and try again.")
		return false
	}
	for key, vs := range r.Form {
		if len(vs) > 1 {
			a.ErrorPage(w, r, http.StatusBadRequest, "Unreadable form", "The field "+strconv.Quote(key)+" was sent more than once. Reload the page and try again.")
			return false
		}
		if !utf8.ValidString(key) || len(vs) == 1 && !utf8.ValidString(vs[0]) {
			a.ErrorPage(w, r, http.StatusBadRequest, "Unreadable form", "The form contains text that is not valid UTF-8.")
			return false
		}
	}
	return true
}

// versionField is a single application form's hidden version (the
// section edit, status, assignee and warning forms). A malformed one
// (formVersion) is answered here as a malformed form, 422 with nothing
// changed, and ok is false; for htmx the answer replaces the page, not
// the panel that sent the form.
func (a *App) versionField(w http.ResponseWriter, r *http.Request) (v int64, ok bool) {
	if v, ok = formVersion(r.PostForm.Get("version")); ok {
		return v, true
	}
	if isFragment(r) {
		w.Header().Set("HX-Retarget", "body")
		w.Header().Set("HX-Reswap", "innerHTML")
	}
	a.ErrorPage(w, r, http.StatusUnprocessableEntity, "Nothing was changed",
		"The form sent a version of "+chi.URLParam(r, "id")+" that its page never writes. Reload the application and try again.")
	return 0, false
}

func sectionParam(r *http.Request) (application.Section, bool) {
	s := application.Section(chi.URLParam(r, "section"))
	_, ok := sectionTitles[s]
	return s, ok
}

// renderSection answers with one section: alone for htmx, else inside the
// whole page.
func (a *App) renderSection(w http.ResponseWriter, r *http.Request, status int, l model.Loan, user auth.User, s views.LoanSection) {
	a.respond(w, r, status, views.LoanSectionCard(s), func() {
		d := a.loanDetail(r.Context(), l, user)
		for i := range d.Sections {
			if d.Sections[i].Key == s.Key {
				d.Sections[i] = s
			}
		}
		a.renderLoanPage(w, r, status, l, d)
	})
}

func (a *App) renderLoanPage(w http.ResponseWriter, r *http.Request, status int, l model.Loan, d views.LoanDetail) {
	a.render(w, r, status, views.LoanDetailPage(a.page(r, l.HumanID+" · "+l.Applicant.Name, "loans"), d))
}
