// Package wire serves the embedded engine (store/embedded) over the
// MongoDB wire protocol, so the official Go driver, and through it any
// number of Loan Desk processes, use one embedded database through
// MONGO_URI as they would use a MongoDB replica set.
//
// One job: accept TCP connections, read and frame each message, run the
// command it carries on the engine and answer in MongoDB's shape. It
// speaks OP_MSG, and OP_QUERY only for the driver's first handshake
// (hello/isMaster on admin.$cmd); other opcodes close the connection.
//
// Framing and BSON use the driver's own packages,
// go.mongodb.org/mongo-driver/x/mongo/driver/wiremessage and
// x/bsonx/bsoncore, rather than a parser of ours: they are the code the
// client on the other end runs (the same module, the same version, so
// the two sides cannot drift), they read without copying or reflection,
// and their Read functions report a short or malformed input with ok =
// false. github.com/FerretDB/wire would add a second BSON implementation
// beside the driver's for no gain here. Every document is validated here
// first (validate: lengths checked before bsoncore's Validate trusts
// them, nesting bounded at maxDepth without deeper recursion), so no
// input reaches the engine's recursive code unchecked; a panic in one
// command answers InternalError and closes only its connection.
//
// Commands: hello/isMaster, ping, buildInfo, getParameter, endSessions,
// find/getMore/killCursors, insert, update, delete, findAndModify,
// count, distinct, aggregate (counting and simple pipelines,
// aggregate.go), createIndexes/listIndexes/dropIndexes, listCollections,
// listDatabases, create, drop, dropDatabase, commitTransaction,
// abortTransaction, saslStart/saslContinue. Any other is answered with
// code 59 (CommandNotFound); unsupported options with 238
// (NotImplemented). Limits as MongoDB's: 48,000,000-byte messages,
// 16 MiB documents, 100,000 statements a write; MaxConnections
// connections. Stats, InFlight and OpenConnections are the counters.
//
// The server answers as the primary of a one-member replica set (setName
// "loandesk"): the driver sends transaction numbers (retryable writes,
// transactions) only to replica-set members and mongos, and the app
// writes with retryable writes and majority write concern as it does on
// MongoDB. A retried write (the same lsid and txnNumber) gets the reply
// of the first attempt and is not applied twice. Every write is durable
// before it is answered, so any write concern is met. There is no
// replication, no oplog and no change streams.
//
// Transactions (startTransaction/autocommit: false, commitTransaction,
// abortTransaction) run on the engine's own transactions: the
// transaction holds the engine's single writer until it ends, so other
// writers wait; one left open longer than TransactionLifetime is
// aborted.
//
// Authentication is optional: with Config.User set, clients sign in with
// SCRAM-SHA-256 (auth.go); without it anyone who connects has the whole
// database, so Serve is meant for a loopback address and the caller
// warns. No TLS yet.
package wire

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/bson/bsontype"

	"github.com/xdg-go/scram"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
	"go.mongodb.org/mongo-driver/x/mongo/driver/wiremessage"
	"golang.org/x/sync/semaphore"

	"loandesk/store/embedded"
)

// Limits MongoDB has too.
const (
	// MaxMessageBytes is the largest message accepted (MongoDB's
	// maxMessageSizeBytes).
	MaxMessageBytes = 48_000_000
	// maxBSONBytes is the largest document (maxBsonObjectSize).
	maxBSONBytes = 16 * 1024 * 1024
	// maxDepth is how deeply documents in a command may nest (MongoDB
	// allows 200 levels in commands, 100 in stored documents).
	maxDepth = 180
	// maxWriteBatch is the most statements one write command may carry.
	maxWriteBatch = 100_000
	// batchBytes bounds one reply's batch of documents.
	batchBytes = 16 * 1024 * 1024
)

