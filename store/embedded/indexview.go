package embedded

import (
	"context"
	"fmt"
	"time"

	"github.com/256dpi/lungo"
	"github.com/256dpi/lungo/bsonkit"
	"github.com/256dpi/lungo/mongokit"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// IndexView manages a collection's indexes.
type IndexView struct {
	coll *Collection
}

var _ lungo.IIndexView = (*IndexView)(nil)

// CreateMany creates indexes (idempotent for identical definitions).
func (v *IndexView) CreateMany(ctx context.Context, models []mongo.IndexModel, _ ...*options.CreateIndexesOptions) ([]string, error) {
	var names []string
	for _, m := range models {
		name, err := v.CreateOne(ctx, m)
		if err != nil {
			return names, err
		}
		names = append(names, name)
	}
	return names, nil
}

// CreateOne creates an index: unique, partial and TTL options are
// honoured; collations and the like are refused.
func (v *IndexView) CreateOne(_ context.Context, m mongo.IndexModel, _ ...*options.CreateIndexesOptions) (string, error) {
	key, err := bsonkit.Transform(m.Keys)
	if err != nil {
		return "", fmt.Errorf("index keys: %w", err)
	}
	cfg := mongokit.IndexConfig{Key: key}
	name := ""
	if o := m.Options; o != nil {
		if o.Collation != nil || o.Sparse != nil && *o.Sparse || o.Hidden != nil && *o.Hidden || o.WildcardProjection != nil {
			return "", unsupported("collation, sparse, hidden and wildcard indexes")
		}
		if o.Name != nil {
			name = *o.Name
		}
		cfg.Unique = isTrue(o.Unique)
		if o.ExpireAfterSeconds != nil {
			cfg.Expiry = time.Duration(*o.ExpireAfterSeconds) * time.Second
			if cfg.Expiry == 0 {
				cfg.Expiry = time.Nanosecond // "at the date itself"; 0 would mean no TTL
			}
		}
		if o.PartialFilterExpression != nil {
			if cfg.Partial, err = bsonkit.Transform(o.PartialFilterExpression); err != nil {
				return "", fmt.Errorf("partial filter: %w", err)
			}
		}
	}
	name, err = v.coll.engine().CreateIndex(v.coll.ns, name, cfg)
	return name, writeError(err)
}

// DropAll drops every index but _id_.
func (v *IndexView) DropAll(context.Context, ...*options.DropIndexesOptions) (bson.Raw, error) {
	infos, err := v.coll.engine().Indexes(v.coll.ns)
	if err != nil {
		return nil, err
	}
	for _, ix := range infos {
		if ix.Name != idIndexName {
			if err := v.coll.engine().DropIndex(v.coll.ns, ix.Name); err != nil {
				return nil, err
			}
		}
	}
	return bson.Marshal(bson.D{{Key: "ok", Value: 1}})
}

// DropOne drops the named index.
func (v *IndexView) DropOne(_ context.Context, name string, _ ...*options.DropIndexesOptions) (bson.Raw, error) {
	if err := v.coll.engine().DropIndex(v.coll.ns, name); err != nil {
		return nil, err
	}
	return bson.Marshal(bson.D{{Key: "ok", Value: 1}})
}

// DropOneWithKey drops the index with this key.
func (v *IndexView) DropOneWithKey(ctx context.Context, keySpec any, _ ...*options.DropIndexesOptions) (bson.Raw, error) {
	key, err := bsonkit.Transform(keySpec)
	if err != nil {
		return nil, err
	}
	infos, err := v.coll.engine().Indexes(v.coll.ns)
	if err != nil {
		return nil, err
	}
	for _, ix := range infos {
		if bsonkit.Compare(*ix.Config.Key, *key) == 0 {
			return v.DropOne(ctx, ix.Name)
		}
	}
	return nil, ErrNoIndex
}

// List returns a cursor over the index specifications, as MongoDB's
// listIndexes does.
func (v *IndexView) List(context.Context, ...*options.ListIndexesOptions) (lungo.ICursor, error) {
	infos, err := v.coll.engine().Indexes(v.coll.ns)
	if err != nil {
		return nil, err
	}
	docs := make([]bsonkit.Doc, len(infos))
	for i, ix := range infos {
		d := bson.D{{Key: "v", Value: int32(2)}, {Key: "key", Value: *ix.Config.Key}, {Key: "name", Value: ix.Name}}
		if ix.Config.Unique && ix.Name != idIndexName {
			d = append(d, bson.E{Key: "unique", Value: true})
		}
		if ix.Config.Expiry > 0 {
			d = append(d, bson.E{Key: "expireAfterSeconds", Value: int32(ix.Config.Expiry / time.Second)})
		}
		if ix.Config.Partial != nil {
			d = append(d, bson.E{Key: "partialFilterExpression", Value: *ix.Config.Partial})
		}
		docs[i] = &d
	}
	return &Cursor{docs: docs}, nil
}

// ListSpecifications returns the index specifications.
func (v *IndexView) ListSpecifications(ctx context.Context, _ ...*options.ListIndexesOptions) ([]*mongo.IndexSpecification, error) {
	cur, err := v.List(ctx)
	if err != nil {
		return nil, err
	}
	var specs []struct {
		Name               string   `bson:"name"`
		Key                bson.Raw `bson:"key"`
		Unique             *bool    `bson:"unique"`
		ExpireAfterSeconds *int32   `bson:"expireAfterSeconds"`
		Version            int32    `bson:"v"`
	}
	if err := cur.All(ctx, &specs); err != nil {
		return nil, err
	}
	out := make([]*mongo.IndexSpecification, len(specs))
	for i, s := range specs {
		out[i] = &mongo.IndexSpecification{Name: s.Name, Namespace: v.coll.ns, KeysDocument: s.Key, Version: s.Version, Unique: s.Unique, ExpireAfterSeconds: s.ExpireAfterSeconds}
	}
	return out, nil
}
