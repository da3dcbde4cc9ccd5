package application

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/bson/primitive"
	"golang.org/x/text/unicode/norm"

	"loandesk/auth"
	"loandesk/clock"
	"loandesk/model"
	"loandesk/reqcheck"
)

// LoanRepository is what the loan service needs of storage. Missing
// records are model.ErrNotFound; a versioned write that lost to a newer
// version is model.ErrConflict with nothing written.
type LoanRepository interface {
	LoanGet(ctx context.Context, humanID string) (model.Loan, error)
	LoanByID(ctx context.Context, id primitive.ObjectID) (model.Loan, error)
	// LoanUpdate writes next (the loan after change) only if the stored
	// loan is still at next.Version.
	LoanUpdate(ctx context.Context, next model.Loan, change model.LoanChange) (model.Loan, error)
	// LoanDecide is LoanUpdate that also requires the score and flags
	// next was read with (a decision rests on them).
	LoanDecide(ctx context.Context, next model.Loan, change model.LoanChange) (model.Loan, error)
	// LoanSetScore records score on version only (no new version).
	LoanSetScore(ctx context.Context, id primitive.ObjectID, version int64, score model.LoanScore) error
	DocumentsOfLoan(ctx context.Context, loanID primitive.ObjectID) ([]model.Document, error)
}

// StaffDirectory lists who applications can be assigned to.
type StaffDirectory interface {
	// StaffEmails returns the e-mail addresses of every admin and
	// underwriter.
	StaffEmails(ctx context.Context) ([]string, error)
}

// Service is the loan service: every change to a loan application goes
// through it, from the browser, the API and the job runner alike. Each
// method takes a typed request, reads the loan, checks every rule before
// anything is written, builds the change and its history entry, writes it
// with a versioned update and owns what happens when that loses a race.
//
// Outcomes other than success are returned as errors of these types
// (test with errors.As); nothing is written with any of them:
//   - *Invalid: the request's content breaks a rule (HTTP 422);
//   - *Forbidden: the actor may not do this (403);
//   - *Conflict: the loan changed since the version the request was made
//     against (409);
//   - model.ErrNotFound: there is no such loan (404).
//
// Any other error is a failure of the system (500).
type Service struct {
	Loans  LoanRepository
	Intake Intake
	Ledger Ledger
	Staff  StaffDirectory
	Policy Policy
	// Credit is the credit policy scores are taken under
	// (DefaultCreditPolicy when its Version is empty).
	Credit CreditPolicy
	// Clock is the time source (the wall clock when nil).
	Clock clock.Func
	// Zone is the lender's time zone: business dates (an applicant's
	// age, "today") are its calendar dates. UTC when nil.
	Zone *time.Location
	// Hooks inject faults in tests (nil in production).
	Hooks struct {
		// AfterJournal runs between posting a disbursement's journal and
		// recording it on the loan (the crash test kills the process here).
		AfterJournal func()
	}
}

// Invalid is a request refused for its content.
type Invalid struct {
	Loan   model.Loan // the loan as it stands
	Fields Errors     // by field key ("version", "reason", "to", "assignee" besides the form fields)
}

func (e *Invalid) Error() string {
	keys := make([]string, 0, len(e.Fields))
	for _, f := range Fields {
		if _, ok := e.Fields[f.Key]; ok {
			keys = append(keys, f.Key)
		}
	}
	for k := range e.Fields {
		if _, ok := FieldByKey(k); !ok {
			keys = append(keys, k)
		}
	}
	return "application: invalid " + strings.Join(keys, ", ")
}

// Message is the first problem's message, for forms that show one line.
func (e *Invalid) Message() string {
	for _, f := range Fields {
		if p, ok := e.Fields[f.Key]; ok {
			return p.Message
		}
	}
	for _, k := range []string{"version", "to", "reason", "assignee"} {
		if p, ok := e.Fields[k]; ok {
			return p.Message
		}
	}
	for _, p := range e.Fields {
		return p.Message
	}
	return ""
}

// Forbidden is a request the actor's role does not allow.
type Forbidden struct {
	Loan   model.Loan
	Reason string // for people
}

func (e *Forbidden) Error() string { return "application: forbidden: " + e.Reason }

// Conflict is a request made against an older version of the loan. It
// sets what the requester asked for beside what others saved since.
type Conflict struct {
	Loan model.Loan // the loan as it stands now
	Comparison
	// Submitted are the requester's normalised fields (edits only).
	Submitted Values
	// Exact is true when the history covered every version since the
	// requester's, so Theirs is field-exact.
	Exact bool
}

