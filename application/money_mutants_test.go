package application_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"loandesk/application"
	"loandesk/model"
)

// conflictingLoans loses every versioned loan write (model.ErrConflict),
// counting them; after 10 it fails otherwise, so that an unbounded retry
// loop ends.
type conflictingLoans struct {
	application.LoanRepository
	updates atomic.Int32
}

func (c *conflictingLoans) LoanUpdate(context.Context, model.Loan, model.LoanChange) (model.Loan, error) {
	if c.updates.Add(1) > 10 {
		return model.Loan{}, errors.New("test: too many tries")
	}
	return model.Loan{}, model.ErrConflict
}

// conflictingLedger loses every posting the same way.
type conflictingLedger struct {
	application.Ledger
	posts atomic.Int32
}

func (c *conflictingLedger) LedgerPost(context.Context, model.JournalTxn) error {
	if c.posts.Add(1) > 10 {
		return errors.New("test: too many tries")
	}
	return model.ErrConflict
}

// Recording a disbursement re-reads and writes again after a lost race,
// three writes in all, then gives up with the conflict.
func TestService_DisburseRecordTriesThreeTimes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.seedStaff(t)
	b.clock.Set(time.Date(2026, 12, 10, 11, 0, 0, 0, ist))
	l := sanctioned(t, b, "ABCPI1234K")
	loans := &conflictingLoans{LoanRepository: b.st}
	b.svc.Loans = loans
	_, err := b.svc.Disburse(context.Background(), application.DisburseRequest{Actor: admin2, LoanID: l.HumanID, UTR: "UTIB0000012345"})
	if !errors.Is(err, model.ErrConflict) || loans.updates.Load() != 3 {
		t.Fatalf("Disburse = %v after %d writes; want the conflict after 3", err, loans.updates.Load())
	}
}

// A receipt is allocated and posted again after a lost race, three
// postings in all; then the answer is "in progress".
func TestService_RepaymentTriesThreeTimes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	b.seedStaff(t)
	b.clock.Set(time.Date(2026, 12, 5, 11, 0, 0, 0, ist))
	l := sanctioned(t, b, "ABCPI1234K")
	if _, err := b.svc.Disburse(ctx, application.DisburseRequest{Actor: admin2, LoanID: l.HumanID, UTR: "UTIB0000012345"}); err != nil {
		t.Fatal(err)
	}
	ledger := &conflictingLedger{Ledger: b.st}
	b.svc.Ledger = ledger
	_, err := b.svc.PostRepayment(ctx, application.RepaymentRequest{Actor: cashier, LoanID: l.HumanID, Amount: 10_000_00, UTR: "RCPT00000000001"})
	var refused *application.Refused
	if !errors.As(err, &refused) || refused.Code != application.CodeInProgress || ledger.posts.Load() != 3 {
		t.Fatalf("PostRepayment = %v after %d postings; want in_progress after 3", err, ledger.posts.Load())
	}
}

// A receipt of ₹10,00,00,00,00,000 (10¹⁵ paise) or more is too large,
// whatever is owed; one paisa less is only more than is owed.
func TestService_RepaymentAmountLimit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	b.seedStaff(t)
	b.clock.Set(time.Date(2026, 12, 5, 11, 0, 0, 0, ist))
	l := sanctioned(t, b, "ABCPI1234K")
	if _, err := b.svc.Disburse(ctx, application.DisburseRequest{Actor: admin2, LoanID: l.HumanID, UTR: "UTIB0000012345"}); err != nil {
		t.Fatal(err)
	}
	for amount, want := range map[int64]string{1e15: application.CodeOutOfRange, 1e15 - 1: application.CodeTooMuch} {
		_, err := b.svc.PostRepayment(ctx, application.RepaymentRequest{Actor: cashier, LoanID: l.HumanID, Amount: amount, UTR: "RCPT00000000001"})
		var inv *application.Invalid
		if !errors.As(err, &inv) || inv.Fields["amount"].Code != want {
			t.Errorf("receipt of %d paise: %v, want amount %s", amount, err, want)
		}
	}
}

// The approvers of a loan are the checker of its last move to approved
// and that move's first approver, if any.
func TestApprovers(t *testing.T) {
	t.Parallel()
	approve := func(by, first string) model.LoanChange {
		return model.LoanChange{By: by, FirstApprover: first, Fields: []model.FieldChange{{Field: "status", From: model.StatusUnderReview, To: model.StatusApproved}}}
	}
	other := model.LoanChange{By: "x@example.com", Fields: []model.FieldChange{{Field: "city", To: model.StatusApproved}, {Field: "status", To: model.StatusOnHold}}}
	for _, tc := range []struct {
		history []model.LoanChange
		want    []string
	}{
		{nil, nil},
		{[]model.LoanChange{other}, nil},
		{[]model.LoanChange{approve("a@example.com", "")}, []string{"a@example.com"}},
		{[]model.LoanChange{approve("a@example.com", "f@example.com"), other}, []string{"a@example.com", "f@example.com"}},
		{[]model.LoanChange{approve("a@example.com", ""), other, approve("b@example.com", "c@example.com")}, []string{"b@example.com", "c@example.com"}},
	} {
		if got := application.Approvers(model.Loan{History: tc.history}); !slices.Equal(got, tc.want) {
			t.Errorf("Approvers(%d entries) = %v, want %v", len(tc.history), got, tc.want)
		}
	}
}

// A receipt's idempotency key is at most 255 characters.
func TestService_RepaymentKeyLength(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	b.seedStaff(t)
	b.clock.Set(time.Date(2026, 12, 5, 11, 0, 0, 0, ist))
	l := sanctioned(t, b, "ABCPI1234K")
	if _, err := b.svc.Disburse(ctx, application.DisburseRequest{Actor: admin2, LoanID: l.HumanID, UTR: "UTIB0000012345"}); err != nil {
		t.Fatal(err)
	}
	_, err := b.svc.PostRepayment(ctx, application.RepaymentRequest{Actor: cashier, LoanID: l.HumanID, Amount: 100_00, UTR: "RCPT00000000001", IdempotencyKey: strings.Repeat("k", 256)})
	var inv *application.Invalid
	if !errors.As(err, &inv) || inv.Fields["idempotencyKey"].Code != application.CodeTooLong {
		t.Fatalf("a key of 256 characters: %v", err)
	}
	res, err := b.svc.PostRepayment(ctx, application.RepaymentRequest{Actor: cashier, LoanID: l.HumanID, Amount: 100_00, UTR: "RCPT00000000001", IdempotencyKey: strings.Repeat("k", 255)})
	if err != nil || !res.Saved {
		t.Fatalf("a key of 255 characters: %+v, %v", res, err)
	}
}
