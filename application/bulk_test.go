package application_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"loandesk/application"
	"loandesk/model"
)

// HoldMany checks the request as a whole before touching any
// application, then holds each pick on its own: held, already on hold
// at the version seen, changed since (a conflict) or not found.
func TestHoldMany_RequestAndOutcomes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	picks := func(n int) []application.Pick {
		p := make([]application.Pick, n)
		for i := range p {
			p[i] = application.Pick{LoanID: "LN-2026-999999", Version: 1}
		}
		return p
	}
	for _, tc := range []struct {
		name    string
		req     application.HoldManyRequest
		invalid string // the *Invalid's message; "" for a *Forbidden
	}{
		{"a viewer", application.HoldManyRequest{Actor: viewer, Picks: picks(1), Reason: "Waiting"}, ""},
		{"no picks", application.HoldManyRequest{Actor: uw, Reason: "Waiting"}, "Tick the applications to put on hold on the list first."},
		{"101 picks", application.HoldManyRequest{Actor: uw, Picks: picks(101), Reason: "Waiting"}, "Put at most 100 applications on hold at a time."},
		{"100 picks, no reason", application.HoldManyRequest{Actor: uw, Picks: picks(100), Reason: "  "}, "Say why: a reason is required to put applications on hold (it is recorded on each)."},
		{"a control character", application.HoldManyRequest{Actor: uw, Picks: picks(1), Reason: "Wait\x00ing"}, "The reason contains characters that are not allowed."},
	} {
		out, err := b.svc.HoldMany(ctx, tc.req)
		var inv *application.Invalid
		var forbidden *application.Forbidden
		switch {
		case out != nil:
			t.Errorf("%s: outcomes %+v, want none", tc.name, out)
		case tc.invalid == "" && !errors.As(err, &forbidden):
			t.Errorf("%s: %v, want forbidden", tc.name, err)
		case tc.invalid != "" && (!errors.As(err, &inv) || inv.Message() != tc.invalid):
			t.Errorf("%s: %v, want invalid %q", tc.name, err, tc.invalid)
		}
	}

	if _, err := b.svc.ChangeStatus(ctx, application.StatusRequest{Actor: uw, LoanID: b.loan.HumanID, Version: 1, To: model.StatusUnderReview}); err != nil {
		t.Fatal(err)
	}
	out, err := b.svc.HoldMany(ctx, application.HoldManyRequest{Actor: uw, Reason: "Waiting for the bank statement",
		Picks: []application.Pick{{LoanID: b.loan.HumanID, Version: 2}, {LoanID: "LN-2026-999999", Version: 1}}})
	if err != nil || len(out) != 2 {
		t.Fatalf("hold: %+v, %v", out, err)
	}
	if o := out[0]; !o.Held || o.AlreadyHeld || o.Err != nil || o.Loan.Status != model.StatusOnHold || o.Loan.Version != 3 {
		t.Errorf("the application: %+v, want held at version 3", o)
	}
	if o := out[1]; o.Held || o.AlreadyHeld || !errors.Is(o.Err, model.ErrNotFound) || o.LoanID != "LN-2026-999999" {
		t.Errorf("a missing one: %+v, want not found", o)
	}

	out, err = b.svc.HoldMany(ctx, application.HoldManyRequest{Actor: uw, Reason: "Again",
		Picks: []application.Pick{{LoanID: b.loan.HumanID, Version: 3}, {LoanID: b.loan.HumanID, Version: 2}}})
	if err != nil || len(out) != 2 {
		t.Fatalf("again: %+v, %v", out, err)
	}
	if o := out[0]; o.Held || !o.AlreadyHeld || o.Err != nil || o.Loan.Version != 3 {
		t.Errorf("on hold at the version seen: %+v, want already held", o)
	}
	var conflict *application.Conflict
	if o := out[1]; o.Held || o.AlreadyHeld || !errors.As(o.Err, &conflict) || o.Loan.Version != 3 || !strings.Contains(conflict.Message(), "On hold") {
		t.Errorf("seen at version 2: %+v, want a conflict naming the hold", o)
	}
}
