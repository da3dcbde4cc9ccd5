package wire

import (
	"context"
	"strings"
	"time"

	"github.com/256dpi/lungo/bsonkit"
	"github.com/256dpi/lungo/mongokit"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"

	"loandesk/store/embedded"
)

// exists reports whether the namespace holds a collection.
func (s *Server) exists(ns string) (bool, error) {
	names, err := s.engine.Namespaces()
	if err != nil {
		return false, err
	}
	for _, n := range names {
		if n == ns {
			return true, nil
		}
	}
	return false, nil
}

func (s *Server) cmdCreateIndexes(_ context.Context, c *command) (bson.D, error) {
	ns, e := c.collection()
	if e != nil {
		return nil, e
	}
	specs, e := c.list("indexes")
	if e != nil {
		return nil, e
	}
	if len(specs) == 0 {
		return nil, errorf(codeBadValue, "createIndexes needs at least one index")
	}
	existed, err := s.exists(ns)
	if err != nil {
		return nil, s.engineError(ns, err)
	}
	before, err := s.engine.Indexes(ns)
	if err != nil {
		return nil, s.engineError(ns, err)
	}
	for _, spec := range specs {
		name, cfg, e := c.indexConfig(spec)
		if e != nil {
			return nil, e
		}
		if _, err := s.engine.CreateIndex(ns, name, cfg); err != nil {
			return nil, s.engineError(ns, err)
		}
	}
	after, err := s.engine.Indexes(ns)
	if err != nil {
		return nil, s.engineError(ns, err)
	}
	nBefore := max(len(before), 1) // a new collection starts with _id_
	return bson.D{
		{Key: "createdCollectionAutomatically", Value: !existed},
		{Key: "numIndexesBefore", Value: int32(nBefore)},
		{Key: "numIndexesAfter", Value: int32(len(after))},
	}, nil
}

// indexConfig reads one index specification: key and name, with unique,
// expireAfterSeconds and partialFilterExpression; other options are
// refused.
func (c *command) indexConfig(spec bsoncore.Document) (string, mongokit.IndexConfig, *cmdError) {
	var cfg mongokit.IndexConfig
	els, _ := spec.Elements()
	name := ""
	for _, el := range els {
		v := el.Value()
		switch k := el.Key(); k {
		case "key":
			d, e := c.docValue("key", v)
			if e != nil || d == nil || len(*d) == 0 {
				return "", cfg, cmpOr(e, errorf(codeBadValue, "an index needs a key"))
			}
			for _, f := range *d {
				switch f.Value.(type) {
				case int32, int64, float64:
				default:
					return "", cfg, errorf(codeNotImplemented, "index type %v on %s is not supported by loandesk db", f.Value, f.Key)
				}
			}
			cfg.Key = d
		case "name":
			n, ok := v.StringValueOK()
			if !ok {
				return "", cfg, errorf(codeTypeMismatch, "an index name is a string")
			}
			name = n
		case "unique":
			cfg.Unique = truthy(v, false)
		case "expireAfterSeconds":
			secs, e := integerValue(k, v, 0)
			if e != nil || secs < 0 {
				return "", cfg, cmpOr(e, errorf(codeBadValue, "expireAfterSeconds must not be negative"))
			}
			cfg.Expiry = time.Duration(secs) * time.Second
			if cfg.Expiry == 0 {
				cfg.Expiry = time.Nanosecond // "at the date itself" (0 would mean no TTL)
			}
		case "partialFilterExpression":
			d, e := c.docValue(k, v)
			if e != nil {
				return "", cfg, e
			}
			cfg.Partial = d
		case "v", "background", "ns":
		case "sparse", "hidden":
			if truthy(v, false) {
				return "", cfg, errorf(codeNotImplemented, "%s indexes are not supported by loandesk db", k)
			}
		default:
			return "", cfg, errorf(codeNotImplemented, "index option %s is not supported by loandesk db", k)
		}
	}
	if cfg.Key == nil {
		return "", cfg, errorf(codeBadValue, "an index needs a key")
	}
	if name == "" {
		n, err := cfg.Name()
		if err != nil {
			return "", cfg, errorf(codeBadValue, "index name: %v", err)
		}
		name = n
	}
	return name, cfg, nil
}

// indexSpec is an index as listIndexes shows it.
func indexSpec(ix embedded.IndexInfo) bsonkit.Doc {
	d := bson.D{{Key: "v", Value: int32(2)}, {Key: "key", Value: *ix.Config.Key}, {Key: "name", Value: ix.Name}}
	if ix.Config.Unique && ix.Name != "_id_" {
		d = append(d, bson.E{Key: "unique", Value: true})
	}
	if ix.Config.Expiry > 0 {
		d = append(d, bson.E{Key: "expireAfterSeconds", Value: int32(ix.Config.Expiry / time.Second)})
	}
	if ix.Config.Partial != nil {
		d = append(d, bson.E{Key: "partialFilterExpression", Value: *ix.Config.Partial})
	}
	return &d
}

func (s *Server) cmdListIndexes(_ context.Context, c *command) (bson.D, error) {
	ns, e := c.collection()
	if e != nil {
		return nil, e
	}
	ok, err := s.exists(ns)
	if err != nil {
		return nil, s.engineError(ns, err)
	}
	if !ok {
		return nil, errorf(codeNamespaceNotFound, "ns does not exist: %s", ns)
	}
	infos, err := s.engine.Indexes(ns)
	if err != nil {
		return nil, s.engineError(ns, err)
	}
	docs := make([]bsonkit.Doc, len(infos))
	for i, ix := range infos {
		docs[i] = indexSpec(ix)
	}
	return s.cursorReply(ns, docs, 0, false)
}

