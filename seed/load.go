package seed

import (
	"context"
	"fmt"
	"time"

	"loandesk/store"
)

// BatchSize is how many loans go into one insert. Small batches keep the
// embedded engine fast (it copies the collection per inserted document)
// and keep each MongoDB insert well under the 16 MB message limit.
const BatchSize = 250

// Inserter is the part of the store Load needs.
type Inserter interface {
	LoanReserveNumbers(ctx context.Context, n int) (int64, error)
	LoanInsertMany(ctx context.Context, loans []store.Loan) error
}

// Load inserts n generated loans in batches and returns how many landed.
// Loan numbers are reserved from the store's counter, so seeding into a
// database that already has loans never reuses a number.
func Load(ctx context.Context, st Inserter, n int, seed uint64, now time.Time) (int, error) {
	g := NewGenerator(seed, now)
	done := 0
	for done < n {
		size := min(BatchSize, n-done)
		first, err := st.LoanReserveNumbers(ctx, size)
		if err != nil {
			return done, err
		}
		batch := make([]store.Loan, size)
		for i := range batch {
			batch[i] = g.Loan(first + int64(i))
		}
		if err := st.LoanInsertMany(ctx, batch); err != nil {
			return done, fmt.Errorf("seed: insert batch at %d: %w", done, err)
		}
		done += size
	}
	return done, nil
}
