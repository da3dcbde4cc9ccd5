package store

import (
	"context"
	"testing"
	"time"

	"github.com/256dpi/lungo/bsonkit"
	"go.mongodb.org/mongo-driver/bson"

	"loandesk/model"
	"loandesk/seed"
	"loandesk/store/embedded"
)

// TestStore_LoanNarrowing: the work queue's filters (product, amount
// range, created range, alone and together, with a tab and an assignee)
// list and count exactly the loans a plain reading of them keeps, on
// 2,000 seeded loans; and each is served by an index range that holds
// the matches, not by a scan of the collection.
func TestStore_LoanNarrowing(t *testing.T) {
	t.Parallel()
	st := setup(t).store
	ctx := context.Background()
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	const n = 2000
	if _, err := seed.Load(ctx, st, n, 7, now); err != nil {
		t.Fatal(err)
	}
	var all []model.Loan
	cur, err := st.loans.Find(ctx, bson.M{})
	if err != nil {
		t.Fatal(err)
	}
	if err := cur.All(ctx, &all); err != nil {
		t.Fatal(err)
	}
	// Bounds taken from the data, so every case matches some loans.
	mid := all[n/2]
	created := mid.CreatedAt.Truncate(24 * time.Hour)
	cases := map[string]LoanFilter{
		"product":              {LoanNarrowing: LoanNarrowing{Product: "home"}},
		"amount range":         {LoanNarrowing: LoanNarrowing{AmountMin: 5_00_000_00, AmountMax: 20_00_000_00}},
		"amount from":          {LoanNarrowing: LoanNarrowing{AmountMin: mid.Terms.Amount}},
		"amount up to":         {LoanNarrowing: LoanNarrowing{AmountMax: mid.Terms.Amount}},
		"created range":        {LoanNarrowing: LoanNarrowing{CreatedFrom: created.AddDate(0, 0, -10), CreatedTo: created}},
		"created from":         {LoanNarrowing: LoanNarrowing{CreatedFrom: created}},
		"product and amount":   {LoanNarrowing: LoanNarrowing{Product: "personal", AmountMax: 3_00_000_00}},
		"product and assignee": {Assignee: AssigneeNone, LoanNarrowing: LoanNarrowing{Product: "auto"}},
		"everything": {Status: model.StatusUnderReview, LoanNarrowing: LoanNarrowing{
			Product: mid.Terms.Product, AmountMin: 1, AmountMax: 1_00_00_000_00, CreatedFrom: created.AddDate(0, -3, 0), CreatedTo: now,
		}},
	}
	for name, f := range cases {
		// The tab counts ignore the status; the page keeps it.
		inTabs := func(l model.Loan) bool {
			nw := f.LoanNarrowing
			switch {
			case f.Assignee == AssigneeNone && l.Assignee != "",
				nw.Product != "" && l.Terms.Product != nw.Product,
				nw.AmountMin > 0 && l.Terms.Amount < nw.AmountMin,
				nw.AmountMax > 0 && l.Terms.Amount > nw.AmountMax,
				!nw.CreatedFrom.IsZero() && l.CreatedAt.Before(nw.CreatedFrom),
				!nw.CreatedTo.IsZero() && !l.CreatedAt.Before(nw.CreatedTo):
				return false
			}
			return true
		}
		keep := func(l model.Loan) bool { return inTabs(l) && (f.Status == "" || l.Status == f.Status) }
		want := map[string]int64{}
		var wantTotal int64
		for _, l := range all {
			if inTabs(l) {
				want[l.Status]++
				wantTotal++
			}
		}
		if wantTotal == 0 {
			t.Errorf("%s: the case matches no loans; pick other bounds", name)
			continue
		}
		counts, err := st.LoanCountByStatus(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range model.LoanStatuses {
			if counts[s] != want[s] {
				t.Errorf("%s: %s counted %d, want %d", name, s, counts[s], want[s])
			}
		}
		page, err := st.LoanList(ctx, LoanListParams{LoanFilter: f, Sort: SortAmountDesc, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if wantPage := min(100, int(wantTotal)); f.Status == "" && len(page) != wantPage {
			t.Errorf("%s: a page of %d, want %d", name, len(page), wantPage)
		}
		for i, l := range page {
			if !keep(l) {
				t.Errorf("%s: %s listed, but it does not match", name, l.HumanID)
			}
			if i > 0 && l.Terms.Amount > page[i-1].Terms.Amount {
				t.Errorf("%s: not largest first at %d", name, i)
			}
		}

		// The plan: an index, and few documents examined for a page.
		filter, err := bsonkit.Transform(f.Query())
		if err != nil {
			t.Fatal(err)
		}
		_, plan, err := st.indexed.Find(ctx, DefaultDatabase+".loans", embedded.Query{
			Filter: filter, Sort: bsonkit.MustConvert(bson.D{{Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}}), Limit: 25,
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if plan.Index == "" || plan.Examined > n/2 {
			t.Errorf("%s: a page is served by %+v: want an index and at most %d documents examined", name, plan, n/2)
		}
		t.Logf("%s: %d match; a page by %s examines %d", name, wantTotal, plan.Index, plan.Examined)
	}
}
