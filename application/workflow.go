package application

import (
	"fmt"

	"loandesk/auth"
	"loandesk/model"
	"loandesk/money"
)

// StatusLabels are the people-facing names of statuses.
var StatusLabels = map[string]string{
	model.StatusSubmitted:       "Submitted",
	model.StatusUnderReview:     "Under review",
	model.StatusOnHold:          "On hold",
	model.StatusApprovalPending: "Awaiting second approval",
	model.StatusApproved:        "Approved",
	model.StatusSanctioned:      "Sanctioned",
	model.StatusRejected:        "Rejected",
	model.StatusDisbursed:       "Disbursed",
}

// Action is a status change offered on an application.
type Action struct {
	To          string
	Label       string
	NeedsReason bool // rejecting or holding must say why
}

// transitions are the workflow's edges. Disbursement belongs to the
// ledger, not to this workflow.
var transitions = map[string][]Action{
	model.StatusSubmitted:   {{To: model.StatusUnderReview, Label: "Start review"}},
	model.StatusUnderReview: {{To: model.StatusApproved, Label: "Approve"}, {To: model.StatusRejected, Label: "Reject", NeedsReason: true}, {To: model.StatusOnHold, Label: "Put on hold", NeedsReason: true}},
	model.StatusOnHold:      {{To: model.StatusUnderReview, Label: "Resume review"}},
	model.StatusApproved:    {{To: model.StatusSanctioned, Label: "Sanction"}},
	model.StatusApprovalPending: {{To: model.StatusApproved, Label: "Give second approval"}, {To: model.StatusRejected, Label: "Reject", NeedsReason: true},
		{To: model.StatusUnderReview, Label: "Send back for review", NeedsReason: true}},
}

// Policy holds the workflow's configurable limits.
type Policy struct {
	// UnderwriterApprovalLimit is the largest amount (paise) an
	// underwriter may approve; above it only an admin can.
	UnderwriterApprovalLimit int64
	// DualApprovalAbove is the amount (paise) above which an approval
	// needs two different approvers: the first moves the application to
	// approval_pending, a second person approves it.
	DualApprovalAbove int64
}

// DefaultPolicy lets underwriters approve up to ₹25,00,000 and asks two
// approvers above ₹25,00,000.
var DefaultPolicy = Policy{UnderwriterApprovalLimit: 25_00_000 * 100, DualApprovalAbove: 25_00_000 * 100}

// Actions lists the status changes role may make on an application in
// status asking for amount (paise).
func (p Policy) Actions(role, status string, amount int64) []Action {
	var out []Action
	for _, a := range transitions[status] {
		if p.CheckTransition(role, status, a.To, amount) == nil {
			out = append(out, a)
		}
	}
	return out
}

// TransitionError says why a status change is refused, for people.
type TransitionError struct{ Message string }

func (e *TransitionError) Error() string { return e.Message }

// CheckTransition returns nil when role may move an application from one
// status to another, else a *TransitionError.
func (p Policy) CheckTransition(role, from, to string, amount int64) error {
	if _, ok := Transition(from, to); !ok {
		return &TransitionError{fmt.Sprintf("An application that is %s cannot be moved to %s.", lower(from), lower(to))}
	}
	if to == model.StatusSanctioned && role != auth.RoleAdmin {
		return &TransitionError{"Only an admin sanctions a loan."}
	}
	switch role {
	case auth.RoleAdmin:
		return nil
	case auth.RoleUnderwriter:
		if to == model.StatusApproved && amount > p.UnderwriterApprovalLimit {
			return &TransitionError{fmt.Sprintf("Underwriters approve up to %s; this one needs an admin.", money.FormatINR(p.UnderwriterApprovalLimit))}
		}
		return nil
	}
	return &TransitionError{"Your role cannot change an application's status."}
}

// Transition returns the workflow's move from one status to another.
func Transition(from, to string) (Action, bool) {
	for _, a := range transitions[from] {
		if a.To == to {
			return a, true
		}
	}
	return Action{}, false
}

