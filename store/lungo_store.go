package store

import (
	"errors"
	"fmt"
	"runtime"
	"strings"

	"github.com/256dpi/lungo"
	"github.com/256dpi/lungo/bsonkit"
	"github.com/256dpi/lungo/mongokit"
	"go.mongodb.org/mongo-driver/bson"
	"golang.org/x/sync/errgroup"

	"loandesk/store/bsondoc"
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

// Load rebuilds the catalog from disk. It does lungo's File.BuildCatalog
// with the work spread over the CPUs: documents are decoded in parallel
// straight from the mapped file, then each index is built on its own
// goroutine. At 100k documents this is most of the start-up time.
func (s *lungoStore) Load() (*lungo.Catalog, error) {
	catalog := lungo.NewCatalog()
	err := s.db.View(func(ns durable.Namespace) error {
		db, coll, ok := strings.Cut(ns.Name, ".")
		if !ok {
			return fmt.Errorf("invalid namespace name %q", ns.Name)
		}
		c, err := buildCollection(ns)
		if err != nil {
			return fmt.Errorf("%s: %w", ns.Name, err)
		}
		catalog.Namespaces[lungo.Handle{db, coll}] = c
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", s.db.Path(), err)
	}
	s.last = catalog
	return catalog, nil
}

// buildCollection decodes a stored namespace and builds its indexes.
func buildCollection(ns durable.Namespace) (*mongokit.Collection, error) {
	docs, err := bsondoc.DecodeAll(ns.Docs)
	if err != nil {
		return nil, err
	}
	coll := mongokit.NewCollection(false)
	coll.Documents = bsonkit.NewSet(docs)

	names := make([]string, 0, len(ns.Indexes))
	built := make([]*mongokit.Index, 0, len(ns.Indexes))
	for name, def := range ns.Indexes {
		var fi lungo.FileIndex
		if err := bson.Unmarshal(def, &fi); err != nil {
			return nil, fmt.Errorf("index %s is unreadable: %w", name, err)
		}
		idx, err := mongokit.CreateIndex(mongokit.IndexConfig{Key: fi.Key, Unique: fi.Unique, Partial: fi.Partial, Expiry: fi.Expiry})
		if err != nil {
			return nil, fmt.Errorf("index %s: %w", name, err)
		}
		names = append(names, name)
		built = append(built, idx)
	}
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, idx := range built {
		g.Go(func() error {
			ok, err := idx.Build(docs)
			if err != nil {
				return fmt.Errorf("index %s: %w", names[i], err)
			}
			if !ok {
				return fmt.Errorf("duplicate document for index %q", names[i])
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for i, name := range names {
		coll.Indexes[name] = built[i]
	}
	return coll, nil
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
		if !errors.Is(err, durable.ErrRefused) {
			s.last = nil // what landed is unknown: resynchronise next time
		}
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
		puts, deletes := changedDocs(old.Documents, ns.Documents)
		for _, d := range deletes {
			key, err := durable.DocKey(bsonkit.Get(d, "_id"))
			if err != nil {
				return c, err
			}
			c.Deletes = append(c.Deletes, key)
		}
		for _, d := range puts {
			key, err := durable.DocKey(bsonkit.Get(d, "_id"))
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

// changedDocs lists the documents of cur that old lacks (puts) and those
// of old that cur lacks (deletes). lungo keeps a set's order (a replace is
// in place, a remove shifts, an add appends), so the two lists are walked
// in step and only where they differ is a map consulted: a commit that
// changed one document costs a pointer comparison per document, not two
// map lookups. Each document is classified by membership alone, so any
// order gives the right answer; lungo's order only makes it fast.
func changedDocs(old, cur *bsonkit.Set) (puts, deletes bsonkit.List) {
	i, j := 0, 0
	for i < len(old.List) && j < len(cur.List) {
		o, n := old.List[i], cur.List[j]
		if o == n {
			i, j = i+1, j+1
			continue
		}
		if _, kept := cur.Index[o]; !kept {
			deletes = append(deletes, o)
			i++
		} else if _, existed := old.Index[n]; !existed {
			puts = append(puts, n)
			j++
		} else {
			i, j = i+1, j+1 // both in the other list too: neither changed
		}
	}
	for _, o := range old.List[i:] {
		if _, kept := cur.Index[o]; !kept {
			deletes = append(deletes, o)
		}
	}
	for _, n := range cur.List[j:] {
		if _, existed := old.Index[n]; !existed {
			puts = append(puts, n)
		}
	}
	return puts, deletes
}
