package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"

	"loandesk/model"
)

// Lock errors (the model's, so the loan service can test for them).
var (
	ErrLockHeld   = model.ErrLockHeld
	ErrLockLost   = model.ErrLockLost
	ErrStaleFence = model.ErrStaleFence
)

// Lock is a held lock as the lock console shows it.
type Lock struct {
	Key        string    `bson:"_id"`
	Owner      string    `bson:"owner"`    // the holder's random token
	Instance   string    `bson:"instance"` // host and process of the holder
	Fence      int64     `bson:"fence"`
	AcquiredAt time.Time `bson:"acquiredAt"`
	ExpiresAt  time.Time `bson:"expiresAt"`
}

// LockObserver hears how locks go (Config.Locks): each acquisition with
// the time waited for it and whether it took over an expired holder's
// lock, each wait given up on a held lock, each held lock lost. Calls
// are made on the acquiring goroutine; they must be quick.
type LockObserver interface {
	LockAcquired(key string, waited time.Duration, takeover bool)
	LockBusy(key string, waited time.Duration)
	LockLost(key string)
}

type noLockObserver struct{}

func (noLockObserver) LockAcquired(string, time.Duration, bool) {}
func (noLockObserver) LockBusy(string, time.Duration)           {}
func (noLockObserver) LockLost(string)                          {}

// LockParams is one WithLock call.
type LockParams struct {
	Key string
	// TTL is the lease: the lock is renewed every TTL/3 while fn runs and
	// is free for others TTL after the last renewal (e.g. if the holder
	// stalls or dies).
	TTL time.Duration
	// Wait bounds how long to wait for a held lock (0: try once).
	Wait time.Duration
}

// WithLockWait is WithLock for key with a lease of ttl, waiting up to
// wait for a held lock.
func (s *Store) WithLockWait(ctx context.Context, key string, ttl, wait time.Duration, fn func(ctx context.Context, fence int64) error) error {
	return s.WithLock(ctx, LockParams{Key: key, TTL: ttl, Wait: wait}, fn)
}

// lockRetryEvery is how often a waiter retries a held lock.
const lockRetryEvery = 20 * time.Millisecond

// instanceName identifies this process in the lock console.
var instanceName = func() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d", host, os.Getpid())
}()

// WithLock runs fn while holding the distributed lock p.Key, passing the
// lock's fencing token: an integer that only grows per key, across
// release, expiry and clean-up (drawn from a counter that is never
// deleted), so a write it guards can refuse an older token (see
// LedgerFenceAdvance). Acquiring is one conditional write — the lock
// document is taken only if it is missing or expired, judged by the
// store's clock in the filter (the TTL index on expiresAt only cleans
// up) — so two holders never overlap while each renews in time. The
// lease is renewed every TTL/3 while fn runs; if a renewal finds the lock
// gone (it expired and was taken over, or was released by an admin), the
// ctx passed to fn is cancelled and WithLock returns ErrLockLost unless fn
// returned an error of its own. Release deletes the lock only if this
// holder still owns it. A lock still held after p.Wait is ErrLockHeld.
// Within a transaction of the store's (Audited) the lock is taken and
// released in the transaction, so on MongoDB two transactions taking it
// conflict and one is retried, and no lease is renewed.
func (s *Store) WithLock(ctx context.Context, p LockParams, fn func(ctx context.Context, fence int64) error) error {
	if p.TTL <= 0 {
		return fmt.Errorf("store: lock %s: a TTL is required", p.Key)
	}
	owner := newLockToken()
	start := s.now()
	waitStart := time.Now() // real time, for the metrics
	var (
		fence    int64
		takeover bool
	)
	for {
		var err error
		fence, takeover, err = s.lockTake(ctx, p, owner)
		if err == nil {
			break
		}
		if !errors.Is(err, ErrLockHeld) {
			return err
		}
		if s.now().Sub(start) >= p.Wait {
			s.logger.Info("lock held", "key", p.Key, "waited", s.now().Sub(start))
			s.lockObserver.LockBusy(p.Key, time.Since(waitStart))
			return fmt.Errorf("store: lock %s: %w", p.Key, ErrLockHeld)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(lockRetryEvery):
		}
	}
	if waited := s.now().Sub(start); waited > 0 {
		s.logger.Debug("lock acquired", "key", p.Key, "fence", fence, "waited", waited)
	}
	s.lockObserver.LockAcquired(p.Key, time.Since(waitStart), takeover)

	fnCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		if inTransactionCtx(ctx) {
			// In a transaction the lock is taken and freed in the same
			// commit, seen by nobody while held: there is no lease to
			// renew, and a renewal would use the transaction from a
			// second goroutine.
			return
		}
		ticker := time.NewTicker(p.TTL / 3)
		defer ticker.Stop()
		for {
			select {
			case <-fnCtx.Done():
				return
			case <-ticker.C:
				if err := s.lockRenew(context.WithoutCancel(ctx), p, owner); err != nil {
					s.logger.Warn("lock lost while held", "key", p.Key, "fence", fence, "err", err)
					cancel(ErrLockLost)
					return
				}
			}
		}
	}()
	fnErr := fn(fnCtx, fence)
	lost := errors.Is(context.Cause(fnCtx), ErrLockLost)
	if lost {
		s.lockObserver.LockLost(p.Key)
	}
	cancel(nil)
	<-renewed
	if err := s.lockFree(context.WithoutCancel(ctx), bson.M{"_id": p.Key, "owner": owner}, nil); err != nil && !errors.Is(err, ErrNotFound) {
		s.logger.Warn("lock release failed; it expires by itself", "key", p.Key, "err", err)
	}
	switch {
	case fnErr != nil:
		return fnErr
	case lost:
		return fmt.Errorf("store: lock %s: %w", p.Key, ErrLockLost)
	}
	return nil
}

