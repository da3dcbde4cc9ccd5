package application

import (
	"context"
	"errors"
	"fmt"

	"loandesk/auth"
	"loandesk/model"
)

// MaxBulk bounds the applications one bulk action takes: a page of the
// list at its largest.
const MaxBulk = 100

// Pick is one application a bulk action was asked for, at the version
// the actor's list showed.
type Pick struct {
	LoanID  string // the human ID, "LN-2026-000123"
	Version int64
}

// HoldManyRequest puts several applications on hold with one reason.
type HoldManyRequest struct {
	Actor  auth.User
	Picks  []Pick
	Reason string // required; recorded on each application's history
}

// HoldOutcome is what a bulk hold did to one application.
type HoldOutcome struct {
	LoanID string
	// Loan is the application as it stands after the attempt (zero when
	// it does not exist).
	Loan model.Loan
	// Held: it moved to on hold at this request, with its history entry.
	// AlreadyHeld: it was on hold at the version the actor saw; nothing
	// was written.
	Held, AlreadyHeld bool
	// Err says why it was left as it was: a *Conflict (changed since the
	// actor's version, naming who changed what), an *Invalid (the
	// workflow does not allow the move from its status), a *Forbidden
	// or model.ErrNotFound. Nil when Held or AlreadyHeld.
	Err error
}

// HoldMany puts each picked application on hold with req.Reason, each
// against the version the actor saw and each on its own: an application
// is either moved with its history entry (one versioned write) or left
// exactly as it was, and the others go on. The request as a whole is
// checked before any application is touched: a role that does not work
// applications is a *Forbidden; no picks, more than MaxBulk, or a
// missing or malformed reason an *Invalid (key "picks" or "reason").
// Any other error (the store failing) stops at that application and is
// returned with the outcomes so far.
func (s *Service) HoldMany(ctx context.Context, req HoldManyRequest) ([]HoldOutcome, error) {
	if !CanWork(req.Actor.Role) {
		return nil, &Forbidden{Reason: "Your role can view applications but not put them on hold."}
	}
	switch {
	case len(req.Picks) == 0:
		return nil, invalidField(model.Loan{}, "picks", CodeRequired, "Tick the applications to put on hold on the list first.")
	case len(req.Picks) > MaxBulk:
		return nil, invalidField(model.Loan{}, "picks", CodeOutOfRange, fmt.Sprintf("Put at most %d applications on hold at a time.", MaxBulk))
	}
	reason, problem := NormalizeReason(req.Reason)
	if problem != nil {
		return nil, invalidField(model.Loan{}, "reason", problem.Code, problem.Message)
	}
	if reason == "" {
		return nil, invalidField(model.Loan{}, "reason", CodeRequired, "Say why: a reason is required to put applications on hold (it is recorded on each).")
	}
	out := make([]HoldOutcome, 0, len(req.Picks))
	for _, p := range req.Picks {
		o := HoldOutcome{LoanID: p.LoanID}
		res, err := s.ChangeStatus(ctx, StatusRequest{Actor: req.Actor, LoanID: p.LoanID, Version: p.Version, To: model.StatusOnHold, Reason: reason})
		var (
			conflict  *Conflict
			invalid   *Invalid
			forbidden *Forbidden
		)
		switch {
		case err == nil:
			o.Loan, o.Held = res.Loan, res.Saved
		case errors.As(err, &invalid) && invalid.Loan.Status == model.StatusOnHold:
			o.Loan, o.AlreadyHeld = invalid.Loan, true
		case errors.As(err, &invalid):
			o.Loan, o.Err = invalid.Loan, err
		case errors.As(err, &conflict):
			o.Loan, o.Err = conflict.Loan, err
		case errors.As(err, &forbidden):
			o.Loan, o.Err = forbidden.Loan, err
		case errors.Is(err, model.ErrNotFound):
			o.Err = err
		default:
			return out, fmt.Errorf("application: hold %s: %w", p.LoanID, err)
		}
		out = append(out, o)
	}
	return out, nil
}
