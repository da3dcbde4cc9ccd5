package wire_test

import (
	"context"
	"errors"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"loandesk/store/wire"
)

// TestServer_StoredDepthLimit (issue 16/19, found by a tester): a write
// that would store a document nested deeper than 100 levels (MongoDB's
// limit for stored documents: the document is level 1, empty documents
// do not count) is refused with code 15 (Overflow), whether it comes as
// an insert, a replacement, an operator's value or path, or an upsert's
// filter; 100 levels are stored. Without the rule every refused write
// below was stored.
func TestServer_StoredDepthLimit(t *testing.T) {
	t.Parallel()
	b := setup(t, wire.Config{})
	ctx := context.Background()
	coll := b.db.Collection("deep")
	deep := func(levels int) bson.Raw { return bson.Raw(nested(levels)) } // levels deep on its own
	overflow := func(what string, err error) {
		t.Helper()
		var se mongo.ServerError
		if !errors.As(err, &se) || !se.HasErrorCode(15) {
			t.Errorf("%s: %v, want code 15 (Overflow)", what, err)
		}
	}
	ok := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}

	_, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}, {Key: "x", Value: deep(99)}})
	ok("insert at 100 levels", err)
	_, err = coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 2}, {Key: "x", Value: deep(100)}})
	overflow("insert at 101 levels", err)
	_, err = coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 3}, {Key: "x", Value: bson.A{deep(99)}}})
	overflow("insert at 101 levels through an array", err)
	_, err = coll.InsertMany(ctx, []any{bson.D{{Key: "_id", Value: 4}, {Key: "x", Value: deep(100)}}, bson.D{{Key: "_id", Value: 5}}}, options.InsertMany().SetOrdered(false))
	overflow("unordered insert of a deep and a flat document", err)

	one := bson.D{{Key: "_id", Value: 1}}
	_, err = coll.UpdateOne(ctx, one, bson.D{{Key: "$set", Value: bson.D{{Key: "y", Value: deep(99)}}}})
	ok("$set of 99 levels", err)
	_, err = coll.UpdateOne(ctx, one, bson.D{{Key: "$set", Value: bson.D{{Key: "y", Value: deep(100)}}}})
	overflow("$set of 100 levels", err)
	_, err = coll.UpdateOne(ctx, one, bson.D{{Key: "$set", Value: bson.D{{Key: "a.b", Value: deep(99)}}}})
	overflow("$set of 99 levels two levels down", err)
	_, err = coll.UpdateOne(ctx, one, bson.D{{Key: "$push", Value: bson.D{{Key: "arr", Value: deep(99)}}}})
	overflow("$push of 99 levels", err)
	_, err = coll.UpdateOne(ctx, one, bson.D{{Key: "$push", Value: bson.D{{Key: "arr", Value: bson.D{{Key: "$each", Value: bson.A{deep(99)}}}}}}})
	overflow("$push $each of 99 levels", err)
	_, err = coll.UpdateOne(ctx, one, bson.D{{Key: "$push", Value: bson.D{{Key: "arr", Value: deep(98)}}}})
	ok("$push of 98 levels", err)
	_, err = coll.ReplaceOne(ctx, one, bson.D{{Key: "z", Value: deep(100)}})
	overflow("replacement of 101 levels", err)
	err = coll.FindOneAndUpdate(ctx, one, bson.D{{Key: "$set", Value: bson.D{{Key: "y", Value: deep(100)}}}}).Err()
	overflow("findAndModify $set of 100 levels", err)
	_, err = coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: 6}, {Key: "w", Value: deep(100)}}, bson.D{{Key: "$set", Value: bson.D{{Key: "v", Value: 1}}}}, options.Update().SetUpsert(true))
	overflow("upsert whose filter is 101 levels", err)

	// A statement refused before it reaches the engine is its own write
	// error (it was a panic answered InternalError: the refusal above went
	// the same way before this test).
	_, err = coll.UpdateOne(ctx, one, bson.A{bson.D{{Key: "$set", Value: bson.D{{Key: "p", Value: 1}}}}})
	if se, isSE := err.(mongo.ServerError); !isSE || !se.HasErrorCode(238) {
		t.Errorf("an update pipeline: %v, want code 238 (NotImplemented)", err)
	}

	var ids []int32
	cur, err := coll.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		t.Fatal(err)
	}
	for cur.Next(ctx) {
		ids = append(ids, cur.Current.Lookup("_id").Int32())
		if _, err := cur.Current.LookupErr("z"); err == nil {
			t.Error("the 101-level replacement was stored")
		}
	}
	if len(ids) != 2 || ids[0] != 1 || ids[1] != 5 {
		t.Fatalf("stored _ids %v, want [1 5]", ids)
	}
	var doc bson.M
	if err := coll.FindOne(ctx, one).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if _, deep := doc["a"]; deep || len(doc["arr"].(bson.A)) != 1 {
		t.Fatalf("document 1 after the updates: a=%v, arr has %d", doc["a"], len(doc["arr"].(bson.A)))
	}
}
