package application

import (
	"errors"
	"slices"

	"loandesk/auth"
	"loandesk/model"
)

// Unavailable is a move of the workflow that someone may not make on an
// application, with why and who can, so a page can say so instead of
// leaving the button out without a word.
type Unavailable struct {
	To, Label string
	Why       string // for people: why not, and who can
}

// UnavailableMoves lists the moves from l's status that actor may not
// make: their role, the underwriters' approval limit, the scorecard's
// decline, maker-checker, a second approval by the first approver. A move
// refused only for what the actor can still change (no current score, an
// open warning, a missing reason) is not listed: it is offered, and its
// refusal says what to do. A role that only views gets one entry.
func (s *Service) UnavailableMoves(actor auth.User, l model.Loan) []Unavailable {
	moves := transitions[l.Status]
	if len(moves) == 0 {
		return nil
	}
	if !CanWork(actor.Role) {
		return []Unavailable{{Why: "Your role can view this application but not change its status: admins and underwriters do."}}
	}
	var out []Unavailable
	for _, m := range moves {
		if err := s.Policy.CheckTransition(actor.Role, l.Status, m.To, l.Terms.Amount); err != nil {
			out = append(out, Unavailable{To: m.To, Label: m.Label, Why: err.Error()})
			continue
		}
		if m.To != model.StatusApproved {
			continue
		}
		// The approval's own checks, with a reason given (an admin's
		// override needs one, and can give it).
		_, _, err := s.approve(actor, l, "reason")
		var invalid *Invalid
		if !errors.As(err, &invalid) {
			continue
		}
		p := invalid.Fields["to"]
		if slices.Contains([]string{CodeMakerChecker, CodeSecondApprover, CodeInvalidChoice}, p.Code) ||
			p.Code == CodeRequired && l.Score != nil && l.Score.Recommendation == RecommendDecline {
			out = append(out, Unavailable{To: m.To, Label: m.Label, Why: p.Message})
		}
	}
	return out
}

// DisburseRefusal says why actor may not disburse l, a sanctioned loan,
// and who can ("" when they may).
func DisburseRefusal(actor auth.User, l model.Loan) string {
	switch {
	case l.Status != model.StatusSanctioned || l.Disbursement != nil:
		return ""
	case actor.Role != auth.RoleAdmin:
		return "Only an admin who did not approve this loan disburses it; your role cannot."
	case slices.Contains(Approvers(l), actor.Email):
		return "Maker-checker: you approved this loan; another admin disburses it."
	}
	return ""
}
