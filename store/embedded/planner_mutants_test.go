package embedded

// Planner rules the app's queries do not reach today, checked with exact
// inputs and answers (each was a surviving mutant of scripts/mutation.sh;
// the engine is general and must hold anyway): a partial index never
// stands for the whole collection, an index over an array field never
// gives a sort's order, and each range of a multi-range search includes
// its bounds.

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/256dpi/lungo/bsonkit"
	"github.com/256dpi/lungo/mongokit"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"loandesk/store/durable"
)

// engineWith opens an engine on a fresh file with the given indexes on
// "t.c" and the documents inserted.
func engineWith(t *testing.T, indexes []mongokit.IndexConfig, docs []bson.D) *Engine {
	t.Helper()
	db, err := durable.Open(filepath.Join(t.TempDir(), "m.db"), durable.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e, err := Open(db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(); _ = db.Close() })
	for _, cfg := range indexes {
		if _, err := e.CreateIndex("t.c", "", cfg); err != nil {
			t.Fatal(err)
		}
	}
	list := make([]bsonkit.Doc, len(docs))
	for i := range docs {
		list[i] = &docs[i]
	}
	if _, err := e.Insert(context.Background(), "t.c", list); err != nil {
		t.Fatal(err)
	}
	return e
}

// findIDs runs q and returns the results' _ids and the plan.
func findIDs(t *testing.T, e *Engine, q Query) ([]any, Plan) {
	t.Helper()
	docs, plan, err := e.Find(context.Background(), "t.c", q, nil)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]any, len(docs))
	for i, d := range docs {
		ids[i] = bsonkit.Get(d, "_id")
	}
	return ids, plan
}

func ints(ns ...int) []any {
	out := make([]any, len(ns))
	for i, n := range ns {
		out[i] = int64(n)
	}
	return out
}

func dp(d bson.D) bsonkit.Doc { return &d }

// A partial index holds only the documents its filter matches, so it can
// never be the candidate set of a query, however selective it looks.
func TestPlanner_PartialIndexIsNeverTheCandidateSet(t *testing.T) {
	t.Parallel()
	var docs []bson.D
	for i := range 200 {
		docs = append(docs, bson.D{{Key: "_id", Value: int64(i)}, {Key: "status", Value: "open"}, {Key: "flagged", Value: i%50 == 0}})
	}
	e := engineWith(t, []mongokit.IndexConfig{{
		Key:     dp(bson.D{{Key: "status", Value: int32(1)}}),
		Partial: dp(bson.D{{Key: "flagged", Value: true}}),
	}}, docs)

	got, plan := findIDs(t, e, Query{Filter: dp(bson.D{{Key: "status", Value: "open"}})})
	if len(got) != 200 || plan.Index != "" {
		t.Errorf("find {status: open}: %d documents by index %q, want 200 by a full scan", len(got), plan.Index)
	}
	got, plan = findIDs(t, e, Query{Filter: dp(bson.D{}), Sort: dp(bson.D{{Key: "status", Value: int32(1)}, {Key: "_id", Value: int32(1)}}), Limit: 3})
	if !slices.Equal(got, ints(0, 1, 2)) || plan.Index != "" {
		t.Errorf("sorted by status, limit 3: %v by index %q, want [0 1 2] by a full scan", got, plan.Index)
	}
	n, _, err := e.Count(context.Background(), "t.c", dp(bson.D{{Key: "status", Value: "open"}}))
	if err != nil || n != 200 {
		t.Errorf("count {status: open} = %d, %v; want 200", n, err)
	}
}