func (e *Conflict) Error() string {
	return fmt.Sprintf("application: conflict: %s is at version %d", e.Loan.HumanID, e.Loan.Version)
}

// Message says, for people, who changed what since the requester's
// version: "Asha Rao changed Status to Approved (version 4)". Staff are
// named by their e-mail where the change recorded no name (see
// MessageNamed).
func (e *Conflict) Message() string { return e.MessageNamed(nil) }

// MessageNamed is Message with staff named by name(email) (the author
// where the change recorded no name, and an assignee); nil names them
// by e-mail.
func (e *Conflict) MessageNamed(name func(email string) string) string {
	if name == nil {
		name = func(email string) string { return email }
	}
	if len(e.Since) == 0 {
		return fmt.Sprintf("%s changed this application (now version %d) since you loaded it.", name(e.Loan.UpdatedBy), e.Loan.Version)
	}
	var parts []string
	for _, h := range e.Since {
		who := h.ByName
		if who == "" {
			who = name(h.By)
		}
		var what []string
		for _, c := range h.Fields {
			to := displayOrNone(c.Field, c.To)
			if c.Field == "assignee" && c.To != "" {
				to = name(c.To)
			}
			what = append(what, fmt.Sprintf("%s to %s", Label(c.Field), to))
		}
		if len(what) == 0 {
			what = append(what, "the application")
		}
		parts = append(parts, fmt.Sprintf("%s changed %s (version %d)", who, strings.Join(what, ", "), h.Version))
	}
	return strings.Join(parts, "; ") + "."
}

func displayOrNone(key, canonical string) string {
	if canonical == "" {
		return "nobody"
	}
	return Display(key, canonical)
}

// Result is a request that succeeded.
type Result struct {
	Loan  model.Loan // as stored now
	Saved bool       // a new version was written (false: nothing had changed)
}

// DefaultZone is the lender's zone unless configured: Asia/Kolkata from
// the zone database, or, where a host has none, India Standard Time as a
// fixed UTC+05:30 (the same for every date since 1945).
func DefaultZone() *time.Location {
	if z, err := time.LoadLocation("Asia/Kolkata"); err == nil {
		return z
	}
	return fixedIST()
}

// fixedIST is India Standard Time, UTC+05:30, without the zone database.
func fixedIST() *time.Location { return time.FixedZone("IST", 5*60*60+30*60) }

// now is the service's clock in the lender's zone.
func (s *Service) now() time.Time {
	zone := s.Zone
	if zone == nil {
		zone = time.UTC
	}
	return s.Clock.Now().In(zone)
}

// maxWriteTries bounds the re-reads after a versioned write loses a race:
// the re-read sees the newer version and reports the conflict, so one is
// enough; the bound only guards against looping.
const maxWriteTries = 3

// EditRequest is an edit of some of an application's fields.
type EditRequest struct {
	Actor   auth.User
	LoanID  string            // LN-2026-000123
	Version int64             // the version the editor loaded
	Fields  map[string]string // field key → typed text; only the submitted fields
}

// Edit saves the fields of req against req.Version. Every field is
// checked (alone and together with the rest) before anything is written;
// a newer version is a *Conflict comparing the edit with what others
// saved, never an overwrite. Saving values equal to the stored ones
// writes nothing (Result.Saved is false).
func (s *Service) Edit(ctx context.Context, req EditRequest) (Result, error) {
	for try := 1; ; try++ {
		current, err := s.Loans.LoanGet(ctx, req.LoanID)
		if err != nil {
			return Result{}, err
		}
		if !CanEdit(req.Actor.Role, current.Status) {
			return Result{}, &Forbidden{Loan: current, Reason: EditRefusal(req.Actor.Role, current.Status)}
		}
		mine, errs := s.normalizeFields(req.Fields)
		if len(errs) > 0 {
			return Result{}, &Invalid{Loan: current, Fields: errs}
		}
		if req.Version < 1 || req.Version > current.Version {
			errs.Add("version", CodeStale, "This form is out of date. Load the application again.")
			return Result{}, &Invalid{Loan: current, Fields: errs}
		}
		now := ValuesOf(current)
		if req.Version < current.Version {
			base, since, exact := ValuesAt(now, current.Version, current.History, req.Version)
			if !exact {
				base = now // no field-level history: show mine against today's values
			}
			cmp := Compare(base, now, mine)
			cmp.Since = since
			return Result{}, &Conflict{Loan: current, Comparison: cmp, Submitted: mine, Exact: exact}
		}
		changes := Changed(now, mine)
		if len(changes) == 0 {
			return Result{Loan: current}, nil
		}
		merged := now.Clone()
		for k, v := range mine {
			merged[k] = v
		}
		if errs := CheckTogether(merged, mine); len(errs) > 0 {
			return Result{}, &Invalid{Loan: current, Fields: errs}
		}
		next := current
		if err := Apply(&next, mine); err != nil {
			return Result{}, err
		}
		updated, err := s.Loans.LoanUpdate(ctx, next, s.change(req.Actor, changes, ""))
		if errors.Is(err, model.ErrConflict) && try < maxWriteTries {
			continue // someone saved between our read and write: the re-read reports it
		}
		if err != nil {
			return Result{}, err
		}
		if updated.Applicant.PAN != current.Applicant.PAN && s.Intake != nil {
			// A PAN changed to one another open application has: flag
			// both, as at intake.
			if err := s.flagDuplicatePAN(ctx, updated); err != nil {
				return Result{}, err
			}
			if updated, err = s.Loans.LoanGet(ctx, updated.HumanID); err != nil {
				return Result{}, err
			}
		}
		return Result{Loan: updated, Saved: true}, nil
	}
}

