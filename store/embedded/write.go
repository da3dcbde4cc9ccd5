package embedded

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/256dpi/lungo/bsonkit"
	"github.com/256dpi/lungo/mongokit"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// ErrNoIndex is returned when dropping an index that does not exist.
var ErrNoIndex = errors.New("index not found")

// withID returns doc with an _id, generating an ObjectID first in the
// document when it has none (as the driver does).
func withID(doc bsonkit.Doc) bsonkit.Doc {
	if bsonkit.Get(doc, "_id") != bsonkit.Missing {
		return doc
	}
	out := make(bson.D, 0, len(*doc)+1)
	out = append(out, bson.E{Key: "_id", Value: primitive.NewObjectID()})
	out = append(out, *doc...)
	return &out
}

// insert adds docs to ns in one commit: all of them or, on a duplicate
// key, none.
func (t *txn) insert(ns string, docs []bsonkit.Doc) ([]any, error) {
	c := t.write(ns)
	ids := make([]any, len(docs))
	full := make([]bsonkit.Doc, len(docs))
	for i, d := range docs {
		full[i] = withID(d)
		ids[i] = bsonkit.Get(full[i], "_id")
	}
	if err := c.insertMany(full); err != nil {
		return nil, err
	}
	for _, d := range full {
		if err := t.put(ns, d); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// UpdateSpec is one update or replace: which documents, the change, and
// how.
type UpdateSpec struct {
	Filter       bsonkit.Doc
	Update       bsonkit.Doc // operators ($set, $inc, …); or
	Replacement  bsonkit.Doc // a whole new document
	Sort         bsonkit.Doc // which matching document first (single updates)
	Multi        bool
	Upsert       bool
	ArrayFilters bsonkit.List
}

// UpdateResult says what an update did; Before and After are the first
// matched document's states (After is the upserted one after an upsert).
type UpdateResult struct {
	Matched, Modified int
	UpsertedID        any
	Before, After     bsonkit.Doc
}

// update applies spec in ns.
func (t *txn) update(ctx context.Context, ns string, spec UpdateSpec) (UpdateResult, error) {
	var res UpdateResult
	var matches []bsonkit.Doc
	if c, ok := t.read(ns); ok {
		limit := 1
		if spec.Multi {
			limit = 0
		}
		var err error
		matches, _, err = find(ctx, c, Query{Filter: spec.Filter, Sort: spec.Sort, Limit: limit})
		if err != nil {
			return res, err
		}
	}
	if len(matches) == 0 {
		if !spec.Upsert {
			return res, nil
		}
		return t.upsert(ns, spec)
	}
	// Apply to every match before changing anything, so an update that
	// fails on one document (a non-number to $inc) fails as a whole.
	nexts := make([]bsonkit.Doc, len(matches))
	for i, old := range matches {
		next, err := apply(old, spec)
		if err != nil {
			return res, err
		}
		nexts[i] = next
	}
	c := t.write(ns)
	var changed []int
	for i, old := range matches {
		res.Matched++
		if i == 0 {
			res.Before, res.After = old, nexts[i]
		}
		if !same(old, nexts[i]) {
			changed = append(changed, i)
		}
	}
	if len(changed) == 1 {
		i := changed[0]
		if err := c.replace(matches[i], nexts[i]); err != nil {
			return res, err
		}
		if err := t.put(ns, nexts[i]); err != nil {
			return res, err
		}
		res.Modified++
		return res, nil
	}
	// Take every old version out before putting any new one in (as lungo
	// does), so a multi-update that shifts unique keys along (b: 1→2,
	// 2→3) does not collide with itself.
	for _, i := range changed {
		if err := c.remove(matches[i]); err != nil {
			return res, err
		}
	}
	for _, i := range changed {
		if err := c.insert(nexts[i]); err != nil {
			return res, err // the engine discards the whole transaction
		}
		if err := t.put(ns, nexts[i]); err != nil {
			return res, err
		}
		res.Modified++
	}
	return res, nil
}

// apply returns the new state of doc under spec, leaving doc untouched.
func apply(doc bsonkit.Doc, spec UpdateSpec) (bsonkit.Doc, error) {
	id := bsonkit.Get(doc, "_id")
	var next bsonkit.Doc
	if spec.Replacement != nil {
		next = bsonkit.Clone(spec.Replacement)
		if rid := bsonkit.Get(next, "_id"); rid != bsonkit.Missing && bsonkit.Compare(rid, id) != 0 {
			return nil, errors.New("the _id field cannot be changed")
		}
		if _, err := bsonkit.Put(next, "_id", id, true); err != nil {
			return nil, err
		}
		return next, nil
	}
	next = bsonkit.Clone(doc)
	if _, err := mongokit.Apply(next, spec.Filter, spec.Update, false, spec.ArrayFilters); err != nil {
		return nil, err
	}
	if bsonkit.Compare(bsonkit.Get(next, "_id"), id) != 0 {
		return nil, errors.New("the _id field cannot be changed")
	}
	return next, nil
}

// upsert inserts the document an update with no match creates: the
// filter's equalities, then the update (or the replacement).
func (t *txn) upsert(ns string, spec UpdateSpec) (UpdateResult, error) {
	seed, err := mongokit.Extract(spec.Filter)
	if err != nil {
		return UpdateResult{}, err
	}
	var doc bsonkit.Doc
	if spec.Replacement != nil {
		doc = bsonkit.Clone(spec.Replacement)
		if id := bsonkit.Get(seed, "_id"); id != bsonkit.Missing && bsonkit.Get(doc, "_id") == bsonkit.Missing {
			if _, err := bsonkit.Put(doc, "_id", id, true); err != nil {
				return UpdateResult{}, err
			}
		}
	} else {
		doc = seed
		if _, err := mongokit.Apply(doc, spec.Filter, spec.Update, true, spec.ArrayFilters); err != nil {
			return UpdateResult{}, err
		}
	}
	ids, err := t.insert(ns, []bsonkit.Doc{doc})
	if err != nil {
		return UpdateResult{}, err
	}
	c, _ := t.read(ns)
	after, _ := c.get(ids[0])
	return UpdateResult{UpsertedID: ids[0], After: after}, nil
}

// same reports whether an update left a document as it was (MongoDB
// counts those as matched, not modified): whether the two encode to the
// same BSON bytes. See same.go.
func same(a, b bsonkit.Doc) bool { return sameDoc(*a, *b) }

// delete removes the documents filter matches (the first in sort order
// unless multi) and returns them.
func (t *txn) delete(ctx context.Context, ns string, filter, sort bsonkit.Doc, multi bool) ([]bsonkit.Doc, error) {
	c, ok := t.read(ns)
	if !ok {
		return nil, nil
	}
	limit := 1
	if multi {
		limit = 0
	}
	matches, _, err := find(ctx, c, Query{Filter: filter, Sort: sort, Limit: limit})
	if err != nil || len(matches) == 0 {
		return nil, err
	}
	c = t.write(ns)
	for _, d := range matches {
		if err := c.remove(d); err != nil {
			return nil, err
		}
		if err := t.remove(ns, bsonkit.Get(d, "_id")); err != nil {
			return nil, err
		}
	}
	return matches, nil
}

// createIndex adds an index (idempotent for an identical definition).
func (t *txn) createIndex(ns, name string, cfg mongokit.IndexConfig) (string, error) {
	if name == "" {
		var err error
		if name, err = cfg.Name(); err != nil {
			return "", err
		}
	}
	if name == idIndexName {
		return name, nil
	}
	c := t.write(ns)
	if ix, ok := c.indexes[name]; ok {
		if ix.config.Equal(cfg) {
			return name, nil
		}
		return "", fmt.Errorf("an index named %s exists with a different definition", name)
	}
	for other, ix := range c.indexes {
		if bsonkit.Compare(*ix.config.Key, *cfg.Key) == 0 {
			return "", fmt.Errorf("index %s has the same key", other)
		}
	}
	ix, err := newIndex(name, cfg)
	if err != nil {
		return "", err
	}
	var addErr error
	c.docs.Scan(func(r record) bool {
		addErr = ix.add(r.id, r.doc)
		return addErr == nil
	})
	if addErr != nil {
		return "", addErr
	}
	def, err := encodeIndex(cfg)
	if err != nil {
		return "", err
	}
	c.indexes[name] = ix
	t.change(ns).indexPuts[name] = def
	return name, nil
}

// dropIndex removes an index; _id_ cannot go.
func (t *txn) dropIndex(ns, name string) error {
	if name == idIndexName {
		return errors.New("cannot drop the _id_ index")
	}
	c, ok := t.read(ns)
	if !ok {
		return ErrNoIndex
	}
	if _, ok := c.indexes[name]; !ok {
		return ErrNoIndex
	}
	c = t.write(ns)
	delete(c.indexes, name)
	ch := t.change(ns)
	delete(ch.indexPuts, name)
	ch.indexDrops = append(ch.indexDrops, name)
	return nil
}

// drop removes a namespace with its documents and indexes.
func (t *txn) drop(ns string) {
	t.colls[ns] = nil
	t.changes[ns] = &nsChange{drop: true, docs: map[string]bsonkit.Doc{}, indexPuts: map[string][]byte{}}
}

// expire deletes, in every collection, the documents a TTL index says
// are past their time: a range scan over the index's dates.
func (t *txn) expire(now time.Time) (int, error) {
	n := 0
	for ns, c := range t.base.colls {
		for _, ix := range c.indexes {
			if ix.config.Expiry <= 0 {
				continue
			}
			cutoff := primitive.NewDateTimeFromTime(now.Add(-ix.config.Expiry))
			var due []bsonkit.Doc
			seen := map[bsonkit.Doc]bool{}
			// Dates sort together (by type, then value): start at the
			// earliest possible date, stop at the first key not an expired date.
			ix.tree.Ascend(newEntry([]any{primitive.DateTime(-1 << 63)}, lowest), func(e entry) bool {
				key := ix.key(e, 0)
				k, ok := key.(primitive.DateTime)
				if !ok {
					if tm, isTime := key.(time.Time); isTime {
						k, ok = primitive.NewDateTimeFromTime(tm), true
					}
				}
				if !ok || k >= cutoff {
					return false
				}
				if !seen[e.doc] {
					seen[e.doc] = true
					due = append(due, e.doc)
				}
				return true
			})
			if len(due) == 0 {
				continue
			}
			w := t.write(ns)
			for _, d := range due {
				if _, still := w.get(bsonkit.Get(d, "_id")); !still {
					continue // removed by another TTL index this round
				}
				if err := w.remove(d); err != nil {
					return n, err
				}
				if err := t.remove(ns, bsonkit.Get(d, "_id")); err != nil {
					return n, err
				}
				n++
			}
		}
	}
	return n, nil
}
