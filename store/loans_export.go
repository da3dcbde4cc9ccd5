package store

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/mongo/options"

	"loandesk/model"
)

// LoanEach calls fn with each loan f matches, in the order sort names
// (see the Sort constants; empty is newest first), with the fields a
// list page has (listProjection), at most limit of them (limit > 0). It
// is one query read through a cursor, so an export streams instead of
// paging with ever larger skips. An error from fn stops the walk and is
// returned as it is.
func (s *Store) LoanEach(ctx context.Context, f LoanFilter, sort string, limit int, fn func(model.Loan) error) error {
	order, ok := loanSorts[sort]
	if !ok {
		order = loanSorts[SortNewest]
	}
	cur, err := s.loans.Find(ctx, s.loanQuery(f), options.Find().
		SetSort(order).SetLimit(int64(max(limit, 1))).SetProjection(listProjection).SetBatchSize(500))
	if err != nil {
		return fmt.Errorf("store: each loan: %w", err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var l model.Loan
		if err := cur.Decode(&l); err != nil {
			return fmt.Errorf("store: each loan: %w", err)
		}
		if err := fn(l); err != nil {
			return err
		}
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("store: each loan: %w", err)
	}
	return nil
}
