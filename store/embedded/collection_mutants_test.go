package embedded

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/256dpi/lungo/bsonkit"
	"github.com/256dpi/lungo/mongokit"
	"go.mongodb.org/mongo-driver/bson"
)

// An empty array is indexed under itself (not left out of the index): a
// unique index refuses a second document with an empty array there, and
// an equality on the empty array finds the first.
func TestIndex_EmptyArrayIsIndexedUnderItself(t *testing.T) {
	t.Parallel()
	e := engineWith(t, []mongokit.IndexConfig{{Key: dp(bson.D{{Key: "tags", Value: int32(1)}}), Unique: true}},
		[]bson.D{{{Key: "_id", Value: int64(1)}, {Key: "tags", Value: bson.A{}}}, {{Key: "_id", Value: int64(2)}, {Key: "tags", Value: bson.A{"a", "b"}}}})
	if _, err := e.Insert(context.Background(), "t.c", []*bson.D{{{Key: "_id", Value: int64(3)}, {Key: "tags", Value: bson.A{}}}}); err == nil {
		t.Fatal("a second empty array under a unique index was accepted")
	}
	if _, err := e.Insert(context.Background(), "t.c", []*bson.D{{{Key: "_id", Value: int64(4)}, {Key: "tags", Value: bson.A{"c"}}}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := findIDs(t, e, Query{Filter: dp(bson.D{{Key: "tags", Value: bson.A{}}})}); !slices.Equal(got, ints(1)) {
		t.Fatalf("tags = []: %v, want [1]", got)
	}
}

// Indexes built at start-up from the stored documents hold what indexes
// kept up by writes hold: a dotted path through an array of documents is
// indexed under each element's value (not looked up as a plain field).
func TestIndex_BuiltAtStartUpFollowsArrays(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "build.db")
	e, closeEngine := openAt(t, path)
	for _, key := range []string{"items.sku", "n"} {
		if _, err := e.CreateIndex("t.c", "", mongokit.IndexConfig{Key: dp(bson.D{{Key: key, Value: int32(1)}})}); err != nil {
			t.Fatal(err)
		}
	}
	docs := []*bson.D{
		{{Key: "_id", Value: int64(1)}, {Key: "n", Value: int64(5)}, {Key: "items", Value: bson.A{bson.D{{Key: "sku", Value: "a"}}, bson.D{{Key: "sku", Value: "b"}}}}},
		{{Key: "_id", Value: int64(2)}, {Key: "n", Value: int64(6)}, {Key: "items", Value: bson.D{{Key: "sku", Value: "b"}}}},
		{{Key: "_id", Value: int64(3)}, {Key: "n", Value: bson.A{int64(5), int64(7)}}, {Key: "items", Value: bson.A{}}},
	}
	for _, d := range docs {
		if _, err := e.Insert(context.Background(), "t.c", []*bson.D{d}); err != nil {
			t.Fatal(err)
		}
	}
	closeEngine()
	e, closeEngine = openAt(t, path)
	defer closeEngine()
	for _, tc := range []struct {
		filter bson.D
		want   []any
	}{
		{bson.D{{Key: "items.sku", Value: "b"}}, ints(1, 2)},
		{bson.D{{Key: "items.sku", Value: "a"}}, ints(1)},
		{bson.D{{Key: "n", Value: int64(5)}}, ints(1, 3)},
		{bson.D{{Key: "n", Value: int64(7)}}, ints(3)},
	} {
		got, plan := findIDs(t, e, Query{Filter: dp(tc.filter), Sort: dp(bson.D{{Key: "_id", Value: int32(1)}})})
		if !slices.Equal(got, tc.want) || plan.Index == "" {
			t.Errorf("%v after reopening: %v (plan %+v), want %v from an index", tc.filter, got, plan, tc.want)
		}
	}
}

// An index with no entries at start-up (a partial index no stored
// document matches) is built empty, and fills as documents match.
func TestIndex_BuiltEmptyAtStartUp(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "empty.db")
	e, closeEngine := openAt(t, path)
	if _, err := e.CreateIndex("t.c", "", mongokit.IndexConfig{Key: dp(bson.D{{Key: "n", Value: int32(1)}}), Unique: true,
		Partial: dp(bson.D{{Key: "flagged", Value: true}})}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Insert(context.Background(), "t.c", []*bson.D{{{Key: "_id", Value: int64(1)}, {Key: "n", Value: int64(5)}}}); err != nil {
		t.Fatal(err)
	}
	closeEngine()
	e, closeEngine = openAt(t, path)
	defer closeEngine()
	flagged := func(id int64) *bson.D {
		return &bson.D{{Key: "_id", Value: id}, {Key: "n", Value: int64(5)}, {Key: "flagged", Value: true}}
	}
	if _, err := e.Insert(context.Background(), "t.c", []*bson.D{flagged(2)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Insert(context.Background(), "t.c", []*bson.D{flagged(3)}); err == nil {
		t.Fatal("the reopened partial unique index accepted a second flagged n = 5")
	}
}

// Which duplicate an insert reports: a batch of fewer than 64 documents
// is checked document by document (the first in order that breaks any
// index); a larger one checks every _id before filling the indexes.
func TestInsert_WhichDuplicateIsReported(t *testing.T) {
	t.Parallel()
	for _, n := range []int{3, 63, 64, 100} {
		e := engineWith(t, []mongokit.IndexConfig{{Key: dp(bson.D{{Key: "u", Value: int32(1)}}), Unique: true}}, nil)
		var docs []*bson.D
		for i := range n - 2 {
			docs = append(docs, &bson.D{{Key: "_id", Value: int64(i)}, {Key: "u", Value: int64(i)}})
		}
		// n-2 repeats u of document 0; n-1 repeats _id of document 0.
		docs = append(docs, &bson.D{{Key: "_id", Value: int64(n)}, {Key: "u", Value: int64(0)}}, &bson.D{{Key: "_id", Value: int64(0)}, {Key: "u", Value: int64(-1)}})
		_, err := e.Insert(context.Background(), "t.c", docs)
		var dup *DuplicateKeyError
		if !errors.As(err, &dup) {
			t.Fatalf("%d documents: %v", n, err)
		}
		want := "u_1"
		if n >= 64 {
			want = "_id_"
		}
		if dup.Index != want {
			t.Errorf("%d documents: duplicate reported on %s, want %s", n, dup.Index, want)
		}
		if got, _ := findIDs(t, e, Query{}); len(got) != 0 {
			t.Errorf("%d documents: %d inserted", n, len(got))
		}
	}
}

// A replacement may repeat the document's _id, or leave it out (it is
// kept), but not change it.
func TestUpdate_ReplacementKeepsTheID(t *testing.T) {
	t.Parallel()
	e := engineWith(t, nil, []bson.D{{{Key: "_id", Value: int64(1)}, {Key: "a", Value: int64(1)}}})
	byID := dp(bson.D{{Key: "_id", Value: int64(1)}})
	for _, tc := range []struct {
		replacement bson.D
		ok          bool
	}{
		{bson.D{{Key: "_id", Value: int64(1)}, {Key: "b", Value: int64(2)}}, true},
		{bson.D{{Key: "c", Value: int64(3)}}, true},
		{bson.D{{Key: "_id", Value: int64(2)}, {Key: "d", Value: int64(4)}}, false},
	} {
		res, err := e.Update(context.Background(), "t.c", UpdateSpec{Filter: byID, Replacement: dp(tc.replacement)})
		if (err == nil) != tc.ok || tc.ok && res.Modified != 1 {
			t.Errorf("replace with %v: %+v, %v; want accepted %v", tc.replacement, res, err, tc.ok)
		}
	}
	if got, _ := findIDs(t, e, Query{}); !slices.Equal(got, ints(1)) {
		t.Fatalf("ids after the replacements: %v", got)
	}
}

// An update that moves a document into or out of a partial index's filter
// without changing its keys adds it to or removes it from the index: a
// unique partial index then refuses (or stops refusing) the same key
// elsewhere. (Kills the swap that keeps entries whenever the keys are
// equal: `inOld != inNext` → `==` in index.swap.)
func TestIndex_PartialIndexFollowsUpdatesAcrossItsFilter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := engineWith(t, []mongokit.IndexConfig{{
		Key:     dp(bson.D{{Key: "key", Value: int32(1)}}),
		Unique:  true,
		Partial: dp(bson.D{{Key: "live", Value: true}}),
	}}, []bson.D{
		{{Key: "_id", Value: int64(1)}, {Key: "key", Value: "k"}, {Key: "live", Value: false}},
		{{Key: "_id", Value: int64(2)}, {Key: "key", Value: "k"}, {Key: "live", Value: false}},
	})
	set := func(id int64, live bool) error {
		_, err := e.Update(ctx, "t.c", UpdateSpec{
			Filter: dp(bson.D{{Key: "_id", Value: id}}),
			Update: dp(bson.D{{Key: "$set", Value: bson.D{{Key: "live", Value: live}}}}),
		})
		return err
	}
	// In: 1 becomes live, so 2 may not.
	if err := set(1, true); err != nil {
		t.Fatalf("1 goes live: %v", err)
	}
	var dup *DuplicateKeyError
	if err := set(2, true); !errors.As(err, &dup) {
		t.Fatalf("2 goes live beside live 1 with the same key: %v, want a duplicate key error", err)
	}
	// Out: 1 leaves the filter, so 2 (and a new live document) may.
	if err := set(1, false); err != nil {
		t.Fatalf("1 leaves: %v", err)
	}
	if err := set(2, true); err != nil {
		t.Fatalf("2 goes live after 1 left the index: %v", err)
	}
	if err := set(2, false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Insert(ctx, "t.c", []bsonkit.Doc{dp(bson.D{{Key: "_id", Value: int64(3)}, {Key: "key", Value: "k"}, {Key: "live", Value: true}})}); err != nil {
		t.Fatalf("a new live document after both left: %v", err)
	}
}

// An update that shortens (or lengthens) an indexed array leaves the
// index with exactly the new elements: the dropped ones find nothing, the
// kept and added ones find the document. (Kills swapping entries when the
// tuple counts differ: `len(before) != len(after)` → `==` in index.swap.)
func TestIndex_UpdatedArrayKeepsExactlyItsElements(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	docs := []bson.D{{{Key: "_id", Value: int64(1)}, {Key: "tags", Value: bson.A{"a", "b", "c"}}}}
	for i := range 50 { // others, so that a tag's range is worth walking
		docs = append(docs, bson.D{{Key: "_id", Value: int64(100 + i)}, {Key: "tags", Value: bson.A{"z"}}})
	}
	e := engineWith(t, []mongokit.IndexConfig{{Key: dp(bson.D{{Key: "tags", Value: int32(1)}})}}, docs)
	for _, step := range []struct {
		tags       bson.A
		find, miss []string
	}{
		{bson.A{"a"}, []string{"a"}, []string{"b", "c"}},
		{bson.A{"a", "d"}, []string{"a", "d"}, []string{"b", "c"}},
	} {
		if _, err := e.Update(ctx, "t.c", UpdateSpec{
			Filter: dp(bson.D{{Key: "_id", Value: int64(1)}}),
			Update: dp(bson.D{{Key: "$set", Value: bson.D{{Key: "tags", Value: step.tags}}}}),
		}); err != nil {
			t.Fatalf("set tags %v: %v", step.tags, err)
		}
		for _, tag := range step.find {
			if got, plan := findIDs(t, e, Query{Filter: dp(bson.D{{Key: "tags", Value: tag}})}); !slices.Equal(got, ints(1)) || plan.Index == "" {
				t.Errorf("tags %v: find %q gave %v by index %q, want [1] by the index", step.tags, tag, got, plan.Index)
			}
		}
		for _, tag := range step.miss {
			if got, _ := findIDs(t, e, Query{Filter: dp(bson.D{{Key: "tags", Value: tag}})}); len(got) != 0 {
				t.Errorf("tags %v: find %q gave %v, want none", step.tags, tag, got)
			}
			if n, _, err := e.Count(ctx, "t.c", dp(bson.D{{Key: "tags", Value: tag}})); err != nil || n != 0 {
				t.Errorf("tags %v: count %q = %d, %v; want 0", step.tags, tag, n, err)
			}
		}
	}
}

// CreateIndex refuses what MongoDB refuses: a key path with an empty
// field name (it names no field a document can hold) and a TTL index on
// _id; the paths and TTL indexes next to them are taken.
func TestCreateIndex_RefusesEmptyFieldNamesAndTTLOnID(t *testing.T) {
	t.Parallel()
	e := engineWith(t, nil, nil)
	for _, tc := range []struct {
		key    bson.D
		expiry time.Duration
		ok     bool
	}{
		{bson.D{{Key: ".a", Value: int32(1)}}, 0, false},
		{bson.D{{Key: "a.", Value: int32(1)}}, 0, false},
		{bson.D{{Key: "a..b", Value: int32(1)}}, 0, false},
		{bson.D{{Key: "b", Value: int32(1)}, {Key: ".c", Value: int32(1)}}, 0, false},
		{bson.D{{Key: "_id", Value: int32(1)}}, time.Hour, false},
		{bson.D{{Key: "a.b", Value: int32(1)}}, 0, true},
		{bson.D{{Key: "at", Value: int32(1)}}, time.Hour, true},
		{bson.D{{Key: "x", Value: int32(1)}, {Key: "_id", Value: int32(1)}}, 0, true},
		{bson.D{{Key: "_id", Value: int32(-1)}}, 0, true}, // _id descending, no TTL
	} {
		_, err := e.CreateIndex("t.c", "", mongokit.IndexConfig{Key: dp(tc.key), Expiry: tc.expiry})
		if (err == nil) != tc.ok {
			t.Errorf("index %v (TTL %v): error %v, want refused %v", tc.key, tc.expiry, err, !tc.ok)
		}
	}
}