// normalizeFields checks each submitted field alone.
func (s *Service) normalizeFields(raw map[string]string) (Values, Errors) {
	mine, errs := Values{}, Errors{}
	today := s.now()
	for key, v := range raw {
		f, ok := FieldByKey(key)
		if !ok {
			errs.Add(key, CodeUnknownField, "There is no such field.")
			continue
		}
		canonical, problem := f.Normalize(v, today)
		if problem != nil {
			errs[key] = *problem
			continue
		}
		mine[key] = canonical
	}
	return mine, errs
}

// change is a history entry by actor, dated now.
func (s *Service) change(actor auth.User, fields []model.FieldChange, reason string) model.LoanChange {
	return model.LoanChange{At: s.Clock.Now().UTC(), By: actor.Email, ByName: actor.Name, Fields: fields, Reason: reason}
}

// StatusRequest moves an application along the workflow.
type StatusRequest struct {
	Actor   auth.User
	LoanID  string
	Version int64  // the version the actor saw
	To      string // the status to move to
	Reason  string // why (required to reject or hold; an admin's override of a decline)
}

// MaxReasonLen bounds a status change's reason, in characters.
const MaxReasonLen = 500

// ChangeStatus moves the application to req.To. Read-only roles are
// *Forbidden; a newer version than req.Version is a *Conflict naming who
// changed what; a move the workflow, the approval limit or the scorecard
// does not allow, or a missing or malformed reason, is *Invalid.
func (s *Service) ChangeStatus(ctx context.Context, req StatusRequest) (Result, error) {
	allowed := worksApplications(req.Actor, "Your role can view applications but not change their status.")
	return s.versionedWrite(ctx, req.LoanID, req.Version, allowed, func(l model.Loan) (model.Loan, model.LoanChange, error) {
		invalid := func(key, code, msg string) error { return invalidField(l, key, code, msg) }
		reason, problem := NormalizeReason(req.Reason)
		if problem != nil {
			return l, model.LoanChange{}, invalid("reason", problem.Code, problem.Message)
		}
		if err := s.Policy.CheckTransition(req.Actor.Role, l.Status, req.To, l.Terms.Amount); err != nil {
			return l, model.LoanChange{}, invalid("to", CodeInvalidChoice, err.Error())
		}
		if req.To == model.StatusApproved {
			return s.approve(req.Actor, l, reason)
		}
		if req.To == model.StatusSanctioned && req.Actor.Shared {
			return l, model.LoanChange{}, &Forbidden{Loan: l, Reason: "A sanction is given by a person signed in as themselves, not with the shared API token."}
		}
		if move, _ := Transition(l.Status, req.To); move.NeedsReason && reason == "" {
			return l, model.LoanChange{}, invalid("reason", CodeRequired, "Say why: a reason is required to "+strings.ToLower(move.Label)+".")
		}
		next := l
		next.Status, next.Approvals = req.To, nil // leaving approval_pending drops its approval
		return next, s.change(req.Actor, []model.FieldChange{{Field: "status", From: l.Status, To: req.To}}, reason), nil
	}, s.Loans.LoanDecide)
}