// Config is what a Server runs with; zero values take the defaults.
type Config struct {
	// Engine is the database served. Required. The caller opens and
	// closes it.
	Engine *embedded.Engine
	// MaxConnections is how many client connections may be open at once
	// (default 1000); one more is answered with an error and closed.
	MaxConnections int
	// MaxMessageBytes is the largest message accepted (default and
	// upper bound MaxMessageBytes = 48,000,000 bytes).
	MaxMessageBytes int
	// SetName is the replica set name hello reports (default
	// "loandesk"); a MONGO_URI with replicaSet= must name it.
	SetName string
	// Advertise is the host:port hello reports as the set's one member
	// (default: the listener's address). Clients must be able to dial
	// it: the driver connects to the member the primary names.
	Advertise string
	// TransactionLifetime is how long a transaction may stay open before
	// it is aborted (default 60 s, MongoDB's
	// transactionLifetimeLimitSeconds).
	TransactionLifetime time.Duration
	// SessionTimeout is how long an idle session's retryable-write
	// record is kept (default 30 min, logicalSessionTimeoutMinutes).
	SessionTimeout time.Duration
	// CursorTimeout is how long an idle cursor is kept (default 10 min).
	CursorTimeout time.Duration
	// Logger gets connection and protocol errors (default: discarded).
	Logger *slog.Logger
	// User and Password, when User is set, are the one account clients
	// must authenticate as (SCRAM-SHA-256, any authSource) before any
	// command but the handshake, ping and SCRAM's own.
	User, Password string

	// PreAuthMessageBytes is the largest message a connection may send
	// before it has authenticated, when User is set (default 16 KiB: the
	// handshake's and SCRAM's messages are a few hundred bytes). A larger
	// one is answered with code 13 and the connection closes, so a
	// stranger cannot make the server hold 48 MB per connection.
	PreAuthMessageBytes int
	// MessageTimeout is how long a message may take to arrive once its
	// header has, plus one second for every 4 MiB of its length (default
	// 30 s: 41 s for a 48 MB message); a reply has as long to be taken
	// up. A connection that runs out is closed.
	MessageTimeout time.Duration
	// MaxBufferedBytes bounds the bytes of the messages being received
	// or run on all connections together (default 256 MiB, at least
	// MaxMessageBytes). A message over PreAuthMessageBytes that would
	// pass it waits up to MessageTimeout for others to finish (its own
	// deadline to arrive starts when it has room); then it is answered
	// with code 146 (ExceededMemoryLimit) and its connection closes.
	// Smaller messages never wait.
	MaxBufferedBytes int64
	// HandshakeTimeout is how long a new connection may take to send its
	// first message whole, and, when User is set, to finish SCRAM once
	// it has sent saslStart (default 10 s).
	HandshakeTimeout time.Duration
	// UnauthenticatedIdle is how long a connection that has not
	// authenticated (User set) may stay silent between two messages
	// (default 30 s). The driver's monitoring connections never
	// authenticate: they send hello every heartbeatFrequencyMS (10 s by
	// default), which must stay under this.
	UnauthenticatedIdle time.Duration
}

// Server serves one engine over the wire protocol. Its methods are safe
// for concurrent use.
type Server struct {
	cfg    Config
	engine *embedded.Engine
	client *embedded.Client
	logger *slog.Logger

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	closing   bool
	connWG    sync.WaitGroup
	reaperOn  bool
	stopReap  chan struct{}
	open      atomic.Int64 // connections open now
	inFlight  atomic.Int64 // commands running now
	advertise atomic.Value // string
	buffered  atomic.Int64 // bytes of messages held now (BufferedBytes)
	budget    *semaphore.Weighted
	evictions atomic.Int64

	sessions sessionTable
	cursors  cursorTable
	stats    statsTable
	scram    *scram.Server // nil: no authentication
}

