package handlers

import (
	"math/rand/v2"
	"net/url"
	"strconv"
	"testing"

	"loandesk/money"
	"loandesk/store"
)

// queryByValues is listQuery.query as first written, through url.Values:
// the reference the direct writer must equal.
func queryByValues(q listQuery) string {
	v := url.Values{}
	for key, val := range map[string]string{
		"status": q.Status, "q": q.Q, "assignee": q.Assignee, "product": q.Product,
		"min": q.Min, "max": q.Max, "from": q.From, "to": q.To, "city": q.City, "score": q.Rec,
	} {
		if val != "" {
			v.Set(key, val)
		}
	}
	if q.narrow.AmountMin > 0 {
		v.Set("min", money.FormatRupees(q.narrow.AmountMin))
	}
	if q.narrow.AmountMax > 0 {
		v.Set("max", money.FormatRupees(q.narrow.AmountMax))
	}
	if q.Days > 0 {
		v.Set("days", strconv.Itoa(q.Days))
	}
	if q.Sort != store.SortNewest {
		v.Set("sort", q.Sort)
	}
	if q.Size != loanPageSize {
		v.Set("size", strconv.Itoa(q.Size))
	}
	if q.Page > 1 {
		v.Set("page", strconv.Itoa(q.Page))
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// TestListQuery_SameAsURLValues: the list's links equal url.Values'
// encoding on 5,000 random states, with text that needs escaping
// (spaces, &, =, #, +, %, non-ASCII), amounts that parsed, and the
// defaults (newest first, the default page size, page 1) left out.
func TestListQuery_SameAsURLValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	texts := []string{"", "", "under_review", "Asha Rao", "a&b=c", "#x+y%", "पुणे", "me", "2026-11-30", "5,00,000"}
	pick := func() string { return texts[rng.IntN(len(texts))] }
	sorts := []string{store.SortNewest, store.SortOldest, store.SortAmountDesc, store.SortAmountAsc, ""}
	sizes := []int{loanPageSize, 10, 50, 100, 0}
	for i := range 5000 {
		q := listQuery{Status: pick(), Q: pick(), Assignee: pick(), Product: pick(), Min: pick(), Max: pick(),
			From: pick(), To: pick(), City: pick(), Rec: pick(), Days: rng.IntN(3) * rng.IntN(40),
			Sort: sorts[rng.IntN(len(sorts))], Size: sizes[rng.IntN(len(sizes))], Page: rng.IntN(4)}
		if rng.IntN(3) == 0 {
			q.narrow.AmountMin = rng.Int64N(3) * 5_000_000
		}
		if rng.IntN(3) == 0 {
			q.narrow.AmountMax = rng.Int64N(3) * 7_500_050
		}
		if got, want := q.query(nil), queryByValues(q); got != want {
			t.Fatalf("state %d %+v:\n got %s\nwant %s", i, q, got, want)
		}
	}
}
