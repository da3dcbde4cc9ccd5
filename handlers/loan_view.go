package handlers

import (
	"cmp"
	"context"
	"slices"
	"strconv"

	"loandesk/application"
	"loandesk/auth"
	"loandesk/model"
	"loandesk/money"
	"loandesk/views"
)

// sectionTitles are the headings of the editable sections.
var sectionTitles = map[application.Section]string{
	application.SectionApplicant: "Applicant",
	application.SectionTerms:     "Loan terms",
}

func loanURL(humanID string) string { return "/loans/" + humanID }

// loanDetail builds an application's page as user sees it.
func (a *App) loanDetail(ctx context.Context, l model.Loan, user auth.User) views.LoanDetail {
	d := views.LoanDetail{
		HumanID:   l.HumanID,
		Applicant: l.Applicant.Name,
		Version:   l.Version,
		Stamp:     a.liveStamp(ctx, l), // before the panels it stands for

		Created: a.formatDate(l.CreatedAt),
		Updated: a.formatDateTime(l.UpdatedAt),
		EMI:     money.FormatINR(application.EMI(l.Terms.Amount, l.Terms.TenureMonths, l.Terms.AnnualRateBps)),
		Status:  a.statusPanel(l, user),
		Assign:  a.assignPanel(ctx, l, user),
		History: a.loanHistory(ctx, l, user),
		Flags:   a.flagViews(l, user),
		Money:   a.moneyPanel(ctx, l, user),
		Notes:   a.notesPanel(ctx, l, user),
	}
	d.UpdatedBy, d.UpdatedByEmail = a.staffNames(ctx).who(l.UpdatedBy, "")
	for _, s := range application.Sections {
		d.Sections = append(d.Sections, sectionView(l, s, user))
	}
	var err error
	if d.Documents, d.Jobs, d.Score, err = a.livePanels(ctx, l, user); err != nil {
		a.Logger.Error("loan page: documents and jobs", "loan", l.HumanID, "err", err)
	}
	return d
}

// sectionView is a section read-only.
func sectionView(l model.Loan, s application.Section, user auth.User) views.LoanSection {
	values := application.ValuesOf(l)
	v := views.LoanSection{
		Key:     string(s),
		Title:   sectionTitles[s],
		URL:     loanURL(l.HumanID) + "/" + string(s),
		Version: l.Version,
		CanEdit: application.CanEdit(user.Role, l.Status),
	}
	for _, f := range application.SectionFields(s) {
		v.Rows = append(v.Rows, views.FieldRow{Label: f.Label, Value: application.Display(f.Key, values[f.Key])})
	}
	return v
}

// sectionForm is a section being edited at version, showing values and
// the errors against them.
func sectionForm(l model.Loan, s application.Section, version int64, values application.Values, errs application.Errors) views.LoanSection {
	v := views.LoanSection{
		Key:     string(s),
		Title:   sectionTitles[s],
		URL:     loanURL(l.HumanID) + "/" + string(s),
		Version: version,
		CanEdit: true,
		Editing: true,
	}
	v.Inputs = formInputs(application.SectionFields(s), values, errs)
	v.ChangedURL = loanURL(l.HumanID) + "/changed?since=" + strconv.FormatInt(version, 10)
	if p, ok := errs["version"]; ok {
		v.Error = p.Message
	}
	return v
}

// formInputs are fields as inputs showing values and the errors against
// them.
func formInputs(fields []application.Field, values application.Values, errs application.Errors) []views.FieldInput {
	out := make([]views.FieldInput, 0, len(fields))
	for _, f := range fields {
		in := views.FieldInput{Key: f.Key, Label: f.Label, Value: values[f.Key], Error: errs[f.Key].Message, Type: "text", MaxLen: f.MaxLen()}
		switch {
		case f.IsChoice():
			in.Type = "select"
			for _, c := range f.Choices() {
				in.Choices = append(in.Choices, views.Choice{Value: c.Value, Label: c.Label, Selected: c.Value == values[f.Key]})
			}
		case f.IsDate():
			in.Type = "date"
		case f.Key == "email":
			in.Type = "email"
		case f.Key == "phone":
			in.Type = "tel"
		}
		out = append(out, in)
	}
	return out
}

// flagViews are l's warnings as user sees them.
func (a *App) flagViews(l model.Loan, user auth.User) []views.FlagView {
	var out []views.FlagView
	for _, f := range l.Flags {
		fv := views.FlagView{Code: f.Code, Text: application.FlagTitle(f), OtherLoan: f.OtherLoan, Version: l.Version}
		if f.OtherLoan != "" {
			fv.OtherURL = loanURL(f.OtherLoan)
		}
		for _, ack := range l.FlagAcks {
			if ack.Code == f.Code && ack.OtherLoan == f.OtherLoan {
				who := cmp.Or(ack.ByName, ack.By)
				fv.Acked = "Acknowledged by " + who + " on " + a.formatDateTime(ack.At) + ": " + ack.Note
			}
		}
		if fv.Acked == "" && application.CanWork(user.Role) {
			fv.AckURL = loanURL(l.HumanID) + "/flags"
		}
		out = append(out, fv)
	}
	return out
}