// New returns a server of cfg.Engine. It fails if cfg.Engine is nil or
// the password cannot be used with SCRAM (SASLprep refuses it).
func New(cfg Config) (*Server, error) {
	if cfg.Engine == nil {
		return nil, errors.New("wire: Config.Engine is nil")
	}
	cfg.MaxConnections = cmp.Or(cfg.MaxConnections, 1000)
	if cfg.MaxMessageBytes <= 0 || cfg.MaxMessageBytes > MaxMessageBytes {
		cfg.MaxMessageBytes = MaxMessageBytes
	}
	cfg.SetName = cmp.Or(cfg.SetName, "loandesk")
	cfg.TransactionLifetime = cmp.Or(cfg.TransactionLifetime, 60*time.Second)
	cfg.SessionTimeout = cmp.Or(cfg.SessionTimeout, 30*time.Minute)
	cfg.CursorTimeout = cmp.Or(cfg.CursorTimeout, 10*time.Minute)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.PreAuthMessageBytes = min(cmp.Or(max(cfg.PreAuthMessageBytes, 0), 16<<10), cfg.MaxMessageBytes)
	cfg.MessageTimeout = cmp.Or(cfg.MessageTimeout, 30*time.Second)
	cfg.MaxBufferedBytes = max(cmp.Or(cfg.MaxBufferedBytes, 256<<20), int64(cfg.MaxMessageBytes))
	cfg.HandshakeTimeout = cmp.Or(cfg.HandshakeTimeout, 10*time.Second)
	cfg.UnauthenticatedIdle = cmp.Or(cfg.UnauthenticatedIdle, 30*time.Second)
	s := &Server{
		cfg:       cfg,
		engine:    cfg.Engine,
		client:    embedded.NewClient(cfg.Engine),
		logger:    cfg.Logger,
		listeners: map[net.Listener]struct{}{},
		conns:     map[*conn]struct{}{},
		stopReap:  make(chan struct{}),
		budget:    semaphore.NewWeighted(cfg.MaxBufferedBytes),
	}
	s.sessions.init()
	s.cursors.init()
	if cfg.Advertise != "" {
		s.advertise.Store(cfg.Advertise)
	}
	if cfg.User != "" {
		sc, err := newSCRAM(cfg.User, cfg.Password)
		if err != nil {
			return nil, err
		}
		s.scram = sc
	}
	return s, nil
}

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("wire: server closed")

// Serve accepts connections on ln until Shutdown, and returns
// ErrServerClosed then (or the listener's error).
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		_ = ln.Close()
		return ErrServerClosed
	}
	s.listeners[ln] = struct{}{}
	if s.advertise.Load() == nil {
		s.advertise.Store(ln.Addr().String())
	}
	if !s.reaperOn {
		s.reaperOn = true
		go s.reap()
	}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
	}()
	for {
		nc, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closing := s.closing
			s.mu.Unlock()
			if closing {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		c := newConn(s, nc)
		s.mu.Lock()
		if s.closing {
			s.mu.Unlock()
			_ = nc.Close()
			return ErrServerClosed
		}
		s.conns[c] = struct{}{}
		s.connWG.Add(1)
		s.mu.Unlock()
		over := s.open.Add(1) > int64(s.cfg.MaxConnections) && !s.evict(c)
		go c.serve(over)
	}
}

// Shutdown stops accepting connections, lets each command in progress
// finish and answer (every acknowledged write is durable), closes every
// connection, and aborts the transactions left open. It returns ctx's
// error if commands are still running when ctx ends; the engine is the
// caller's to close after.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	for ln := range s.listeners {
		_ = ln.Close()
	}
	for c := range s.conns {
		c.closeIfIdle() // a connection waiting for the byte budget too
	}
	if s.reaperOn {
		close(s.stopReap)
		s.reaperOn = false
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.connWG.Wait(); close(done) }()
	// Transactions still open are not acknowledged: abort them, so a
	// command waiting for the engine's writer can finish. A session busy
	// with a command is aborted once that command is answered.
	go func() {
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			s.sessions.expire(time.Now(), 0, s.cfg.SessionTimeout)
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		s.mu.Lock()
		for c := range s.conns {
			c.close()
		}
		s.mu.Unlock()
	}
	s.sessions.abortAll()
	return err
}

// Addr is the address hello reports (set by Serve or Config.Advertise).
func (s *Server) Addr() string {
	v, _ := s.advertise.Load().(string)
	return v
}

// reap aborts transactions past their lifetime and drops idle sessions
// and cursors.
func (s *Server) reap() {
	t := time.NewTicker(min(time.Second, s.cfg.TransactionLifetime/2))
	defer t.Stop()
	for {
		select {
		case <-s.stopReap:
			return
		case now := <-t.C:
			s.sessions.expire(now, s.cfg.TransactionLifetime, s.cfg.SessionTimeout)
			s.cursors.expire(now, s.cfg.CursorTimeout)
		}
	}
}

