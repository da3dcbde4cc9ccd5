package handlers

import (
	"context"
	"slices"
	"time"

	"loandesk/application"
	"loandesk/auth"
	"loandesk/model"
	"loandesk/store"
	"loandesk/views"
)

// historyShown bounds the activities and notes a loan page lists (the
// versioned changes are all listed).
const historyShown = 200

// loanHistory is an application's whole history as user sees it, newest
// first: its versioned changes, its notes and its activity (documents
// uploaded, read, unreadable, deleted or replaced, scores, jobs given
// up), failures in staff terms (the raw error is for admins on the queue
// page). If the notes or the
// activity cannot be read, the changes are listed alone (and it is
// logged).
func (a *App) loanHistory(ctx context.Context, l model.Loan, user auth.User) []views.HistoryEntry {
	type dated struct {
		at time.Time
		e  views.HistoryEntry
	}
	var all []dated
	names := a.staffNames(ctx)
	for i, e := range a.historyEntries(l.History, names) {
		all = append(all, dated{l.History[len(l.History)-1-i].At, e})
	}
	if a.Work != nil {
		acts, err := a.Work.ActivityOfLoan(ctx, l.ID, historyShown)
		if err != nil {
			a.Logger.Error("loan page: activity", "loan", l.HumanID, "err", err)
		}
		for _, act := range acts {
			all = append(all, dated{act.At, a.activityEntry(act, names)})
		}
		notes, err := a.Work.NotesOfLoan(ctx, l.ID, historyShown)
		if err != nil {
			a.Logger.Error("loan page: notes for the history", "loan", l.HumanID, "err", err)
		}
		for _, n := range notes {
			e := views.HistoryEntry{When: a.formatDateTime(n.At), Kind: "note", Event: "Note: " + n.Text}
			e.Who, e.WhoEmail = names.who(n.By, n.ByName)
			all = append(all, dated{n.At, e})
		}
	}
	slices.SortStableFunc(all, func(x, y dated) int { return y.at.Compare(x.at) })
	out := make([]views.HistoryEntry, len(all))
	for i, d := range all {
		out[i] = d.e
	}
	return out
}

// activityEntry is one activity for people.
func (a *App) activityEntry(act model.Activity, names staffNames) views.HistoryEntry {
	e := views.HistoryEntry{When: a.formatDateTime(act.At), Who: "Loan Desk", Kind: act.Kind}
	if act.By != "" {
		e.Who, e.WhoEmail = names.who(act.By, "")
	}
	switch act.Kind {
	case model.ActivityUploaded:
		e.Event = "Uploaded " + act.Subject + " (" + application.DocumentKindLabel(act.Text) + ")"
	case model.ActivityRead:
		e.Event = "Read " + act.Subject
	case model.ActivityUnreadable:
		e.Event = "Could not read " + act.Subject + ": " + staffError(cmpOr(act.Raw, "failed"))
	case model.ActivityDeleted:
		e.Event = "Deleted " + act.Subject + " (kept for audit). Reason: " + act.Text
	case model.ActivityReplaced:
		e.Event = "Replaced " + act.Subject + " with " + act.Text + " (the old file is kept for audit)"
		if act.Reason != "" {
			e.Event += ". Reason: " + act.Reason
		}
	case model.ActivityScored:
		e.Event = "Scored " + act.Text + " points: " + cmpOr(recommendationLabel(act.Subject), act.Subject)
	case model.ActivityJobFailed:
		e.Event = jobLabel(act.Subject) + " failed and was given up: " + staffError(cmpOr(act.Raw, "failed"))
	default:
		e.Event = "Something happened that this version does not describe."
	}
	return e
}

// recommendationLabel is a scorecard recommendation for people.
func recommendationLabel(rec string) string {
	for _, c := range recommendationLabels {
		if c.Value == rec && rec != "" {
			return c.Label
		}
	}
	return ""
}

func cmpOr(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

// staffNames gives staff e-mails their names, for the history: people
// read names, auditors the e-mail (shown as the name's tooltip). The
// zero value knows no names.
type staffNames struct{ dir *store.StaffDirectory }

// staffNames are the current admins' and underwriters' names (the same
// short-lived list as the assignee choices).
func (a *App) staffNames(ctx context.Context) staffNames {
	return staffNames{a.staff(ctx)}
}

// who is how an entry by email names its author: the name recorded with
// it (recorded), else the staff member's current name, else the e-mail
// itself; and the e-mail for the tooltip when the name is shown ("" when
// there is no e-mail to add: "seed", the e-mail itself).
func (n staffNames) who(email, recorded string) (who, title string) {
	who = cmpOr(recorded, n.dir.Name(email))
	if who == "" || who == email {
		return email, ""
	}
	return who, email
}

// person is how a value naming staff (an assignee) is shown: the name,
// and the e-mail for its tooltip ("" when the name is the e-mail, or for
// nobody).
func (n staffNames) person(email string) (name, title string) {
	if email == "" {
		return "", ""
	}
	return n.who(email, "")
}

// name is the staff member's name for email, else email.
func (n staffNames) name(email string) string {
	who, _ := n.who(email, "")
	return who
}