// EditRefusal says, for people, why role may not edit an application in
// status ("" when it may).
func EditRefusal(role, status string) string {
	switch {
	case CanEdit(role, status):
		return ""
	case !CanWork(role):
		return "Your role can view applications but not change them."
	}
	return "This application is " + StatusLabels[status] + "; decided applications cannot be edited."
}

// CanWork reports whether role works applications (edits, uploads
// documents, asks for scoring, retries their jobs) rather than only
// viewing them.
func CanWork(role string) bool { return role == auth.RoleAdmin || role == auth.RoleUnderwriter }

// CanEdit reports whether role may edit an application in status: only
// staff who work applications, and only before a decision.
func CanEdit(role, status string) bool {
	if !CanWork(role) {
		return false
	}
	return Undecided(status)
}

// Undecided reports whether an application in status still awaits its
// decision: submitted, under review or on hold. After the decision
// (approved, rejected, sanctioned, disbursed ...) it is what the decision
// was taken on: no edits, no new documents, no new score.
func Undecided(status string) bool {
	return status == model.StatusSubmitted || status == model.StatusUnderReview || status == model.StatusOnHold
}

// RescoreAfterEdit reports whether an edit's result calls for the
// application to be scored again: a new version was saved of one scored
// before (its score is now of an older version, and approving would be
// refused as stale); one never scored is left to its documents and
// Score now. Scoring itself skips decided applications.
func RescoreAfterEdit(res Result) bool { return res.Saved && res.Loan.Score != nil }

// DocumentRefusal says, for people, why role may not upload a document to
// an application in status ("" when it may): like edits, only staff who
// work applications, and only before the decision.
func DocumentRefusal(role, status string) string {
	switch {
	case CanEdit(role, status):
		return ""
	case !CanWork(role):
		return "Your role can view documents but not upload them."
	}
	return "This application is " + StatusLabels[status] + "; decided applications take no new documents."
}

// DeletedDocumentRefusal says, for people, why role may not open or
// download a deleted (or replaced) document ("" when it may). Such a
// file is kept for audit only: it may be another applicant's, the wrong
// file, or superseded, so only admins open it; everyone else still sees
// that it existed, who deleted it, when and why.
func DeletedDocumentRefusal(role string) string {
	if role == auth.RoleAdmin {
		return ""
	}
	return "This document was deleted; it is kept for audit and only an admin can open it."
}

// ScoreRefusal says, for people, why role may not ask for an application
// in status to be scored ("" when it may): like edits, only staff who
// work applications, and only before the decision.
func ScoreRefusal(role, status string) string {
	switch {
	case CanEdit(role, status):
		return ""
	case !CanWork(role):
		return "Your role cannot ask for scoring."
	}
	return "This application is " + StatusLabels[status] + "; its score stays the one it was decided on."
}

func lower(status string) string {
	if l, ok := StatusLabels[status]; ok {
		return fmt.Sprintf("%q", l)
	}
	return fmt.Sprintf("%q", status)
}

// OverridePrefix starts the recorded reason of an approval against the
// scorecard's decline.
const OverridePrefix = "Overrides the scorecard's decline: "

// CheckScore refuses to approve an application the scorecard declined,
// unless an admin overrides it and says why. It returns the reason to
// record: for an override, OverridePrefix and the admin's reason.
func CheckScore(role, to string, score *model.LoanScore, reason string) (string, error) {
	if to != model.StatusApproved || score == nil || score.Recommendation != RecommendDecline {
		return reason, nil
	}
	if role != auth.RoleAdmin {
		return "", &TransitionError{"The scorecard declined this application: only an admin can approve it, giving a reason."}
	}
	if reason == "" {
		return "", &TransitionError{"The scorecard declined this application: say why you approve it anyway (the reason is recorded)."}
	}
	return OverridePrefix + reason, nil
}
