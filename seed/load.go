package seed

import (
	"context"
	"fmt"
	"time"

	"loandesk/store"
)

// BatchSize is how many loans go into one insert: about 1 MB, well under
// MongoDB's 16 MB message limit. Larger batches do not help the embedded
// engine, whose InsertMany copies the collection per document anyway.
const BatchSize = 1000

// Inserter is the part of the store Load needs.
type Inserter interface {
	LoanReserveNumbers(ctx context.Context, n int) (int64, error)
	LoanInsertMany(ctx context.Context, loans []store.Loan) error
}

// Load inserts n generated loans in batches and returns how many landed.
// Loan numbers are reserved from the store's counter up front, so seeding
// into a database that already has loans never reuses a number.
func Load(ctx context.Context, st Inserter, n int, seed uint64, now time.Time) (int, error) {
	g := NewGenerator(seed, now)
	first, err := st.LoanReserveNumbers(ctx, n)
	if err != nil {
		return 0, err
	}
	done := 0
	for done < n {
		size := min(BatchSize, n-done)
		batch := make([]store.Loan, size)
		for i := range batch {
			batch[i] = g.Loan(first + int64(done+i))
		}
		if err := st.LoanInsertMany(ctx, batch); err != nil {
			return done, fmt.Errorf("seed: insert batch at %d: %w", done, err)
		}
		done += size
	}
	return done, nil
}
