package handlers

import (
	"context"
	"net/http"
	"time"

	"loandesk/application"
	"loandesk/auth"
	"loandesk/model"
	"loandesk/views"
)

// notesShown is how many of an application's notes its page shows.
const notesShown = 100

// AddNote is POST /loans/{id}/notes: a member of staff adds a note (who,
// when, text). A note is not a versioned change: the loan's version stays,
// so it never conflicts with an edit open elsewhere, and an edit saved
// meanwhile never conflicts with it. Viewers get a 403; an empty or too
// long note a 422 with the typing kept. htmx gets the notes panel back,
// a plain form a redirect to the application.
func (a *App) AddNote(w http.ResponseWriter, r *http.Request) {
	if !a.parseForm(w, r) {
		return
	}
	l, ok := a.loadLoan(w, r)
	if !ok {
		return
	}
	user, _ := auth.UserFrom(r.Context())
	if !application.CanAddNote(user.Role) {
		a.ErrorPage(w, r, http.StatusForbidden, "Not available to you", "Viewers read notes; underwriters and admins add them.")
		return
	}
	typed := r.PostForm.Get("text")
	text, msg := application.NoteText(typed)
	if msg != "" {
		a.notesAnswer(w, r, http.StatusUnprocessableEntity, l, user, func(p *views.LoanNotes) { p.Draft, p.Error = typed, msg })
		return
	}
	_, err := a.Work.NoteAdd(r.Context(), model.Note{
		LoanID: l.ID, LoanHumanID: l.HumanID, By: user.Email, ByName: user.Name, At: a.now().UTC().Truncate(time.Millisecond), Text: text,
	})
	if err != nil {
		a.ServerError(w, r, err)
		return
	}
	if isFragment(r) {
		a.notesAnswer(w, r, http.StatusOK, l, user, func(p *views.LoanNotes) { p.Notice = "Note added." })
		return
	}
	a.flash(r, "Note added.")
	a.redirect(w, r, loanURL(l.HumanID)+"#notes-panel")
}

// notesAnswer answers with the notes panel (htmx) or the whole page,
// the panel changed by set.
func (a *App) notesAnswer(w http.ResponseWriter, r *http.Request, status int, l model.Loan, user auth.User, set func(*views.LoanNotes)) {
	panel := a.notesPanel(r.Context(), l, user)
	set(&panel)
	a.respond(w, r, status, views.NotesPanel(panel), func() {
		d := a.loanDetail(r.Context(), l, user)
		set(&d.Notes)
		a.renderLoanPage(w, r, status, l, d)
	})
}

// notesPanel is l's newest notes as user sees them. On a read error the
// panel says nothing is shown rather than failing the page.
func (a *App) notesPanel(ctx context.Context, l model.Loan, user auth.User) views.LoanNotes {
	p := views.LoanNotes{URL: loanURL(l.HumanID) + "/notes", CanAdd: application.CanAddNote(user.Role), MaxLen: application.MaxNoteLen}
	notes, err := a.Work.NotesOfLoan(ctx, l.ID, notesShown+1)
	if err != nil {
		a.Logger.Error("loan page: notes", "loan", l.HumanID, "err", err)
		p.Error = "The notes could not be read just now; reload to try again."
		return p
	}
	if len(notes) > notesShown {
		notes, p.More = notes[:notesShown], true
	}
	var names staffNames
	for _, n := range notes {
		if n.ByName == "" && names.dir == nil {
			names = a.staffNames(ctx) // once, for notes recorded without a name
		}
		// By name, the e-mail as its tooltip, as the history names them.
		who, email := names.who(n.By, n.ByName)
		p.Notes = append(p.Notes, views.NoteView{
			Who: who, WhoEmail: email, When: a.formatDateTime(n.At), ISO: n.At.UTC().Format(time.RFC3339), Text: n.Text,
		})
	}
	return p
}
