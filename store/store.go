// Package store is everything that touches MongoDB: opening the database
// (a real MongoDB through the official driver, or the embedded engine),
// indexes, and one repository per collection.
//
// The rest of the application talks to lungo's mongo-driver-shaped
// interfaces only through this package, so the same code runs against
// MongoDB in production and the embedded engine on a laptop or in tests.
package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/256dpi/lungo"
	"go.mongodb.org/mongo-driver/mongo/readpref"
	"go.mongodb.org/mongo-driver/x/mongo/driver/connstring"

	"loandesk/clock"
	"loandesk/store/durable"
	"loandesk/store/embedded"
)

// DefaultDatabase is the database name used when MONGO_URI names none.
const DefaultDatabase = "loandesk"

// Config selects and tunes the database.
type Config struct {
	// MongoURI selects a real MongoDB. Empty means the embedded engine.
	MongoURI string
	// DataDir holds the embedded engine's files.
	DataDir string
	// PoolMax caps the driver's connection pool (0 = driver default).
	PoolMax uint64
	// ConnectTimeout bounds connecting and server selection so a wrong
	// MONGO_URI fails start-up quickly instead of hanging.
	ConnectTimeout time.Duration
	// Engine picks the embedded engine: EngineIndexed (the default) or
	// EngineLungo (lungo's own engine: the oracle and a fallback).
	Engine string
	// TTLInterval is how often the embedded engine deletes documents
	// past a TTL index's expiry (default 30 s; MongoDB's monitor runs
	// every 60 s).
	TTLInterval time.Duration
	// EventRetention is how long finished events are kept (default
	// DefaultEventRetention).
	EventRetention time.Duration
	Logger         *slog.Logger
	// Now is the clock for sessions, the queue and documents (the wall
	// clock when nil); tests move a clock.Manual instead of sleeping.
	Now clock.Func
	// Locks, when set, hears how distributed locks are acquired, waited
	// for, taken over and lost (metrics).
	Locks LockObserver
}

// Store is the application's handle on its database.
type Store struct {
	client    lungo.IClient
	db        lungo.IDatabase
	engine    *lungo.Engine    // lungo's engine, when chosen
	indexed   *embedded.Engine // the indexed engine, when chosen
	durable   *durable.DB      // the embedded engine's file; nil on MongoDB
	stopTTL   chan struct{}    // ends the TTL sweeps (the indexed engine's, or the store's own)
	closeOnce sync.Once
	compat

	users         lungo.ICollection
	sessions      lungo.ICollection
	loginAttempts lungo.ICollection
	loans         lungo.ICollection
	counters      lungo.ICollection
	apiTokens     lungo.ICollection
	events        lungo.ICollection
	workers       lungo.ICollection
	documents     lungo.ICollection
	locks         lungo.ICollection
	lockReleases  lungo.ICollection
	journal       appendOnly
	ledgerFences  lungo.ICollection
	audit         lungo.ICollection
	notes         lungo.ICollection

	sessionCache   *sessionCache
	staff          staffCache // UserListByRole's last answer (staff_cache.go)
	clock          clock.Func
	logger         *slog.Logger
	queueSignal    queueSignal
	eventRetention time.Duration
	lockObserver   LockObserver
}

