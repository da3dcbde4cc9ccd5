// Package embedded is Loan Desk's indexed embedded database engine:
// MongoDB semantics (from lungo's bsonkit and mongokit, used as a
// library) over copy-on-write B-trees, one per collection by _id and one
// per index.
//
// Readers take the current snapshot, an immutable catalog behind an
// atomic pointer, and never block. There is one writer at a time; it
// works on copies of the collections it touches (a B-tree copy is O(1)
// and clones only the nodes it changes) and queues the result for the
// disk. Queued commits are written together, one sync for all of them
// (group commit, commit.go), and each is published, and its writer
// answered, only once it is durable. An index only
// narrows the candidates of a query: mongokit.Match decides every result
// (match.go answers as it does, faster, for the simplest filters).
//
// The file format is store/durable's, shared with the lungo adapter, so a
// DATA_DIR written by either engine opens with the other.
package embedded

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/256dpi/lungo"
	"github.com/256dpi/lungo/bsonkit"
	"github.com/256dpi/lungo/mongokit"
	"go.mongodb.org/mongo-driver/bson"
	"golang.org/x/sync/errgroup"

	"loandesk/store/bsondoc"
	"loandesk/store/durable"
)

// ErrClosed is returned by operations on a closed engine.
var ErrClosed = errors.New("embedded: engine closed")

// catalog is one consistent state of every collection, by namespace
// ("db.collection"). Published catalogs are never modified.
type catalog struct {
	colls map[string]*collection
}

// Engine is an open embedded database.
type Engine struct {
	db     *durable.DB
	writer chan struct{} // holding its one slot is being the writer
	snap   atomic.Pointer[catalog]
	closed atomic.Bool

	// head is the state writers build on: snap plus the commits still
	// waiting for the disk. Only the writer reads or sets it.
	head  *catalog
	group groupCommit

	decoded decodeMemo // what stored documents decoded to (decodememo.go)
}

