package embedded

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/256dpi/lungo"
	"github.com/256dpi/lungo/bsonkit"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.mongodb.org/mongo-driver/mongo/readconcern"
	"go.mongodb.org/mongo-driver/mongo/readpref"
	"go.mongodb.org/mongo-driver/mongo/writeconcern"

	"loandesk/store/bsondoc"
	"loandesk/store/docdecode"
)

// ErrNotSupported is returned by the parts of the driver's interface the
// embedded engine does not implement.
var ErrNotSupported = errors.New("not supported by the embedded engine")

func unsupported(what string) error { return fmt.Errorf("%s: %w", what, ErrNotSupported) }

// Client is the engine behind lungo's mongo-driver-shaped interfaces, so
// the application's store code runs on it unchanged.
type Client struct {
	engine *Engine
}

var _ lungo.IClient = (*Client)(nil)

// NewClient returns a client of e.
func NewClient(e *Engine) *Client { return &Client{engine: e} }

// Connect does nothing: the engine is in the process.
func (c *Client) Connect(context.Context) error { return nil }

// Database returns a handle on the named database.
func (c *Client) Database(name string, _ ...*options.DatabaseOptions) lungo.IDatabase {
	return &Database{client: c, name: name}
}

// Disconnect does nothing: the engine's owner closes it.
func (c *Client) Disconnect(context.Context) error { return nil }

// ListDatabaseNames lists databases that hold a collection.
func (c *Client) ListDatabaseNames(context.Context, any, ...*options.ListDatabasesOptions) ([]string, error) {
	names, err := c.engine.Namespaces()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, ns := range names {
		db, _ := splitNamespace(ns)
		if len(out) == 0 || out[len(out)-1] != db {
			out = append(out, db)
		}
	}
	return out, nil
}

// ListDatabases is not supported.
func (c *Client) ListDatabases(context.Context, any, ...*options.ListDatabasesOptions) (mongo.ListDatabasesResult, error) {
	return mongo.ListDatabasesResult{}, unsupported("ListDatabases")
}

// NumberSessionsInProgress is not tracked.
func (c *Client) NumberSessionsInProgress() int { return 0 }

// Ping answers whether the engine is open.
func (c *Client) Ping(context.Context, *readpref.ReadPref) error {
	_, err := c.engine.snapshot()
	return err
}

// StartSession returns a new session.
func (c *Client) StartSession(...*options.SessionOptions) (lungo.ISession, error) {
	return c.startSession(), nil
}

// Timeout is not set.
func (c *Client) Timeout() *time.Duration { return nil }

// UseSession runs fn with a new session, ending it afterwards.
func (c *Client) UseSession(ctx context.Context, fn func(lungo.ISessionContext) error) error {
	return c.UseSessionWithOptions(ctx, nil, fn)
}

// UseSessionWithOptions runs fn with a new session, ending it afterwards.
func (c *Client) UseSessionWithOptions(ctx context.Context, _ *options.SessionOptions, fn func(lungo.ISessionContext) error) error {
	s := c.startSession()
	defer s.EndSession(ctx)
	return fn(&SessionContext{Context: context.WithValue(ctx, sessionKey{}, s), Session: s})
}

// Watch is not supported.
func (c *Client) Watch(context.Context, any, ...*options.ChangeStreamOptions) (lungo.IChangeStream, error) {
	return nil, unsupported("change streams")
}

// Database is a handle on one database.
type Database struct {
	client *Client
	name   string
}

var _ lungo.IDatabase = (*Database)(nil)

// Aggregate is not supported.
func (d *Database) Aggregate(context.Context, any, ...*options.AggregateOptions) (lungo.ICursor, error) {
	return nil, unsupported("aggregation")
}

// Client returns the database's client.
func (d *Database) Client() lungo.IClient { return d.client }

// Collection returns a handle on the named collection.
func (d *Database) Collection(name string, _ ...*options.CollectionOptions) lungo.ICollection {
	return &Collection{db: d, name: name, ns: d.name + "." + name}
}

