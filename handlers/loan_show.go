package handlers

import (
	"errors"
	"net/http"

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
	a.renderLoanPage(w, r, http.StatusOK, l, a.loanDetail(r.Context(), l, user))
}

// ShowLoanSection renders one section read-only: the "Cancel" and "Load
// latest" of an edit. Without htmx it is the whole page.
func (a *App) ShowLoanSection(w http.ResponseWriter, r *http.Request) {
	section, l, user, ok := a.loadLoanSection(w, r)
	if !ok {
		return
	}
	if !isFragment(r) {
		a.renderLoanPage(w, r, http.StatusOK, l, a.loanDetail(r.Context(), l, user))
		return
	}
	a.render(w, r, http.StatusOK, views.LoanSectionCard(sectionView(l, section, user)))
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

// loadLoanForm reads a posted form (64 KB at most) and the application
// named in the URL, answering errors itself.
func (a *App) loadLoanForm(w http.ResponseWriter, r *http.Request) (model.Loan, auth.User, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		a.ErrorPage(w, r, http.StatusBadRequest, "Unreadable form", "The form could not be read. Reload the page and try again.")
		return model.Loan{}, auth.User{}, false
	}
	l, ok := a.loadLoan(w, r)
	user, _ := auth.UserFrom(r.Context())
	return l, user, ok
}

func sectionParam(r *http.Request) (application.Section, bool) {
	s := application.Section(chi.URLParam(r, "section"))
	_, ok := sectionTitles[s]
	return s, ok
}

// renderSection answers with one section: alone for htmx, else inside the
// whole page.
func (a *App) renderSection(w http.ResponseWriter, r *http.Request, status int, l model.Loan, user auth.User, s views.LoanSection) {
	if isFragment(r) {
		a.render(w, r, status, views.LoanSectionCard(s))
		return
	}
	d := a.loanDetail(r.Context(), l, user)
	for i := range d.Sections {
		if d.Sections[i].Key == s.Key {
			d.Sections[i] = s
		}
	}
	a.renderLoanPage(w, r, status, l, d)
}

func (a *App) renderLoanPage(w http.ResponseWriter, r *http.Request, status int, l model.Loan, d views.LoanDetail) {
	a.render(w, r, status, views.LoanDetailPage(a.page(r, l.HumanID+" · "+l.Applicant.Name, "loans"), d))
}