// acquire waits to become the writer, or for ctx to end.
func (e *Engine) acquire(ctx context.Context) error {
	select {
	case e.writer <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (e *Engine) release() { <-e.writer }

// Open loads the database in db.
func Open(db *durable.DB) (*Engine, error) {
	cat := &catalog{colls: map[string]*collection{}}
	err := db.View(func(ns durable.Namespace) error {
		c, err := loadCollection(ns)
		if err != nil {
			return fmt.Errorf("%s: %w", ns.Name, err)
		}
		cat.colls[ns.Name] = c
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("embedded: %w", err)
	}
	e := &Engine{db: db, writer: make(chan struct{}, 1), head: cat}
	e.snap.Store(cat)
	e.group.start(e)
	return e, nil
}

// loadCollection decodes a stored namespace on every CPU and builds its
// indexes, one goroutine each.
func loadCollection(ns durable.Namespace) (*collection, error) {
	docs, err := bsondoc.DecodeAll(ns.Docs)
	if err != nil {
		return nil, err
	}
	recs := make([]record, len(docs))
	for i, d := range docs {
		recs[i] = record{id: bsonkit.Get(d, "_id"), doc: d}
	}
	slices.SortFunc(recs, func(a, b record) int { return bsonkit.Compare(a.id, b.id) })
	c := newCollection()
	for _, r := range recs {
		c.docs.Load(r) // sorted input: appends without searching
	}
	c.docs = compacted(c.docs)
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	var mu sync.Mutex
	for name, def := range ns.Indexes {
		if name == idIndexName {
			continue // the documents tree is the _id index
		}
		cfg, err := decodeIndex(def)
		if err != nil {
			return nil, fmt.Errorf("index %s: %w", name, err)
		}
		g.Go(func() error {
			ix, err := newIndex(name, cfg)
			if err != nil {
				return err
			}
			if err := ix.build(recs); err != nil {
				return fmt.Errorf("index %s: %w", name, err)
			}
			mu.Lock()
			c.indexes[name] = ix
			mu.Unlock()
			return nil
		})
	}
	return c, g.Wait()
}

// idIndexName is the primary index, stored as a definition for lungo's
// sake; here the documents tree is that index.
const idIndexName = "_id_"

func encodeIndex(cfg mongokit.IndexConfig) ([]byte, error) {
	return bson.Marshal(lungo.FileIndex{Key: cfg.Key, Unique: cfg.Unique, Partial: cfg.Partial, Expiry: cfg.Expiry})
}

func decodeIndex(def []byte) (mongokit.IndexConfig, error) {
	var fi lungo.FileIndex
	if err := bson.Unmarshal(def, &fi); err != nil {
		return mongokit.IndexConfig{}, err
	}
	return mongokit.IndexConfig{Key: fi.Key, Unique: fi.Unique, Partial: fi.Partial, Expiry: fi.Expiry}, nil
}

var idIndexDef, _ = encodeIndex(mongokit.IndexConfig{Key: &bson.D{{Key: "_id", Value: int32(1)}}, Unique: true})

// closeWait bounds how long Close waits for the write in progress (a
// transaction left open must not hang a shutdown).
const closeWait = 5 * time.Second

// Close stops the engine once the write in progress, if any, is done (or
// after closeWait; a later commit then fails with ErrClosed). The caller
// closes the durable file after.
func (e *Engine) Close() {
	select {
	case e.writer <- struct{}{}:
		defer e.release()
	case <-time.After(closeWait):
	}
	e.closed.Store(true)
	e.group.stop() // what was queued still lands
}

// snapshot is the current committed state.
func (e *Engine) snapshot() (*catalog, error) {
	if e.closed.Load() {
		return nil, ErrClosed
	}
	return e.snap.Load(), nil
}

// txn is a write in progress: private copies of the collections it
// touched, and what to persist.
type txn struct {
	base    *catalog
	colls   map[string]*collection // touched (cloned or new); nil value: dropped
	changes map[string]*nsChange
}

// nsChange is what a transaction did to one namespace, for the durable
// store: the final state of each touched document (nil: deleted).
type nsChange struct {
	drop       bool
	docs       map[string]bsonkit.Doc // storage key → document or nil
	indexPuts  map[string][]byte
	indexDrops []string
}

func (t *txn) change(ns string) *nsChange {
	c, ok := t.changes[ns]
	if !ok {
		c = &nsChange{docs: map[string]bsonkit.Doc{}, indexPuts: map[string][]byte{}}
		t.changes[ns] = c
	}
	return c
}

// read returns a namespace's collection as this transaction sees it.
func (t *txn) read(ns string) (*collection, bool) {
	if c, ok := t.colls[ns]; ok {
		return c, c != nil
	}
	c, ok := t.base.colls[ns]
	return c, ok
}

// write returns the namespace's collection for changing, creating it
// (with its _id index definition) when missing.
func (t *txn) write(ns string) *collection {
	if c, ok := t.colls[ns]; ok && c != nil {
		return c
	}
	if c, ok := t.base.colls[ns]; ok {
		if _, dropped := t.colls[ns]; !dropped {
			cl := c.clone()
			t.colls[ns] = cl
			return cl
		}
	}
	c := newCollection()
	t.colls[ns] = c
	t.change(ns).indexPuts[idIndexName] = idIndexDef
	return c
}

func (t *txn) put(ns string, doc bsonkit.Doc) error {
	key, err := durable.DocKey(bsonkit.Get(doc, "_id"))
	if err != nil {
		return err
	}
	t.change(ns).docs[string(key)] = doc
	return nil
}

func (t *txn) remove(ns string, id any) error {
	key, err := durable.DocKey(id)
	if err != nil {
		return err
	}
	t.change(ns).docs[string(key)] = nil
	return nil
}

// result is the catalog t leads to: its base with t's collections.
func (t *txn) result() *catalog {
	out := &catalog{colls: make(map[string]*collection, len(t.base.colls)+len(t.colls))}
	for ns, c := range t.base.colls {
		out.colls[ns] = c
	}
	for ns, c := range t.colls {
		if c == nil {
			delete(out.colls, ns)
		} else {
			out.colls[ns] = c
		}
	}
	return out
}

// child returns a transaction that starts where t is now.
func (t *txn) child() *txn {
	return &txn{base: t.result(), colls: map[string]*collection{}, changes: map[string]*nsChange{}}
}

// absorb keeps what child did as part of t.
func (t *txn) absorb(child *txn) {
	for ns, c := range child.colls {
		t.colls[ns] = c
	}
	for ns, ch := range child.changes {
		if ch.drop {
			t.changes[ns] = ch
			continue
		}
		mine := t.change(ns)
		for key, doc := range ch.docs {
			mine.docs[key] = doc
		}
		for name, def := range ch.indexPuts {
			mine.indexPuts[name] = def
		}
		for _, name := range ch.indexDrops {
			delete(mine.indexPuts, name)
			mine.indexDrops = append(mine.indexDrops, name)
		}
	}
}

// durableChanges lists the transaction's effect for the durable store.
func (t *txn) durableChanges() ([]durable.Change, error) {
	out := make([]durable.Change, 0, len(t.changes))
	for ns, c := range t.changes {
		dc := durable.Change{Namespace: ns, Drop: c.drop, IndexPuts: c.indexPuts, IndexDrops: c.indexDrops}
		for key, doc := range c.docs {
			if doc == nil {
				dc.Deletes = append(dc.Deletes, []byte(key))
				continue
			}
			body, err := bson.Marshal(doc)
			if err != nil {
				return nil, fmt.Errorf("embedded: encode a document of %s: %w", ns, err)
			}
			dc.Puts = append(dc.Puts, durable.Doc{Key: []byte(key), Body: body})
		}
		out = append(out, dc)
	}
	return out, nil
}

// update runs fn as the only writer on copies of the current state; if it
// succeeds and changed anything, the change is made durable and then
// published. On error nothing is kept. Inside a session's transaction fn
// runs on the transaction, which commits later.
func (e *Engine) update(ctx context.Context, fn func(t *txn) error) error {
	if s := sessionFrom(ctx); s != nil && s.engine == e {
		if t := s.active(); t != nil {
			// Each operation in a transaction is atomic too: it works on
			// a child, kept only if it succeeds.
			child := t.child()
			if err := fn(child); err != nil {
				return err
			}
			t.absorb(child)
			return nil
		}
	}
	if err := e.acquire(ctx); err != nil {
		return err
	}
	t, err := e.begin()
	if err != nil {
		e.release()
		return err
	}
	if err := fn(t); err != nil {
		// A refusal (a duplicate key) may rest on commits still queued:
		// answer once they are published, so a read right after it sees
		// what it clashed with, as for a write that matched nothing.
		settled := e.group.settled()
		e.release()
		_ = settled()
		return err
	}
	wait := e.commit(t)
	e.release() // the next writer builds on t while t goes to disk
	return wait()
}

// begin starts a transaction on the head state; the caller is the writer.
func (e *Engine) begin() (*txn, error) {
	if e.closed.Load() {
		return nil, ErrClosed
	}
	return &txn{base: e.head, colls: map[string]*collection{}, changes: map[string]*nsChange{}}, nil
}

// commit makes t the head and queues it for the disk; the caller is the
// writer. The returned wait, called once the writer is released, blocks
// until t is durable and published, or failed.
func (e *Engine) commit(t *txn) (wait func() error) {
	if len(t.changes) == 0 {
		return e.group.settled()
	}
	if e.closed.Load() {
		return func() error { return ErrClosed }
	}
	changes, err := t.durableChanges()
	if err == nil {
		err = durable.Validate(changes)
	}
	if err != nil {
		return func() error { return err }
	}
	e.head = t.result()
	return e.group.queue(changes, e.head)
}

// view returns the collection of ns a read in ctx sees: the session's
// transaction's, or the current snapshot's.
func (e *Engine) view(ctx context.Context, ns string) (*collection, bool, error) {
	if s := sessionFrom(ctx); s != nil && s.engine == e {
		if t := s.active(); t != nil {
			c, ok := t.read(ns)
			return c, ok, nil
		}
	}
	cat, err := e.snapshot()
	if err != nil {
		return nil, false, err
	}
	c, ok := cat.colls[ns]
	return c, ok, nil
}

// splitNamespace splits "db.collection".
func splitNamespace(ns string) (db, coll string) {
	db, coll, _ = strings.Cut(ns, ".")
	return db, coll
}