// conn is one client connection; it runs one command at a time, as
// MongoDB does.
type conn struct {
	srv  *Server
	nc   net.Conn
	mu   sync.Mutex
	busy bool // a command is running
	shut bool // close once the command in progress has answered
	auth authState
	// ctx ends when the server closes the connection: a message waiting
	// for the byte budget stops waiting.
	ctx    context.Context
	cancel context.CancelFunc

	connected time.Time
	messages  int         // messages answered (the serving goroutine's)
	admitted  atomic.Bool // authenticated, or (no User) past its first message
	idleSince atomic.Int64
	evicted   bool  // guarded by srv.mu
	held      int64 // bytes of the current message counted in buffered
	heldSem   bool  // … and taken from the budget
}

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{srv: s, nc: nc, connected: time.Now()}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.idleSince.Store(c.connected.UnixNano())
	return c
}

// close closes the connection from the server's side.
func (c *conn) close() {
	c.cancel()
	_ = c.nc.Close()
}

// errBadMessage ends a connection whose stream cannot be trusted.
var errBadMessage = errors.New("bad message")

func (c *conn) closeIfIdle() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.shut = true
	if !c.busy {
		c.close()
	}
}

// begin marks a command running; false when the server is shutting
// down and the connection must close instead.
func (c *conn) begin() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.shut {
		return false
	}
	c.busy = true
	c.srv.inFlight.Add(1)
	return true
}

// end marks the command answered; false when the connection must close.
func (c *conn) end() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.busy = false
	c.srv.inFlight.Add(-1)
	return !c.shut
}

func (c *conn) serve(overLimit bool) {
	s := c.srv
	defer func() {
		c.release()
		c.close()
		s.open.Add(-1)
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		s.connWG.Done()
	}()
	if overLimit {
		c.refuse()
		return
	}
	for {
		msg, reqID, err := c.read()
		if err != nil {
			c.logClosed(err)
			return
		}
		if !c.begin() {
			return
		}
		reply, keep := c.handle(msg, reqID)
		c.release()
		c.messages++
		if c.auth.authed || s.scram == nil {
			c.admitted.Store(true)
		}
		if reply != nil {
			_ = c.nc.SetWriteDeadline(time.Now().Add(s.transferTime(len(reply))))
			if _, err := c.nc.Write(reply); err != nil {
				c.end()
				return
			}
		}
		c.idleSince.Store(time.Now().UnixNano())
		if !c.end() || !keep {
			return
		}
	}
}

// logClosed says why a connection closed, unless the client closed it.
func (c *conn) logClosed(err error) {
	if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || c.ctx.Err() != nil {
		return
	}
	remote := c.nc.RemoteAddr().String()
	var ne net.Error
	switch {
	case !errors.As(err, &ne) || !ne.Timeout():
		c.srv.logger.Warn("wire: connection closed on a bad message", "remote", remote, "err", err)
	case c.messages == 0:
		c.srv.logger.Warn("wire: connection closed: no handshake in time", "remote", remote, "timeout", c.srv.cfg.HandshakeTimeout)
	case !c.admitted.Load():
		c.srv.logger.Warn("wire: connection closed: not authenticated in time, or silent too long before authenticating", "remote", remote)
	default:
		c.srv.logger.Warn("wire: connection closed: a message did not arrive within its deadline", "remote", remote, "timeout", c.srv.cfg.MessageTimeout)
	}
}

// refuse answers the first message of a connection over the limit with
// an error and closes it.
func (c *conn) refuse() {
	s := c.srv
	s.logger.Warn("wire: connection refused: too many open connections", "limit", s.cfg.MaxConnections, "remote", c.nc.RemoteAddr().String())
	_ = c.nc.SetDeadline(time.Now().Add(5 * time.Second))
	var hdr [16]byte
	if _, err := io.ReadFull(c.nc, hdr[:]); err != nil {
		return
	}
	e := errorf(codeTooManyConnections, "too many open connections to loandesk db (the limit is %d)", s.cfg.MaxConnections)
	op := wiremessage.OpCode(binary.LittleEndian.Uint32(hdr[12:]))
	_, _ = c.nc.Write(errorReply(op, int32(binary.LittleEndian.Uint32(hdr[4:])), e))
	c.drain(min(int64(int32(binary.LittleEndian.Uint32(hdr[:4])))-16, MaxMessageBytes), drainQuiet)
}