// lockAcquire is lockTake without telling a takeover.
func (s *Store) lockAcquire(ctx context.Context, p LockParams, owner string) (int64, error) {
	fence, _, err := s.lockTake(ctx, p, owner)
	return fence, err
}

// lockTake takes the lock if it is free or expired: a new fencing
// token first, then lockAttempt with it.
func (s *Store) lockTake(ctx context.Context, p LockParams, owner string) (fence int64, takeover bool, err error) {
	var c struct {
		Seq int64 `bson:"seq"`
	}
	err = s.counters.FindOneAndUpdate(ctx, bson.M{"_id": "fence:" + p.Key}, bson.M{"$inc": bson.M{"seq": int64(1)}},
		options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&c)
	if err != nil {
		return 0, false, fmt.Errorf("store: lock %s: fencing token: %w", p.Key, err)
	}
	takeover, err = s.lockAttempt(ctx, p, owner, c.Seq)
	return c.Seq, takeover, err
}

// lockAttempt takes the lock with fencing token fence, drawn before: one
// conditional upsert. A held lock (the upsert's insert hits the _id
// index) is ErrLockHeld, and so is a lock last held with a newer token:
// a token drawn before another holder's, taken and released since, would
// otherwise hold the lock with a fence older than that holder's. A
// released lock keeps its document (lockFree) for that comparison.
// takeover reports that an expired holder's lock was taken.
func (s *Store) lockAttempt(ctx context.Context, p LockParams, owner string, fence int64) (takeover bool, err error) {
	now := s.now().UTC()
	// Free or expired, and never a token older than the one stored.
	filter := bson.M{"_id": p.Key, "expiresAt": bson.M{"$lte": now}, "fence": bson.M{"$lt": fence}}
	update := bson.M{"$set": bson.M{"owner": owner, "instance": instanceName, "fence": fence, "acquiredAt": now, "expiresAt": now.Add(p.TTL)}}
	var before Lock
	err = s.locks.FindOneAndUpdate(ctx, filter, update,
		options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.Before)).Decode(&before)
	switch {
	case isDuplicateKey(err):
		return false, ErrLockHeld
	case errors.Is(notFound(err), ErrNotFound):
		return false, nil // no document: inserted
	case err != nil:
		return false, fmt.Errorf("store: lock %s: %w", p.Key, err)
	}
	// A released lock has no owner; one with an owner had expired.
	takeover = before.Owner != ""
	if takeover {
		s.logger.Warn("lock taken over after its lease expired", "key", p.Key, "fence", fence)
	}
	return takeover, nil
}

// lockFree releases the lock filter matches, keeping its document (with
// its fence, for lockAttempt's comparison) until the TTL clean-up: no
// owner, expired now. It returns the lock as it was held, in held (if
// not nil); a lock filter does not match, or one already free, is
// ErrNotFound.
func (s *Store) lockFree(ctx context.Context, filter bson.M, held *Lock) error {
	filter["owner"] = bson.M{"$ne": ""}
	update := bson.M{"$set": bson.M{"owner": "", "instance": "", "expiresAt": s.now().UTC()}}
	var l Lock
	err := s.locks.FindOneAndUpdate(ctx, filter, update, options.FindOneAndUpdate().SetReturnDocument(options.Before)).Decode(&l)
	if err != nil {
		return notFound(err)
	}
	if held != nil {
		*held = l
	}
	return nil
}

// lockRenew extends the lease of the lock owner holds.
func (s *Store) lockRenew(ctx context.Context, p LockParams, owner string) error {
	return updateMatched(ctx, s.locks, bson.M{"_id": p.Key, "owner": owner},
		bson.M{"$set": bson.M{"expiresAt": s.now().UTC().Add(p.TTL)}}, ErrLockLost, "renew lock "+p.Key)
}

// LockList returns the locks held now (unexpired), by key.
func (s *Store) LockList(ctx context.Context) ([]Lock, error) {
	cur, err := s.locks.Find(ctx, bson.M{"expiresAt": bson.M{"$gt": s.now().UTC()}}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("store: list locks: %w", err)
	}
	out := []Lock{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("store: list locks: %w", err)
	}
	return out, nil
}

// LockReleaseParams is an admin's release of a stuck lock.
type LockReleaseParams struct {
	Key    string
	Fence  int64 // the fence the admin saw: a newer holder is left alone
	By     string
	Reason string
}

// LockRelease frees the lock p.Key held with fence p.Fence and records
// who released it and why (lock_releases). The holder, if alive, finds
// its lock gone at its next renewal and stops (its writes then carry a
// fence older than the next holder's). A lock no longer held with that
// fence is ErrNotFound.
func (s *Store) LockRelease(ctx context.Context, p LockReleaseParams) error {
	var l Lock
	if err := s.lockFree(ctx, bson.M{"_id": p.Key, "fence": p.Fence}, &l); err != nil {
		return fmt.Errorf("store: release lock %s: %w", p.Key, err)
	}
	_, err := s.lockReleases.InsertOne(ctx, bson.M{"key": p.Key, "fence": p.Fence, "owner": l.Owner, "instance": l.Instance,
		"by": p.By, "reason": p.Reason, "at": s.now().UTC()})
	if err != nil {
		return fmt.Errorf("store: record the release of lock %s: %w", p.Key, err)
	}
	s.logger.Warn("lock released by an admin", slog.String("key", p.Key), slog.Int64("fence", p.Fence), slog.String("by", p.By), slog.String("reason", p.Reason))
	return nil
}

func newLockToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
