package application_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"loandesk/application"
	"loandesk/model"
)

// An edit or an assignment that keeps losing its versioned write re-reads
// and writes again, three writes in all, then answers the conflict.
func TestService_VersionedWritesTryThreeTimes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for name, do := range map[string]func(b *serviceBundle) error{
		"edit": func(b *serviceBundle) error {
			_, err := b.svc.Edit(ctx, application.EditRequest{Actor: uw, LoanID: b.loan.HumanID, Version: 1, Fields: map[string]string{"city": "Agra"}})
			return err
		},
		"assign": func(b *serviceBundle) error {
			_, err := b.svc.Assign(ctx, application.AssignRequest{Actor: uw, LoanID: b.loan.HumanID, Version: 1, Assignee: admin.Email})
			return err
		},
	} {
		b := setup(t)
		loans := &conflictingLoans{LoanRepository: b.st}
		b.svc.Loans = loans
		if err := do(b); !errors.Is(err, model.ErrConflict) || loans.updates.Load() != 3 {
			t.Errorf("%s: %v after %d writes; want the conflict after 3", name, err, loans.updates.Load())
		}
	}
}

// A reason is at most 500 characters (not bytes), after trimming.
func TestNormalizeReason_Length(t *testing.T) {
	t.Parallel()
	for in, ok := range map[string]bool{
		strings.Repeat("é", 500):              true,
		strings.Repeat("é", 501):              false,
		"  " + strings.Repeat("a", 500) + " ": true,
	} {
		if _, p := application.NormalizeReason(in); (p == nil) != ok || !ok && p.Code != application.CodeTooLong {
			t.Errorf("reason of %d characters: %v, want accepted %v", len([]rune(in)), p, ok)
		}
	}
}