// CreateCollection creates an empty collection (a no-op if it exists).
func (d *Database) CreateCollection(_ context.Context, name string, _ ...*options.CreateCollectionOptions) error {
	return d.client.engine.update(context.Background(), func(t *txn) error {
		t.write(d.name + "." + name)
		return nil
	})
}

// CreateView is not supported.
func (d *Database) CreateView(context.Context, string, string, any, ...*options.CreateViewOptions) error {
	return unsupported("views")
}

// Drop removes every collection of the database.
func (d *Database) Drop(context.Context) error {
	names, err := d.client.engine.Namespaces()
	if err != nil {
		return err
	}
	for _, ns := range names {
		if strings.HasPrefix(ns, d.name+".") {
			if err := d.client.engine.Drop(ns); err != nil {
				return err
			}
		}
	}
	return nil
}

// ListCollectionNames lists the database's collections (the filter must
// be empty).
func (d *Database) ListCollectionNames(_ context.Context, filter any, _ ...*options.ListCollectionsOptions) ([]string, error) {
	if f, err := toDoc(filter); err != nil || len(*f) > 0 {
		return nil, unsupported("filtering collection names")
	}
	names, err := d.client.engine.Namespaces()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, ns := range names {
		if db, coll := splitNamespace(ns); db == d.name {
			out = append(out, coll)
		}
	}
	return out, nil
}

// ListCollectionSpecifications is not supported.
func (d *Database) ListCollectionSpecifications(context.Context, any, ...*options.ListCollectionsOptions) ([]*mongo.CollectionSpecification, error) {
	return nil, unsupported("ListCollectionSpecifications")
}

// ListCollections is not supported.
func (d *Database) ListCollections(context.Context, any, ...*options.ListCollectionsOptions) (lungo.ICursor, error) {
	return nil, unsupported("ListCollections")
}

// Name is the database's name.
func (d *Database) Name() string { return d.name }

// ReadConcern is not configurable.
func (d *Database) ReadConcern() *readconcern.ReadConcern { return nil }

// ReadPreference is not configurable.
func (d *Database) ReadPreference() *readpref.ReadPref { return nil }

// RunCommand is not supported.
func (d *Database) RunCommand(context.Context, any, ...*options.RunCmdOptions) lungo.ISingleResult {
	return &SingleResult{err: unsupported("commands")}
}

// RunCommandCursor is not supported.
func (d *Database) RunCommandCursor(context.Context, any, ...*options.RunCmdOptions) (lungo.ICursor, error) {
	return nil, unsupported("commands")
}

// Watch is not supported.
func (d *Database) Watch(context.Context, any, ...*options.ChangeStreamOptions) (lungo.IChangeStream, error) {
	return nil, unsupported("change streams")
}

// WriteConcern is not configurable: every write is durable on return.
func (d *Database) WriteConcern() *writeconcern.WriteConcern { return nil }

// Cursor iterates results that were read from one snapshot.
type Cursor struct {
	docs []bsonkit.Doc
	pos  int
	cur  bsonkit.Doc
	err  error

	// For a find: stored are the documents the results come from. A
	// projection that only leaves out top-level fields (drop) is applied
	// to each as it is read (docs[i] nil until then), so results memo
	// already knows how to decode are never projected at all.
	stored []bsonkit.Doc
	drop   []string
	memo   *decodeMemo
	key    string // the projection, as memo knows it
}

var _ lungo.ICursor = (*Cursor)(nil)

// newCursor is the cursor over a find's stored results, projected by
// proj. A projection error (only possible for those applied at once)
// is returned here, as a find's.
func newCursor(stored []bsonkit.Doc, proj bsonkit.Doc, memo *decodeMemo) (*Cursor, error) {
	c := &Cursor{stored: stored, memo: memo}
	if proj == nil || len(*proj) == 0 {
		c.docs = stored
		return c, nil
	}
	if drop, ok := topLevelExclusion(proj); ok {
		c.docs, c.drop, c.key = make([]bsonkit.Doc, len(stored)), drop, "-"+strings.Join(drop, "\x00")
		return c, nil
	}
	docs, err := project(stored, proj)
	if err != nil {
		return nil, err
	}
	// Other projections may rename or reshape: their results are not
	// remembered.
	c.docs, c.memo = docs, nil
	return c, nil
}

