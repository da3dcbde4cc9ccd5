package embedded

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/256dpi/lungo"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// listItem is a list page's row: flat once history is left out.
type listItem struct {
	ID      int       `bson:"_id"`
	Version int64     `bson:"version"`
	Status  string    `bson:"status"`
	Person  person    `bson:"person"`
	At      time.Time `bson:"at"`
	History []string  `bson:"history,omitempty"`
}

type person struct {
	Name string `bson:"name"`
	City string `bson:"city"`
}

// fresh decodes what a find returns without any memo: the driver-shaped
// answer every remembered one must equal.
func fresh(t *testing.T, e *Engine, filter, proj bson.D) []listItem {
	t.Helper()
	var projection any
	if proj != nil {
		projection = proj
	}
	q, p, err := query(filter, bson.D{{Key: "_id", Value: 1}}, projection)
	if err != nil {
		t.Fatal(err)
	}
	docs, _, err := e.Find(context.Background(), "d.loans", q, p)
	if err != nil {
		t.Fatal(err)
	}
	var out []listItem
	for _, d := range docs {
		var it listItem
		if err := bson.Unmarshal(mustMarshal(t, d), &it); err != nil {
			t.Fatal(err)
		}
		out = append(out, it)
	}
	return out
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := bson.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func listed(t *testing.T, coll lungo.ICollection, filter, proj bson.D) []listItem {
	t.Helper()
	opts := options.Find().SetSort(bson.D{{Key: "_id", Value: 1}})
	if proj != nil {
		opts.SetProjection(proj)
	}
	cur, err := coll.Find(context.Background(), filter, opts)
	if err != nil {
		t.Fatal(err)
	}
	var out []listItem
	if err := cur.All(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDecodeMemo_NeverStale: list pages read through the memo equal a
// fresh decoding after every write (an update of a listed field, of an
// unlisted one, an insert, a delete, a transaction's own writes), over
// 300 random steps; flat results are remembered, and a result that would
// share a slice (history not left out) never is.
func TestDecodeMemo_NeverStale(t *testing.T) {
	t.Parallel()
	e, closeEngine := openAt(t, filepath.Join(t.TempDir(), "memo.db"))
	defer closeEngine()
	ctx := context.Background()
	coll := NewClient(e).Database("d").Collection("loans")
	statuses := []string{"submitted", "under_review", "approved"}
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for i := range 40 {
		doc := bson.M{"_id": i, "version": int64(1), "status": statuses[i%3], "person": bson.M{"name": fmt.Sprint("P", i), "city": "Pune"}, "at": at, "history": bson.A{"created"}}
		if _, err := coll.InsertOne(ctx, doc); err != nil {
			t.Fatal(err)
		}
	}
	listProj := bson.D{{Key: "history", Value: 0}}
	rng := rand.New(rand.NewPCG(3, 4))
	next := 40
	for step := range 300 {
		id := rng.IntN(next)
		var what string
		switch rng.IntN(6) {
		case 0:
			what = "rename"
			_, _ = coll.UpdateOne(ctx, bson.M{"_id": id}, bson.M{"$set": bson.M{"person.name": fmt.Sprint("Q", step)}, "$inc": bson.M{"version": int64(1)}})
		case 1:
			what = "status"
			_, _ = coll.UpdateOne(ctx, bson.M{"_id": id}, bson.M{"$set": bson.M{"status": statuses[rng.IntN(3)]}})
		case 2:
			what = "unlisted field"
			_, _ = coll.UpdateOne(ctx, bson.M{"_id": id}, bson.M{"$push": bson.M{"history": fmt.Sprint("edit ", step)}})
		case 3:
			what = "insert"
			if _, err := coll.InsertOne(ctx, bson.M{"_id": next, "version": int64(1), "status": "submitted", "person": bson.M{"name": "New", "city": "Agra"}, "at": at}); err != nil {
				t.Fatal(err)
			}
			next++
		case 4:
			what = "delete"
			_, _ = coll.DeleteOne(ctx, bson.M{"_id": id})
		default:
			what = "replace"
			_, _ = coll.ReplaceOne(ctx, bson.M{"_id": id}, bson.M{"version": int64(9), "status": "approved", "person": bson.M{"name": "R", "city": "Goa"}, "at": at.Add(time.Hour)})
		}
		for _, filter := range []bson.D{{}, {{Key: "status", Value: "submitted"}}} {
			for range 2 { // the second read from the memo
				got, want := listed(t, coll, filter, listProj), fresh(t, e, filter, listProj)
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("step %d (%s), filter %v:\n got %+v\nwant %+v", step, what, filter, got, want)
				}
			}
		}
	}
	if n := e.decoded.n.Load(); n == 0 {
		t.Error("nothing was remembered: the memo is not in the path")
	}
	// With history in the results, an item that has one holds a slice:
	// only those without are kept. Entries are counted in the memo itself
	// for the projection first used here: its counter also moves when a
	// collected document's cleanup runs, which a busy machine's GC may do
	// in the middle of these passes (CI saw 30 of 35).
	earlier := map[string]bool{}
	e.decoded.tables.Range(func(k, _ any) bool {
		earlier[k.(tableKey).proj] = true
		return true
	})
	flatOnes := 0
	for pass := range 2 {
		got, want := listed(t, coll, bson.D{}, nil), fresh(t, e, bson.D{}, nil)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("whole documents:\n got %+v\nwant %+v", got, want)
		}
		for i := range got {
			if got[i].History == nil && pass == 0 {
				flatOnes++
			}
			if got[i].History != nil {
				got[i].History[0] = "changed by a caller"
			}
		}
	}
	kept := 0
	e.decoded.tables.Range(func(k, t any) bool {
		if !earlier[k.(tableKey).proj] {
			t.(*decodeTable).m.Range(func(_, v any) bool {
				if v.(*decoded).doc.Value() != nil {
					kept++
				}
				return true
			})
		}
		return true
	})
	if kept != flatOnes {
		t.Errorf("%d results kept, want the %d without a history", kept, flatOnes)
	}
	for _, it := range listed(t, coll, bson.D{}, nil) {
		if len(it.History) > 0 && it.History[0] == "changed by a caller" {
			t.Fatal("a caller's change to a result reached the stored document")
		}
	}
}

// TestDecodeMemo_FilledSliceDecodesAsTheDriver: decoding into a slice
// that already holds elements keeps the driver's rule (fields absent
// from the document keep the element's value), so the memo, which would
// replace whole elements, stays out of it.
func TestDecodeMemo_FilledSliceDecodesAsTheDriver(t *testing.T) {
	t.Parallel()
	e, closeEngine := openAt(t, filepath.Join(t.TempDir(), "filled.db"))
	defer closeEngine()
	ctx := context.Background()
	coll := NewClient(e).Database("d").Collection("loans")
	if _, err := coll.InsertOne(ctx, bson.M{"_id": 1, "status": "submitted"}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		out := make([]listItem, 1, 4)
		out[0].Person.City = "kept"
		cur, err := coll.Find(ctx, bson.D{}, options.Find().SetProjection(bson.D{{Key: "history", Value: 0}}))
		if err != nil {
			t.Fatal(err)
		}
		if err := cur.All(ctx, &out); err != nil {
			t.Fatal(err)
		}
		if len(out) != 1 || out[0].Status != "submitted" || out[0].Person.City != "kept" {
			t.Fatalf("got %+v, want status submitted and the element's city kept", out)
		}
	}
}
