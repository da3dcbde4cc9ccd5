package store

import (
	"context"
	"errors"
	"testing"
	"time"

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