// An index over an array field lists a document once per element, so its
// order is not a sort's: MongoDB sorts an array by its least element
// (ascending). Walking such an index from a range's start gives
// another order.
func TestPlanner_ArrayIndexNeverGivesTheSortOrder(t *testing.T) {
	t.Parallel()
	e := engineWith(t, []mongokit.IndexConfig{{Key: dp(bson.D{{Key: "tags", Value: int32(1)}})}}, []bson.D{
		{{Key: "_id", Value: int64(1)}, {Key: "tags", Value: bson.A{"a", "z"}}},
		{{Key: "_id", Value: int64(2)}, {Key: "tags", Value: bson.A{"n"}}},
		{{Key: "_id", Value: int64(3)}, {Key: "tags", Value: bson.A{"m", "b"}}},
		{{Key: "_id", Value: int64(4)}, {Key: "tags", Value: bson.A{"q"}}},
		{{Key: "_id", Value: int64(5)}, {Key: "tags", Value: bson.A{"c"}}}, // no element from "m" on
	})
	from := dp(bson.D{{Key: "tags", Value: bson.D{{Key: "$elemMatch", Value: bson.D{{Key: "$gte", Value: "m"}}}}}})
	for _, tc := range []struct {
		dir   int32
		limit int
		want  []any
	}{
		{1, 0, ints(1, 3, 2, 4)},  // least elements a, b, n, q
		{1, 2, ints(1, 3)},        // the window of that order
		{-1, 0, ints(1, 4, 2, 3)}, // greatest elements z, q, n, m
	} {
		got, plan := findIDs(t, e, Query{Filter: from, Sort: dp(bson.D{{Key: "tags", Value: tc.dir}}), Limit: tc.limit})
		if !slices.Equal(got, tc.want) || plan.SortFromIndex {
			t.Errorf("sort {tags: %d} limit %d: %v (plan %+v), want %v not sorted by the index", tc.dir, tc.limit, got, plan, tc.want)
		}
	}
}

// A search for words with several prefixes (an $and of $elemMatch
// ranges) walks the rarest range and checks the others per candidate:
// from the index when the other range is small, on the document when it
// is large. Either way a range's bounds are part of it, and the check is
// exact: only documents that match are examined.
func TestPlanner_MultiRangeSearchIncludesTheBounds(t *testing.T) {
	t.Parallel()
	// common: how many documents hold the common word (and number): 50
	// keeps the other range small enough to check from the index, 300
	// makes it checked on each document.
	for _, common := range []int{50, 300} {
		t.Run(fmt.Sprint(common), func(t *testing.T) {
			t.Parallel()
			var docs []bson.D
			for i := range common {
				words, nums := bson.A{"common", fmt.Sprintf("w%03d", i)}, bson.A{int64(5000), int64(100 + i)}
				if i%25 == 0 { // the rare ones: 0, 25, ...
					words, nums = append(words, "rare"), append(nums, int64(1))
				}
				docs = append(docs, bson.D{{Key: "_id", Value: int64(i)}, {Key: "words", Value: words}, {Key: "nums", Value: nums}})
			}
			// Rare ones without the common word: their other values lie
			// below it, or above.
			docs = append(docs,
				bson.D{{Key: "_id", Value: int64(1000)}, {Key: "words", Value: bson.A{"rare", "aaa"}}, {Key: "nums", Value: bson.A{int64(1), int64(50)}}},
				bson.D{{Key: "_id", Value: int64(1001)}, {Key: "words", Value: bson.A{"rare", "cz"}}, {Key: "nums", Value: bson.A{int64(1), int64(9000)}}},
			)
			for i := range docs { // the same words under a dotted path
				docs[i] = append(docs[i], bson.E{Key: "s", Value: bson.D{{Key: "words", Value: docs[i][1].Value}}})
			}
			e := engineWith(t, []mongokit.IndexConfig{
				{Key: dp(bson.D{{Key: "words", Value: int32(1)}})},
				{Key: dp(bson.D{{Key: "nums", Value: int32(1)}})},
				{Key: dp(bson.D{{Key: "s.words", Value: int32(1)}})},
			}, docs)
			var want []any
			for i := 0; i < common; i += 25 {
				want = append(want, int64(i))
			}
			within := func(field string, lo, hi any) bson.D {
				return bson.D{{Key: field, Value: bson.D{{Key: "$elemMatch", Value: bson.D{{Key: "$gte", Value: lo}, {Key: "$lte", Value: hi}}}}}}
			}
			for name, filter := range map[string]bson.D{
				"words":   {{Key: "$and", Value: bson.A{within("words", "common", "common"), within("words", "rare", "rare")}}},
				"nums":    {{Key: "$and", Value: bson.A{within("nums", int64(5000), int64(5000)), within("nums", int64(1), int64(1))}}},
				"s.words": {{Key: "$and", Value: bson.A{within("s.words", "common", "common"), within("s.words", "rare", "rare")}}},
			} {
				got, plan := findIDs(t, e, Query{Filter: dp(filter), Sort: dp(bson.D{{Key: "_id", Value: int32(1)}})})
				if !slices.Equal(got, want) || plan.Index != name+"_1" || plan.Examined != len(want) {
					t.Errorf("%s: %v by index %q examining %d, want %v by %s_1 examining %d", name, got, plan.Index, plan.Examined, want, name, len(want))
				}
			}
		})
	}
}