// read returns the next whole message and its request id. A message over
// the size limit (before authentication: PreAuthMessageBytes), or one
// the byte budget has no room for in time, is answered with an error,
// and the connection closes; so does one that does not arrive in time.
// The message's bytes stay counted in BufferedBytes until release.
func (c *conn) read() ([]byte, int32, error) {
	s := c.srv
	_ = c.nc.SetReadDeadline(c.headerDeadline())
	var hdr [16]byte
	if _, err := io.ReadFull(c.nc, hdr[:]); err != nil {
		return nil, 0, err
	}
	length := int32(binary.LittleEndian.Uint32(hdr[:4]))
	reqID := int32(binary.LittleEndian.Uint32(hdr[4:]))
	op := wiremessage.OpCode(binary.LittleEndian.Uint32(hdr[12:]))
	if length < 16 {
		return nil, 0, fmt.Errorf("%w: length %d is shorter than a header", errBadMessage, length)
	}
	preAuth := s.scram != nil && !c.auth.authed
	var e *cmdError
	switch {
	case int(length) > s.cfg.MaxMessageBytes:
		e = errorf(codeBSONObjectTooLarge, "message of %d bytes is over the %d-byte limit", length, s.cfg.MaxMessageBytes)
	case preAuth && int(length) > s.cfg.PreAuthMessageBytes:
		e = errorf(codeUnauthorized, "message of %d bytes before authentication: the limit is %d bytes until the connection has signed in", length, s.cfg.PreAuthMessageBytes)
	}
	if e == nil {
		e = c.hold(int64(length), c.capped(time.Now().Add(s.cfg.MessageTimeout)))
	}
	if e != nil {
		_ = c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
		_, _ = c.nc.Write(errorReply(op, reqID, e))
		// A signed-in client (or any, without users) is drained while it
		// keeps sending, up to the message's own transfer time: on a
		// loaded machine a 48 MB message can take longer than 2 s, and
		// closing with its bytes unread resets the connection and loses
		// the reply. A stranger gets the short drain.
		within := drainQuiet
		if !preAuth {
			within = s.transferTime(int(length))
		}
		c.drain(int64(length)-16, within)
		return nil, 0, fmt.Errorf("%w: %s", errBadMessage, e.msg)
	}
	_ = c.nc.SetReadDeadline(c.capped(time.Now().Add(s.transferTime(int(length)))))
	// The buffer grows as the bytes arrive: a header that claims 48 MB
	// and sends nothing more costs its budget, not the memory.
	msg := make([]byte, 16, min(int(length), 64<<10))
	copy(msg, hdr[:])
	for len(msg) < int(length) {
		n := min(int(length)-len(msg), max(len(msg), 64<<10))
		msg = slices.Grow(msg, n)
		k, err := io.ReadFull(c.nc, msg[len(msg):len(msg)+n])
		msg = msg[:len(msg)+k]
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, 0, fmt.Errorf("%w: truncated before its %d bytes", errBadMessage, length)
		}
		if err != nil {
			return nil, 0, err
		}
	}
	return msg, reqID, nil
}

// transferTime is how long n bytes may take to arrive or to be taken
// up: MessageTimeout, plus a second for every 4 MiB.
func (s *Server) transferTime(n int) time.Duration {
	return s.cfg.MessageTimeout + time.Duration(n)*time.Second/(4<<20)
}

// headerDeadline is when the next message's header must have arrived: no
// limit once the connection is admitted; before, HandshakeTimeout from
// the connection's start for its first message, and UnauthenticatedIdle
// from the last reply (no later than SCRAM's deadline) for the next.
func (c *conn) headerDeadline() time.Time {
	if c.admitted.Load() {
		return time.Time{}
	}
	return c.capped(time.Now().Add(c.srv.cfg.UnauthenticatedIdle))
}

// capped is d, or the connection's authDeadline when that is earlier.
func (c *conn) capped(d time.Time) time.Time {
	if a := c.authDeadline(); !a.IsZero() && a.Before(d) {
		return a
	}
	return d
}

