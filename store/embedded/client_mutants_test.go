package embedded_test

// The driver-shaped API's smaller paths, checked on both engines with
// exact answers (each was a surviving mutant of scripts/mutation.sh):
// count and find windows, bulk writes, the findOneAnd* family, index
// options and listing, and what the indexed engine refuses.

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/256dpi/lungo"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

func fiveDocs(t *testing.T, c lungo.ICollection) {
	t.Helper()
	var docs []any
	for i := 1; i <= 5; i++ {
		docs = append(docs, bson.M{"_id": i, "n": i * 10, "kind": []string{"odd", "even"}[i%2^1]})
	}
	must[*mongo.InsertManyResult](t)(c.InsertMany(context.Background(), docs))
}

func TestConformance_Windows(t *testing.T) {
	t.Parallel()
	conform(t, func(t *testing.T, name string, db lungo.IDatabase) {
		ctx, c := context.Background(), db.Collection("w")
		fiveDocs(t, c)
		for _, tc := range []struct {
			name string
			opts *options.CountOptions
			want int64
		}{
			{"no options", options.Count(), 5},
			{"skip 2", options.Count().SetSkip(2), 3},
			{"skip past the end", options.Count().SetSkip(9), 0},
			{"limit 2", options.Count().SetLimit(2), 2},
			{"limit 0 is none", options.Count().SetLimit(0), 5},
			{"skip 4 limit 2", options.Count().SetSkip(4).SetLimit(2), 1},
		} {
			if n := must[int64](t)(c.CountDocuments(ctx, bson.M{}, tc.opts)); n != tc.want {
				t.Errorf("count, %s: %d, want %d", tc.name, n, tc.want)
			}
		}
		byID := func() *options.FindOptions { return options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}) }
		for _, tc := range []struct {
			name string
			opts *options.FindOptions
			want []any
		}{
			{"skip 1 limit 2", byID().SetSkip(1).SetLimit(2), []any{int32(2), int32(3)}},
			{"negative limit", byID().SetLimit(-2), []any{int32(1), int32(2)}},
			{"skip past the end", byID().SetSkip(7), []any{}},
		} {
			if name == "lungo" && tc.opts.Limit != nil && *tc.opts.Limit < 0 {
				continue // lungo ignores a negative limit; MongoDB takes its absolute value
			}
			if got := ids(t)(c.Find(ctx, bson.M{}, tc.opts)); !slices.Equal(got, tc.want) {
				t.Errorf("find, %s: %v, want %v", tc.name, got, tc.want)
			}
		}
		var doc bson.M
		if err := c.FindOne(ctx, bson.M{"kind": "odd"}, options.FindOne().SetSort(bson.D{{Key: "_id", Value: -1}}).SetSkip(1)).Decode(&doc); err != nil || doc["_id"] != int32(3) {
			t.Errorf("findOne, odd, newest first, skip 1: %v, %v; want _id 3", doc, err)
		}
		values := must[[]any](t)(c.Distinct(ctx, "kind", bson.M{"n": bson.M{"$gte": 40}}))
		slices.SortFunc(values, func(a, b any) int { return len(a.(string)) - len(b.(string)) })
		if !slices.Equal(values, []any{"odd", "even"}) {
			t.Errorf("distinct kinds from n 40: %v", values)
		}
	})
}

