package store

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"loandesk/clock"
)

func TestStore_SessionStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("CommitFindDelete", func(t *testing.T) {
		t.Parallel()
		ss := setup(t).store.Sessions()
		if err := ss.CommitCtx(ctx, "tok", []byte("data"), time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		b, found, err := ss.FindCtx(ctx, "tok")
		if err != nil || !found || !bytes.Equal(b, []byte("data")) {
			t.Fatalf("find = %q, %v, %v", b, found, err)
		}
		if err := ss.DeleteCtx(ctx, "tok"); err != nil {
			t.Fatal(err)
		}
		if _, found, _ := ss.FindCtx(ctx, "tok"); found {
			t.Fatal("session found after delete")
		}
		if err := ss.DeleteCtx(ctx, "never-existed"); err != nil {
			t.Fatalf("deleting an unknown token: %v", err)
		}
	})

	t.Run("ExpiredSessionIsNotFound", func(t *testing.T) {
		t.Parallel()
		ss := setup(t).store.Sessions()
		if err := ss.CommitCtx(ctx, "old", []byte("x"), time.Now().Add(-time.Second)); err != nil {
			t.Fatal(err)
		}
		if _, found, err := ss.FindCtx(ctx, "old"); found || err != nil {
			t.Fatalf("expired session: found=%v err=%v", found, err)
		}
	})

	t.Run("TokenIsStoredHashed", func(t *testing.T) {
		t.Parallel()
		st := setup(t).store
		if err := st.Sessions().CommitCtx(ctx, "plain-token", []byte("x"), time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		n, err := st.sessions.CountDocuments(ctx, map[string]any{"token": "plain-token"})
		if err != nil || n != 0 {
			t.Fatalf("plain token stored: n=%d err=%v", n, err)
		}
		n, err = st.sessions.CountDocuments(ctx, map[string]any{"token": hashToken("plain-token")})
		if err != nil || n != 1 {
			t.Fatalf("hashed token: n=%d err=%v", n, err)
		}
	})

	t.Run("UnchangedSessionIsNotRewrittenWithinTouchInterval", func(t *testing.T) {
		t.Parallel()
		st := setup(t).store
		ss := st.Sessions()
		exp := time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)
		if err := ss.CommitCtx(ctx, "t", []byte("same"), exp); err != nil {
			t.Fatal(err)
		}
		// Another writer changes the stored expiry behind this cache's back:
		// if the next commit were written, it would overwrite this marker.
		marker := exp.Add(-30 * time.Minute)
		if _, err := st.sessions.UpdateOne(ctx, map[string]any{"token": hashToken("t")}, map[string]any{"$set": map[string]any{"expiry": marker}}); err != nil {
			t.Fatal(err)
		}
		if err := ss.CommitCtx(ctx, "t", []byte("same"), exp.Add(10*time.Second)); err != nil {
			t.Fatal(err)
		}
		if got := storedExpiry(t, st, "t"); !got.Equal(marker) {
			t.Fatalf("an unchanged session 10s later was written (expiry %s)", got)
		}
		// Past the touch interval it is written.
		if err := ss.CommitCtx(ctx, "t", []byte("same"), exp.Add(SessionTouchInterval+time.Second)); err != nil {
			t.Fatal(err)
		}
		if got := storedExpiry(t, st, "t"); !got.Equal(exp.Add(SessionTouchInterval + time.Second)) {
			t.Fatalf("expiry after touch interval = %s", got)
		}
		// Changed data is always written.
		if err := ss.CommitCtx(ctx, "t", []byte("changed"), exp.Add(SessionTouchInterval+2*time.Second)); err != nil {
			t.Fatal(err)
		}
		b, _, _ := ss.FindCtx(ctx, "t")
		if string(b) != "changed" {
			t.Fatalf("data = %q, want changed", b)
		}
	})
}

func storedExpiry(t *testing.T, st *Store, token string) time.Time {
	t.Helper()
	var doc sessionDoc
	if err := st.sessions.FindOne(context.Background(), map[string]any{"token": hashToken(token)}).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	return doc.Expiry.UTC()
}

// sessionEngines runs a session test on both embedded engines (and through
// the wire server, targetWire), with the
// store on a manual clock standing at the wall clock's now (the engines'
// TTL sweeps use the wall clock, so the manual one only moves forward).
func sessionEngines(t *testing.T, test func(t *testing.T, st *Store, clk *clock.Manual)) {
	t.Helper()
	for _, engine := range []string{EngineIndexed, EngineLungo, targetWire} {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			clk := clock.NewManual(time.Now())
			st, err := Open(context.Background(), targetConfig(t, engine, clk.Now))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close(context.Background()) })
			test(t, st, clk)
		})
	}
}

