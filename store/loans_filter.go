package store

import (
	"time"

	"go.mongodb.org/mongo-driver/bson"
)

// LoanNarrowing is the work queue's filters beyond status, search and
// assignee (issue 18). Each is served by an index (see indexes: the
// product one, createdAt and terms.amount with and without the status
// prefix), so a list page and the tab counts stay a walk of one index
// range, never of the collection, at 100k loans.
type LoanNarrowing struct {
	Product string // a product's name; empty: every product
	// AmountMin and AmountMax bound terms.amount in paise, both ends
	// included; 0 leaves that end open.
	AmountMin, AmountMax int64
	// CreatedFrom and CreatedTo bound createdAt: from included, to
	// excluded (the day after the last day asked for, at midnight in the
	// lender's zone); a zero time leaves that end open.
	CreatedFrom, CreatedTo time.Time
}

// IsZero reports whether n narrows nothing.
func (n LoanNarrowing) IsZero() bool { return n == LoanNarrowing{} }

// addTo adds n's conditions to the filter q. Each range is one operator
// document on one field, the shape an index range serves.
func (n LoanNarrowing) addTo(q bson.M) {
	if n.Product != "" {
		q["terms.product"] = n.Product
	}
	if amount := bounded(n.AmountMin > 0, n.AmountMin, n.AmountMax > 0, n.AmountMax, "$lte"); amount != nil {
		q["terms.amount"] = amount
	}
	if created := bounded(!n.CreatedFrom.IsZero(), n.CreatedFrom, !n.CreatedTo.IsZero(), n.CreatedTo, "$lt"); created != nil {
		q["createdAt"] = created
	}
}

// bounded is {$gte: lo, hiOp: hi} with the ends that are set, or nil.
func bounded[T any](hasLo bool, lo T, hasHi bool, hi T, hiOp string) bson.M {
	if !hasLo && !hasHi {
		return nil
	}
	m := bson.M{}
	if hasLo {
		m["$gte"] = lo
	}
	if hasHi {
		m[hiOp] = hi
	}
	return m
}
