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

// Sessions returns the scs session store (scs.CtxStore) backed by the
// sessions collection. Tokens are stored as SHA-256 hashes, so a copy of
// the database does not hand out live sessions.
func (s *Store) Sessions() *SessionStore { return &SessionStore{s: s} }

// SessionStore implements scs.Store and scs.CtxStore.
type SessionStore struct{ s *Store }

type sessionDoc struct {
	Token  string    `bson:"token"`
	Data   []byte    `bson:"data"`
	Expiry time.Time `bson:"expiry"`
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// FindCtx returns the session data for token; found is false when the
// token is unknown or expired (the TTL index deletes lazily, so expiry is
// also checked here).
func (ss *SessionStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	key := hashToken(token)
	var doc sessionDoc
	err := ss.s.sessions.FindOne(ctx, bson.M{"token": key, "expiry": bson.M{"$gt": time.Now()}}).Decode(&doc)
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
func (ss *SessionStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	key := hashToken(token)
	expiry = expiry.UTC().Truncate(time.Millisecond)
	if ss.s.sessionCache.fresh(key, b, expiry) {
		return nil
	}
	_, err := ss.s.sessions.UpdateOne(ctx,
		bson.M{"token": key},
		bson.M{"$set": bson.M{"data": b, "expiry": expiry}},
		options.Update().SetUpsert(true))
	if err != nil && isDuplicateKey(err) {
		// Two instances created the same token at once: the upsert raced,
		// the document now exists, so a plain update lands.
		_, err = ss.s.sessions.UpdateOne(ctx, bson.M{"token": key}, bson.M{"$set": bson.M{"data": b, "expiry": expiry}})
	}
	if err != nil {
		ss.s.sessionCache.forget(key)
		return fmt.Errorf("store: commit session: %w", err)
	}
	ss.s.sessionCache.remember(key, b, expiry)
	return nil
}

// DeleteCtx removes the session; an unknown token is not an error.
func (ss *SessionStore) DeleteCtx(ctx context.Context, token string) error {
	key := hashToken(token)
	ss.s.sessionCache.forget(key)
	if _, err := ss.s.sessions.DeleteOne(ctx, bson.M{"token": key}); err != nil {
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

// SessionCount returns how many unexpired sessions are stored.
func (s *Store) SessionCount(ctx context.Context) (int64, error) {
	n, err := s.sessions.CountDocuments(ctx, bson.M{"expiry": bson.M{"$gt": time.Now()}})
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
// or a tenth of the time left for short idle timeouts, so that skipping a
// write never shortens an active session's idle time by more than 10%.
func (c *sessionCache) fresh(key string, data []byte, expiry time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || !bytes.Equal(e.data, data) {
		return false
	}
	ahead := expiry.Sub(e.expiry)
	return ahead >= 0 && ahead < min(SessionTouchInterval, time.Until(expiry)/10)
}
