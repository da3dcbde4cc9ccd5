package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"loandesk/application"
	"loandesk/auth"
	"loandesk/model"
	"loandesk/store"
	"loandesk/views"
)

// ShowQueue is the administrators' job queue page.
func (a *App) ShowQueue(w http.ResponseWriter, r *http.Request) {
	q, err := a.queueView(r.Context())
	if err != nil {
		a.ServerError(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, views.QueuePage(a.page(r, "Job queue", "queue"), q))
}

// ShowQueueStats is the queue page's self-refreshing counts; opened
// outside htmx (a bookmark, a new tab) it is the whole queue page, never
// a bare fragment without a title or language.
func (a *App) ShowQueueStats(w http.ResponseWriter, r *http.Request) {
	q, err := a.queueView(r.Context())
	if err != nil {
		a.ServerError(w, r, err)
		return
	}
	a.respond(w, r, http.StatusOK, views.QueueStatsPanel(q), func() {
		a.render(w, r, http.StatusOK, views.QueuePage(a.page(r, "Job queue", "queue"), q))
	})
}

// RetryJob requeues a dead job from the queue page.
func (a *App) RetryJob(w http.ResponseWriter, r *http.Request) { a.actOnDead(w, r, a.Work.Requeue) }

// DiscardJob gives up on a dead job from the queue page.
func (a *App) DiscardJob(w http.ResponseWriter, r *http.Request) { a.actOnDead(w, r, a.Work.Discard) }

func (a *App) actOnDead(w http.ResponseWriter, r *http.Request, act func(context.Context, primitive.ObjectID) error) {
	ev, ok := a.loadEvent(w, r)
	if !ok {
		return
	}
	// Not found: no longer dead (someone acted first); the page shows it.
	if err := act(r.Context(), ev.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		a.ServerError(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/queue", http.StatusSeeOther)
}

// APIQueueStats answers GET /api/admin/queue-stats: counts per event type
// and status, the oldest pending event's age, completions in the last
// five minutes, dead events and the live workers. Admins only.
func (a *App) APIQueueStats(w http.ResponseWriter, r *http.Request) {
	user, _ := auth.UserFrom(r.Context())
	if !user.HasRole(auth.RoleAdmin) {
		a.APIError(w, r, http.StatusForbidden, "forbidden", "Queue statistics are for admins.")
		return
	}
	st, err := a.Work.QueueStats(r.Context(), store.EventTypes)
	if err != nil {
		a.APIServerError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (a *App) loadEvent(w http.ResponseWriter, r *http.Request) (store.Event, bool) {
	id, err := primitive.ObjectIDFromHex(chi.URLParam(r, "event"))
	if err != nil {
		a.NotFound(w, r)
		return store.Event{}, false
	}
	ev, err := a.Work.EventGet(r.Context(), id)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			a.NotFound(w, r)
		} else {
			a.ServerError(w, r, err)
		}
		return store.Event{}, false
	}
	return ev, true
}

func (a *App) queueView(ctx context.Context) (views.QueueView, error) {
	st, err := a.Work.QueueStats(ctx, store.EventTypes)
	if err != nil {
		return views.QueueView{}, err
	}
	q := views.QueueView{
		OldestPending: "none", DoneLately: strconv.FormatInt(st.CompletedLast5Minutes, 10),
		DeadCount: strconv.FormatInt(st.Dead, 10), Statuses: store.EventStatuses,
	}
	if st.OldestPendingSeconds > 0 {
		q.OldestPending = (time.Duration(st.OldestPendingSeconds * float64(time.Second))).Round(time.Second).String()
	}
	for _, typ := range store.EventTypes {
		row := views.QueueRow{Type: typ}
		for _, s := range store.EventStatuses {
			row.Counts = append(row.Counts, strconv.FormatInt(st.Counts[typ][s], 10))
		}
		q.Rows = append(q.Rows, row)
	}
	for _, wk := range st.Workers {
		q.Workers = append(q.Workers, views.WorkerRow{ID: wk.ID, Detail: fmt.Sprintf("%d workers, %d running, %d done, seen %s ago",
			wk.Concurrency, len(wk.Current), wk.Handled, time.Since(wk.LastSeen).Round(time.Second))})
	}
	dead, err := a.Work.EventList(ctx, store.EventListParams{Status: store.EventDead, Limit: 50})
	if err != nil {
		return views.QueueView{}, err
	}
	for _, ev := range dead {
		row := a.jobRow(ev)
		// The staff sentence, and apart from it the raw error (admins only
		// see this page).
		row.Raw, row.Error = row.Error, adminDetail(staffError(row.Error))
		row.RetryURL = "/admin/queue/" + ev.ID.Hex() + "/retry"
		row.DiscardURL = "/admin/queue/" + ev.ID.Hex() + "/discard"
		q.DeadJobs = append(q.DeadJobs, row)
	}
	return q, nil
}

// jobsPanel lists an application's jobs, newest first.
func (a *App) jobsPanel(ctx context.Context, l model.Loan, user auth.User) (views.JobList, error) {
	evs, err := a.Work.EventList(ctx, store.EventListParams{LoanID: l.HumanID, Limit: 20})
	if err != nil {
		return views.JobList{}, err
	}
	j := views.JobList{URL: loanURL(l.HumanID) + "/jobs", CanRetry: application.CanWork(user.Role)}
	for _, ev := range evs {
		if ev.Status == store.EventPending || ev.Status == store.EventProcessing {
			j.Pending = true
		}
		row := a.jobRow(ev)
		row.RetryURL = loanURL(l.HumanID) + "/jobs/" + ev.ID.Hex() + "/retry"
		// Staff terms here; the raw type and error are on the queue page.
		row.Label, row.StatusLabel, row.Error = jobLabel(ev.Type), jobStatusLabels[ev.Status], staffError(row.Error)
		if row.Error != "" && user.IsAdmin() {
			row.DetailURL = "/admin/queue" // the raw error, for admins
			row.Error = adminDetail(row.Error)
		}
		j.Rows = append(j.Rows, row)
	}
	return j, nil
}

func (a *App) jobRow(ev store.Event) views.JobRow {
	row := views.JobRow{
		Type: ev.Type, Status: ev.Status, When: a.formatDateTime(ev.CreatedAt),
		Attempts: jobAttempts(ev), Error: ev.LastError, LoanID: ev.LoanID,
	}
	if ev.Status == store.EventDone {
		row.Error = ""
	}
	if len(row.Error) > 300 {
		row.Error = row.Error[:300] + "…"
	}
	if ev.LoanID != "" {
		row.LoanURL = loanURL(ev.LoanID)
	}
	return row
}

// jobAttempts says how a job's attempts went, for its state: a finished
// job by the attempts it took ("done on attempt 1", "failed after 5
// attempts"), never as if more were to come ("attempt 1 of 5").
func jobAttempts(ev store.Event) string {
	tries := func(n int) string {
		if n == 1 {
			return "1 attempt"
		}
		return strconv.Itoa(n) + " attempts"
	}
	switch {
	case ev.Status == store.EventDone:
		return "done on attempt " + strconv.Itoa(ev.Attempts)
	case ev.Status == store.EventDead:
		return "failed after " + tries(ev.Attempts)
	case ev.Status == store.EventDiscarded:
		return "discarded after " + tries(ev.Attempts)
	case ev.Status == store.EventPending && ev.Attempts == 0:
		return "not started yet (up to " + tries(ev.MaxAttempts) + ")"
	case ev.Status == store.EventPending:
		return tries(ev.Attempts) + " of " + strconv.Itoa(ev.MaxAttempts) + " so far, to be retried"
	}
	return fmt.Sprintf("attempt %d of %d", ev.Attempts, ev.MaxAttempts)
}

// scoreView is an application's scorecard panel.
func scoreView(l model.Loan, user auth.User) views.ScoreView {
	s := views.ScoreView{URL: loanURL(l.HumanID) + "/score", CanScore: application.ScoreRefusal(user.Role, l.Status) == ""}
	if l.Score == nil {
		return s
	}
	s.Recommendation, s.Label = l.Score.Recommendation, application.RecommendationLabel(l.Score.Recommendation)
	s.Points, s.Version, s.Stale = l.Score.Points, l.Score.Version, !application.ScoreIsCurrent(l)
	for _, r := range l.Score.Reasons {
		s.Reasons = append(s.Reasons, views.ScoreLine{Points: fmt.Sprintf("%+d", r.Points), Detail: r.Detail})
	}
	return s
}