// authDeadline is when a connection not yet admitted must be: its first
// message whole within HandshakeTimeout of connecting, SCRAM finished
// within HandshakeTimeout of its first saslStart. Zero: none.
func (c *conn) authDeadline() time.Time {
	switch {
	case c.admitted.Load():
		return time.Time{}
	case c.messages == 0:
		return c.connected.Add(c.srv.cfg.HandshakeTimeout)
	case !c.auth.started.IsZero():
		return c.auth.started.Add(c.srv.cfg.HandshakeTimeout)
	}
	return time.Time{}
}

// hold counts n bytes of a message as held. A message over
// PreAuthMessageBytes takes them from the budget first, waiting until
// deadline for room; its MessageTimeout to arrive starts once it has.
func (c *conn) hold(n int64, deadline time.Time) *cmdError {
	s := c.srv
	if n > int64(s.cfg.PreAuthMessageBytes) {
		ctx, cancel := context.WithDeadline(c.ctx, deadline)
		defer cancel()
		if err := s.budget.Acquire(ctx, n); err != nil {
			s.logger.Warn("wire: a message found no room in the byte budget in time", "bytes", n, "budget", s.cfg.MaxBufferedBytes, "remote", c.nc.RemoteAddr().String())
			return errorf(codeExceededMemoryLimit, "loandesk db is receiving %d bytes of other messages (its limit); this one of %d bytes found no room in time, try again", s.cfg.MaxBufferedBytes, n)
		}
		c.heldSem = true
	}
	c.held = n
	s.buffered.Add(n)
	return nil
}

// release gives back what the current message held.
func (c *conn) release() {
	if c.held == 0 {
		return
	}
	c.srv.buffered.Add(-c.held)
	if c.heldSem {
		c.srv.budget.Release(c.held)
	}
	c.held, c.heldSem = 0, false
}

// evict makes room for the new connection nc at the connection limit: it
// closes the connection not yet admitted (not authenticated; without a
// User, not past its first message) that has been silent longest, and
// reports whether there was one. Admitted connections are never evicted.
func (s *Server) evict(nc *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	var victim *conn
	var since int64
	for c := range s.conns {
		if c == nc || c.evicted || c.admitted.Load() {
			continue
		}
		c.mu.Lock()
		busy := c.busy
		c.mu.Unlock()
		if busy {
			continue
		}
		if t := c.idleSince.Load(); victim == nil || t < since {
			victim, since = c, t
		}
	}
	if victim == nil {
		return false
	}
	victim.evicted = true
	victim.close()
	s.evictions.Add(1)
	s.logger.Warn("wire: at the connection limit: closed the longest-silent unauthenticated connection to admit a new one",
		"limit", s.cfg.MaxConnections, "closed", victim.nc.RemoteAddr().String(), "silent", time.Since(time.Unix(0, since)).Round(time.Millisecond))
	return true
}

// drainQuiet is how long drain waits for more bytes before it closes,
// and all a stranger's refused message is drained for.
const drainQuiet = 2 * time.Second

// drain half-closes the connection and discards up to n bytes the
// client is still sending, so the error reply reaches it instead of a
// reset: while bytes keep arriving (each read within drainQuiet) and
// for at most within in all.
func (c *conn) drain(n int64, within time.Duration) {
	if tc, ok := c.nc.(interface{ CloseWrite() error }); ok {
		_ = tc.CloseWrite()
	}
	end := time.Now().Add(within)
	buf := make([]byte, 32<<10)
	for n > 0 {
		next := time.Now().Add(drainQuiet)
		if next.After(end) {
			next = end
		}
		_ = c.nc.SetReadDeadline(next)
		k, err := c.nc.Read(buf[:min(n, int64(len(buf)))])
		n -= int64(k)
		if err != nil {
			return
		}
	}
}

// handle runs one message and returns the reply (nil: none) and whether
// the connection stays open.
func (c *conn) handle(msg []byte, reqID int32) (reply []byte, keep bool) {
	defer func() {
		if p := recover(); p != nil {
			c.srv.logger.Error("wire: command panicked; connection closed", "panic", p, "stack", string(debug.Stack()))
			reply, keep = errorReply(wiremessage.OpMsg, reqID, errorf(codeInternalError, "internal error")), false
		}
	}()
	_, _, _, op, rem, ok := wiremessage.ReadHeader(msg)
	if !ok {
		return nil, false
	}
	switch op {
	case wiremessage.OpMsg:
		return c.handleMsg(rem, reqID)
	case wiremessage.OpQuery:
		return c.handleQuery(rem, reqID)
	}
	c.srv.logger.Warn("wire: unsupported opcode; connection closed", "opcode", int32(op), "remote", c.nc.RemoteAddr().String())
	return nil, false
}