// Which access path serves a query is part of the engine's contract (the
// app's list pages depend on it), and index choice goes through a map:
// each query runs several times, so that an order-dependent choice shows.
func TestPlanner_Choices(t *testing.T) {
	t.Parallel()
	var docs []bson.D
	for i := range 600 {
		docs = append(docs, bson.D{
			{Key: "_id", Value: int64(i)}, {Key: "status", Value: []string{"a", "b"}[i%2]}, {Key: "at", Value: int64(i % 100)},
			{Key: "kind", Value: fmt.Sprint("k", i%20)}, {Key: "other", Value: int64(i % 3)}, {Key: "same", Value: "x"},
		})
	}
	e := engineWith(t, []mongokit.IndexConfig{
		{Key: dp(bson.D{{Key: "status", Value: int32(1)}, {Key: "at", Value: int32(-1)}})},
		{Key: dp(bson.D{{Key: "status", Value: int32(1)}, {Key: "other", Value: int32(1)}})},
		{Key: dp(bson.D{{Key: "kind", Value: int32(1)}})},
		{Key: dp(bson.D{{Key: "at", Value: int32(1)}})},
		{Key: dp(bson.D{{Key: "other", Value: int32(1)}})},
		{Key: dp(bson.D{{Key: "same", Value: int32(1)}})},
	}, docs)
	atDesc := dp(bson.D{{Key: "at", Value: int32(-1)}})
	in100 := bson.A{"k0"} // and 99 values no document has
	for i := range 99 {
		in100 = append(in100, fmt.Sprint("z", i))
	}
	for _, tc := range []struct {
		name    string
		q       Query
		index   string
		sorted  bool
		results int
	}{
		{"$eq is an equality", Query{Filter: dp(bson.D{{Key: "kind", Value: bson.D{{Key: "$eq", Value: "k3"}}}})}, "kind_1", false, 30},
		{"the more selective index", Query{Filter: dp(bson.D{{Key: "status", Value: "a"}, {Key: "kind", Value: "k4"}})}, "kind_1", false, 30},
		{"of equal costs, the one giving the order", Query{Filter: dp(bson.D{{Key: "status", Value: "b"}}), Sort: atDesc}, "status_1_at_-1", true, 300},
		{"an index holding every document is no better than a scan", Query{Filter: dp(bson.D{{Key: "same", Value: "x"}})}, "", false, 600},
		{"a sorted walk is cheap only when the filter is its prefix", Query{Filter: dp(bson.D{{Key: "other", Value: int64(1)}}), Sort: dp(bson.D{{Key: "at", Value: int32(1)}}), Limit: 5}, "other_1", false, 5},
		{"$in of 100 values", Query{Filter: dp(bson.D{{Key: "kind", Value: bson.D{{Key: "$in", Value: in100}}}})}, "kind_1", false, 30},
		{"the tighter of two lower bounds", Query{Filter: dp(bson.D{{Key: "at", Value: bson.D{{Key: "$gte", Value: int64(95)}, {Key: "$gt", Value: int64(10)}}}})}, "at_1", false, 30},
		{"the tighter of two upper bounds", Query{Filter: dp(bson.D{{Key: "at", Value: bson.D{{Key: "$lte", Value: int64(4)}, {Key: "$lt", Value: int64(90)}}}})}, "at_1", false, 30},
	} {
		for range 8 {
			got, plan := findIDs(t, e, tc.q)
			if plan.Index != tc.index || plan.SortFromIndex != tc.sorted || len(got) != tc.results {
				t.Errorf("%s: plan %+v, %d results; want index %q, sorted %v, %d results", tc.name, plan, len(got), tc.index, tc.sorted, tc.results)
				break
			}
			if tc.index != "" && plan.Examined != tc.results && tc.q.Limit == 0 {
				t.Errorf("%s: examined %d documents for %d results", tc.name, plan.Examined, tc.results)
				break
			}
		}
	}
	// A count whose filter is exactly an index's equality prefix, over one
	// column or two, is the size of a key range: nothing is examined.
	for _, tc := range []struct {
		filter bson.D
		want   int
	}{
		{bson.D{{Key: "status", Value: "a"}}, 300},
		{bson.D{{Key: "status", Value: "a"}, {Key: "other", Value: int64(1)}}, 100}, // _id 4, 10, 16, ...
	} {
		for range 4 {
			n, plan, err := e.Count(context.Background(), "t.c", dp(tc.filter))
			if err != nil || n != tc.want || plan.Examined != 0 {
				t.Errorf("count %v: %d (plan %+v), %v; want %d counted by rank, nothing examined", tc.filter, n, plan, err, tc.want)
				break
			}
		}
	}
	// Otherwise the count walks the best index's candidates.
	if n, plan, err := e.Count(context.Background(), "t.c", dp(bson.D{{Key: "kind", Value: "k1"}, {Key: "other", Value: int64(1)}})); err != nil || n != 10 || plan.Index != "kind_1" || plan.Examined != 30 {
		t.Errorf("count {kind: k1, other: 1}: %d (plan %+v), %v; want 10 examining kind_1's 30", n, plan, err)
	}
}