// sessionLive reports whether FindCtx finds token.
func sessionLive(t *testing.T, ss *SessionStore, token string) bool {
	t.Helper()
	_, found, err := ss.FindCtx(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func sessionCount(t *testing.T, st *Store) int64 {
	t.Helper()
	n, err := st.SessionCount(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestStore_SessionDestroyedStaysDestroyed: once a token is deleted (sign
// out, or scs RenewToken at sign-in), no later commit brings it back — not
// the end-of-request commit of a request that was in flight, not its
// once-a-minute touch — while new tokens still work.
func TestStore_SessionDestroyedStaysDestroyed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("InFlightCommitAfterDeleteIsDropped", func(t *testing.T) {
		t.Parallel()
		sessionEngines(t, func(t *testing.T, st *Store, clk *clock.Manual) {
			ss := st.Sessions()
			exp := clk.Now().Add(24 * time.Hour)
			if err := ss.CommitCtx(ctx, "tok", []byte("user=1"), exp); err != nil {
				t.Fatal(err)
			}
			if _, _, err := ss.FindCtx(ctx, "tok"); err != nil { // the in-flight request's load
				t.Fatal(err)
			}
			if err := ss.DeleteCtx(ctx, "tok"); err != nil { // sign-out
				t.Fatal(err)
			}
			// The in-flight request ends: it put a flash, so its data changed.
			if err := ss.CommitCtx(ctx, "tok", []byte("user=1;flash=saved"), exp.Add(time.Second)); err != nil {
				t.Fatalf("commit of a destroyed session: %v, want nil (nothing to write)", err)
			}
			if sessionLive(t, ss, "tok") {
				t.Fatal("a destroyed session came back")
			}
			if n := sessionCount(t, st); n != 0 {
				t.Fatalf("SessionCount = %d, want 0 (the tombstone is not a session)", n)
			}
			if err := ss.CommitCtx(ctx, "fresh", []byte("user=2"), exp); err != nil {
				t.Fatal(err)
			}
			if !sessionLive(t, ss, "fresh") || sessionCount(t, st) != 1 {
				t.Fatal("a fresh token does not commit")
			}
			// Deleting again, or deleting the fresh one, is fine.
			if err := ss.DeleteCtx(ctx, "tok"); err != nil {
				t.Fatal(err)
			}
			if err := ss.DeleteCtx(ctx, "fresh"); err != nil {
				t.Fatal(err)
			}
			if sessionLive(t, ss, "fresh") || sessionCount(t, st) != 0 {
				t.Fatal("deleted session still live")
			}
		})
	})

	t.Run("TouchAfterDeleteIsDropped", func(t *testing.T) {
		t.Parallel()
		sessionEngines(t, func(t *testing.T, st *Store, clk *clock.Manual) {
			ss := st.Sessions()
			exp := clk.Now().Add(24 * time.Hour)
			if err := ss.CommitCtx(ctx, "tok", []byte("same"), exp); err != nil {
				t.Fatal(err)
			}
			if err := ss.DeleteCtx(ctx, "tok"); err != nil {
				t.Fatal(err)
			}
			// Same data, expiry a little later (inside the touch interval)
			// and past it: both reach the store, neither re-creates.
			for _, later := range []time.Duration{10 * time.Second, SessionTouchInterval + time.Second} {
				clk.Advance(later)
				if err := ss.CommitCtx(ctx, "tok", []byte("same"), exp.Add(later)); err != nil {
					t.Fatal(err)
				}
				if sessionLive(t, ss, "tok") {
					t.Fatalf("a touch %s later re-created a destroyed session", later)
				}
			}
		})
	})

	t.Run("RenewedTokenStaysGone", func(t *testing.T) {
		t.Parallel()
		sessionEngines(t, func(t *testing.T, st *Store, clk *clock.Manual) {
			ss := st.Sessions()
			exp := clk.Now().Add(time.Hour)
			if err := ss.CommitCtx(ctx, "old", []byte("anon;flash=bye"), exp); err != nil {
				t.Fatal(err)
			}
			// scs RenewToken: the old token is deleted, the data committed
			// under a new one.
			if err := ss.DeleteCtx(ctx, "old"); err != nil {
				t.Fatal(err)
			}
			if err := ss.CommitCtx(ctx, "new", []byte("user=1"), exp); err != nil {
				t.Fatal(err)
			}
			// A request still holding the old token finishes.
			if err := ss.CommitCtx(ctx, "old", []byte("anon;flash=bye"), exp.Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
			if sessionLive(t, ss, "old") {
				t.Fatal("the renewed-away token came back")
			}
			if b, found, _ := ss.FindCtx(ctx, "new"); !found || string(b) != "user=1" {
				t.Fatalf("new token: %q found=%v", b, found)
			}
			if n := sessionCount(t, st); n != 1 {
				t.Fatalf("SessionCount = %d, want 1", n)
			}
		})
	})

	t.Run("DeletingAnUnknownTokenTombstonesIt", func(t *testing.T) {
		t.Parallel()
		sessionEngines(t, func(t *testing.T, st *Store, clk *clock.Manual) {
			ss := st.Sessions()
			// A request created the token but has not committed it yet when
			// another deletes it (scs deletes what it was given).
			if err := ss.DeleteCtx(ctx, "never-committed"); err != nil {
				t.Fatal(err)
			}
			if err := ss.CommitCtx(ctx, "never-committed", []byte("x"), clk.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if sessionLive(t, ss, "never-committed") || sessionCount(t, st) != 0 {
				t.Fatal("a token deleted before its first commit was created")
			}
		})
	})

	t.Run("TombstoneOutlivesEveryCommitInFlight", func(t *testing.T) {
		t.Parallel()
		sessionEngines(t, func(t *testing.T, st *Store, clk *clock.Manual) {
			ss := st.Sessions()
			now := clk.Now().UTC().Truncate(time.Millisecond)
			long, short := now.Add(7*24*time.Hour), now.Add(time.Minute)
			for token, exp := range map[string]time.Time{"long": long, "short": short} {
				if err := ss.CommitCtx(ctx, token, []byte("secret"), exp); err != nil {
					t.Fatal(err)
				}
				if err := ss.DeleteCtx(ctx, token); err != nil {
					t.Fatal(err)
				}
			}
			if err := ss.DeleteCtx(ctx, "unknown"); err != nil {
				t.Fatal(err)
			}
			for token, want := range map[string]time.Time{
				"long":    long,                           // kept to the session's own expiry
				"short":   now.Add(sessionTombstoneGrace), // at least the grace past the delete
				"unknown": now.Add(sessionTombstoneGrace),
			} {
				var doc bson.M
				if err := st.sessions.FindOne(ctx, bson.M{"token": hashToken(token)}).Decode(&doc); err != nil {
					t.Fatalf("%s: no tombstone: %v", token, err)
				}
				if doc["deleted"] != true {
					t.Errorf("%s: tombstone %v lacks deleted: true", token, doc)
				}
				if _, ok := doc["data"]; ok {
					t.Errorf("%s: the tombstone keeps the session's data", token)
				}
				if got := doc["expiry"].(primitive.DateTime).Time(); !got.Equal(want) {
					t.Errorf("%s: tombstone expiry %s, want %s", token, got, want)
				}
			}
			// The store's clock decides when the tombstone stops mattering:
			// an hour on, a commit of the short session would be expired
			// anyway, but "long" still refuses.
			clk.Advance(2 * time.Hour)
			if err := ss.CommitCtx(ctx, "long", []byte("secret"), clk.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if sessionLive(t, ss, "long") {
				t.Fatal("a destroyed session came back two hours later")
			}
		})
	})

	t.Run("ConcurrentCommitsNeverOutliveDelete", func(t *testing.T) {
		t.Parallel()
		sessionEngines(t, func(t *testing.T, st *Store, clk *clock.Manual) {
			ss := st.Sessions()
			exp := clk.Now().Add(time.Hour)
			if err := ss.CommitCtx(ctx, "tok", []byte("v0"), exp); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range 8 {
				wg.Go(func() {
					<-start
					for j := range 20 {
						if err := ss.CommitCtx(ctx, "tok", fmt.Appendf(nil, "v%d.%d", i, j), exp.Add(time.Duration(j)*time.Minute)); err != nil {
							t.Error(err)
							return
						}
					}
				})
			}
			close(start)
			if err := ss.DeleteCtx(ctx, "tok"); err != nil {
				t.Fatal(err)
			}
			wg.Wait()
			if sessionLive(t, ss, "tok") {
				t.Fatal("a commit racing the delete re-created the session")
			}
		})
	})

	t.Run("ExpiryIsJudgedByTheStoreClock", func(t *testing.T) {
		t.Parallel()
		sessionEngines(t, func(t *testing.T, st *Store, clk *clock.Manual) {
			ss := st.Sessions()
			if err := ss.CommitCtx(ctx, "tok", []byte("x"), clk.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if !sessionLive(t, ss, "tok") || sessionCount(t, st) != 1 {
				t.Fatal("a session with an hour left is not live")
			}
			clk.Advance(time.Hour + time.Second)
			if sessionLive(t, ss, "tok") || sessionCount(t, st) != 0 {
				t.Fatal("a session past its expiry by the store's clock is live")
			}
		})
	})

	t.Run("TouchIntervalIsJudgedByTheStoreClock", func(t *testing.T) {
		t.Parallel()
		sessionEngines(t, func(t *testing.T, st *Store, clk *clock.Manual) {
			// The store's clock runs an hour ahead of the wall: by it, a
			// session with 5 s left is written again when pushed 1 s out
			// (more than a tenth of what is left); by the wall clock it
			// would look an hour away and be skipped.
			clk.Advance(time.Hour)
			ss := st.Sessions()
			exp := clk.Now().Add(5 * time.Second).UTC().Truncate(time.Millisecond)
			if err := ss.CommitCtx(ctx, "tok", []byte("same"), exp); err != nil {
				t.Fatal(err)
			}
			if err := ss.CommitCtx(ctx, "tok", []byte("same"), exp.Add(time.Second)); err != nil {
				t.Fatal(err)
			}
			if got := storedExpiry(t, st, "tok"); !got.Equal(exp.Add(time.Second)) {
				t.Fatalf("stored expiry %s, want %s: the touch check used the wall clock", got, exp.Add(time.Second))
			}
		})
	})
}