// handleMsg runs an OP_MSG: flags, one body section and any document
// sequences.
func (c *conn) handleMsg(rem []byte, reqID int32) ([]byte, bool) {
	flags, rem, ok := wiremessage.ReadMsgFlags(rem)
	if !ok {
		return nil, false
	}
	if flags&wiremessage.ChecksumPresent != 0 {
		if len(rem) < 4 {
			return nil, false
		}
		rem = rem[:len(rem)-4] // the checksum is optional to check
	}
	moreToCome := flags&wiremessage.MoreToCome != 0
	var body bsoncore.Document
	seqs := map[string][]bsoncore.Document{}
	for len(rem) > 0 {
		var st wiremessage.SectionType
		st, rem, ok = wiremessage.ReadMsgSectionType(rem)
		if !ok {
			return nil, false
		}
		switch st {
		case wiremessage.SingleDocument:
			if body != nil {
				return c.answerErr(reqID, moreToCome, errorf(codeFailedToParse, "OP_MSG has more than one body section"))
			}
			body, rem, ok = wiremessage.ReadMsgSectionSingleDocument(rem)
		case wiremessage.DocumentSequence:
			var id string
			var docs []bsoncore.Document
			id, docs, rem, ok = wiremessage.ReadMsgSectionDocumentSequence(rem)
			if ok {
				seqs[id] = append(seqs[id], docs...)
			}
		default:
			return nil, false
		}
		if !ok {
			// The section's own length runs past the message.
			return c.answerErr(reqID, moreToCome, errorf(codeInvalidBSON, "OP_MSG section is malformed"))
		}
	}
	if body == nil {
		return c.answerErr(reqID, moreToCome, errorf(codeFailedToParse, "OP_MSG has no body section"))
	}
	if err := validate(body, 0); err != nil {
		return c.answerErr(reqID, moreToCome, err)
	}
	for _, docs := range seqs {
		for _, d := range docs {
			if err := validate(d, 1); err != nil {
				return c.answerErr(reqID, moreToCome, err)
			}
		}
	}
	out := c.srv.run(body, seqs, &c.auth)
	if moreToCome {
		return nil, true
	}
	return msgReply(reqID, out), true
}

func (c *conn) answerErr(reqID int32, moreToCome bool, e *cmdError) ([]byte, bool) {
	if moreToCome {
		return nil, true
	}
	return errorReply(wiremessage.OpMsg, reqID, e), true
}

// handleQuery serves OP_QUERY for the driver's legacy handshake only:
// hello/isMaster on a $cmd collection, answered with OP_REPLY.
func (c *conn) handleQuery(rem []byte, reqID int32) ([]byte, bool) {
	_, rem, ok := wiremessage.ReadQueryFlags(rem)
	if !ok {
		return nil, false
	}
	ns, rem, ok := wiremessage.ReadQueryFullCollectionName(rem)
	if !ok {
		return nil, false
	}
	if _, rem, ok = wiremessage.ReadQueryNumberToSkip(rem); !ok {
		return nil, false
	}
	if _, rem, ok = wiremessage.ReadQueryNumberToReturn(rem); !ok {
		return nil, false
	}
	query, _, ok := wiremessage.ReadQueryQuery(rem)
	if !ok {
		return nil, false
	}
	if err := validate(query, 0); err != nil {
		return errorReply(wiremessage.OpQuery, reqID, err), true
	}
	// The driver may wrap the command as {$query: {...}, $readPreference}.
	if q, ok := query.Lookup("$query").DocumentOK(); ok {
		query = q
	}
	name := ""
	if el, err := query.IndexErr(0); err == nil {
		name = el.Key()
	}
	if !isCommandNS(ns) || !isHandshake(name) {
		return errorReply(wiremessage.OpQuery, reqID, errorf(codeUnsupportedOpQueryCommand, "unsupported OP_QUERY command: %s; OP_QUERY serves only the handshake (hello, isMaster), use OP_MSG", name)), true
	}
	return queryReply(reqID, c.srv.hello(query)), true
}