// When an index gives a sort's order, and when only _id may follow its
// columns (entries with equal keys are in _id order, ascending along the
// index).
func TestPlanner_SortFromIndex(t *testing.T) {
	t.Parallel()
	// at ties everywhere; kind runs against _id within each at.
	var docs []bson.D
	for i := range 6 {
		docs = append(docs, bson.D{{Key: "_id", Value: int64(i)}, {Key: "status", Value: "s"}, {Key: "at", Value: int64(i / 3)}, {Key: "kind", Value: int64(10 - i)}})
	}
	e := engineWith(t, []mongokit.IndexConfig{
		{Key: dp(bson.D{{Key: "at", Value: int32(1)}})},
		{Key: dp(bson.D{{Key: "status", Value: int32(1)}, {Key: "at", Value: int32(-1)}})},
	}, docs)
	sort := func(kv ...any) bsonkit.Doc {
		var d bson.D
		for i := 0; i < len(kv); i += 2 {
			d = append(d, bson.E{Key: kv[i].(string), Value: int32(kv[i+1].(int))})
		}
		return &d
	}
	all, byStatus := dp(bson.D{}), dp(bson.D{{Key: "status", Value: "s"}})
	for _, tc := range []struct {
		name   string
		q      Query
		sorted bool
		want   []any
	}{
		{"index order, then _id", Query{Filter: all, Sort: sort("at", 1, "_id", 1)}, true, ints(0, 1, 2, 3, 4, 5)},
		{"backwards, _id backwards too", Query{Filter: all, Sort: sort("at", -1, "_id", -1)}, true, ints(5, 4, 3, 2, 1, 0)},
		{"_id against the walk", Query{Filter: all, Sort: sort("at", 1, "_id", -1)}, false, ints(2, 1, 0, 5, 4, 3)},
		{"another field after the index's", Query{Filter: all, Sort: sort("at", 1, "kind", 1)}, false, ints(2, 1, 0, 5, 4, 3)},
		{"_id not last", Query{Filter: all, Sort: sort("at", 1, "_id", 1, "kind", 1)}, false, ints(0, 1, 2, 3, 4, 5)},
		{"after an equality, the next column", Query{Filter: byStatus, Sort: sort("at", 1, "_id", 1)}, true, ints(0, 1, 2, 3, 4, 5)},
		{"after an equality, _id alone", Query{Filter: byStatus, Sort: sort("_id", -1)}, false, ints(5, 4, 3, 2, 1, 0)},
		{"a column skipped", Query{Filter: all, Sort: sort("status", 1, "_id", -1)}, false, ints(5, 4, 3, 2, 1, 0)},
	} {
		got, plan := findIDs(t, e, tc.q)
		if !slices.Equal(got, tc.want) || plan.SortFromIndex != tc.sorted {
			t.Errorf("%s: %v (plan %+v), want %v, sorted by the index %v", tc.name, got, plan, tc.want, tc.sorted)
		}
	}
}

