package handlers

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strconv"

	"github.com/a-h/templ"

	"loandesk/application"
	"loandesk/auth"
	"loandesk/model"
	"loandesk/views"
)

// livePanels are the loan page's panels that background jobs change:
// documents (OCR), jobs and the scorecard. Score.Pending and
// Jobs.Pending say whether a job is still to finish, so the panels poll
// only while something is under way.
func (a *App) livePanels(ctx context.Context, l model.Loan, user auth.User) (views.Documents, views.JobList, views.ScoreView, error) {
	score := scoreView(l, user)
	if a.Work == nil {
		return views.Documents{}, views.JobList{}, score, nil
	}
	docs, err := a.documentsPanel(ctx, l, user)
	if err != nil {
		return docs, views.JobList{}, score, err
	}
	jobs, err := a.jobsPanel(ctx, l, user)
	if err != nil {
		return docs, jobs, score, err
	}
	score.Pending, score.Reading = docs.Busy || jobs.Pending, docs.Busy
	return docs, jobs, score, nil
}

// ShowScore is the scorecard panel, polled while a document is read or a
// scoring runs; once nothing is pending it also refreshes the status
// panel out of band (what may be done can depend on the score).
func (a *App) ShowScore(w http.ResponseWriter, r *http.Request) {
	l, ok := a.loadLoan(w, r)
	if !ok {
		return
	}
	user, _ := auth.UserFrom(r.Context())
	a.respond(w, r, http.StatusOK, templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		_, _, score, err := a.livePanels(ctx, l, user)
		if err != nil {
			return err
		}
		if err := views.ScorePanel(score, false).Render(ctx, w); err != nil {
			return err
		}
		if score.Pending {
			return nil
		}
		return views.LoanStatusPanel(a.statusPanel(l, user), true).Render(ctx, w)
	}), func() {
		http.Redirect(w, r, loanURL(l.HumanID)+"#score-panel", http.StatusSeeOther)
	})
}

// ShowJobs is the background jobs panel, polled while a job is pending.
func (a *App) ShowJobs(w http.ResponseWriter, r *http.Request) {
	l, ok := a.loadLoan(w, r)
	if !ok {
		return
	}
	user, _ := auth.UserFrom(r.Context())
	a.respond(w, r, http.StatusOK, templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		j, err := a.jobsPanel(ctx, l, user)
		if err != nil {
			return err
		}
		return views.JobsPanel(j, false).Render(ctx, w)
	}), func() {
		http.Redirect(w, r, loanURL(l.HumanID)+"#jobs-panel", http.StatusSeeOther)
	})
}

// ShowChangedNotice tells an editor whose section form is open whether
// someone else saved the application since the form's version (?since=):
// while nobody has, it answers the poller itself (the form polls every
// 5 s); once someone has, who changed what, and the polling stops. Their
// typing stays: a save then meets the conflict prompt.
func (a *App) ShowChangedNotice(w http.ResponseWriter, r *http.Request) {
	l, ok := a.loadLoan(w, r)
	if !ok {
		return
	}
	since := parseVersion(r.URL.Query().Get("since"))
	n := views.ChangedNotice{URL: r.URL.Path + "?since=" + v64(since)}
	if since > 0 && l.Version > since {
		c := &application.Conflict{Loan: l}
		for _, h := range l.History {
			if h.Version > since {
				c.Since = append(c.Since, h)
			}
		}
		n.Message = c.MessageNamed(a.staffNames(r.Context()).name)
	}
	a.respond(w, r, http.StatusOK, views.ChangedNoticeBox(n), func() {
		http.Redirect(w, r, loanURL(l.HumanID), http.StatusSeeOther)
	})
}

// ShowLive answers the loan page's poller (static/app.js: every 10 s while
// the tab is visible and its user was active in the last 15 minutes):
// while the application is still at the page's version (?v=) and its
// activity and notes at the page's stamp (?a=, liveStamp), a bare 204
// after those reads, nothing rendered; once either is newer (another
// admin's save, upload or note, a job), the page's sections and panels
// as the viewer may see them, out of band, as a successful save
// refreshes them (views.LoanLive; the browser keeps an open form and a
// panel holding unsaved typing). Without htmx it is always a redirect to
// the page.
func (a *App) ShowLive(w http.ResponseWriter, r *http.Request) {
	l, ok := a.loadLoan(w, r)
	if !ok {
		return
	}
	if r.Header.Get("HX-Request") != "true" {
		// Opened as a page (signing in to it, a link, a bookmark): the
		// application's page, changed or not.
		http.Redirect(w, r, loanURL(l.HumanID), http.StatusSeeOther)
		return
	}
	q := r.URL.Query()
	v, err := strconv.ParseInt(q.Get("v"), 10, 64)
	if err != nil || v < 0 || !liveStampShape.MatchString(q.Get("a")) {
		// Only a forged address: the page's poller sends what it was given.
		a.ErrorPage(w, r, http.StatusBadRequest, "Bad request", "v must be a version and a the page's stamp, as the page's poller sends them.")
		return
	}
	if l.Version <= v && a.liveStamp(r.Context(), l) == q.Get("a") {
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	user, _ := auth.UserFrom(r.Context())
	d := a.loanDetail(r.Context(), l, user)
	for i := range d.Sections {
		d.Sections[i].OOB = true
	}
	a.respond(w, r, http.StatusOK, views.LoanLive(d), func() {
		http.Redirect(w, r, loanURL(l.HumanID), http.StatusSeeOther)
	})
}

// liveStamp is what changes l's page without changing its version: the
// ids of its newest activity (a document uploaded, read, unreadable,
// deleted or replaced, a score, a job given up) and its newest note, as
// "<activity>.<note>" (either part "" while there is none). Ids are
// compared for equality only, so ids made by other processes do not need
// to be ordered. Unreadable (logged), that part is "": the page is then
// refreshed once it can be read again.
func (a *App) liveStamp(ctx context.Context, l model.Loan) string {
	if a.Work == nil {
		return "."
	}
	var act, note string
	if acts, err := a.Work.ActivityOfLoan(ctx, l.ID, 1); err != nil {
		a.Logger.Error("loan page: newest activity", "loan", l.HumanID, "err", err)
	} else if len(acts) > 0 {
		act = acts[0].ID.Hex()
	}
	if notes, err := a.Work.NotesOfLoan(ctx, l.ID, 1); err != nil {
		a.Logger.Error("loan page: newest note", "loan", l.HumanID, "err", err)
	} else if len(notes) > 0 {
		note = notes[0].ID.Hex()
	}
	return act + "." + note
}

// liveStampShape is what liveStamp makes (each part an ObjectID's hex or
// empty); a page from before the stamp sends none.
var liveStampShape = regexp.MustCompile(`^(|[0-9a-f]{0,24}\.[0-9a-f]{0,24})$`)

func v64(n int64) string { return strconv.FormatInt(n, 10) }