func TestConformance_BulkAndFindOneAnd(t *testing.T) {
	t.Parallel()
	conform(t, func(t *testing.T, _ string, db lungo.IDatabase) {
		ctx, c := context.Background(), db.Collection("b")
		fiveDocs(t, c)
		res, err := c.BulkWrite(ctx, []mongo.WriteModel{
			mongo.NewInsertOneModel().SetDocument(bson.M{"_id": 6, "n": 60}),
			mongo.NewUpdateOneModel().SetFilter(bson.M{"_id": 1}).SetUpdate(bson.M{"$inc": bson.M{"n": 1}}),
			mongo.NewUpdateManyModel().SetFilter(bson.M{"kind": "even"}).SetUpdate(bson.M{"$set": bson.M{"seen": true}}),
			mongo.NewUpdateOneModel().SetFilter(bson.M{"_id": 7}).SetUpdate(bson.M{"$set": bson.M{"n": 70}}).SetUpsert(true),
			mongo.NewReplaceOneModel().SetFilter(bson.M{"_id": 3}).SetReplacement(bson.M{"n": 33}),
			mongo.NewDeleteOneModel().SetFilter(bson.M{"_id": 5}),
			mongo.NewDeleteManyModel().SetFilter(bson.M{"n": bson.M{"$gte": 60}}),
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.InsertedCount != 1 || res.MatchedCount != 4 || res.ModifiedCount != 4 || res.UpsertedCount != 1 ||
			res.DeletedCount != 3 || len(res.UpsertedIDs) != 1 || res.UpsertedIDs[3] != int32(7) {
			t.Errorf("bulk write: %+v", res)
		}
		// An ordered bulk write stops at its first error.
		res, err = c.BulkWrite(ctx, []mongo.WriteModel{
			mongo.NewInsertOneModel().SetDocument(bson.M{"_id": 8}),
			mongo.NewInsertOneModel().SetDocument(bson.M{"_id": 8}),
			mongo.NewInsertOneModel().SetDocument(bson.M{"_id": 9}),
		})
		if err == nil || res == nil || res.InsertedCount != 1 {
			t.Errorf("bulk write with a duplicate: %+v, %v; want 1 inserted and the error", res, err)
		}
		if got := ids(t)(c.Find(ctx, bson.M{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))); !slices.Equal(got, []any{int32(1), int32(2), int32(3), int32(4), int32(8)}) {
			t.Errorf("after the bulk writes: %v", got)
		}

		var doc bson.M
		err = c.FindOneAndDelete(ctx, bson.M{"n": bson.M{"$lt": 100}}, options.FindOneAndDelete().SetSort(bson.D{{Key: "n", Value: -1}}).SetProjection(bson.M{"n": 1})).Decode(&doc)
		if err != nil || doc["_id"] != int32(4) || doc["n"] != int32(40) || len(doc) != 2 {
			t.Errorf("findOneAndDelete, highest n: %v, %v; want {_id: 4, n: 40}", doc, err)
		}
		err = c.FindOneAndReplace(ctx, bson.M{"_id": 2}, bson.M{"n": 22}, options.FindOneAndReplace().SetReturnDocument(options.After)).Decode(&doc)
		if err != nil || doc["n"] != int32(22) || doc["kind"] != nil {
			t.Errorf("findOneAndReplace, after: %v, %v; want {_id: 2, n: 22}", doc, err)
		}
		err = c.FindOneAndReplace(ctx, bson.M{"_id": 2}, bson.M{"n": 23}).Decode(&doc)
		if err != nil || doc["n"] != int32(22) {
			t.Errorf("findOneAndReplace, before: %v, %v; want n 22", doc, err)
		}
		if err := c.FindOneAndReplace(ctx, bson.M{"_id": 10}, bson.M{"n": 100}, options.FindOneAndReplace().SetUpsert(true).SetReturnDocument(options.After)).Decode(&doc); err != nil || doc["_id"] != int32(10) {
			t.Errorf("findOneAndReplace, upsert: %v, %v", doc, err)
		}
		up := must[*mongo.UpdateResult](t)(c.ReplaceOne(ctx, bson.M{"_id": 11}, bson.M{"n": 110}, options.Replace().SetUpsert(true)))
		if up.UpsertedCount != 1 || up.UpsertedID != int32(11) || up.MatchedCount != 0 {
			t.Errorf("replaceOne, upsert: %+v", up)
		}
		up = must[*mongo.UpdateResult](t)(c.UpdateByID(ctx, 11, bson.M{"$set": bson.M{"n": 111}}))
		if up.MatchedCount != 1 || up.ModifiedCount != 1 || up.UpsertedID != nil {
			t.Errorf("updateByID: %+v", up)
		}
		if err := c.FindOneAndUpdate(ctx, bson.M{"_id": 99}, bson.M{"$set": bson.M{"n": 1}}).Err(); err != mongo.ErrNoDocuments {
			t.Errorf("findOneAndUpdate of nothing: %v", err)
		}
		if _, err := c.UpdateOne(ctx, bson.M{"_id": 1}, bson.M{"n": 1}); err == nil {
			t.Error("an update without operators was accepted")
		}
		if _, err := c.ReplaceOne(ctx, bson.M{"_id": 1}, bson.M{"$set": bson.M{"n": 1}}); err == nil {
			t.Error("a replacement with operators was accepted")
		}
		if got := ids(t)(c.Find(ctx, bson.M{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))); !slices.Equal(got, []any{int32(1), int32(2), int32(3), int32(8), int32(10), int32(11)}) {
			t.Errorf("at the end: %v", got)
		}
	})
}

func TestConformance_IndexOptionsAndListing(t *testing.T) {
	t.Parallel()
	conform(t, func(t *testing.T, _ string, db lungo.IDatabase) {
		ctx, c := context.Background(), db.Collection("io")
		fiveDocs(t, c)
		must[string](t)(c.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "n", Value: 1}}, Options: options.Index().SetName("by_n").SetUnique(true)}))
		must[string](t)(c.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "at", Value: 1}}, Options: options.Index().SetExpireAfterSeconds(3600)}))
		must[string](t)(c.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "kind", Value: 1}}, Options: options.Index().SetPartialFilterExpression(bson.M{"n": bson.M{"$gt": 20}})}))
		list := func() map[string]bson.M {
			t.Helper()
			var specs []bson.M
			if err := must[lungo.ICursor](t)(c.Indexes().List(ctx)).All(ctx, &specs); err != nil {
				t.Fatal(err)
			}
			out := map[string]bson.M{}
			for _, s := range specs {
				out[s["name"].(string)] = s
			}
			return out
		}
		got := list()
		if len(got) != 4 || got["by_n"]["unique"] != true || got["_id_"]["unique"] != nil ||
			got["at_1"]["expireAfterSeconds"] != int32(3600) || got["kind_1"]["partialFilterExpression"] == nil || got["kind_1"]["unique"] != nil ||
			got["by_n"]["expireAfterSeconds"] != nil || got["by_n"]["partialFilterExpression"] != nil {
			t.Fatalf("listed %v", got)
		}
		if _, err := c.InsertOne(ctx, bson.M{"_id": 6, "n": 10}); err == nil {
			t.Error("a duplicate n was accepted by the unique index by_n")
		}
		must[bson.Raw](t)(c.Indexes().DropOneWithKey(ctx, bson.D{{Key: "at", Value: 1}}))
		if got := list(); len(got) != 3 || got["at_1"] != nil {
			t.Errorf("after dropping {at: 1}: %v", got)
		}
		must[bson.Raw](t)(c.Indexes().DropAll(ctx))
		if got := list(); len(got) != 1 || got["_id_"] == nil {
			t.Errorf("after dropping all: %v", got)
		}
		must[*mongo.InsertOneResult](t)(c.InsertOne(ctx, bson.M{"_id": 6, "n": 10})) // by_n is gone
	})
}