// conflictView shows a lost edit beside the winners' changes.
func (a *App) conflictView(ctx context.Context, c *application.Conflict) *views.Conflict {
	now := application.ValuesOf(c.Loan)
	out := &views.Conflict{Version: c.Loan.Version, Clashes: c.Clashes, Exact: c.Exact, Since: a.historyEntries(c.Since, a.staffNames(ctx))}
	slices.Reverse(out.Since) // oldest first, as they happened
	for _, m := range c.Mine {
		ch := views.Change{Label: m.Label, From: application.Display(m.Key, m.From), To: application.Display(m.Key, m.To), Clash: m.Clash}
		if m.Clash {
			ch.Theirs = application.Display(m.Key, now[m.Key])
		}
		out.Mine = append(out.Mine, ch)
		out.Apply = append(out.Apply, views.Hidden{Name: m.Key, Value: m.To})
	}
	return out
}

// statusPanel is the status with the moves user may make.
func (a *App) statusPanel(l model.Loan, user auth.User) views.StatusPanel {
	sp := views.StatusPanel{
		URL:       loanURL(l.HumanID) + "/status",
		Version:   l.Version,
		Status:    application.StatusLabels[l.Status],
		StatusKey: l.Status,
	}
	refused := map[string]bool{}
	for _, u := range a.Service.UnavailableMoves(user, l) {
		refused[u.To] = true
		sp.Unavailable = append(sp.Unavailable, views.UnavailableAction{Label: u.Label, Why: u.Why})
	}
	for _, act := range a.Service.Policy.Actions(user.Role, l.Status, l.Terms.Amount) {
		if !refused[act.To] {
			sp.Actions = append(sp.Actions, views.StatusAction{To: act.To, Label: act.Label, NeedsReason: act.NeedsReason})
		}
	}
	return sp
}

// panelConflict is a status move or assignment that met a newer
// version: who changed what since, and what was asked.
func (a *App) panelConflict(ctx context.Context, c *application.Conflict, tried, latest string) *views.PanelConflict {
	pc := &views.PanelConflict{Version: c.Loan.Version, Since: a.historyEntries(c.Since, a.staffNames(ctx)), Tried: tried, Latest: latest}
	slices.Reverse(pc.Since) // oldest first, as they happened
	return pc
}

// historyEntries lists history newest first, values shown for people.
func (a *App) historyEntries(history []model.LoanChange, names staffNames) []views.HistoryEntry {
	out := make([]views.HistoryEntry, 0, len(history))
	for i := len(history) - 1; i >= 0; i-- {
		h := history[i]
		e := views.HistoryEntry{Version: h.Version, When: a.formatDateTime(h.At), Reason: h.Reason, Kind: "change"}
		e.Who, e.WhoEmail = names.who(h.By, h.ByName)
		switch {
		case h.FirstApprover != "":
			e.Approval = "Second approval (checker) · first approver " + names.name(h.FirstApprover) + " · maker " + names.name(h.Maker)
			e.ApprovalTitle = "First approver " + h.FirstApprover + " · maker " + h.Maker
		case h.Maker != "":
			e.Approval = "Approval (checker) · maker " + names.name(h.Maker)
			e.ApprovalTitle = "Maker " + h.Maker
		}
		for _, c := range h.Fields {
			ch := views.Change{Label: application.Label(c.Field), From: application.Display(c.Field, c.From), To: application.Display(c.Field, c.To)}
			if c.Field == "assignee" { // staff by name, the e-mail as the tooltip; none is Nobody
				ch.From, ch.FromTitle = names.person(c.From)
				ch.To, ch.ToTitle = names.person(c.To)
				ch.From, ch.To = cmpOr(ch.From, "Nobody"), cmpOr(ch.To, "Nobody")
			}
			e.Changes = append(e.Changes, ch)
		}
		out = append(out, e)
	}
	return out
}

// formVersion reads a version a page wrote into a form (a single
// application's hidden version, a bulk row's checkbox): a positive
// integer in plain digits, as strconv.FormatInt writes it. Anything else
// (abc, 0, -1, " 1", 01, +1, 1.0, 20 digits, empty) is a malformed form,
// ok false: never a version to compare, so never reported as a change
// by someone else. The one rule for every form that carries a version.
func formVersion(s string) (v int64, ok bool) {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 1 || strconv.FormatInt(v, 10) != s {
		return 0, false
	}
	return v, true
}

// parseVersion reads a version from a query (a poll's v, a notice's
// since): anything unreadable is 0, older than every version.
func parseVersion(s string) int64 {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0
	}
	return v
}