// A sorted window (a limit) from an index that does not give the order
// runs Match on the sorted candidates only until the window is full.
// Reads over many documents stop with the context's error once it ends.
func TestFind_SortedWindowAndCancellation(t *testing.T) {
	t.Parallel()
	var docs []bson.D
	for i := range 1200 {
		docs = append(docs, bson.D{{Key: "_id", Value: int64(i)}, {Key: "kind", Value: fmt.Sprint("k", i%2)}, {Key: "at", Value: int64(-i)}})
	}
	e := engineWith(t, []mongokit.IndexConfig{{Key: dp(bson.D{{Key: "kind", Value: int32(1)}})}}, docs)
	q := Query{Filter: dp(bson.D{{Key: "kind", Value: "k1"}}), Sort: dp(bson.D{{Key: "at", Value: int32(1)}}), Limit: 3}
	got, plan := findIDs(t, e, q)
	if !slices.Equal(got, ints(1199, 1197, 1195)) || plan.Index != "kind_1" || plan.Examined != 3 {
		t.Errorf("window of 3: %v (plan %+v), want [1199 1197 1195] examining 3", got, plan)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for name, q := range map[string]Query{
		"a scan":          {Filter: dp(bson.D{{Key: "at", Value: bson.D{{Key: "$lt", Value: int64(1)}}}})},
		"a sorted window": q,
		"an index walk":   {Filter: dp(bson.D{{Key: "kind", Value: "k0"}})},
	} {
		if _, _, err := e.Find(ctx, "t.c", q, nil); err != context.Canceled {
			t.Errorf("%s with an ended context: %v, want context.Canceled", name, err)
		}
	}
	if _, _, err := e.Count(ctx, "t.c", dp(bson.D{{Key: "at", Value: bson.D{{Key: "$lt", Value: int64(1)}}}})); err != context.Canceled {
		t.Errorf("a counting scan with an ended context: %v, want context.Canceled", err)
	}
}

// An $in walks the index once per value; values that are equal (repeated,
// or the same number in two types) must not list a document twice.
func TestFind_InWithEqualValues(t *testing.T) {
	t.Parallel()
	var docs []bson.D
	for i := range 40 {
		docs = append(docs, bson.D{{Key: "_id", Value: int64(i)}, {Key: "at", Value: int64(i % 10)}})
	}
	e := engineWith(t, []mongokit.IndexConfig{{Key: dp(bson.D{{Key: "at", Value: int32(1)}})}}, docs)
	for name, values := range map[string]bson.A{
		"repeated":            {int64(3), int64(3)},
		"one number, 3 types": {int64(3), 3.0, int32(3)},
	} {
		got, plan := findIDs(t, e, Query{Filter: dp(bson.D{{Key: "at", Value: bson.D{{Key: "$in", Value: values}}}}), Sort: dp(bson.D{{Key: "_id", Value: int32(1)}})})
		if !slices.Equal(got, ints(3, 13, 23, 33)) || plan.Index != "at_1" {
			t.Errorf("%s: %v by %q, want [3 13 23 33] by at_1", name, got, plan.Index)
		}
		n, _, err := e.Count(context.Background(), "t.c", dp(bson.D{{Key: "at", Value: bson.D{{Key: "$in", Value: values}}}}))
		if err != nil || n != 4 {
			t.Errorf("%s: count %d, %v; want 4", name, n, err)
		}
	}
}

// Between two candidate indexes, in whichever order the planner meets
// them: on equal costs the one giving the order wins, and one giving the
// order does not win at a higher cost.
func TestPlanner_OrderedIndexOnlyOnATie(t *testing.T) {
	t.Parallel()
	var docs []bson.D
	for i := range 600 {
		docs = append(docs, bson.D{{Key: "_id", Value: int64(i)}, {Key: "status", Value: []string{"a", "b"}[i%2]}, {Key: "at", Value: int64(i % 100)}})
	}
	q := Query{Filter: dp(bson.D{{Key: "status", Value: "a"}}), Sort: dp(bson.D{{Key: "at", Value: int32(-1)}})}
	for _, tc := range []struct {
		other  bson.D // beside {status: 1}, which narrows to 300 but gives no order
		index  string
		sorted bool
	}{
		{bson.D{{Key: "status", Value: int32(1)}, {Key: "at", Value: int32(-1)}}, "status_1_at_-1", true}, // also 300, and ordered
		{bson.D{{Key: "at", Value: int32(1)}}, "status_1", false},                                         // ordered, but 600
	} {
		e := engineWith(t, []mongokit.IndexConfig{{Key: dp(bson.D{{Key: "status", Value: int32(1)}})}, {Key: dp(tc.other)}}, docs)
		for range 16 { // the indexes are met in map order
			got, plan := findIDs(t, e, q)
			if plan.Index != tc.index || plan.SortFromIndex != tc.sorted || len(got) != 300 {
				t.Errorf("beside %v: plan %+v, %d results; want %s, sorted %v", tc.other, plan, len(got), tc.index, tc.sorted)
				break
			}
		}
	}
}

// A residual range holds no value of a type outside its bounds: a
// string is above every number and below every date. A candidate whose
// only other values are strings is not examined.
func TestPlanner_ResidualRangeAndOtherTypes(t *testing.T) {
	t.Parallel()
	day := primitive.NewDateTimeFromTime(time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC))
	var docs []bson.D
	for i := range 300 {
		nums, mix := bson.A{int64(100 + i)}, bson.A{day + primitive.DateTime(i)}
		if i%25 == 0 { // the rare ones
			nums, mix = append(nums, int64(9999)), append(mix, int64(9999))
		}
		docs = append(docs, bson.D{{Key: "_id", Value: int64(i)}, {Key: "nums", Value: nums}, {Key: "mix", Value: mix}})
	}
	docs = append(docs, bson.D{{Key: "_id", Value: int64(1000)}, {Key: "nums", Value: bson.A{int64(9999), "x"}}, {Key: "mix", Value: bson.A{int64(9999), "x"}}})
	e := engineWith(t, []mongokit.IndexConfig{
		{Key: dp(bson.D{{Key: "nums", Value: int32(1)}})},
		{Key: dp(bson.D{{Key: "mix", Value: int32(1)}})},
	}, docs)
	elem := func(field string, r bson.D) bson.D {
		return bson.D{{Key: field, Value: bson.D{{Key: "$elemMatch", Value: r}}}}
	}
	rare := bson.D{{Key: "$gte", Value: int64(9999)}, {Key: "$lte", Value: int64(9999)}}
	want := ints(0, 25, 50, 75, 100, 125, 150, 175, 200, 225, 250, 275)
	for field, common := range map[string]bson.D{
		"nums": {{Key: "$lte", Value: int64(5000)}}, // a number above
		"mix":  {{Key: "$gte", Value: day}},         // a date below
	} {
		filter := bson.D{{Key: "$and", Value: bson.A{elem(field, common), elem(field, rare)}}}
		got, plan := findIDs(t, e, Query{Filter: dp(filter), Sort: dp(bson.D{{Key: "_id", Value: int32(1)}})})
		if !slices.Equal(got, want) || plan.Index != field+"_1" || plan.Examined != len(want) {
			t.Errorf("%s: %v by %q examining %d; want %v by %s_1 examining %d", field, got, plan.Index, plan.Examined, want, field, len(want))
		}
	}
}
