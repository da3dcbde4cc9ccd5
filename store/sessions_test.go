package store

import (
	"bytes"
	"context"
	"testing"
	"time"
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

func TestStore_LoginAttempts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("CountsEveryConcurrentAttempt", func(t *testing.T) {
		t.Parallel()
		st := setup(t).store
		now := time.Now()
		done := make(chan int, 40)
		for range 40 {
			go func() {
				n, _, err := st.LoginAttemptAdd(ctx, "ip:1.2.3.4", time.Hour, now)
				if err != nil {
					t.Error(err)
				}
				done <- n
			}()
		}
		seen := map[int]bool{}
		for range 40 {
			seen[<-done] = true
		}
		for i := 1; i <= 40; i++ {
			if !seen[i] {
				t.Fatalf("count %d never returned: attempts were lost or double-counted (%v)", i, seen)
			}
		}
	})

	t.Run("WindowsAndKeysAreSeparateAndResettable", func(t *testing.T) {
		t.Parallel()
		st := setup(t).store
		now := time.Date(2026, 1, 1, 10, 5, 0, 0, time.UTC)
		for range 3 {
			_, _, _ = st.LoginAttemptAdd(ctx, "email:a", 15*time.Minute, now)
		}
		n, end, _ := st.LoginAttemptAdd(ctx, "email:a", 15*time.Minute, now)
		if n != 4 || !end.Equal(time.Date(2026, 1, 1, 10, 15, 0, 0, time.UTC)) {
			t.Fatalf("n=%d end=%s", n, end)
		}
		if n, _, _ := st.LoginAttemptAdd(ctx, "email:b", 15*time.Minute, now); n != 1 {
			t.Fatalf("other key n=%d", n)
		}
		if n, _, _ := st.LoginAttemptAdd(ctx, "email:a", 15*time.Minute, now.Add(15*time.Minute)); n != 1 {
			t.Fatalf("next window n=%d", n)
		}
		if err := st.LoginAttemptsReset(ctx, "email:a", 15*time.Minute, now); err != nil {
			t.Fatal(err)
		}
		if n, _, _ := st.LoginAttemptAdd(ctx, "email:a", 15*time.Minute, now); n != 1 {
			t.Fatalf("after reset n=%d", n)
		}
	})
}