// Problem codes of approvals.
const (
	CodeNoScore        = "no_score"
	CodeStaleScore     = "stale_score"
	CodeMakerChecker   = "maker_checker"
	CodeSecondApprover = "second_approver"
	CodeUnacknowledged = "unacknowledged_flag"
)

// approve decides an approval of l by actor (maker-checker, RBI's
// guidance on internal controls: the person who made the terms does not
// approve them):
//   - a current score is required (none, or one taken before the last
//     change to the application's fields, is refused);
//   - open flags (a duplicate PAN) must be acknowledged first;
//   - whoever filed the application, or changed its terms or income
//     since, cannot approve it (Makers);
//   - above Policy.DualApprovalAbove, and when an admin overrides the
//     scorecard's decline, a first approval moves the application to
//     approval_pending and a second, different person approves it;
//   - overriding a decline takes an admin, and the proposer's reason.
func (s *Service) approve(actor auth.User, l model.Loan, reason string) (model.Loan, model.LoanChange, error) {
	invalid := func(code, msg string) error { return invalidField(l, "to", code, msg) }
	switch {
	case actor.Shared:
		return l, model.LoanChange{}, &Forbidden{Loan: l, Reason: "Approvals are given by a person signed in as themselves, not with the shared API token."}
	case l.Score == nil:
		return l, model.LoanChange{}, invalid(CodeNoScore, "There is no score yet: score the application before approving it.")
	case !ScoreIsCurrent(l):
		return l, model.LoanChange{}, invalid(CodeStaleScore, fmt.Sprintf("The score is of version %d and the application has changed since (it is at version %d): score it again (Score now), then approve.", l.Score.Version, l.Version))
	}
	maker, _ := Maker(l)
	for _, m := range Makers(l) {
		if m.By == actor.Email {
			return l, model.LoanChange{}, invalid(CodeMakerChecker, fmt.Sprintf("Maker-checker: you %s (version %d); someone else must approve it.", m.What, m.Version))
		}
	}
	for _, f := range l.OpenFlags() {
		return l, model.LoanChange{}, invalid(CodeUnacknowledged, fmt.Sprintf("Acknowledge the warning first: %s.", FlagText(f)))
	}
	declined := l.Score.Recommendation == RecommendDecline
	var change model.LoanChange
	next := l
	if l.Status == model.StatusApprovalPending {
		for _, a := range l.Approvals {
			if a.By == actor.Email {
				return l, model.LoanChange{}, invalid(CodeSecondApprover, "You gave the first approval: the second must come from someone else.")
			}
		}
		if declined && actor.Role != auth.RoleAdmin {
			return l, model.LoanChange{}, invalid(CodeInvalidChoice, "Confirming an override of the scorecard's decline takes an admin.")
		}
		if declined && (len(l.Approvals) == 0 || !strings.HasPrefix(l.Approvals[0].Reason, OverridePrefix)) {
			return l, model.LoanChange{}, invalid(CodeStaleScore, "The scorecard declined this application after the first approval: send it back for review (an admin may then override the decline, giving a reason).")
		}
		next.Status, next.Approvals = model.StatusApproved, nil
		change = s.change(actor, []model.FieldChange{{Field: "status", From: l.Status, To: model.StatusApproved}}, reason)
		if len(l.Approvals) > 0 {
			change.FirstApprover = l.Approvals[0].By
		}
	} else {
		recorded, err := CheckScore(actor.Role, model.StatusApproved, l.Score, reason)
		if err != nil {
			return l, model.LoanChange{}, invalid(CodeRequired, err.Error())
		}
		to := model.StatusApproved
		if declined || l.Terms.Amount > s.Policy.DualApprovalAbove {
			to = model.StatusApprovalPending
			next.Approvals = []model.Approval{{By: actor.Email, ByName: actor.Name, At: s.Clock.Now().UTC(), Version: l.Version, Reason: recorded}}
		}
		next.Status = to
		change = s.change(actor, []model.FieldChange{{Field: "status", From: l.Status, To: to}}, recorded)
	}
	change.Maker = maker
	return next, change, nil
}

// termsAndIncome are the fields an approval approves: whoever changed
// them last is the maker.
var termsAndIncome = map[string]bool{"monthlyIncome": true, "existingEmis": true}

// Maker is who made what an approval of l approves: the author of the
// last history entry that changed the terms or the income, else whoever
// filed the application; with the version that entry produced (1 for the
// filing).
func Maker(l model.Loan) (string, int64) {
	for i := len(l.History) - 1; i >= 0; i-- {
		for _, c := range l.History[i].Fields {
			if f, ok := FieldByKey(c.Field); ok && (f.Section == SectionTerms || termsAndIncome[c.Field]) {
				return l.History[i].By, l.History[i].Version
			}
		}
	}
	return l.CreatedBy, 1
}

