package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/256dpi/lungo/bsonkit"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"loandesk/model"
	"loandesk/seed"
	"loandesk/store/embedded"
)

// TestStore_LoanNarrowing: the work queue's filters (product, amount
// range, created range, city, score recommendation, days in status,
// alone and together, with a tab and an assignee)
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
	// Scores on a third of them: approve, refer and decline in turn.
	var scored []model.Loan
	cur, err := st.loans.Find(ctx, bson.M{})
	if err != nil {
		t.Fatal(err)
	}
	if err := cur.All(ctx, &scored); err != nil {
		t.Fatal(err)
	}
	ids := map[string]bson.A{}
	for i, l := range scored {
		if i%3 == 0 {
			rec := []string{"approve", "refer", "decline"}[i/3%3]
			ids[rec] = append(ids[rec], l.ID)
		}
	}
	for rec, in := range ids { // one write each (LoanSetScore is one per loan)
		score := model.LoanScore{Points: 50, Recommendation: rec, Version: 1, ScoredAt: now}
		if _, err := st.loans.UpdateMany(ctx, bson.M{"_id": bson.M{"$in": in}}, bson.M{"$set": bson.M{"score": score}}); err != nil {
			t.Fatal(err)
		}
	}
	var all []model.Loan
	cur, err = st.loans.Find(ctx, bson.M{})
	if err != nil {
		t.Fatal(err)
	}
	if err := cur.All(ctx, &all); err != nil {
		t.Fatal(err)
	}
	byID := map[string]model.Loan{}
	for _, l := range all {
		byID[l.HumanID] = l
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
		// Typed in other case and spacing than stored.
		"city":                   {LoanNarrowing: LoanNarrowing{City: "  " + strings.ToUpper(mid.Applicant.City) + " "}},
		"city in a tab":          {Status: model.StatusSubmitted, LoanNarrowing: LoanNarrowing{City: mid.Applicant.City}},
		"recommendation":         {LoanNarrowing: LoanNarrowing{Recommendation: "decline"}},
		"not scored":             {LoanNarrowing: LoanNarrowing{Recommendation: RecommendationNone}},
		"a month in status":      {LoanNarrowing: LoanNarrowing{InStatusBy: now.AddDate(0, 0, -30)}},
		"a week in review":       {Status: model.StatusUnderReview, LoanNarrowing: LoanNarrowing{InStatusBy: now.AddDate(0, 0, -7)}},
		"city, score and ageing": {LoanNarrowing: LoanNarrowing{City: mid.Applicant.City, Recommendation: "approve", InStatusBy: now.AddDate(0, 0, -20)}},
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
				!nw.CreatedTo.IsZero() && !l.CreatedAt.Before(nw.CreatedTo),
				nw.City != "" && !strings.EqualFold(l.Applicant.City, strings.TrimSpace(nw.City)),
				nw.Recommendation == RecommendationNone && l.Score != nil,
				nw.Recommendation != "" && nw.Recommendation != RecommendationNone && (l.Score == nil || l.Score.Recommendation != nw.Recommendation),
				!nw.InStatusBy.IsZero() && l.DaysInStatus(now) < int(now.Sub(nw.InStatusBy)/(24*time.Hour)):
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
			if !keep(byID[l.HumanID]) { // as stored: a page leaves the score out
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

// TestStore_LoanStatusTimeAndCityKey: a loan is filed with its status
// time at its filing; a save that keeps the status keeps it, one that
// moves the status sets it to the change's time; the city key follows a
// city edit. Loans stored before these fields existed get them once at
// the next start (the status time from the last status change in their
// history, or their filing), and the city filter and ageing find them.
func TestStore_LoanStatusTimeAndCityKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	st, ctx := b.store, context.Background()
	filed := time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC)
	l := model.Loan{HumanID: "LN-2026-000001", Status: model.StatusSubmitted, Applicant: model.Applicant{City: "Navi  Mumbai"}, CreatedAt: filed}
	if err := st.LoanInsertMany(ctx, []model.Loan{l}); err != nil {
		t.Fatal(err)
	}
	got, err := st.LoanGet(ctx, l.HumanID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.StatusAt.Equal(filed) || got.CityKey != "navi mumbai" {
		t.Fatalf("filed: status time %v, city key %q; want %v, navi mumbai", got.StatusAt, got.CityKey, filed)
	}
	save := func(cur model.Loan, at time.Time, fields ...model.FieldChange) model.Loan {
		t.Helper()
		next, err := st.LoanUpdate(ctx, cur, model.LoanChange{At: at, By: "a@test", Fields: fields})
		if err != nil {
			t.Fatal(err)
		}
		return next
	}
	edit := filed.AddDate(0, 0, 3)
	cur := got
	cur.Applicant.City = "Pune"
	got = save(cur, edit, model.FieldChange{Field: "city", From: "Navi Mumbai", To: "Pune"})
	if !got.StatusAt.Equal(filed) || got.CityKey != "pune" {
		t.Fatalf("after a city edit: status time %v, city key %q; want %v, pune", got.StatusAt, got.CityKey, filed)
	}
	moved := filed.AddDate(0, 0, 5)
	cur = got
	cur.Status = model.StatusUnderReview
	got = save(cur, moved, model.FieldChange{Field: "status", From: model.StatusSubmitted, To: model.StatusUnderReview})
	if !got.StatusAt.Equal(moved) {
		t.Fatalf("after a status change: status time %v, want %v", got.StatusAt, moved)
	}

	// Two loans as an older version stored them: no city key, no status
	// time; one moved to review in its history, one never moved.
	old := func(id string, history []model.LoanChange) bson.M {
		return bson.M{"_id": primitive.NewObjectID(), "humanId": id, "version": int64(len(history) + 1), "status": model.StatusUnderReview,
			"applicant": bson.M{"city": "Jaipur"}, "createdAt": filed, "history": history, "searchKeys": bson.A{}}
	}
	review := filed.AddDate(0, 0, 2)
	if _, err := st.loans.InsertMany(ctx, []any{
		old("LN-2026-000002", []model.LoanChange{
			{Version: 2, At: review, Fields: []model.FieldChange{{Field: "status", From: model.StatusSubmitted, To: model.StatusUnderReview}}},
			{Version: 3, At: review.AddDate(0, 0, 1), Fields: []model.FieldChange{{Field: "amount", From: "1", To: "2"}}},
		}),
		old("LN-2026-000003", nil),
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.counters.DeleteOne(ctx, bson.M{"_id": loanKeysDone}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(ctx); err != nil {
		t.Fatal(err)
	}
	st, err = Open(ctx, Config{DataDir: b.dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close(context.Background()) })
	for id, want := range map[string]time.Time{"LN-2026-000002": review, "LN-2026-000003": filed} {
		l, err := st.LoanGet(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !l.StatusAt.Equal(want) || l.CityKey != "jaipur" {
			t.Errorf("%s after the start: status time %v, city key %q; want %v, jaipur", id, l.StatusAt, l.CityKey, want)
		}
	}
	// The filters find them: in review since the 3rd of October (the
	// filed one, since the 1st) at least 10 days by the 13th.
	asOf := review.AddDate(0, 0, 10)
	page, err := st.LoanList(ctx, LoanListParams{LoanFilter: LoanFilter{LoanNarrowing: LoanNarrowing{City: "JAIPUR", InStatusBy: asOf.AddDate(0, 0, -10)}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 2 {
		t.Errorf("Jaipur, 10 days in status: %d loans, want 2", len(page))
	}
	page, err = st.LoanList(ctx, LoanListParams{LoanFilter: LoanFilter{LoanNarrowing: LoanNarrowing{City: "jaipur", InStatusBy: asOf.AddDate(0, 0, -11)}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 1 || page[0].HumanID != "LN-2026-000003" {
		t.Errorf("Jaipur, 11 days in status: %v, want LN-2026-000003 alone", page)
	}
}
