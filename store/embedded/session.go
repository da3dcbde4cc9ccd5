package embedded

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/256dpi/lungo"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// A transaction makes its session the engine's only writer until it
// commits or aborts: its writes stay private (its own reads see them,
// no one else's do) and land in one durable commit. Other writers wait,
// as they do for lungo's transactions; this is for short transactions.

// transactionWait bounds how long starting a transaction waits to
// become the writer.
const transactionWait = time.Minute

// Session runs operations, optionally in a transaction.
type Session struct {
	engine *Engine
	client *Client
	mu     sync.Mutex
	txn    *txn // the open transaction, if any
}

var _ lungo.ISession = (*Session)(nil)

// SessionContext is a context that carries a session.
type SessionContext struct {
	context.Context
	*Session
}

var _ lungo.ISessionContext = (*SessionContext)(nil)

type sessionKey struct{}

// sessionFrom returns the session ctx carries, if any.
func sessionFrom(ctx context.Context) *Session {
	if ctx == nil {
		return nil
	}
	s, _ := ctx.Value(sessionKey{}).(*Session)
	return s
}

func (s *Session) active() *txn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.txn
}

// ErrNoTransaction is returned when committing or aborting without one.
var ErrNoTransaction = errors.New("embedded: no transaction in progress")

// StartSession returns a new session.
func (c *Client) startSession() *Session { return &Session{engine: c.engine, client: c} }

// ID is not assigned.
func (s *Session) ID() bson.Raw { return nil }

// StartTransaction waits (up to a minute) to become the writer and
// opens a transaction.
func (s *Session) StartTransaction(...*options.TransactionOptions) error {
	ctx, cancel := context.WithTimeout(context.Background(), transactionWait)
	defer cancel()
	return s.start(ctx)
}

func (s *Session) start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.txn != nil {
		return errors.New("embedded: transaction already in progress")
	}
	if err := s.engine.acquire(ctx); err != nil {
		return err
	}
	t, err := s.engine.begin()
	if err != nil {
		s.engine.release()
		return err
	}
	s.txn = t
	return nil
}

// CommitTransaction makes the transaction's writes durable and visible.
func (s *Session) CommitTransaction(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.txn == nil {
		return ErrNoTransaction
	}
	t := s.txn
	s.txn = nil
	wait := s.engine.commit(t)
	s.engine.release()
	return wait()
}

// AbortTransaction discards the transaction's writes.
func (s *Session) AbortTransaction(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.txn == nil {
		return ErrNoTransaction
	}
	s.txn = nil
	s.engine.release()
	return nil
}

// WithTransaction runs fn in a transaction, committing if it returns no
// error and aborting otherwise.
func (s *Session) WithTransaction(ctx context.Context, fn func(lungo.ISessionContext) (any, error), _ ...*options.TransactionOptions) (any, error) {
	if err := s.start(ctx); err != nil {
		return nil, err
	}
	res, err := fn(&SessionContext{Context: context.WithValue(ctx, sessionKey{}, s), Session: s})
	if err != nil {
		_ = s.AbortTransaction(ctx)
		return nil, err
	}
	if err := s.CommitTransaction(ctx); err != nil {
		return nil, err
	}
	return res, nil
}

// EndSession aborts an open transaction.
func (s *Session) EndSession(ctx context.Context) {
	if s.active() != nil {
		_ = s.AbortTransaction(ctx)
	}
}

// AdvanceClusterTime does nothing: there is no cluster.
func (s *Session) AdvanceClusterTime(bson.Raw) error { return nil }

// AdvanceOperationTime does nothing.
func (s *Session) AdvanceOperationTime(*primitive.Timestamp) error { return nil }

// Client returns the session's client.
func (s *Session) Client() lungo.IClient { return s.client }

// ClusterTime is not tracked.
func (s *Session) ClusterTime() bson.Raw { return nil }

// OperationTime is not tracked.
func (s *Session) OperationTime() *primitive.Timestamp { return nil }