// What the indexed engine refuses rather than silently ignore.
func TestIndexed_RefusesWhatItDoesNotDo(t *testing.T) {
	t.Parallel()
	db := targets()[1].open(t)
	ctx, c := context.Background(), db.Collection("r")
	fiveDocs(t, c)
	collation := &options.Collation{Locale: "en"}
	for name, err := range map[string]error{
		"find with a collation":       func() error { _, err := c.Find(ctx, bson.M{}, options.Find().SetCollation(collation)); return err }(),
		"find with min":               func() error { _, err := c.Find(ctx, bson.M{}, options.Find().SetMin(bson.M{"n": 1})); return err }(),
		"find with max":               func() error { _, err := c.Find(ctx, bson.M{}, options.Find().SetMax(bson.M{"n": 1})); return err }(),
		"findOneAndUpdate, collation": c.FindOneAndUpdate(ctx, bson.M{}, bson.M{"$set": bson.M{"x": 1}}, options.FindOneAndUpdate().SetCollation(collation)).Err(),
		"an update pipeline":          func() error { _, err := c.UpdateOne(ctx, bson.M{}, bson.A{bson.M{"$set": bson.M{"x": 1}}}); return err }(),
		"a sparse index": func() error {
			_, err := c.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "x", Value: 1}}, Options: options.Index().SetSparse(true)})
			return err
		}(),
		"a hidden index": func() error {
			_, err := c.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "x", Value: 1}}, Options: options.Index().SetHidden(true)})
			return err
		}(),
		"an index with a collation": func() error {
			_, err := c.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "x", Value: 1}}, Options: options.Index().SetCollation(collation)})
			return err
		}(),
		"dropping an index that is not there": func() error {
			_, err := c.Indexes().DropOneWithKey(ctx, bson.D{{Key: "nope", Value: 1}})
			return err
		}(),
	} {
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// Options that change nothing are fine.
	if _, err := c.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "x", Value: 1}}, Options: options.Index().SetSparse(false).SetHidden(false)}); err != nil {
		t.Errorf("sparse and hidden false: %v", err)
	}
	if n := must[int64](t)(c.CountDocuments(ctx, bson.M{})); n != 5 {
		t.Errorf("refused writes changed the collection: %d documents", n)
	}
}

