package store

import (
	"fmt"
	"strings"

	"github.com/256dpi/lungo"
	"github.com/256dpi/lungo/bsonkit"
	"github.com/256dpi/lungo/mongokit"
	"go.mongodb.org/mongo-driver/bson"

	"loandesk/store/durable"
)

// lungoStore is a lungo.Store that persists only what each commit changed.
//
// lungo's catalog is copy-on-write: a commit hands over a new catalog in
// which unchanged namespaces are the same pointers as before, and within a
// changed namespace unchanged documents are the same pointers too. So the
// documents to write are the pointers not in the last stored catalog, and
// the documents to delete are the old pointers missing from the new one.
// The oplog is not persisted (change streams do not outlive the process).
type lungoStore struct {
	db *durable.DB
	// last is the catalog known to be on disk; nil after a failed commit,
	// when what landed is unknown: the next commit rewrites everything.
	last *lungo.Catalog
}

func newLungoStore(db *durable.DB) *lungoStore { return &lungoStore{db: db} }

// Load rebuilds the catalog from disk.
func (s *lungoStore) Load() (*lungo.Catalog, error) {
	stored, err := s.db.Load()
	if err != nil {
		return nil, err
	}
	file := lungo.File{Namespaces: map[string]lungo.FileNamespace{}}
	for _, ns := range stored {
		fns := lungo.FileNamespace{Indexes: map[string]lungo.FileIndex{}, Documents: make(bsonkit.List, 0, len(ns.Docs))}
		for name, def := range ns.Indexes {
			var idx lungo.FileIndex
			if err := bson.Unmarshal(def, &idx); err != nil {
				return nil, fmt.Errorf("store: %s: index %s of %s is unreadable: %w", s.db.Path(), name, ns.Name, err)
			}
			fns.Indexes[name] = idx
		}
		for _, body := range ns.Docs {
			var d bson.D
			if err := bson.Unmarshal(body, &d); err != nil {
				return nil, fmt.Errorf("store: %s: a document of %s is unreadable: %w", s.db.Path(), ns.Name, err)
			}
			fns.Documents = append(fns.Documents, &d)
		}
		file.Namespaces[ns.Name] = fns
	}
	catalog, err := file.BuildCatalog()
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", s.db.Path(), err)
	}
	s.last = catalog
	return catalog, nil
}

// Store writes the difference between catalog and the last stored one,
// durably, before returning.
func (s *lungoStore) Store(catalog *lungo.Catalog) error {
	var changes []durable.Change
	for handle, ns := range catalog.Namespaces {
		if handle == lungo.Oplog {
			continue
		}
		var old *mongokit.Collection
		if s.last != nil {
			old = s.last.Namespaces[handle]
		}
		if old == ns {
			continue
		}
		c, err := diffNamespace(handle.String(), old, ns)
		if err != nil {
			return err
		}
		changes = append(changes, c)
	}
	if s.last != nil {
		for handle := range s.last.Namespaces {
			if _, ok := catalog.Namespaces[handle]; !ok && handle != lungo.Oplog {
				changes = append(changes, durable.Change{Namespace: handle.String(), Drop: true})
			}
		}
	} else {
		// Resynchronising: namespaces on disk but not in memory must go.
		names, err := s.db.NamespaceNames()
		if err != nil {
			return err
		}
		for _, name := range names {
			db, coll, _ := strings.Cut(name, ".")
			if _, ok := catalog.Namespaces[lungo.Handle{db, coll}]; !ok {
				changes = append(changes, durable.Change{Namespace: name, Drop: true})
			}
		}
	}
	if err := s.db.CommitSerial(changes); err != nil {
		s.last = nil
		return fmt.Errorf("store: persist commit: %w", err)
	}
	s.last = catalog
	return nil
}

// diffNamespace lists what changed from old to ns; with no old it
// rewrites the namespace from scratch.
func diffNamespace(name string, old, ns *mongokit.Collection) (durable.Change, error) {
	c := durable.Change{Namespace: name, IndexPuts: map[string][]byte{}}
	if old == nil {
		c.Drop = true
		old = mongokit.NewCollection(false)
	}
	if old.Documents != ns.Documents {
		for _, d := range old.Documents.List {
			if _, ok := ns.Documents.Index[d]; !ok {
				key, err := docKey(d)
				if err != nil {
					return c, err
				}
				c.Deletes = append(c.Deletes, key)
			}
		}
		for _, d := range ns.Documents.List {
			if _, ok := old.Documents.Index[d]; ok {
				continue
			}
			key, err := docKey(d)
			if err != nil {
				return c, err
			}
			body, err := bson.Marshal(d)
			if err != nil {
				return c, fmt.Errorf("store: encode document of %s: %w", name, err)
			}
			c.Puts = append(c.Puts, durable.Doc{Key: key, Body: body})
		}
	}
	for idxName, idx := range ns.Indexes {
		if o, ok := old.Indexes[idxName]; ok && o.Config().Equal(idx.Config()) {
			continue
		}
		cfg := idx.Config()
		def, err := bson.Marshal(lungo.FileIndex{Key: cfg.Key, Unique: cfg.Unique, Partial: cfg.Partial, Expiry: cfg.Expiry})
		if err != nil {
			return c, fmt.Errorf("store: encode index %s of %s: %w", idxName, name, err)
		}
		c.IndexPuts[idxName] = def
	}
	for idxName := range old.Indexes {
		if _, ok := ns.Indexes[idxName]; !ok {
			c.IndexDrops = append(c.IndexDrops, idxName)
		}
	}
	return c, nil
}

// docKey is the storage key of a document: its _id's BSON type byte and
// value bytes, so ids of different types never collide.
func docKey(d bsonkit.Doc) ([]byte, error) {
	t, data, err := bson.MarshalValue(bsonkit.Get(d, "_id"))
	if err != nil {
		return nil, fmt.Errorf("store: encode _id: %w", err)
	}
	return append([]byte{byte(t)}, data...), nil
}
