package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"loandesk/model"
)

// A score lands only on the version it was computed from: once the
// application is edited, a score of the old version is refused and the
// loan keeps the score it had.
func TestLoanSetScore_OnlyOnTheVersionScored(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	loan := insertTestLoan(t, b.store)
	if err := b.store.LoanSetScore(ctx, loan.ID, loan.Version, model.LoanScore{Points: 42}); err != nil {
		t.Fatal(err)
	}
	next := loan
	next.Terms.Purpose = "edited"
	edited, err := b.store.LoanUpdate(ctx, next, model.LoanChange{At: time.Now(), Fields: []model.FieldChange{{Field: "purpose", From: "start", To: "edited"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.store.LoanSetScore(ctx, loan.ID, loan.Version, model.LoanScore{Points: 7}); !errors.Is(err, ErrConflict) {
		t.Fatalf("a score of version %d on version %d: %v, want ErrConflict", loan.Version, edited.Version, err)
	}
	got, err := b.store.LoanGet(ctx, loan.HumanID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != edited.Version || got.Score == nil || got.Score.Points != 42 || got.Score.Version != loan.Version {
		t.Fatalf("after the refused score: version %d, score %+v; want version %d, 42 points of version %d", got.Version, got.Score, edited.Version, loan.Version)
	}
	// On the current version it lands, marked with that version.
	if err := b.store.LoanSetScore(ctx, loan.ID, edited.Version, model.LoanScore{Points: 7}); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.store.LoanGet(ctx, loan.HumanID); got.Version != edited.Version || got.Score.Points != 7 || got.Score.Version != edited.Version {
		t.Fatalf("current score: version %d, %+v", got.Version, got.Score)
	}
}

// LoanUpdate writes the optional parts of a loan when it has them and
// leaves them out of the stored document when it does not (an empty
// assignee or approval list is removed, as an insert leaves them out).
func TestLoanUpdate_OptionalFields(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	loan := insertTestLoan(t, b.store)
	raw := func() bson.M {
		t.Helper()
		var m bson.M
		if err := b.store.loans.FindOne(ctx, bson.M{"_id": loan.ID}).Decode(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	has := func(m bson.M) (out []string) {
		for _, k := range []string{"approvals", "assignee", "disbursement", "firstEmiDate", "flagAcks"} {
			if _, ok := m[k]; ok {
				out = append(out, k)
			}
		}
		return out
	}
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	// Nothing optional: nothing stored.
	next := loan
	next.Terms.Purpose = "one"
	cur, err := b.store.LoanUpdate(ctx, next, model.LoanChange{At: at})
	if err != nil {
		t.Fatal(err)
	}
	if got := has(raw()); len(got) != 0 {
		t.Fatalf("an update with nothing optional stored %v", got)
	}
	// Everything: stored and read back.
	next = cur
	next.Assignee = "uw@example.com"
	next.Approvals = []model.Approval{{By: "a@example.com", At: at, Version: 2}}
	next.FlagAcks = []model.FlagAck{{Code: "duplicate_pan", OtherLoan: "LN-2026-000002", By: "a@example.com", At: at}}
	next.Disbursement = &model.Disbursement{Gross: 100, UTR: "UTR000000000001", DisbursedOn: at, FirstEMIDate: at, At: at}
	next.FirstEMIDate = at
	if cur, err = b.store.LoanUpdate(ctx, next, model.LoanChange{At: at}); err != nil {
		t.Fatal(err)
	}
	got, err := b.store.LoanGet(ctx, loan.HumanID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Assignee != "uw@example.com" || len(got.Approvals) != 1 || got.Approvals[0].By != "a@example.com" || len(got.FlagAcks) != 1 ||
		got.Disbursement == nil || got.Disbursement.UTR != "UTR000000000001" || !got.FirstEMIDate.Equal(at) {
		t.Fatalf("read back: %+v", got)
	}
	if got := has(raw()); len(got) != 5 {
		t.Fatalf("stored %v, want all five", got)
	}
	// No assignee and no approvals: both removed (the rest stays).
	next = cur
	next.Assignee, next.Approvals = "", nil
	if _, err = b.store.LoanUpdate(ctx, next, model.LoanChange{At: at}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(has(raw()), ","); got != "disbursement,firstEmiDate,flagAcks" {
		t.Fatalf("after clearing: stored %s", got)
	}
}

// A flag is added once; flagging an application that does not exist is
// ErrNotFound.
func TestLoanAddFlag(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	loan := insertTestLoan(t, b.store)
	f := model.Flag{Code: "duplicate_pan", OtherLoan: "LN-2026-000002", At: time.Now()}
	for range 2 {
		if err := b.store.LoanAddFlag(ctx, loan.HumanID, f); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := b.store.LoanGet(ctx, loan.HumanID); len(got.Flags) != 1 || got.Version != loan.Version {
		t.Fatalf("flags %+v at version %d", got.Flags, got.Version)
	}
	if err := b.store.LoanAddFlag(ctx, "LN-2026-999999", f); !errors.Is(err, ErrNotFound) {
		t.Fatalf("flagging a missing application: %v", err)
	}
}

// A lock needs a lease: a TTL of 0 or less is refused before fn runs.
func TestWithLock_NeedsATTL(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, ttl := range []time.Duration{0, -time.Second} {
		ran := false
		err := b.store.WithLock(context.Background(), LockParams{Key: "k", TTL: ttl}, func(context.Context, int64) error { ran = true; return nil })
		if err == nil || ran || !strings.Contains(err.Error(), "a TTL is required") {
			t.Errorf("TTL %s: %v (fn ran %v)", ttl, err, ran)
		}
	}
}
