package embedded

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/256dpi/lungo/bsonkit"
	"github.com/256dpi/lungo/mongokit"
	"go.mongodb.org/mongo-driver/bson"

	"loandesk/store/durable"
)

// TestPlans checks which access path serves each query shape the app
// uses, and that the walk stops where it should (Examined).
func TestPlans(t *testing.T) {
	t.Parallel()
	db, err := durable.Open(filepath.Join(t.TempDir(), "p.db"), durable.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	e, err := Open(db)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []bson.D{
		{{Key: "status", Value: int32(1)}, {Key: "at", Value: int32(-1)}, {Key: "_id", Value: int32(-1)}},
		{{Key: "tags", Value: int32(1)}},
	} {
		if _, err := e.CreateIndex("a.b", "", mongokit.IndexConfig{Key: &key}); err != nil {
			t.Fatal(err)
		}
	}
	code := bson.D{{Key: "code", Value: int32(1)}}
	if _, err := e.CreateIndex("a.b", "", mongokit.IndexConfig{Key: &code, Unique: true}); err != nil {
		t.Fatal(err)
	}
	var docs []bsonkit.Doc
	for i := range 1000 {
		docs = append(docs, &bson.D{
			{Key: "_id", Value: int64(i)}, {Key: "status", Value: []string{"a", "b", "c", "d"}[i%4]},
			{Key: "at", Value: int64(i)}, {Key: "tags", Value: bson.A{fmt.Sprint("t", i%10), fmt.Sprint("u", i%7)}}, {Key: "other", Value: int64(i % 3)},
			{Key: "code", Value: fmt.Sprint("c", i)},
		})
	}
	if _, err := e.Insert(context.Background(), "a.b", docs); err != nil {
		t.Fatal(err)
	}
	d := func(v bson.D) bsonkit.Doc { return &v }
	for _, tc := range []struct {
		name        string
		q           Query
		index       string
		sorted      bool
		maxExamined int
		results     int
	}{
		{"by _id", Query{Filter: d(bson.D{{Key: "_id", Value: int64(7)}})}, "_id_", false, 1, 1},
		{"list page", Query{Filter: d(bson.D{{Key: "status", Value: "a"}}), Sort: d(bson.D{{Key: "at", Value: int32(-1)}, {Key: "_id", Value: int32(-1)}}), Limit: 25}, "status_1_at_-1__id_-1", true, 25, 25},
		{"page 3", Query{Filter: d(bson.D{{Key: "status", Value: "a"}}), Sort: d(bson.D{{Key: "at", Value: int32(-1)}, {Key: "_id", Value: int32(-1)}}), Skip: 50, Limit: 25}, "status_1_at_-1__id_-1", true, 75, 25},
		{"oldest first (walked backwards)", Query{Filter: d(bson.D{{Key: "status", Value: "b"}}), Sort: d(bson.D{{Key: "at", Value: int32(1)}, {Key: "_id", Value: int32(1)}}), Limit: 5}, "status_1_at_-1__id_-1", true, 5, 5},
		{"range after equality", Query{Filter: d(bson.D{{Key: "status", Value: "a"}, {Key: "at", Value: bson.D{{Key: "$gte", Value: int64(900)}, {Key: "$lt", Value: int64(960)}}}})}, "status_1_at_-1__id_-1", false, 16, 15},
		{"search", Query{Filter: d(bson.D{{Key: "tags", Value: bson.D{{Key: "$all", Value: bson.A{"t3", "u5"}}}}})}, "tags_1", false, 15, 14},
		{"prefix search (words starting with t3 and u5)", Query{Filter: d(bson.D{{Key: "$and", Value: bson.A{
			bson.D{{Key: "tags", Value: bson.D{{Key: "$elemMatch", Value: bson.D{{Key: "$gte", Value: "u5"}, {Key: "$lt", Value: "u5\U0010FFFF"}}}}}},
			bson.D{{Key: "tags", Value: bson.D{{Key: "$elemMatch", Value: bson.D{{Key: "$gte", Value: "t3"}, {Key: "$lt", Value: "t3\U0010FFFF"}}}}}},
		}}})}, "tags_1", false, 15, 14},
		{"one prefix", Query{Filter: d(bson.D{{Key: "tags", Value: bson.D{{Key: "$elemMatch", Value: bson.D{{Key: "$gte", Value: "u5"}, {Key: "$lt", Value: "u5\U0010FFFF"}}}}}})}, "tags_1", false, 143, 143},
		{"$in", Query{Filter: d(bson.D{{Key: "status", Value: bson.D{{Key: "$in", Value: bson.A{"c", "d"}}}}})}, "status_1_at_-1__id_-1", false, 500, 500},
		{"a unique key", Query{Filter: d(bson.D{{Key: "status", Value: "d"}, {Key: "code", Value: "c7"}})}, "code_1", false, 1, 1},
		{"a unique key, another status", Query{Filter: d(bson.D{{Key: "status", Value: "a"}, {Key: "code", Value: "c7"}})}, "code_1", false, 1, 0},
		// An index weighed first with a range must not lend it to the unique one.
		{"a unique key after a range", Query{Filter: d(bson.D{{Key: "status", Value: "d"}, {Key: "at", Value: bson.D{{Key: "$gte", Value: int64(0)}}}, {Key: "code", Value: "c7"}})}, "code_1", false, 1, 1},
		{"a unique key among others", Query{Filter: d(bson.D{{Key: "code", Value: "c8"}, {Key: "status", Value: "a"}}), Sort: d(bson.D{{Key: "at", Value: int32(-1)}, {Key: "_id", Value: int32(-1)}}), Limit: 25}, "code_1", false, 1, 1},
		{"no index", Query{Filter: d(bson.D{{Key: "other", Value: int64(1)}})}, "", false, 1000, 333},
	} {
		got, plan, err := e.Find(context.Background(), "a.b", tc.q, nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if plan.Index != tc.index || plan.SortFromIndex != tc.sorted || plan.Examined > tc.maxExamined || len(got) != tc.results {
			t.Errorf("%s: plan %+v, %d results; want index %q, sorted %v, examined ≤ %d, %d results", tc.name, plan, len(got), tc.index, tc.sorted, tc.maxExamined, tc.results)
		}
	}
	// Indexes are weighed in no set order: ask often enough that the
	// range index comes first in some run.
	for i := range 40 {
		q := Query{Filter: d(bson.D{{Key: "status", Value: "a"}, {Key: "at", Value: bson.D{{Key: "$gte", Value: int64(0)}}}, {Key: "code", Value: fmt.Sprint("c", 4*i)}})}
		got, plan, err := e.Find(context.Background(), "a.b", q, nil)
		if err != nil || len(got) != 1 || plan.Index != "code_1" || plan.Examined != 1 {
			t.Fatalf("unique key after a range, try %d: %d results, plan %+v, %v", i, len(got), plan, err)
		}
	}
	n, plan, err := e.Count(context.Background(), "a.b", d(bson.D{{Key: "status", Value: "c"}}))
	if err != nil || n != 250 || plan.Examined != 0 {
		t.Errorf("tab count: %d, plan %+v, %v; want 250 counted by rank (nothing examined)", n, plan, err)
	}
}
