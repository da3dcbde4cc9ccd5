package store

import (
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"loandesk/model"
)

// LoanNarrowing is the work queue's filters beyond status, search and
// assignee (issue 18). Each is served by an index (see indexes: the
// product, city, recommendation and status-time ones, createdAt and
// terms.amount with and without the status prefix), so a list page and
// the tab counts stay a walk of one index range, never of the
// collection, at 100k loans.
type LoanNarrowing struct {
	Product string // a product's name; empty: every product
	// AmountMin and AmountMax bound terms.amount in paise, both ends
	// included; 0 leaves that end open.
	AmountMin, AmountMax int64
	// CreatedFrom and CreatedTo bound createdAt: from included, to
	// excluded (the day after the last day asked for, at midnight in the
	// lender's zone); a zero time leaves that end open.
	CreatedFrom, CreatedTo time.Time
	// City is a city as typed; it matches the applicant's city compared
	// as CityKey folds both (case and spacing ignored). Empty: any city.
	City string
	// Recommendation is the scorecard's latest recommendation (approve,
	// refer, decline), or RecommendationNone for loans never scored.
	// Empty: any.
	Recommendation string
	// InStatusBy keeps loans that entered their current status at or
	// before it (statusAt <= InStatusBy): with now minus N×24 h, the
	// loans at least N days in their status (model.Loan.DaysInStatus).
	// Zero: any.
	InStatusBy time.Time
}

// RecommendationNone filters for loans without a score.
const RecommendationNone = "none"

// CityKey is city as the city filter compares it: folded to lower case
// (NFC) with runs of spaces made one and the ends trimmed.
func CityKey(city string) string { return strings.Join(strings.Fields(foldText(city)), " ") }

// statusChanged reports whether change moves the loan's status.
func statusChanged(change model.LoanChange) bool {
	for _, f := range change.Fields {
		if f.Field == "status" && f.From != f.To {
			return true
		}
	}
	return false
}

// fillDerived sets what the store derives on a loan it inserts: the city
// key, and the status time (its filing time unless the caller set one).
func fillDerived(l *model.Loan) {
	l.CityKey = CityKey(l.Applicant.City)
	if l.StatusAt.IsZero() {
		l.StatusAt = l.CreatedAt
	}
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
	if n.City != "" {
		q["cityKey"] = CityKey(n.City)
	}
	switch n.Recommendation {
	case "":
	case RecommendationNone:
		q["score.recommendation"] = nil // no score (or none recorded)
	default:
		q["score.recommendation"] = n.Recommendation
	}
	if !n.InStatusBy.IsZero() {
		q["statusAt"] = bson.M{"$lte": n.InStatusBy}
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