// Open connects to MongoDB when cfg.MongoURI is set, otherwise opens the
// embedded engine under cfg.DataDir, and creates every index (idempotent).
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 5 * time.Second
	}
	var (
		s   *Store
		err error
	)
	if cfg.MongoURI != "" {
		s, err = openMongo(ctx, cfg)
	} else {
		s, err = openEmbedded(cfg)
	}
	if err != nil {
		return nil, err
	}
	s.users = s.db.Collection("users")
	s.sessions = s.db.Collection("sessions")
	s.loginAttempts = s.db.Collection("login_attempts")
	s.loans = s.db.Collection("loans")
	s.counters = s.db.Collection("counters")
	s.apiTokens = s.db.Collection("api_tokens")
	s.events = s.db.Collection("events")
	s.workers = s.db.Collection("workers")
	s.documents = s.db.Collection("documents")
	s.locks = s.db.Collection("locks")
	s.lockReleases = s.db.Collection("lock_releases")
	s.journal = appendOnly{s.db.Collection("journal")}
	s.ledgerFences = s.db.Collection("ledger_fences")
	s.audit = s.db.Collection("audit")
	s.notes = s.db.Collection("notes")
	s.logger = cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler))
	s.sessionCache = newSessionCache()
	s.clock = cfg.Now
	s.eventRetention = cmp.Or(cfg.EventRetention, DefaultEventRetention)
	s.lockObserver = cfg.Locks
	if s.lockObserver == nil {
		s.lockObserver = noLockObserver{}
	}

	s.ttlInterval = cmp.Or(cfg.TTLInterval, 30*time.Second)
	if err := s.ensureIndexes(ctx); err != nil {
		_ = s.Close(context.Background())
		return nil, err
	}
	if !s.Embedded() {
		if err := s.probeQueries(ctx); err != nil {
			_ = s.Close(context.Background())
			return nil, err
		}
		if err := s.probeTransactions(ctx); err != nil {
			_ = s.Close(context.Background())
			return nil, err
		}
	}
	if err := s.backfillLoanKeys(ctx); err != nil {
		_ = s.Close(context.Background())
		return nil, err
	}
	if err := s.documentFiles().EnsureIndexes(ctx, false); err != nil {
		_ = s.Close(context.Background())
		return nil, fmt.Errorf("store: create the document files' indexes: %w", err)
	}
	s.startSweeper()
	return s, nil
}

func openMongo(ctx context.Context, cfg Config) (*Store, error) {
	cs, err := connstring.ParseAndValidate(cfg.MongoURI)
	if err != nil {
		return nil, fmt.Errorf("store: MONGO_URI is not a valid MongoDB connection string: %w", err)
	}
	client, err := lungo.Connect(ctx, mongoClientOptions(cfg, cs))
	if err != nil {
		return nil, fmt.Errorf("store: connect to MongoDB at %s: %w", redactURI(cfg.MongoURI), err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()
	if err := client.Ping(pingCtx, readpref.Primary()); err != nil {
		_ = client.Disconnect(context.Background())
		return nil, fmt.Errorf("store: MongoDB at %s did not answer within %s (is it running, and is MONGO_URI right?): %w",
			redactURI(cfg.MongoURI), cfg.ConnectTimeout, err)
	}
	name := cs.Database
	if name == "" {
		name = DefaultDatabase
	}
	return &Store{client: client, db: client.Database(name)}, nil
}

func openEmbedded(cfg Config) (*Store, error) {
	dir := cfg.DataDir
	if dir == "" {
		dir = "data"
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: create DATA_DIR %s: %w", dir, err)
	}
	// The file's lock also keeps a second process (another server, or
	// `seed` while the server runs) from opening the same data.
	db, err := durable.Open(filepath.Join(dir, DataFile), durable.Options{})
	if err != nil {
		if errors.Is(err, durable.ErrInUse) {
			return nil, fmt.Errorf("store: %w: another Loan Desk process has %s open (stop it first, or use another DATA_DIR)", durable.ErrInUse, dir)
		}
		return nil, fmt.Errorf("store: %w", err)
	}
	switch cfg.Engine {
	case "", EngineIndexed:
		return openIndexed(cfg, dir, db)
	case EngineLungo:
	default:
		_ = db.Close()
		return nil, fmt.Errorf("store: unknown embedded engine %q (use %q or %q)", cfg.Engine, EngineIndexed, EngineLungo)
	}
	engineOpts := lungo.Options{
		Store: newLungoStore(db),
		// lungo keeps every change for MinOplogAge (5 minutes by default) to
		// serve change streams; at our write rates that grows memory and
		// slows every write. Nothing here resumes streams older than a
		// second, so keep the oplog short.
		MinOplogAge:    time.Second,
		ExpireInterval: cmp.Or(cfg.TTLInterval, 30*time.Second),
		ExpireErrors: func(err error) {
			cfg.Logger.Error("embedded engine: expiring TTL documents failed", "err", err)
		},
	}
	client, engine, err := lungo.Open(context.Background(), engineOpts)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("store: open embedded database in %s: %w", dir, err)
	}
	return &Store{client: client, db: client.Database(DefaultDatabase), engine: engine, durable: db}, nil
}

// The embedded engines.
const (
	EngineIndexed = "indexed"
	EngineLungo   = "lungo"
)

// openIndexed opens the indexed engine on db and starts its TTL sweeps.
func openIndexed(cfg Config, dir string, db *durable.DB) (*Store, error) {
	e, err := embedded.Open(db)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("store: open embedded database in %s: %w", dir, err)
	}
	client := embedded.NewClient(e)
	s := &Store{client: client, db: client.Database(DefaultDatabase), indexed: e, durable: db, stopTTL: make(chan struct{})}
	go sweepTTL(e, cmp.Or(cfg.TTLInterval, 30*time.Second), s.stopTTL, cfg.Logger)
	return s, nil
}

