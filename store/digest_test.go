package store

import (
	"context"
	"testing"
	"time"
)

// The digest sees a held lock, but not the released lock's document,
// which the TTL clean-up deletes whenever it runs (the authorization
// matrix failed under load when a sweep fell between two digests).
func TestDigest_HeldLocksOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := Open(ctx, Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close(ctx) })
	locks := func() string {
		t.Helper()
		d, err := st.Digest(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return d["locks"]
	}
	before := locks()
	if err := st.WithLockWait(ctx, "digest-test", time.Minute, 0, func(context.Context, int64) error {
		if locks() == before {
			t.Error("a held lock is not in the digest")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	released := locks()
	if n, err := st.indexed.Expire(time.Now().Add(time.Hour)); err != nil || n == 0 {
		t.Fatalf("the TTL clean-up deleted %d documents: %v", n, err)
	}
	if swept := locks(); swept != released {
		t.Fatal("the TTL clean-up of a released lock changed the digest")
	}
}
