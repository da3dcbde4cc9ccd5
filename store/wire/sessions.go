package wire

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/256dpi/lungo"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// A logical session (lsid) carries retryable writes and transactions
// across connections: the driver may send a session's next command on
// any pooled connection, so sessions live in the server, not in a
// connection.

// session is one lsid's state.
type session struct {
	// mu is held while a retryable write or a transaction's command of
	// this session runs: a retry that arrives while its first attempt
	// still runs waits for that attempt's reply.
	mu        sync.Mutex
	lastUse   time.Time // guarded by the table's mu
	txnNumber int64     // the highest txnNumber seen
	reply     []byte    // the reply to txnNumber's retryable write, once answered
	txn       *txnRunner
	committed int64 // the txnNumber of the last committed transaction (0: none)
}

type sessionTable struct {
	mu sync.Mutex
	m  map[string]*session
}

func (t *sessionTable) init() { t.m = map[string]*session{} }

// get returns the session key names, creating it.
func (t *sessionTable) get(key string) *session {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.m[key]
	if !ok {
		s = &session{}
		t.m[key] = s
	}
	s.lastUse = time.Now()
	return s
}

// end forgets a session, aborting its open transaction.
func (t *sessionTable) end(key string) {
	t.mu.Lock()
	s, ok := t.m[key]
	delete(t.m, key)
	t.mu.Unlock()
	if ok {
		s.mu.Lock()
		s.abortTxn()
		s.mu.Unlock()
	}
}

// expire aborts transactions open longer than lifetime and forgets
// sessions idle longer than idle. A session busy with a command is left
// for the next round.
func (t *sessionTable) expire(now time.Time, lifetime, idle time.Duration) {
	t.mu.Lock()
	var check []*session
	for key, s := range t.m {
		if now.Sub(s.lastUse) > idle {
			delete(t.m, key)
		}
		check = append(check, s)
	}
	t.mu.Unlock()
	for _, s := range check {
		if !s.mu.TryLock() {
			continue
		}
		if s.txn != nil && now.Sub(s.txn.started) >= lifetime {
			s.abortTxn()
		}
		s.mu.Unlock()
	}
}

// abortAll aborts every open transaction (at shutdown).
func (t *sessionTable) abortAll() {
	t.mu.Lock()
	all := make([]*session, 0, len(t.m))
	for _, s := range t.m {
		all = append(all, s)
	}
	t.mu.Unlock()
	for _, s := range all {
		s.mu.Lock()
		s.abortTxn()
		s.mu.Unlock()
	}
}

// abortTxn ends the open transaction, if any; s.mu is held.
func (s *session) abortTxn() {
	if s.txn != nil {
		_ = s.txn.finish(false)
		s.txn = nil
	}
}

// sessionKey reads an lsid document's id.
func sessionKey(lsid bsoncore.Document) (string, bool) {
	v, err := lsid.LookupErr("id")
	if err != nil {
		return "", false
	}
	if _, data, ok := v.BinaryOK(); ok {
		return string(data), true
	}
	return "", false
}