// MakerEntry is one person who made what an approval approves.
type MakerEntry struct {
	By      string
	What    string // "filed this application", "changed its terms or income"
	Version int64
}

// Makers are everyone who made what an approval of l approves: whoever
// filed the application, and everyone who changed its terms or income
// since. None of them may approve it (maker-checker).
func Makers(l model.Loan) []MakerEntry {
	out := []MakerEntry{{By: l.CreatedBy, What: "filed this application", Version: 1}}
	for _, h := range l.History {
		for _, c := range h.Fields {
			if f, ok := FieldByKey(c.Field); ok && (f.Section == SectionTerms || termsAndIncome[c.Field]) {
				out = append(out, MakerEntry{By: h.By, What: "changed its terms or income", Version: h.Version})
				break
			}
		}
	}
	return out
}

// FlagTitle names what a flag warns of without the other application's
// number (pages link it beside the title).
func FlagTitle(f model.Flag) string {
	switch f.Code {
	case model.FlagDuplicatePAN:
		return "Another open application has the same PAN:"
	}
	return f.Code
}

// FlagText says what a flag warns of, for people.
func FlagText(f model.Flag) string {
	switch f.Code {
	case model.FlagDuplicatePAN:
		return "Another open application, " + f.OtherLoan + ", has the same PAN"
	}
	return f.Code
}

// AssignRequest gives an application to a member of staff, or to nobody.
type AssignRequest struct {
	Actor    auth.User
	LoanID   string
	Version  int64
	Assignee string // an admin's or underwriter's e-mail; "" for nobody
}

// Assign gives the application to req.Assignee. Only staff who work
// applications assign, and only to admins and underwriters (*Invalid
// otherwise); assigning to the current assignee writes nothing.
func (s *Service) Assign(ctx context.Context, req AssignRequest) (Result, error) {
	allowed := worksApplications(req.Actor, "Your role can view applications but not assign them.")
	return s.versioned(ctx, req.LoanID, req.Version, allowed, func(l model.Loan) (model.Loan, model.LoanChange, error) {
		to := norm.NFC.String(strings.TrimSpace(req.Assignee))
		if to != "" {
			staff, err := s.Staff.StaffEmails(ctx)
			if err != nil {
				return l, model.LoanChange{}, err
			}
			found := false
			for _, e := range staff {
				found = found || e == to
			}
			if !found {
				return l, model.LoanChange{}, invalidField(l, "assignee", CodeInvalidChoice, "Choose an admin or underwriter from the list.")
			}
		}
		if to == l.Assignee {
			return l, model.LoanChange{}, nil // nothing to change
		}
		next := l
		next.Assignee = to
		return next, s.change(req.Actor, []model.FieldChange{{Field: "assignee", From: l.Assignee, To: to}}, ""), nil
	})
}

// worksApplications is the allowed check of actions only staff who work
// applications take; reason says what the others cannot do.
func worksApplications(actor auth.User, reason string) func(model.Loan) error {
	return func(l model.Loan) error {
		if !CanWork(actor.Role) {
			return &Forbidden{Loan: l, Reason: reason}
		}
		return nil
	}
}

// invalidField is an *Invalid with one problem, about l.
func invalidField(l model.Loan, key, code, msg string) error {
	return &Invalid{Loan: l, Fields: Errors{key: {Code: code, Message: msg}}}
}

// decideFunc checks a request against the loan as read and returns the
// loan as it should be stored with its history entry (an entry with no
// fields: nothing to write), or why not.
type decideFunc func(l model.Loan) (model.Loan, model.LoanChange, error)

// versioned is the protocol of a whole-record action (status, assignee)
// made against the version the actor saw: read; who may act (allowed);
// a version it never had (below 1, above its own) is an *Invalid; a newer
// version is a *Conflict naming the changes since; then the
// rules and the change (decide); write with the version; a lost race
// re-reads and reports the conflict.
func (s *Service) versioned(ctx context.Context, loanID string, version int64, allowed func(model.Loan) error, decide decideFunc) (Result, error) {
	return s.versionedWrite(ctx, loanID, version, allowed, decide, s.Loans.LoanUpdate)
}

