package seed

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"loandesk/model"

	"golang.org/x/sync/errgroup"
)

// BatchSize is how many loans go into one insert: about 1 MB, well under
// MongoDB's 16 MB message limit.
const BatchSize = 1000

// Inserter is the part of the store Load needs.
type Inserter interface {
	LoanReserveNumbers(ctx context.Context, n int) (int64, error)
	LoanInsertMany(ctx context.Context, loans []model.Loan) error
	// LedgerPostMany appends balanced journal transactions.
	LedgerPostMany(ctx context.Context, txns []model.JournalTxn) error
}

// inserters is how many batches are in flight at once: while one batch's
// commit is written to disk, the next is going into the indexes (the
// embedded engine writes concurrent commits together).
const inserters = 2

// Load inserts n generated loans in batches and returns how many landed.
// Loan numbers are reserved from the store's counter up front, so seeding
// into a database that already has loans never reuses a number. One
// goroutine generates the batches (the same seed gives the same loans);
// they are inserted concurrently.
func Load(ctx context.Context, st Inserter, n int, seed uint64, now time.Time) (int, error) {
	g := NewGenerator(seed, now)
	first, err := st.LoanReserveNumbers(ctx, n)
	if err != nil {
		return 0, err
	}
	group, ctx := errgroup.WithContext(ctx)
	batches := make(chan []model.Loan, inserters)
	group.Go(func() error {
		defer close(batches)
		for done := 0; done < n; {
			batch := make([]model.Loan, min(BatchSize, n-done))
			for i := range batch {
				batch[i] = g.Loan(first + int64(done+i))
			}
			select {
			case batches <- batch:
			case <-ctx.Done():
				return ctx.Err()
			}
			done += len(batch)
		}
		return nil
	})
	var landed atomic.Int64
	for range inserters {
		group.Go(func() error {
			for batch := range batches {
				if err := st.LoanInsertMany(ctx, batch); err != nil {
					return fmt.Errorf("seed: insert the batch from %s: %w", batch[0].HumanID, err)
				}
				var txns []model.JournalTxn // disbursed loans' payouts, so the ledger agrees with them
				for _, l := range batch {
					if l.Disbursement != nil {
						txns = append(txns, DisbursementTxn(l))
					}
				}
				if err := st.LedgerPostMany(ctx, txns); err != nil {
					return fmt.Errorf("seed: post the payouts of the batch from %s: %w", batch[0].HumanID, err)
				}
				landed.Add(int64(len(batch)))
			}
			return nil
		})
	}
	err = group.Wait()
	return int(landed.Load()), err
}
