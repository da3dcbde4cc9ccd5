package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// SessionTouchInterval is how stale a session's stored expiry may get
// before an unchanged session is written again. scs re-commits every
// session on every request when an idle timeout is set; without this each
// signed-in page view would be a database write.
const SessionTouchInterval = time.Minute

// sessionTombstoneGrace is how long past its deletion a session's token
// stays tombstoned at the least. A tombstone must outlive every request
// that loaded the session before it was deleted, because such a request
// commits the session again when it ends (scs marks every loaded session
// modified when an idle timeout is set). The HTTP server's read and write
// timeouts are minutes; an hour leaves room for a handler that overruns
// them. It is also kept at least to the session's own stored expiry, so a
// tombstone never goes before the session it replaced would have.
const sessionTombstoneGrace = time.Hour

// Sessions returns the scs session store (scs.CtxStore) backed by the
// sessions collection. Tokens are stored as SHA-256 hashes, so a copy of
// the database does not hand out live sessions.
//
// A destroyed session never comes back. Deleting a token (sign-out, or
// scs RenewToken at sign-in) does not remove its document but turns it
// into a tombstone, {token, deleted: true, expiry}, with the data gone.
// Reads and counts skip tombstones, and a commit never writes over one:
// the end-of-request commit of a request that was in flight when the
// session ended is dropped instead of re-creating the session. The TTL
// index on expiry removes tombstones like expired sessions.
func (s *Store) Sessions() *SessionStore { return &SessionStore{s: s} }

// SessionStore implements scs.Store and scs.CtxStore.
type SessionStore struct{ s *Store }

type sessionDoc struct {
	Token   string    `bson:"token"`
	Data    []byte    `bson:"data"`
	Expiry  time.Time `bson:"expiry"`
	Deleted bool      `bson:"deleted,omitempty"`
}