// versionedWrite is versioned with the store's write: LoanDecide for
// decisions that rest on the score and flags.
func (s *Service) versionedWrite(ctx context.Context, loanID string, version int64, allowed func(model.Loan) error, decide decideFunc,
	write func(ctx context.Context, next model.Loan, change model.LoanChange) (model.Loan, error)) (Result, error) {
	for try := 1; ; try++ {
		current, err := s.Loans.LoanGet(ctx, loanID)
		if err != nil {
			return Result{}, err
		}
		if err := allowed(current); err != nil {
			return Result{}, err
		}
		if version < 1 || version > current.Version {
			// Not a version this application has had: no one changed it
			// since, so a conflict would name a change that never was.
			return Result{}, invalidField(current, "version", CodeStale, fmt.Sprintf(
				"The version sent (%d) is not one this application has had; it is at version %d. Load it again.", version, current.Version))
		}
		if version != current.Version {
			return Result{}, s.conflictSince(current, version)
		}
		next, change, err := decide(current)
		if err != nil {
			return Result{}, err
		}
		if len(change.Fields) == 0 {
			return Result{Loan: current}, nil
		}
		updated, err := write(ctx, next, change)
		if errors.Is(err, model.ErrConflict) && try < maxWriteTries {
			continue
		}
		if err != nil {
			return Result{}, err
		}
		return Result{Loan: updated, Saved: true}, nil
	}
}

// conflictSince is the conflict of a request made at version against
// current: the history entries after it.
func (s *Service) conflictSince(current model.Loan, version int64) *Conflict {
	c := &Conflict{Loan: current}
	for _, h := range current.History {
		if h.Version > version {
			c.Since = append(c.Since, h)
		}
	}
	c.Exact = version >= 1 && version < current.Version && int64(len(c.Since)) == current.Version-version
	return c
}

// maxScoreTries bounds how often scoring re-reads a loan edited under it.
const maxScoreTries = 5

// RecordScore runs the scorecard on the application with _id id and its
// documents, and records the verdict on the version it read, without
// making a new version (an admin's open form stays valid). If the loan is
// edited meanwhile it reads again and scores that, so an edit is never
// overwritten and a score never lands on a version it did not see. A
// missing loan is model.ErrNotFound.
func (s *Service) RecordScore(ctx context.Context, id primitive.ObjectID) (model.LoanScore, error) {
	for range maxScoreTries {
		l, err := s.Loans.LoanByID(ctx, id)
		if err != nil {
			return model.LoanScore{}, err
		}
		if !Undecided(l.Status) {
			// Decided: the score stays the one the decision was taken on
			// (a document read after it does not change the file).
			if l.Score != nil {
				return *l.Score, nil
			}
			return model.LoanScore{}, nil
		}
		docs, err := s.Loans.DocumentsOfLoan(ctx, l.ID)
		if err != nil {
			return model.LoanScore{}, err
		}
		// A deleted (or replaced) document no longer speaks for the
		// application.
		docs = slices.DeleteFunc(docs, func(d model.Document) bool { return d.Deleted != nil })
		credit := s.Credit
		if credit.Version == "" {
			credit = DefaultCreditPolicy
		}
		score := Score(l, docs, credit, s.now())
		score.ScoredAt = s.Clock.Now().UTC()
		score.Version = l.Version
		err = s.Loans.LoanSetScore(ctx, l.ID, l.Version, score)
		if errors.Is(err, model.ErrConflict) {
			continue // edited meanwhile: score the new version
		}
		return score, err
	}
	return model.LoanScore{}, fmt.Errorf("application: the application kept changing while it was scored (%d tries)", maxScoreTries)
}

// NormalizeReason checks a free-text reason (status changes, overrides):
// valid UTF-8 without control characters (pasted line breaks made \n:
// reqcheck.PastedBreaks), trimmed, in NFC, at most
// MaxReasonLen characters. An empty reason is valid here; the workflow
// decides when one is required.
func NormalizeReason(raw string) (string, *Problem) {
	raw = reqcheck.PastedBreaks(raw)
	if !utf8.ValidString(raw) || strings.ContainsFunc(raw, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }) {
		return "", &Problem{Code: CodeInvalidCharacters, Message: "The reason contains characters that are not allowed."}
	}
	s := norm.NFC.String(strings.TrimSpace(reqcheck.CleanText(raw)))
	if utf8.RuneCountInString(s) > MaxReasonLen {
		return "", &Problem{Code: CodeTooLong, Message: fmt.Sprintf("Keep the reason under %d characters.", MaxReasonLen)}
	}
	return s, nil
}