// at is result i, left out fields dropped on first use.
func (c *Cursor) at(i int) bsonkit.Doc {
	if c.docs[i] == nil {
		c.docs[i] = without(c.stored[i], c.drop)
	}
	return c.docs[i]
}

// All decodes every remaining document into results (a slice pointer).
func (c *Cursor) All(_ context.Context, results any) error {
	from := c.pos
	c.pos = len(c.docs)
	if c.memo != nil {
		return c.memo.decodeList(c.stored[from:], c.key, func(i int) bsonkit.Doc { return c.at(from + i) }, results)
	}
	return docdecode.DecodeList(c.docs[from:], results)
}

// Close releases nothing.
func (c *Cursor) Close(context.Context) error { return nil }

// Decode decodes the current document.
func (c *Cursor) Decode(v any) error {
	if c.cur == nil {
		return errors.New("embedded: Decode before Next")
	}
	return docdecode.Decode(c.cur, v)
}

// Err is the cursor's error.
func (c *Cursor) Err() error { return c.err }

// ID is 0: results come whole.
func (c *Cursor) ID() int64 { return 0 }

// Next moves to the next document.
func (c *Cursor) Next(ctx context.Context) bool {
	if c.pos >= len(c.docs) {
		return false
	}
	if err := ctx.Err(); err != nil {
		c.err = err
		return false
	}
	c.cur = c.at(c.pos)
	c.pos++
	return true
}

// RemainingBatchLength is how many documents are left.
func (c *Cursor) RemainingBatchLength() int { return len(c.docs) - c.pos }

// SetBatchSize does nothing.
func (c *Cursor) SetBatchSize(int32) {}

// SetComment does nothing.
func (c *Cursor) SetComment(any) {}

// SetMaxTime does nothing.
func (c *Cursor) SetMaxTime(time.Duration) {}

// TryNext is Next.
func (c *Cursor) TryNext(ctx context.Context) bool { return c.Next(ctx) }

// SingleResult is one document, or the error finding it.
type SingleResult struct {
	doc bsonkit.Doc
	err error
}

var _ lungo.ISingleResult = (*SingleResult)(nil)

// Decode decodes the document.
func (r *SingleResult) Decode(v any) error {
	if r.err != nil {
		return r.err
	}
	return docdecode.Decode(r.doc, v)
}

// DecodeBytes returns the document's BSON.
func (r *SingleResult) DecodeBytes() (bson.Raw, error) { return r.Raw() }

// Err is the error, mongo.ErrNoDocuments when nothing matched.
func (r *SingleResult) Err() error { return r.err }

// Raw returns the document's BSON.
func (r *SingleResult) Raw() (bson.Raw, error) {
	if r.err != nil {
		return nil, r.err
	}
	return bson.Marshal(r.doc)
}

// storedDoc converts a document to store (an insert or a replacement):
// marshalled by the driver, as for MongoDB, and decoded by store/bsondoc
// into the compact form documents loaded at start-up have. dec may be
// shared by the documents of one call.
func storedDoc(dec *bsondoc.Decoder, v any) (bsonkit.Doc, error) {
	raw, err := bson.Marshal(v)
	if err != nil {
		return nil, err
	}
	return dec.Decode(raw)
}

// writeError makes a duplicate key look as it does from MongoDB, so
// mongo.IsDuplicateKeyError recognises it.
func writeError(err error) error {
	var dk *DuplicateKeyError
	if errors.As(err, &dk) {
		return mongo.WriteException{WriteErrors: mongo.WriteErrors{{Code: 11000, Message: dk.Error()}}}
	}
	return err
}
