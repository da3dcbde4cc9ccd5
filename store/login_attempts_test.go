package store

import (
	"context"
	"testing"
	"time"
)

func TestStore_LoginCounters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("CountsEveryConcurrentAdd", func(t *testing.T) {
		t.Parallel()
		st := setup(t).store
		now := time.Now()
		done := make(chan int, 40)
		for range 40 {
			go func() {
				c, err := st.LoginCounterAdd(ctx, "addr:1.2.3.4", 1, now, now.Add(time.Hour))
				if err != nil {
					t.Error(err)
				}
				done <- c.N
			}()
		}
		seen := map[int]bool{}
		for range 40 {
			seen[<-done] = true
		}
		for i := 1; i <= 40; i++ {
			if !seen[i] {
				t.Fatalf("count %d never returned: adds were lost or double-counted (%v)", i, seen)
			}
		}
	})

	t.Run("ExpiredCountersAreNotReadAndStartAgain", func(t *testing.T) {
		t.Parallel()
		st := setup(t).store
		now := time.Now().Add(time.Hour) // past the wall clock: the TTL monitor leaves it be
		if _, err := st.LoginCounterAdd(ctx, "pair:a|1.2.3.4", 3, now, now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if _, err := st.LoginCounterAdd(ctx, "pair:b|1.2.3.4", 1, now, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		cs, err := st.LoginCounters(ctx, []string{"pair:a|1.2.3.4", "pair:b|1.2.3.4", "pair:c"}, now.Add(2*time.Minute))
		if err != nil || len(cs) != 1 || cs[0].ID != "pair:b|1.2.3.4" || cs[0].N != 1 {
			t.Fatalf("read %+v, %v; want only pair b at 1", cs, err)
		}
		c, err := st.LoginCounterAdd(ctx, "pair:a|1.2.3.4", 1, now.Add(2*time.Minute), now.Add(time.Hour))
		if err != nil || c.N != 1 {
			t.Fatalf("an add to an expired counter gave %+v, %v; want n=1", c, err)
		}
		// The expiry only moves forward; a delete forgets.
		c, _ = st.LoginCounterAdd(ctx, "pair:b|1.2.3.4", -1, now, now)
		if c.N != 0 || c.ExpiresAt.Before(now.Add(59*time.Minute)) {
			t.Fatalf("after taking one back: %+v", c)
		}
		if err := st.LoginCounterDelete(ctx, "pair:b|1.2.3.4"); err != nil {
			t.Fatal(err)
		}
		if all, _ := st.LoginCounterList(ctx); len(all) != 1 || all[0].ID != "pair:a|1.2.3.4" {
			t.Fatalf("list after delete: %+v", all)
		}
	})
}
