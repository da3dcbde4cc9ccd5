package embedded

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/256dpi/lungo/bsonkit"
	"github.com/256dpi/lungo/mongokit"
)

// The engine's Go API. Documents passed in become the engine's: callers
// must not change them afterwards, nor change the ones they get back.

// Find returns the documents of ns that q selects, projected.
func (e *Engine) Find(ctx context.Context, ns string, q Query, projection bsonkit.Doc) ([]bsonkit.Doc, Plan, error) {
	docs, plan, err := e.findStored(ctx, ns, q)
	if err != nil {
		return nil, plan, err
	}
	docs, err = project(docs, projection)
	return docs, plan, err
}

// findStored is Find without the projection: the stored documents
// themselves, which no one may change.
func (e *Engine) findStored(ctx context.Context, ns string, q Query) ([]bsonkit.Doc, Plan, error) {
	c, ok, err := e.view(ctx, ns)
	if err != nil || !ok {
		return nil, Plan{}, err
	}
	return find(ctx, c, q)
}

// Count returns how many documents of ns match filter.
func (e *Engine) Count(ctx context.Context, ns string, filter bsonkit.Doc) (int, Plan, error) {
	c, ok, err := e.view(ctx, ns)
	if err != nil || !ok {
		return 0, Plan{}, err
	}
	return count(ctx, c, filter)
}

// CountRemembered is Count without the plan, remembered per state for
// filters of plain equalities (see countMemo): what the driver-shaped
// CountDocuments serves.
func (e *Engine) CountRemembered(ctx context.Context, ns string, filter bsonkit.Doc) (int, error) {
	c, ok, err := e.view(ctx, ns)
	if err != nil || !ok {
		return 0, err
	}
	return memoCount(c, filter, func() (int, error) {
		n, _, err := count(ctx, c, filter)
		return n, err
	})
}

// Insert adds documents to ns (all or, on a duplicate key, none) and
// returns their ids.
func (e *Engine) Insert(ctx context.Context, ns string, docs []bsonkit.Doc) ([]any, error) {
	var ids []any
	err := e.update(ctx, func(t *txn) error {
		var err error
		ids, err = t.insert(ns, docs)
		return err
	})
	return ids, err
}

// Update applies one update, replacement or upsert.
func (e *Engine) Update(ctx context.Context, ns string, spec UpdateSpec) (UpdateResult, error) {
	var res UpdateResult
	err := e.update(ctx, func(t *txn) error {
		var err error
		res, err = t.update(ctx, ns, spec)
		return err
	})
	return res, err
}

// Delete removes the first document filter matches in sort order (all of
// them when multi) and returns what it removed.
func (e *Engine) Delete(ctx context.Context, ns string, filter, sort bsonkit.Doc, multi bool) ([]bsonkit.Doc, error) {
	var gone []bsonkit.Doc
	err := e.update(ctx, func(t *txn) error {
		var err error
		gone, err = t.delete(ctx, ns, filter, sort, multi)
		return err
	})
	return gone, err
}

// CreateIndex adds an index to ns and returns its name.
func (e *Engine) CreateIndex(ns, name string, cfg mongokit.IndexConfig) (string, error) {
	err := e.update(context.Background(), func(t *txn) error {
		var err error
		name, err = t.createIndex(ns, name, cfg)
		return err
	})
	return name, err
}

// DropIndex removes an index of ns.
func (e *Engine) DropIndex(ns, name string) error {
	return e.update(context.Background(), func(t *txn) error { return t.dropIndex(ns, name) })
}

// Drop removes a namespace.
func (e *Engine) Drop(ns string) error {
	return e.update(context.Background(), func(t *txn) error {
		if _, ok := t.read(ns); ok {
			t.drop(ns)
		}
		return nil
	})
}

// Expire deletes the documents TTL indexes say are past their time.
func (e *Engine) Expire(now time.Time) (int, error) {
	n := 0
	err := e.update(context.Background(), func(t *txn) error {
		var err error
		n, err = t.expire(now)
		return err
	})
	return n, err
}

// IndexInfo describes one index.
type IndexInfo struct {
	Name   string
	Config mongokit.IndexConfig
}

// Indexes lists the indexes of ns, _id_ first, then by name.
func (e *Engine) Indexes(ns string) ([]IndexInfo, error) {
	cat, err := e.snapshot()
	if err != nil {
		return nil, err
	}
	c, ok := cat.colls[ns]
	if !ok {
		return nil, nil
	}
	out := []IndexInfo{{Name: idIndexName, Config: mongokit.IndexConfig{Key: bsonkit.MustConvert(map[string]any{"_id": int32(1)}), Unique: true}}}
	for name, ix := range c.indexes {
		out = append(out, IndexInfo{Name: name, Config: ix.config})
	}
	slices.SortFunc(out[1:], func(a, b IndexInfo) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Namespaces lists the namespaces that exist.
func (e *Engine) Namespaces() ([]string, error) {
	cat, err := e.snapshot()
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(cat.colls))
	for ns := range cat.colls {
		out = append(out, ns)
	}
	slices.Sort(out)
	return out, nil
}