func isCommandNS(ns string) bool { return len(ns) > 5 && ns[len(ns)-5:] == ".$cmd" }

// validate checks a document's structure to maxDepth levels without
// recursing past it.
func validate(doc bsoncore.Document, depth int) *cmdError {
	if depth > maxDepth {
		return errorf(codeInvalidBSON, "document nests deeper than %d levels", maxDepth)
	}
	if len(doc) > maxBSONBytes+16*1024 {
		return errorf(codeBSONObjectTooLarge, "document of %d bytes is over the %d-byte limit", len(doc), maxBSONBytes)
	}
	if len(doc) < 5 {
		return errorf(codeInvalidBSON, "invalid BSON: %d bytes is too short for a document", len(doc))
	}
	if n := int32(binary.LittleEndian.Uint32(doc)); n < 5 || int(n) > len(doc) {
		return errorf(codeInvalidBSON, "invalid BSON: a document's length %d does not fit its %d bytes", n, len(doc))
	}
	doc = doc[:binary.LittleEndian.Uint32(doc)]
	if err := doc.Validate(); err != nil {
		return errorf(codeInvalidBSON, "invalid BSON: %v", err)
	}
	els, err := doc.Elements()
	if err != nil {
		return errorf(codeInvalidBSON, "invalid BSON: %v", err)
	}
	for _, el := range els {
		v, err := el.ValueErr()
		if err != nil {
			return errorf(codeInvalidBSON, "invalid BSON: %v", err)
		}
		switch v.Type {
		case bsontype.EmbeddedDocument, bsontype.Array:
			if e := validate(v.Data, depth+1); e != nil {
				return e
			}
		case bsontype.CodeWithScope:
			if _, scope, ok := v.CodeWithScopeOK(); !ok {
				return errorf(codeInvalidBSON, "invalid BSON: code with scope")
			} else if e := validate(scope, depth+1); e != nil {
				return e
			}
		case bsontype.String:
			if _, ok := v.StringValueOK(); !ok {
				return errorf(codeInvalidBSON, "invalid BSON: string")
			}
		}
	}
	return nil
}

// msgReply frames body as the OP_MSG answering reqID.
func msgReply(reqID int32, body []byte) []byte {
	idx, dst := wiremessage.AppendHeaderStart(make([]byte, 0, len(body)+21), wiremessage.NextRequestID(), reqID, wiremessage.OpMsg)
	dst = wiremessage.AppendMsgFlags(dst, 0)
	dst = wiremessage.AppendMsgSectionType(dst, wiremessage.SingleDocument)
	dst = append(dst, body...)
	return bsoncore.UpdateLength(dst, idx, int32(len(dst[idx:])))
}

// queryReply frames doc as the OP_REPLY answering reqID.
func queryReply(reqID int32, doc []byte) []byte {
	idx, dst := wiremessage.AppendHeaderStart(nil, wiremessage.NextRequestID(), reqID, wiremessage.OpReply)
	dst = wiremessage.AppendReplyFlags(dst, 0)
	dst = wiremessage.AppendReplyCursorID(dst, 0)
	dst = wiremessage.AppendReplyStartingFrom(dst, 0)
	dst = wiremessage.AppendReplyNumberReturned(dst, 1)
	dst = append(dst, doc...)
	return bsoncore.UpdateLength(dst, idx, int32(len(dst[idx:])))
}

// errorReply answers reqID with e, as OP_REPLY to an OP_QUERY and as
// OP_MSG otherwise.
func errorReply(op wiremessage.OpCode, reqID int32, e *cmdError) []byte {
	body := errorDoc(e)
	if op == wiremessage.OpQuery {
		return queryReply(reqID, body)
	}
	return msgReply(reqID, body)
}

func errorDoc(e *cmdError) []byte {
	idx, dst := bsoncore.AppendDocumentStart(nil)
	dst = bsoncore.AppendDoubleElement(dst, "ok", 0)
	dst = e.appendFields(dst)
	dst, _ = bsoncore.AppendDocumentEnd(dst, idx)
	return dst
}