func (s *Server) cmdDropIndexes(_ context.Context, c *command) (bson.D, error) {
	ns, e := c.collection()
	if e != nil {
		return nil, e
	}
	ok, err := s.exists(ns)
	if err != nil {
		return nil, s.engineError(ns, err)
	}
	if !ok {
		return nil, errorf(codeNamespaceNotFound, "ns not found: %s", ns)
	}
	infos, err := s.engine.Indexes(ns)
	if err != nil {
		return nil, s.engineError(ns, err)
	}
	var names []string
	v := c.lookup("index")
	switch v.Type {
	case bsontype.String:
		if v.StringValue() == "*" {
			for _, ix := range infos {
				if ix.Name != "_id_" {
					names = append(names, ix.Name)
				}
			}
		} else {
			names = []string{v.StringValue()}
		}
	case bsontype.Array:
		vals, _ := v.Array().Values()
		for _, n := range vals {
			str, ok := n.StringValueOK()
			if !ok {
				return nil, errorf(codeTypeMismatch, "index names are strings")
			}
			names = append(names, str)
		}
	case bsontype.EmbeddedDocument:
		key, e := c.docValue("index", v)
		if e != nil {
			return nil, e
		}
		for _, ix := range infos {
			if bsonkit.Compare(*ix.Config.Key, *key) == 0 {
				names = []string{ix.Name}
			}
		}
		if names == nil {
			return nil, errorf(codeIndexNotFound, "can't find index with key: %v", *key)
		}
	default:
		return nil, errorf(codeTypeMismatch, "dropIndexes needs index: a name, names, a key or \"*\"")
	}
	for _, name := range names {
		if name == "_id_" {
			return nil, errorf(codeInvalidOptions, "cannot drop _id index")
		}
		if err := s.engine.DropIndex(ns, name); err != nil {
			return nil, s.engineError(ns, err)
		}
	}
	return bson.D{{Key: "nIndexesWas", Value: int32(len(infos))}}, nil
}

func (s *Server) cmdListCollections(_ context.Context, c *command) (bson.D, error) {
	filter, e := c.doc("filter")
	if e != nil {
		return nil, e
	}
	names, err := s.engine.Namespaces()
	if err != nil {
		return nil, s.engineError(c.db, err)
	}
	nameOnly := c.boolean("nameOnly", false)
	var docs []bsonkit.Doc
	for _, ns := range names {
		db, coll, _ := strings.Cut(ns, ".")
		if db != c.db {
			continue
		}
		d := bson.D{{Key: "name", Value: coll}, {Key: "type", Value: "collection"}}
		if !nameOnly {
			d = append(d,
				bson.E{Key: "options", Value: bson.D{}},
				bson.E{Key: "info", Value: bson.D{{Key: "readOnly", Value: false}}},
				bson.E{Key: "idIndex", Value: bson.D{{Key: "v", Value: int32(2)}, {Key: "key", Value: bson.D{{Key: "_id", Value: int32(1)}}}, {Key: "name", Value: "_id_"}}},
			)
		}
		if filter != nil {
			ok, err := mongokit.Match(&d, filter)
			if err != nil {
				return nil, errorf(codeBadValue, "filter: %v", err)
			}
			if !ok {
				continue
			}
		}
		docs = append(docs, &d)
	}
	return s.cursorReply(c.db+".$cmd.listCollections", docs, 0, false)
}

func (s *Server) cmdListDatabases(_ context.Context, c *command) (bson.D, error) {
	names, err := s.engine.Namespaces()
	if err != nil {
		return nil, s.engineError(c.db, err)
	}
	dbs := bson.A{}
	last := ""
	for _, ns := range names {
		db, _, _ := strings.Cut(ns, ".")
		if db != last {
			dbs = append(dbs, bson.D{{Key: "name", Value: db}, {Key: "sizeOnDisk", Value: int64(0)}, {Key: "empty", Value: false}})
			last = db
		}
	}
	return bson.D{{Key: "databases", Value: dbs}, {Key: "totalSize", Value: int64(0)}}, nil
}

func (s *Server) cmdCreate(ctx context.Context, c *command) (bson.D, error) {
	ns, e := c.collection()
	if e != nil {
		return nil, e
	}
	for _, k := range []string{"capped", "viewOn", "pipeline", "validator", "timeseries", "clusteredIndex", "collation"} {
		if e := c.refuse(k); e != nil {
			return nil, e
		}
	}
	db, coll, _ := strings.Cut(ns, ".")
	if err := s.client.Database(db).CreateCollection(ctx, coll); err != nil {
		return nil, s.engineError(ns, err)
	}
	return nil, nil
}

func (s *Server) cmdDrop(_ context.Context, c *command) (bson.D, error) {
	ns, e := c.collection()
	if e != nil {
		return nil, e
	}
	if err := s.engine.Drop(ns); err != nil {
		return nil, s.engineError(ns, err)
	}
	return bson.D{{Key: "ns", Value: ns}}, nil
}

func (s *Server) cmdDropDatabase(ctx context.Context, c *command) (bson.D, error) {
	if err := s.client.Database(c.db).Drop(ctx); err != nil {
		return nil, s.engineError(c.db, err)
	}
	return bson.D{{Key: "dropped", Value: c.db}}, nil
}