func TestConformance_InsertManyAndEmptyReplacement(t *testing.T) {
	t.Parallel()
	conform(t, func(t *testing.T, _ string, db lungo.IDatabase) {
		ctx, c := context.Background(), db.Collection("im")
		res := must[*mongo.InsertManyResult](t)(c.InsertMany(ctx, []any{bson.M{"_id": 1}, bson.M{"_id": 2}}))
		if res == nil || !slices.Equal(res.InsertedIDs, []any{int32(1), int32(2)}) {
			t.Fatalf("insertMany: %+v", res)
		}
		if _, err := c.InsertMany(ctx, []any{bson.M{"_id": 3}, bson.M{"_id": 1}}); err == nil {
			t.Error("insertMany with a duplicate _id: no error")
		}
		// An empty replacement leaves the document its _id alone.
		up := must[*mongo.UpdateResult](t)(c.ReplaceOne(ctx, bson.M{"_id": 2}, bson.M{}))
		var doc bson.M
		if err := c.FindOne(ctx, bson.M{"_id": 2}).Decode(&doc); err != nil || up.MatchedCount != 1 || len(doc) != 1 {
			t.Errorf("empty replacement: %+v, %v, %v", up, doc, err)
		}
		// A field named "" is a field, not an operator.
		up = must[*mongo.UpdateResult](t)(c.ReplaceOne(ctx, bson.M{"_id": 2}, bson.D{{Key: "", Value: "x"}}))
		if err := c.FindOne(ctx, bson.M{"_id": 2}).Decode(&doc); err != nil || up.MatchedCount != 1 || doc[""] != "x" {
			t.Errorf("replacement with an empty field name: %+v, %v, %v", up, doc, err)
		}
	})
}

// WithTransaction answers fn's result; EndSession aborts a transaction
// left open, so its writes vanish and other writers go on.
func TestConformance_SessionEnds(t *testing.T) {
	t.Parallel()
	conform(t, func(t *testing.T, _ string, db lungo.IDatabase) {
		ctx, c := context.Background(), db.Collection("se")
		sess := must[lungo.ISession](t)(db.Client().StartSession())
		res, err := sess.WithTransaction(ctx, func(sc lungo.ISessionContext) (any, error) {
			_, err := c.InsertOne(sc, bson.M{"_id": "kept"})
			return "the answer", err
		})
		if err != nil || res != "the answer" {
			t.Fatalf("WithTransaction = %v, %v; want fn's result", res, err)
		}
		sess.EndSession(ctx)

		// UseSession ends its session: a transaction left open is aborted.
		err = db.Client().UseSession(ctx, func(sc lungo.ISessionContext) error {
			if err := sc.StartTransaction(); err != nil {
				return err
			}
			_, err := c.InsertOne(sc, bson.M{"_id": "left open"})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if _, err := c.InsertOne(wctx, bson.M{"_id": "after"}); err != nil {
			t.Fatalf("a write after a session ended with its transaction open: %v", err)
		}
		if got := ids(t)(c.Find(ctx, bson.M{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))); !slices.Equal(got, []any{"after", "kept"}) {
			t.Fatalf("documents %v, want [after kept]", got)
		}
	})
}