// sweepTTL deletes expired documents every interval until stop closes.
func sweepTTL(e *embedded.Engine, interval time.Duration, stop <-chan struct{}, logger *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			if _, err := e.Expire(now); err != nil && !errors.Is(err, embedded.ErrClosed) {
				logger.Error("embedded engine: expiring TTL documents failed", "err", err)
			}
		}
	}
}

// DataFile is the embedded database's file inside DATA_DIR.
const DataFile = "loandesk.db"

// Embedded reports whether the store runs on an in-process engine.
func (s *Store) Embedded() bool { return s.engine != nil || s.indexed != nil }

// Ping checks that the database answers a query. On MongoDB it is a
// server round trip; the embedded engine answers pings even when closed,
// so a read proves it is usable.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.client.Ping(ctx, readpref.Primary()); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	if s.Embedded() {
		if _, err := s.counters.CountDocuments(ctx, map[string]any{"_id": "ping"}); err != nil {
			return fmt.Errorf("store: ping: %w", err)
		}
	}
	return nil
}

// Backup writes a consistent snapshot of the embedded database to w while
// the server keeps running. MongoDB deployments use mongodump instead.
func (s *Store) Backup(w io.Writer) (int64, error) {
	if s.durable == nil {
		return 0, errors.New("store: backup is for the embedded database; use mongodump for MongoDB")
	}
	return s.durable.Backup(w)
}

// Restore loads a backup file into dataDir, which must not hold a
// database yet.
func Restore(backupFile, dataDir string) error {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("store: create DATA_DIR %s: %w", dataDir, err)
	}
	return durable.Restore(backupFile, filepath.Join(dataDir, DataFile))
}

// Close disconnects from MongoDB or closes the embedded engine and
// releases DATA_DIR.
func (s *Store) Close(ctx context.Context) error {
	err := s.client.Disconnect(ctx)
	if s.engine != nil {
		s.engine.Close()
	}
	if s.stopTTL != nil {
		s.closeOnce.Do(func() { close(s.stopTTL) })
	}
	if s.indexed != nil {
		s.indexed.Close()
	}
	if s.durable != nil {
		_ = s.durable.Close()
		s.durable = nil
	}
	return err
}

// redactURI hides credentials so connection errors can be logged safely.
func redactURI(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return "(unparseable URI)"
	}
	if u.User != nil {
		u.User = url.User("REDACTED")
	}
	return u.String()
}

// now is the store's clock.
func (s *Store) now() time.Time { return s.clock.Now() }