// runSession runs c in its session: as part of a transaction, as a
// retryable write answered exactly once, or plainly.
func (s *Server) runSession(c *command, start time.Time) []byte {
	lsid, hasSession := c.lookup("lsid").DocumentOK()
	txnV := c.lookup("txnNumber")
	autocommit := c.lookup("autocommit")
	if !hasSession || txnV.Type == 0 {
		if c.name == "commitTransaction" || c.name == "abortTransaction" {
			return s.finish(c, start, nil, errorf(codeNoSuchTransaction, "%s needs a session and a txnNumber", c.name))
		}
		fields, err := s.execute(context.Background(), c)
		return s.finish(c, start, fields, err)
	}
	key, ok := sessionKey(lsid)
	if !ok {
		return s.finish(c, start, nil, errorf(codeBadValue, "lsid needs a binary id"))
	}
	n, ok := txnV.Int64OK()
	if !ok {
		return s.finish(c, start, nil, errorf(codeTypeMismatch, "txnNumber must be a 64-bit integer"))
	}
	sess := s.sessions.get(key)
	sess.mu.Lock()
	defer sess.mu.Unlock()
	if n < sess.txnNumber {
		return s.finish(c, start, nil, errorf(codeTransactionTooOld, "txnNumber %d is older than the session's %d", n, sess.txnNumber))
	}
	switch {
	case c.name == "commitTransaction":
		return s.finish(c, start, nil, sess.commit(n))
	case c.name == "abortTransaction":
		if sess.txn == nil || sess.txn.number != n {
			return s.finish(c, start, nil, noSuchTransaction(n))
		}
		sess.abortTxn()
		return s.finish(c, start, nil, nil)
	case autocommit.Type != 0:
		if truthy(autocommit, true) {
			return s.finish(c, start, nil, errorf(codeInvalidOptions, "autocommit may only be false"))
		}
		if truthy(c.lookup("startTransaction"), false) {
			if n == sess.txnNumber && (sess.txn != nil || sess.committed == n) {
				return s.finish(c, start, nil, errorf(codeBadValue, "transaction %d has already started", n))
			}
			sess.abortTxn()
			sess.txnNumber, sess.reply = n, nil
			r, err := s.startTxn(n)
			if err != nil {
				return s.finish(c, start, nil, withLabel(errorf(codeNoSuchTransaction, "start transaction %d: %v", n, err)))
			}
			sess.txn = r
		}
		if sess.txn == nil || sess.txn.number != n {
			return s.finish(c, start, nil, noSuchTransaction(n))
		}
		var fields bson.D
		var err error
		sess.txn.do(func(ctx context.Context) { fields, err = s.execute(ctx, c) })
		return s.finish(c, start, fields, err)
	case retryableWrite(c.name):
		if n == sess.txnNumber && sess.reply != nil {
			s.stats.record("retried "+c.name, time.Since(start), false)
			return sess.reply
		}
		if n > sess.txnNumber {
			sess.abortTxn()
		}
		fields, err := s.execute(context.Background(), c)
		out := s.finish(c, start, fields, err)
		if replyOK(out) {
			sess.txnNumber, sess.reply = n, out
		}
		return out
	}
	fields, err := s.execute(context.Background(), c)
	return s.finish(c, start, fields, err)
}

func noSuchTransaction(n int64) *cmdError {
	return withLabel(errorf(codeNoSuchTransaction, "transaction %d has not started, or has ended", n))
}

// withLabel marks e as an error the driver's WithTransaction retries.
func withLabel(e *cmdError) *cmdError {
	e.labels = append(e.labels, "TransientTransactionError")
	return e
}

// commit commits transaction n; s.mu is held. A retried commit of the
// transaction just committed succeeds again.
func (s *session) commit(n int64) error {
	if s.txn == nil || s.txn.number != n {
		if s.committed == n && n == s.txnNumber {
			return nil
		}
		return noSuchTransaction(n)
	}
	err := s.txn.finish(true)
	s.txn = nil
	if err != nil {
		return err
	}
	s.committed = n
	return nil
}

// txnRunner holds one engine transaction open across commands: a
// goroutine inside the engine session runs each command with the
// session's context, then commits or aborts.
type txnRunner struct {
	number  int64
	started time.Time
	ops     chan func(ctx context.Context)
	end     chan bool // true: commit
	result  chan error
}

var errAborted = errors.New("wire: transaction aborted")

// startTxn opens an engine transaction (waiting, up to the engine's
// limit, to become its writer).
func (s *Server) startTxn(n int64) (*txnRunner, error) {
	r := &txnRunner{number: n, started: time.Now(), ops: make(chan func(context.Context)), end: make(chan bool), result: make(chan error, 1)}
	ready := make(chan error, 1)
	go func() {
		_ = s.client.UseSession(context.Background(), func(sc lungo.ISessionContext) error {
			if err := sc.StartTransaction(); err != nil {
				ready <- err
				return err
			}
			ready <- nil
			for {
				select {
				case op := <-r.ops:
					op(sc)
				case commit := <-r.end:
					if commit {
						r.result <- sc.CommitTransaction(sc)
					} else {
						r.result <- sc.AbortTransaction(sc)
					}
					return nil
				}
			}
		})
	}()
	if err := <-ready; err != nil {
		return nil, err
	}
	return r, nil
}

// do runs fn inside the transaction.
func (r *txnRunner) do(fn func(ctx context.Context)) {
	done := make(chan struct{})
	r.ops <- func(ctx context.Context) { fn(ctx); close(done) }
	<-done
}

// finish commits or aborts and returns the outcome.
func (r *txnRunner) finish(commit bool) error {
	r.end <- commit
	return <-r.result
}