// liveSession matches the session stored under key unless it is a
// tombstone. {$ne: true} also matches documents written before tombstones
// existed, which have no deleted field.
func liveSession(key string) bson.M {
	return bson.M{"token": key, "deleted": bson.M{"$ne": true}}
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// FindCtx returns the session data for token; found is false when the
// token is unknown, destroyed or expired (the TTL index deletes lazily, so
// expiry is also checked here, by the store's clock).
func (ss *SessionStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	key := hashToken(token)
	filter := liveSession(key)
	filter["expiry"] = bson.M{"$gt": ss.s.now()}
	var doc sessionDoc
	err := ss.s.sessions.FindOne(ctx, filter).Decode(&doc)
	if err != nil {
		if notFound(err) == ErrNotFound {
			ss.s.sessionCache.forget(key)
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("store: find session: %w", err)
	}
	ss.s.sessionCache.remember(key, doc.Data, doc.Expiry)
	return doc.Data, true, nil
}

// CommitCtx stores the session data with its expiry. An unchanged session
// whose stored expiry is younger than SessionTouchInterval is not written.
// A destroyed token is not written either and is not an error: the commit
// comes from a request that loaded the session before it ended, and there
// is nothing to save.
func (ss *SessionStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	key := hashToken(token)
	expiry = expiry.UTC().Truncate(time.Millisecond)
	if ss.s.sessionCache.fresh(key, b, expiry, ss.s.now()) {
		return nil
	}
	set := bson.M{"$set": bson.M{"data": b, "expiry": expiry}}
	// The filter excludes tombstones, so against one the upsert tries to
	// insert a second document with the same token and the unique index
	// on token refuses it (code 11000 on MongoDB, a plain error on lungo
	// and ours; isDuplicateKey knows both). MongoDB's own retry of such
	// upserts needs a filter of equalities alone, so it does not apply.
	res, err := ss.s.sessions.UpdateOne(ctx, liveSession(key), set, options.Update().SetUpsert(true))
	if err != nil && isDuplicateKey(err) {
		// Either a tombstone, or another instance inserted the same new
		// token at the same moment. A plain update tells them apart: it
		// lands on a live session and matches nothing on a tombstone.
		res, err = ss.s.sessions.UpdateOne(ctx, liveSession(key), set)
	}
	if err != nil {
		ss.s.sessionCache.forget(key)
		return fmt.Errorf("store: commit session: %w", err)
	}
	if res.MatchedCount == 0 && res.UpsertedCount == 0 {
		// Destroyed: nothing to write.
		ss.s.sessionCache.forget(key)
		return nil
	}
	ss.s.sessionCache.remember(key, b, expiry)
	return nil
}

// DeleteCtx ends the session for good: it becomes a tombstone that no
// later commit writes over, kept until the later of its stored expiry and
// sessionTombstoneGrace from now. An unknown token is not an error; it is
// tombstoned too, since a request may still commit it.
func (ss *SessionStore) DeleteCtx(ctx context.Context, token string) error {
	key := hashToken(token)
	ss.s.sessionCache.forget(key)
	update := bson.M{
		"$set":   bson.M{"deleted": true},
		"$unset": bson.M{"data": ""},
		// $max keeps a later stored expiry and sets a missing one.
		"$max": bson.M{"expiry": ss.s.now().Add(sessionTombstoneGrace).UTC().Truncate(time.Millisecond)},
	}
	_, err := ss.s.sessions.UpdateOne(ctx, bson.M{"token": key}, update, options.Update().SetUpsert(true))
	if err != nil && isDuplicateKey(err) {
		// A commit inserted the token between our match and our insert:
		// it exists now, so a plain update lands on it.
		_, err = ss.s.sessions.UpdateOne(ctx, bson.M{"token": key}, update)
	}
	if err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// Find implements scs.Store.
func (ss *SessionStore) Find(token string) ([]byte, bool, error) {
	return ss.FindCtx(context.Background(), token)
}

// Commit implements scs.Store.
func (ss *SessionStore) Commit(token string, b []byte, expiry time.Time) error {
	return ss.CommitCtx(context.Background(), token, b, expiry)
}

// Delete implements scs.Store.
func (ss *SessionStore) Delete(token string) error {
	return ss.DeleteCtx(context.Background(), token)
}

// SessionCount returns how many unexpired sessions are stored, by the
// store's clock; tombstones of destroyed sessions are not sessions.
func (s *Store) SessionCount(ctx context.Context) (int64, error) {
	n, err := s.sessions.CountDocuments(ctx, bson.M{"expiry": bson.M{"$gt": s.now()}, "deleted": bson.M{"$ne": true}})
	if err != nil {
		return 0, fmt.Errorf("store: count sessions: %w", err)
	}
	return n, nil
}

// sessionCache remembers what this process last read or wrote for each
// session, so an unchanged session is not rewritten on every request.
// Another instance's write only makes this one write once more than
// needed: a stale entry never skips a change, because the data is compared.
type sessionCache struct {
	mu      sync.Mutex
	entries map[string]sessionEntry
}

type sessionEntry struct {
	data   []byte
	expiry time.Time
}

// maxCachedSessions bounds the cache; past it, the cache starts over.
const maxCachedSessions = 100_000

func newSessionCache() *sessionCache {
	return &sessionCache{entries: make(map[string]sessionEntry)}
}

func (c *sessionCache) remember(key string, data []byte, expiry time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= maxCachedSessions {
		clear(c.entries)
	}
	c.entries[key] = sessionEntry{data: bytes.Clone(data), expiry: expiry}
}

func (c *sessionCache) forget(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, key)
}

// fresh reports whether writing (data, expiry) would change nothing but
// push the expiry out by less than the touch interval: SessionTouchInterval,
// or a tenth of the time left (from now) for short idle timeouts, so that
// skipping a write never shortens an active session's idle time by more
// than 10%. A fresh answer only ever skips a write, so an entry left for a
// session destroyed meanwhile cannot bring it back.
func (c *sessionCache) fresh(key string, data []byte, expiry, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || !bytes.Equal(e.data, data) {
		return false
	}
	ahead := expiry.Sub(e.expiry)
	return ahead >= 0 && ahead < min(SessionTouchInterval, expiry.Sub(now)/10)
}
