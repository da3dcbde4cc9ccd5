package handlers

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/go-chi/chi/v5"

	"loandesk/application"
	"loandesk/auth"
	"loandesk/views"
)

// newLoanDefaults are the new-application form's starting values.
var newLoanDefaults = application.Values{"employment": "salaried", "product": "personal", "existingEmis": "0", "propertyValue": "0"}

// ShowNewLoan is the "New application" form, for staff who work
// applications. Each form carries a fresh idempotency key, so a double
// submit files one application.
func (a *App) ShowNewLoan(w http.ResponseWriter, r *http.Request) {
	user, _ := auth.UserFrom(r.Context())
	if !application.CanWork(user.Role) {
		a.ErrorPage(w, r, http.StatusForbidden, "Not allowed", "Your role can view applications but not file them.")
		return
	}
	f := newLoanForm(newLoanDefaults, nil)
	f.IdempotencyKey = newIdempotencyKey()
	a.render(w, r, http.StatusOK, views.NewLoanPage(a.page(r, "New application", "loans"), f))
}

// CreateLoan files the new-application form through the loan service:
// 422 with the messages beside the fields (the form swapped in place
// under htmx), else to the new application's page.
func (a *App) CreateLoan(w http.ResponseWriter, r *http.Request) {
	if !a.parseForm(w, r) {
		return
	}
	user, _ := auth.UserFrom(r.Context())
	typed := map[string]string{}
	for _, f := range application.Fields {
		if vs, ok := r.PostForm[f.Key]; ok && len(vs) > 0 {
			typed[f.Key] = vs[0]
		}
	}
	key := r.PostForm.Get("idempotencyKey")
	res, err := a.Service.Create(r.Context(), application.CreateRequest{Actor: user, Fields: typed, IdempotencyKey: key})
	var (
		invalid   *application.Invalid
		forbidden *application.Forbidden
	)
	switch {
	case errors.As(err, &forbidden):
		a.ErrorPage(w, r, http.StatusForbidden, "Not allowed", forbidden.Reason)
	case errors.As(err, &invalid):
		f := newLoanForm(application.Values(typed), invalid.Fields)
		f.IdempotencyKey = key
		f.Error = "Some fields need attention: see the messages below."
		if p, ok := invalid.Fields["idempotencyKey"]; ok {
			f.Error, f.IdempotencyKey = p.Message+" Check the application list before filing again.", newIdempotencyKey()
		}
		a.respond(w, r, http.StatusUnprocessableEntity, views.NewLoanFormCard(f), func() {
			a.render(w, r, http.StatusUnprocessableEntity, views.NewLoanPage(a.page(r, "New application", "loans"), f))
		})
	case err != nil:
		a.ServerError(w, r, err)
	default:
		msg := fmt.Sprintf("Filed %s.", res.Loan.HumanID)
		if len(res.Loan.Flags) > 0 {
			msg += " Warning: " + application.FlagText(res.Loan.Flags[0]) + "."
		}
		a.flash(r, msg)
		a.redirect(w, r, loanURL(res.Loan.HumanID))
	}
}

// newLoanForm is the form showing values and the errors against them.
func newLoanForm(values application.Values, errs application.Errors) views.NewLoanForm {
	var f views.NewLoanForm
	focused := false // a new form: its first field takes the keyboard; a refused one: its first error
	for _, s := range application.Sections {
		ns := views.NewLoanSection{Key: string(s), Title: sectionTitles[s], Inputs: formInputs(application.SectionFields(s), values, errs)}
		switch {
		case focused:
		case len(errs) == 0:
			ns.Focus, focused = views.FocusFirst, true
		case slices.ContainsFunc(ns.Inputs, func(in views.FieldInput) bool { return in.Error != "" }):
			ns.Focus, focused = views.FocusError, true
		}
		f.Sections = append(f.Sections, ns)
	}
	return f
}

func newIdempotencyKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// AcknowledgeFlag records a member of staff's acknowledgement of a
// warning on an application (a note is required), against the version
// shown; refusals re-show the page with the message at the warning.
func (a *App) AcknowledgeFlag(w http.ResponseWriter, r *http.Request) {
	if !a.parseForm(w, r) {
		return
	}
	version, ok := a.versionField(w, r)
	if !ok {
		return
	}
	user, _ := auth.UserFrom(r.Context())
	req := application.AckRequest{
		Actor: user, LoanID: chi.URLParam(r, "id"), Version: version,
		Code: r.PostForm.Get("code"), OtherLoan: r.PostForm.Get("otherLoan"), Note: r.PostForm.Get("note"),
	}
	_, err := a.Service.AcknowledgeFlag(r.Context(), req)
	status, l, msg, ok := a.actionOutcome(w, r, err)
	if !ok {
		return
	}
	var inv *application.Invalid
	if errors.As(err, &inv) && inv.Fields["flag"].Code != "" {
		a.ErrorPage(w, r, status, "No such warning", inv.Fields["flag"].Message)
		return
	}
	if status != 0 {
		d := a.loanDetail(r.Context(), l, user)
		for i := range d.Flags {
			if d.Flags[i].Code == req.Code && d.Flags[i].OtherLoan == req.OtherLoan {
				d.Flags[i].Error, d.Flags[i].Note = msg, req.Note
			}
		}
		a.renderLoanPage(w, r, status, l, d)
		return
	}
	a.flash(r, "Warning acknowledged.")
	a.redirect(w, r, loanURL(req.LoanID)+"#flags-panel")
}
