package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"loandesk/model"
	"loandesk/seed"
)

// TestStore_LoanEach: the export's walk gives the loans the list's pages
// give, in the same order, stops at its limit, and stops on fn's error.
func TestStore_LoanEach(t *testing.T) {
	t.Parallel()
	st := setup(t).store
	ctx := context.Background()
	if _, err := seed.Load(ctx, st, 450, 3, time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	for _, f := range []LoanFilter{{}, {Status: model.StatusSubmitted}, {LoanNarrowing: LoanNarrowing{Product: "personal"}}} {
		for _, sort := range []string{SortNewest, SortAmountAsc} {
			var paged []model.LoanSummary
			for skip := 0; ; skip += 100 {
				page, err := st.LoanList(ctx, LoanListParams{LoanFilter: f, Sort: sort, Skip: skip, Limit: 100})
				if err != nil {
					t.Fatal(err)
				}
				paged = append(paged, page...)
				if len(page) < 100 {
					break
				}
			}
			var walked []model.Loan
			if err := st.LoanEach(ctx, f, sort, 10_000, func(l model.Loan) error { walked = append(walked, l); return nil }); err != nil {
				t.Fatal(err)
			}
			if len(walked) != len(paged) || len(walked) == 0 {
				t.Fatalf("%+v %s: walked %d, paged %d", f, sort, len(walked), len(paged))
			}
			for i := range walked {
				if walked[i].HumanID != paged[i].HumanID || walked[i].Terms.Amount != paged[i].Terms.Amount || walked[i].Terms.Product != paged[i].Terms.Product || walked[i].History != nil {
					t.Fatalf("%+v %s: at %d walked %s, paged %s", f, sort, i, walked[i].HumanID, paged[i].HumanID)
				}
			}
		}
	}
	n := 0
	if err := st.LoanEach(ctx, LoanFilter{}, "", 120, func(model.Loan) error { n++; return nil }); err != nil || n != 120 {
		t.Errorf("limit 120: %d loans, %v", n, err)
	}
	stop := errors.New("stop")
	n = 0
	if err := st.LoanEach(ctx, LoanFilter{}, "", 0, func(model.Loan) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Errorf("stopping: %d loans, %v", n, err)
	}
}
