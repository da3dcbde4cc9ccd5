package embedded

import (
	"context"
	"errors"
	"fmt"

	"github.com/256dpi/lungo"
	"github.com/256dpi/lungo/bsonkit"
	"github.com/256dpi/lungo/mongokit"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"loandesk/store/bsondoc"
)

// Collection is a handle on one collection.
type Collection struct {
	db   *Database
	name string
	ns   string
}

var _ lungo.ICollection = (*Collection)(nil)

func (c *Collection) engine() *Engine { return c.db.client.engine }

// Aggregate is not supported.
func (c *Collection) Aggregate(context.Context, any, ...*options.AggregateOptions) (lungo.ICursor, error) {
	return nil, unsupported("aggregation")
}

// BulkWrite runs the models in order, each as its own write (like an
// ordered bulk write: it stops at the first error).
func (c *Collection) BulkWrite(ctx context.Context, models []mongo.WriteModel, _ ...*options.BulkWriteOptions) (*mongo.BulkWriteResult, error) {
	res := &mongo.BulkWriteResult{UpsertedIDs: map[int64]any{}}
	for i, m := range models {
		var err error
		switch m := m.(type) {
		case *mongo.InsertOneModel:
			_, err = c.InsertOne(ctx, m.Document)
			if err == nil {
				res.InsertedCount++
			}
		case *mongo.UpdateOneModel, *mongo.UpdateManyModel, *mongo.ReplaceOneModel:
			var r *mongo.UpdateResult
			r, err = c.bulkUpdate(ctx, m)
			if err == nil {
				res.MatchedCount += r.MatchedCount
				res.ModifiedCount += r.ModifiedCount
				res.UpsertedCount += r.UpsertedCount
				if r.UpsertedID != nil {
					res.UpsertedIDs[int64(i)] = r.UpsertedID
				}
			}
		case *mongo.DeleteOneModel:
			var r *mongo.DeleteResult
			if r, err = c.DeleteOne(ctx, m.Filter); err == nil {
				res.DeletedCount += r.DeletedCount
			}
		case *mongo.DeleteManyModel:
			var r *mongo.DeleteResult
			if r, err = c.DeleteMany(ctx, m.Filter); err == nil {
				res.DeletedCount += r.DeletedCount
			}
		default:
			err = unsupported(fmt.Sprintf("bulk model %T", m))
		}
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

func (c *Collection) bulkUpdate(ctx context.Context, m mongo.WriteModel) (*mongo.UpdateResult, error) {
	switch m := m.(type) {
	case *mongo.UpdateOneModel:
		return c.UpdateOne(ctx, m.Filter, m.Update, &options.UpdateOptions{Upsert: m.Upsert, ArrayFilters: m.ArrayFilters})
	case *mongo.UpdateManyModel:
		return c.UpdateMany(ctx, m.Filter, m.Update, &options.UpdateOptions{Upsert: m.Upsert, ArrayFilters: m.ArrayFilters})
	case *mongo.ReplaceOneModel:
		return c.ReplaceOne(ctx, m.Filter, m.Replacement, &options.ReplaceOptions{Upsert: m.Upsert})
	}
	return nil, unsupported(fmt.Sprintf("bulk model %T", m))
}

// Clone returns the same handle.
func (c *Collection) Clone(...*options.CollectionOptions) (lungo.ICollection, error) { return c, nil }

// CountDocuments counts the documents filter matches (honouring skip
// and limit).
func (c *Collection) CountDocuments(ctx context.Context, filter any, opts ...*options.CountOptions) (int64, error) {
	o := options.MergeCountOptions(opts...)
	f, err := toDoc(filter)
	if err != nil {
		return 0, err
	}
	n, err := c.engine().CountRemembered(ctx, c.ns, f)
	if err != nil {
		return 0, err
	}
	if o.Skip != nil {
		n = max(0, n-int(*o.Skip))
	}
	if o.Limit != nil && *o.Limit > 0 {
		n = min(n, int(*o.Limit))
	}
	return int64(n), nil
}

// Database returns the collection's database.
func (c *Collection) Database() lungo.IDatabase { return c.db }

// DeleteMany removes every document filter matches.
func (c *Collection) DeleteMany(ctx context.Context, filter any, _ ...*options.DeleteOptions) (*mongo.DeleteResult, error) {
	return c.delete(ctx, filter, true)
}

// DeleteOne removes the first document filter matches.
func (c *Collection) DeleteOne(ctx context.Context, filter any, _ ...*options.DeleteOptions) (*mongo.DeleteResult, error) {
	return c.delete(ctx, filter, false)
}

func (c *Collection) delete(ctx context.Context, filter any, multi bool) (*mongo.DeleteResult, error) {
	f, err := toDoc(filter)
	if err != nil {
		return nil, err
	}
	gone, err := c.engine().Delete(ctx, c.ns, f, nil, multi)
	if err != nil {
		return nil, err
	}
	return &mongo.DeleteResult{DeletedCount: int64(len(gone))}, nil
}

// Distinct lists the distinct values of field among matching documents.
func (c *Collection) Distinct(ctx context.Context, field string, filter any, _ ...*options.DistinctOptions) ([]any, error) {
	f, err := toDoc(filter)
	if err != nil {
		return nil, err
	}
	docs, _, err := c.engine().Find(ctx, c.ns, Query{Filter: f}, nil)
	if err != nil {
		return nil, err
	}
	return mongokit.Distinct(docs, field), nil
}

// Drop removes the collection.
func (c *Collection) Drop(context.Context) error { return c.engine().Drop(c.ns) }

// EstimatedDocumentCount is the exact count.
func (c *Collection) EstimatedDocumentCount(ctx context.Context, _ ...*options.EstimatedDocumentCountOptions) (int64, error) {
	n, _, err := c.engine().Count(ctx, c.ns, nil)
	return int64(n), err
}

// Find returns a cursor over the matching documents.
func (c *Collection) Find(ctx context.Context, filter any, opts ...*options.FindOptions) (lungo.ICursor, error) {
	o := options.MergeFindOptions(opts...)
	if o.Collation != nil || o.Min != nil || o.Max != nil {
		return nil, unsupported("collation, min and max")
	}
	q, proj, err := query(filter, o.Sort, o.Projection)
	if err != nil {
		return nil, err
	}
	if o.Skip != nil {
		q.Skip = int(*o.Skip)
	}
	if o.Limit != nil {
		q.Limit = int(max(*o.Limit, -*o.Limit)) // a negative limit means the same here
	}
	e := c.engine()
	stored, _, err := e.findStored(ctx, c.ns, q)
	if err != nil {
		return nil, err
	}
	return newCursor(stored, proj, &e.decoded)
}

// FindOne returns the first matching document.
func (c *Collection) FindOne(ctx context.Context, filter any, opts ...*options.FindOneOptions) lungo.ISingleResult {
	o := options.MergeFindOneOptions(opts...)
	q, proj, err := query(filter, o.Sort, o.Projection)
	if err != nil {
		return &SingleResult{err: err}
	}
	if o.Skip != nil {
		q.Skip = int(*o.Skip)
	}
	q.Limit = 1
	docs, _, err := c.engine().Find(ctx, c.ns, q, proj)
	return first(docs, err)
}

// FindOneAndDelete removes the first matching document and returns it.
func (c *Collection) FindOneAndDelete(ctx context.Context, filter any, opts ...*options.FindOneAndDeleteOptions) lungo.ISingleResult {
	o := options.MergeFindOneAndDeleteOptions(opts...)
	q, proj, err := query(filter, o.Sort, o.Projection)
	if err != nil {
		return &SingleResult{err: err}
	}
	gone, err := c.engine().Delete(ctx, c.ns, q.Filter, q.Sort, false)
	if err == nil {
		gone, err = project(gone, proj)
	}
	return first(gone, err)
}

// FindOneAndReplace replaces the first matching document and returns it
// (before, or after with ReturnDocument After).
func (c *Collection) FindOneAndReplace(ctx context.Context, filter, replacement any, opts ...*options.FindOneAndReplaceOptions) lungo.ISingleResult {
	o := options.MergeFindOneAndReplaceOptions(opts...)
	q, proj, err := query(filter, o.Sort, o.Projection)
	if err != nil {
		return &SingleResult{err: err}
	}
	repl, err := replacementDoc(replacement)
	if err != nil {
		return &SingleResult{err: err}
	}
	res, err := c.engine().Update(ctx, c.ns, UpdateSpec{Filter: q.Filter, Replacement: repl, Sort: q.Sort, Upsert: isTrue(o.Upsert)})
	return returned(res, err, o.ReturnDocument, proj)
}

// FindOneAndUpdate updates the first matching document (in sort order)
// and returns it, before or after. The single writer makes it an
// exactly-once claim: two callers never get the same document.
func (c *Collection) FindOneAndUpdate(ctx context.Context, filter, update any, opts ...*options.FindOneAndUpdateOptions) lungo.ISingleResult {
	o := options.MergeFindOneAndUpdateOptions(opts...)
	if o.Collation != nil {
		return &SingleResult{err: unsupported("collation")}
	}
	q, proj, err := query(filter, o.Sort, o.Projection)
	if err != nil {
		return &SingleResult{err: err}
	}
	spec, err := updateSpec(q.Filter, update, isTrue(o.Upsert), o.ArrayFilters)
	if err != nil {
		return &SingleResult{err: err}
	}
	spec.Sort = q.Sort
	res, err := c.engine().Update(ctx, c.ns, spec)
	return returned(res, err, o.ReturnDocument, proj)
}

// Indexes returns the collection's index view.
func (c *Collection) Indexes() lungo.IIndexView { return &IndexView{coll: c} }

// InsertMany inserts documents in one commit: all or none.
func (c *Collection) InsertMany(ctx context.Context, documents []any, _ ...*options.InsertManyOptions) (*mongo.InsertManyResult, error) {
	docs := make([]bsonkit.Doc, len(documents))
	dec := bsondoc.NewDecoder()
	for i, d := range documents {
		doc, err := storedDoc(dec, d)
		if err != nil {
			return nil, err
		}
		docs[i] = doc
	}
	ids, err := c.engine().Insert(ctx, c.ns, docs)
	if err != nil {
		return nil, writeError(err)
	}
	return &mongo.InsertManyResult{InsertedIDs: ids}, nil
}

// InsertOne inserts a document.
func (c *Collection) InsertOne(ctx context.Context, document any, _ ...*options.InsertOneOptions) (*mongo.InsertOneResult, error) {
	doc, err := storedDoc(bsondoc.NewDecoder(), document)
	if err != nil {
		return nil, err
	}
	ids, err := c.engine().Insert(ctx, c.ns, []bsonkit.Doc{doc})
	if err != nil {
		return nil, writeError(err)
	}
	return &mongo.InsertOneResult{InsertedID: ids[0]}, nil
}

// Name is the collection's name.
func (c *Collection) Name() string { return c.name }

// ReplaceOne replaces the first matching document.
func (c *Collection) ReplaceOne(ctx context.Context, filter, replacement any, opts ...*options.ReplaceOptions) (*mongo.UpdateResult, error) {
	o := options.MergeReplaceOptions(opts...)
	f, err := toDoc(filter)
	if err != nil {
		return nil, err
	}
	repl, err := replacementDoc(replacement)
	if err != nil {
		return nil, err
	}
	res, err := c.engine().Update(ctx, c.ns, UpdateSpec{Filter: f, Replacement: repl, Upsert: isTrue(o.Upsert)})
	return updateResult(res, err)
}

// SearchIndexes is not supported (an empty view).
func (c *Collection) SearchIndexes() mongo.SearchIndexView { return mongo.SearchIndexView{} }

// UpdateByID updates the document with this _id.
func (c *Collection) UpdateByID(ctx context.Context, id, update any, opts ...*options.UpdateOptions) (*mongo.UpdateResult, error) {
	return c.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, update, opts...)
}

// UpdateMany updates every matching document.
func (c *Collection) UpdateMany(ctx context.Context, filter, update any, opts ...*options.UpdateOptions) (*mongo.UpdateResult, error) {
	return c.updateWith(ctx, filter, update, true, opts)
}

// UpdateOne updates the first matching document.
func (c *Collection) UpdateOne(ctx context.Context, filter, update any, opts ...*options.UpdateOptions) (*mongo.UpdateResult, error) {
	return c.updateWith(ctx, filter, update, false, opts)
}

func (c *Collection) updateWith(ctx context.Context, filter, update any, multi bool, opts []*options.UpdateOptions) (*mongo.UpdateResult, error) {
	o := options.MergeUpdateOptions(opts...)
	f, err := toDoc(filter)
	if err != nil {
		return nil, err
	}
	spec, err := updateSpec(f, update, isTrue(o.Upsert), o.ArrayFilters)
	if err != nil {
		return nil, err
	}
	spec.Multi = multi
	res, err := c.engine().Update(ctx, c.ns, spec)
	return updateResult(res, err)
}

// Watch is not supported.
func (c *Collection) Watch(context.Context, any, ...*options.ChangeStreamOptions) (lungo.IChangeStream, error) {
	return nil, unsupported("change streams")
}

// query converts a filter, sort and projection.
func query(filter, sort, projection any) (Query, bsonkit.Doc, error) {
	var q Query
	var err error
	if q.Filter, err = toDoc(filter); err != nil {
		return q, nil, fmt.Errorf("filter: %w", err)
	}
	if sort != nil {
		if q.Sort, err = toDoc(sort); err != nil {
			return q, nil, fmt.Errorf("sort: %w", err)
		}
	}
	var proj bsonkit.Doc
	if projection != nil {
		if proj, err = toDoc(projection); err != nil {
			return q, nil, fmt.Errorf("projection: %w", err)
		}
	}
	return q, proj, nil
}

// updateSpec checks that update is an operator document (a replacement
// goes through ReplaceOne) and builds the spec.
func updateSpec(filter bsonkit.Doc, update any, upsert bool, af *options.ArrayFilters) (UpdateSpec, error) {
	if _, isPipeline := update.(bson.A); isPipeline {
		return UpdateSpec{}, unsupported("update pipelines")
	}
	u, err := toDoc(update)
	if err != nil {
		return UpdateSpec{}, fmt.Errorf("update: %w", err)
	}
	if len(*u) == 0 || len((*u)[0].Key) == 0 || (*u)[0].Key[0] != '$' {
		return UpdateSpec{}, errors.New("update document must contain only update operators")
	}
	spec := UpdateSpec{Filter: filter, Update: u, Upsert: upsert}
	if af != nil {
		list, err := bsonkit.TransformList(af.Filters)
		if err != nil {
			return UpdateSpec{}, fmt.Errorf("array filters: %w", err)
		}
		spec.ArrayFilters = list
	}
	return spec, nil
}

func replacementDoc(replacement any) (bsonkit.Doc, error) {
	r, err := storedDoc(bsondoc.NewDecoder(), replacement)
	if err != nil {
		return nil, err
	}
	if len(*r) > 0 && len((*r)[0].Key) > 0 && (*r)[0].Key[0] == '$' {
		return nil, errors.New("replacement document cannot contain update operators")
	}
	return r, nil
}

func isTrue(b *bool) bool { return b != nil && *b }

func first(docs []bsonkit.Doc, err error) *SingleResult {
	switch {
	case err != nil:
		return &SingleResult{err: writeError(err)}
	case len(docs) == 0:
		return &SingleResult{err: mongo.ErrNoDocuments}
	}
	return &SingleResult{doc: docs[0]}
}

// returned picks the document a findOneAnd* call returns.
func returned(res UpdateResult, err error, rd *options.ReturnDocument, proj bsonkit.Doc) *SingleResult {
	if err != nil {
		return &SingleResult{err: writeError(err)}
	}
	doc := res.Before
	if rd != nil && *rd == options.After {
		doc = res.After
	}
	if doc == nil {
		return &SingleResult{err: mongo.ErrNoDocuments}
	}
	docs, err := project([]bsonkit.Doc{doc}, proj)
	return first(docs, err)
}

func updateResult(res UpdateResult, err error) (*mongo.UpdateResult, error) {
	if err != nil {
		return nil, writeError(err)
	}
	out := &mongo.UpdateResult{MatchedCount: int64(res.Matched), ModifiedCount: int64(res.Modified)}
	if res.UpsertedID != nil {
		out.UpsertedCount, out.UpsertedID = 1, res.UpsertedID
	}
	return out, nil
}
