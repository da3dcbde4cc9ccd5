package application_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"loandesk/application"
	"loandesk/auth"
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

// The maker of what an approval approves is the last to change the terms
// or the income, the filing's first entry included; else who filed it.
func TestMaker(t *testing.T) {
	t.Parallel()
	change := func(v int64, by, field string) model.LoanChange {
		return model.LoanChange{Version: v, By: by, Fields: []model.FieldChange{{Field: field}}}
	}
	for _, tc := range []struct {
		history []model.LoanChange
		by      string
		version int64
	}{
		{nil, "filer@example.com", 1},
		{[]model.LoanChange{change(2, "a@example.com", "amount")}, "a@example.com", 2},
		{[]model.LoanChange{change(2, "a@example.com", "monthlyIncome"), change(3, "b@example.com", "city")}, "a@example.com", 2},
		{[]model.LoanChange{change(2, "a@example.com", "city")}, "filer@example.com", 1},
	} {
		by, v := application.Maker(model.Loan{CreatedBy: "filer@example.com", History: tc.history})
		if by != tc.by || v != tc.version {
			t.Errorf("Maker(%d entries) = %s, %d; want %s, %d", len(tc.history), by, v, tc.by, tc.version)
		}
	}
}

// A status change against an older version is a conflict naming exactly
// the saves since (field-exact when the history covers them all); one
// against a version the application never had (above its own, below 1)
// is invalid, saying so — a conflict would name a change nobody made
// (issue 18, found by a tester: a bulk row sent at version 6 of 1 said
// "seed changed this application (now version 1) since you loaded it").
func TestService_ConflictNamesTheSavesSince(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	for i, city := range []string{"Agra", "Agartala"} {
		if _, err := b.svc.Edit(ctx, application.EditRequest{Actor: uw, LoanID: b.loan.HumanID, Version: int64(i + 1), Fields: map[string]string{"city": city}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		version int64
		since   int
		exact   bool
	}{{2, 1, true}, {1, 2, true}} {
		_, err := b.svc.ChangeStatus(ctx, application.StatusRequest{Actor: uw, LoanID: b.loan.HumanID, Version: tc.version, To: model.StatusUnderReview})
		var c *application.Conflict
		if !errors.As(err, &c) || len(c.Since) != tc.since || c.Exact != tc.exact || tc.since > 0 && c.Since[tc.since-1].Version != 3 {
			t.Errorf("ChangeStatus at version %d of 3: %v (%+v); want %d entries, exact %v", tc.version, err, c, tc.since, tc.exact)
		}
	}
	for _, v := range []int64{9, 4, 0, -1} {
		_, err := b.svc.ChangeStatus(ctx, application.StatusRequest{Actor: uw, LoanID: b.loan.HumanID, Version: v, To: model.StatusUnderReview})
		var inv *application.Invalid
		want := fmt.Sprintf("The version sent (%d) is not one this application has had; it is at version 3. Load it again.", v)
		if !errors.As(err, &inv) || inv.Message() != want {
			t.Errorf("ChangeStatus at version %d of 3: %v, want invalid %q", v, err, want)
		}
		if _, err := b.svc.Assign(ctx, application.AssignRequest{Actor: uw, LoanID: b.loan.HumanID, Version: v, Assignee: "uw@example.com"}); !errors.As(err, &inv) {
			t.Errorf("Assign at version %d of 3: %v, want invalid", v, err)
		}
	}
	if l, _ := b.st.LoanGet(ctx, b.loan.HumanID); l.Version != 3 || l.Status != model.StatusSubmitted {
		t.Errorf("a refused request changed the application: version %d, %s", l.Version, l.Status)
	}
}

// The shared API token may move an application along, but not sanction
// it.
func TestService_SharedTokenDoesNotSanction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	shared := admin
	shared.Shared = true
	res, err := b.svc.ChangeStatus(ctx, application.StatusRequest{Actor: shared, LoanID: b.loan.HumanID, Version: 1, To: model.StatusUnderReview})
	if err != nil || !res.Saved {
		t.Fatalf("the shared token to under review: %v", err)
	}
	b.scoreNow(t)
	l := res.Loan
	res, err = b.svc.ChangeStatus(ctx, application.StatusRequest{Actor: uw, LoanID: l.HumanID, Version: l.Version, To: model.StatusApproved})
	if err != nil || res.Loan.Status != model.StatusApproved {
		t.Fatalf("approve: %v, %+v", err, res.Loan.Status)
	}
	l = res.Loan
	var fb *application.Forbidden
	if _, err := b.svc.ChangeStatus(ctx, application.StatusRequest{Actor: shared, LoanID: l.HumanID, Version: l.Version, To: model.StatusSanctioned}); !errors.As(err, &fb) {
		t.Fatalf("the shared token sanctioned: %v", err)
	}
}

// Above the dual-approval amount, an admin's override of a decline needs
// a second approver, who confirms it: the decline does not stop the
// second approval when the first was the override.
func TestService_SecondApprovalConfirmsAnOverride(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	b.svc.Policy.DualApprovalAbove = 1
	if _, err := b.svc.ChangeStatus(ctx, application.StatusRequest{Actor: uw, LoanID: b.loan.HumanID, Version: 1, To: model.StatusUnderReview}); err != nil {
		t.Fatal(err)
	}
	b.scoreNow(t)
	cur := b.current(t)
	decline := *cur.Score
	decline.Recommendation = application.RecommendDecline
	if err := b.st.LoanSetScore(ctx, cur.ID, cur.Version, decline); err != nil {
		t.Fatal(err)
	}
	res, err := b.svc.ChangeStatus(ctx, application.StatusRequest{Actor: admin, LoanID: b.loan.HumanID, Version: 2, To: model.StatusApproved, Reason: "bank letter on file"})
	if err != nil || res.Loan.Status != model.StatusApprovalPending {
		t.Fatalf("first approval: %v, %+v", err, res.Loan.Status)
	}
	second := auth.User{Email: "second@example.com", Name: "Second", Role: auth.RoleAdmin}
	res, err = b.svc.ChangeStatus(ctx, application.StatusRequest{Actor: second, LoanID: b.loan.HumanID, Version: 3, To: model.StatusApproved})
	if err != nil || res.Loan.Status != model.StatusApproved {
		t.Fatalf("second approval of the override: %v", err)
	}
}
