package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"loandesk/clock"
	"loandesk/model"
	"loandesk/store/wire"
	"loandesk/store/wire/wiretest"
)

// targetWire names, beside the engines, the store opened through
// MONGO_URI and the official driver on the wire server (what several
// processes share through `loandesk db`).
const targetWire = "wire"

// targetConfig is the store configuration for an engine or targetWire,
// on a fresh database, with the store's clock now.
func targetConfig(t *testing.T, engine string, now clock.Func) Config {
	t.Helper()
	if engine == targetWire {
		return Config{MongoURI: wiretest.Start(t, wire.Config{}).URI, ConnectTimeout: 10 * time.Second, Now: now}
	}
	return Config{DataDir: t.TempDir(), Engine: engine, Now: now}
}

// setupWire opens the store through MONGO_URI and the official driver
// against the embedded engine served over the wire protocol (what
// `loandesk db` runs), on a fresh database.
func setupWire(t *testing.T) *testBundle {
	t.Helper()
	srv := wiretest.Start(t, wire.Config{})
	st, err := Open(context.Background(), Config{MongoURI: srv.URI, ConnectTimeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("open through the wire server: %v", err)
	}
	t.Cleanup(func() { _ = st.Close(context.Background()) })
	if st.Embedded() {
		t.Fatal("the store over MONGO_URI says it is embedded")
	}
	return &testBundle{store: st}
}

// TestStore_OverWire_LoanUpdateRace: 40 goroutines, each on its own
// driver connection from the pool, read the loan and save it at the
// version they read, 5 times each. Every version is won once, every
// other save is a conflict, and the history chains every accepted change:
// 0 lost updates through the wire protocol.
func TestStore_OverWire_LoanUpdateRace(t *testing.T) {
	t.Parallel()
	b := setupWire(t)
	ctx := context.Background()
	loan := insertTestLoan(t, b.store)

	const writers, attempts = 40, 5
	var (
		mu        sync.Mutex
		won       = map[int64]string{}
		conflicts int
		wg        sync.WaitGroup
	)
	for g := range writers {
		wg.Go(func() {
			for n := range attempts {
				cur, err := b.store.LoanGet(ctx, loan.HumanID)
				if err != nil {
					t.Error(err)
					return
				}
				value := fmt.Sprintf("g%d-n%d", g, n)
				next := cur
				next.Terms.Purpose = value
				updated, err := b.store.LoanUpdate(ctx, next,
					model.LoanChange{At: time.Now(), By: "race@test", Fields: []model.FieldChange{{Field: "purpose", From: cur.Terms.Purpose, To: value}}})
				mu.Lock()
				switch {
				case errors.Is(err, ErrConflict):
					conflicts++
				case err != nil:
					t.Error(err)
				default:
					if prev, dup := won[updated.Version]; dup {
						t.Errorf("version %d won twice: %s and %s", updated.Version, prev, value)
					}
					won[updated.Version] = value
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()

	final, err := b.store.LoanGet(ctx, loan.HumanID)
	if err != nil {
		t.Fatal(err)
	}
	accepted := int64(len(won))
	lost := 0
	prev := "start"
	for i, h := range final.History {
		v := int64(i) + 2
		if h.Version != v || won[v] != h.Fields[0].To || h.Fields[0].From != prev {
			lost++
		}
		prev = h.Fields[0].To
	}
	if final.Version != 1+accepted || int64(len(final.History)) != accepted || accepted+int64(conflicts) != writers*attempts || lost != 0 {
		t.Fatalf("final version %d, %d history entries, %d accepted, %d conflicts, %d broken links; want version %d, %d entries, %d saves in all, 0 broken",
			final.Version, len(final.History), accepted, conflicts, lost, 1+accepted, accepted, writers*attempts)
	}
	if final.Terms.Purpose != prev {
		t.Fatalf("final purpose %q, want the last accepted %q", final.Terms.Purpose, prev)
	}
	t.Logf("%d saves through the wire server: %d accepted (one per version), %d conflicts, 0 lost", writers*attempts, accepted, conflicts)
}

// TestStore_OverWire_DuplicatesAndNotFound: the app's error translation
// works unchanged on the wire server's error codes.
func TestStore_OverWire_DuplicatesAndNotFound(t *testing.T) {
	t.Parallel()
	b := setupWire(t)
	ctx := context.Background()
	if _, err := b.store.UserCreate(ctx, UserCreateParams{Email: "a@example.com", Name: "A", Role: "admin"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.store.UserCreate(ctx, UserCreateParams{Email: "A@example.com", Name: "A2", Role: "admin"}); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("second user with the same email: %v, want ErrDuplicate", err)
	}
	if _, err := b.store.UserByEmail(ctx, "nobody@example.com"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing user: %v, want ErrNotFound", err)
	}
	if err := b.store.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestStore_OverWire_EditsWithRetryLoseNothing: 5 admins × 8
// read-modify-write edits at once, each retried on conflict until it
// lands: all 40 are in the history, none lost. (Every landed edit makes
// the others' reads stale, so there are dozens of conflicts to retry;
// the topology test does 10 × 10 through nginx and three web processes.
// Each retry reads the whole, growing history: 10 × 10 here cost a
// minute of the -race run on a loaded machine.)
func TestStore_OverWire_EditsWithRetryLoseNothing(t *testing.T) {
	t.Parallel()
	b := setupWire(t)
	ctx := context.Background()
	loan := insertTestLoan(t, b.store)
	const admins, edits = 5, 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	retries := 0
	for a := range admins {
		wg.Go(func() {
			for e := range edits {
				value := fmt.Sprintf("a%d-e%d", a, e)
				for {
					cur, err := b.store.LoanGet(ctx, loan.HumanID)
					if err != nil {
						t.Error(err)
						return
					}
					next := cur
					next.Terms.Purpose = value
					_, err = b.store.LoanUpdate(ctx, next, model.LoanChange{At: time.Now(), By: "admin", Fields: []model.FieldChange{{Field: "purpose", From: cur.Terms.Purpose, To: value}}})
					if errors.Is(err, ErrConflict) {
						mu.Lock()
						retries++
						mu.Unlock()
						continue
					}
					if err != nil {
						t.Error(err)
						return
					}
					break
				}
			}
		})
	}
	wg.Wait()
	final, err := b.store.LoanGet(ctx, loan.HumanID)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, h := range final.History {
		seen[h.Fields[0].To] = true
	}
	lost := 0
	for a := range admins {
		for e := range edits {
			if !seen[fmt.Sprintf("a%d-e%d", a, e)] {
				lost++
			}
		}
	}
	if lost != 0 || final.Version != 1+admins*edits {
		t.Fatalf("%d edits lost; final version %d, want %d", lost, final.Version, 1+admins*edits)
	}
	t.Logf("%d edits through the wire server with %d conflict retries: 0 lost", admins*edits, retries)
}

// TestStore_OverWire_TwoProcessesClaimExactlyOnce: two stores, each its
// own driver client and connection pool (two `loandesk jobs` processes
// as the database sees them), run 4 workers each on 500 events:
// every event handled once, none twice, none lost. (The topology test
// runs 2,000 through two `loandesk jobs` processes.)
func TestStore_OverWire_TwoProcessesClaimExactlyOnce(t *testing.T) {
	t.Parallel()
	srv := wiretest.Start(t, wire.Config{})
	ctx := context.Background()
	var stores []*Store
	for range 2 {
		st, err := Open(ctx, Config{MongoURI: srv.URI, ConnectTimeout: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close(context.Background()) })
		stores = append(stores, st)
	}
	const events = 500
	publishConcurrently(t, stores[0], "x", events)
	var mu sync.Mutex
	claimed := map[string]int{}
	var wg sync.WaitGroup
	for p, st := range stores {
		for w := range 4 {
			wg.Go(func() {
				for {
					ev, err := st.Claim(ctx, fmt.Sprintf("p%d-w%d", p, w), []string{"x"}, time.Minute)
					if errors.Is(err, ErrNotFound) {
						return
					}
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					claimed[ev.ID.Hex()]++
					mu.Unlock()
					if err := st.Complete(ctx, ev); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	twice := 0
	for _, n := range claimed {
		if n > 1 {
			twice++
		}
	}
	if len(claimed) != events || twice != 0 {
		t.Fatalf("%d of %d events handled, %d twice", len(claimed), events, twice)
	}
	t.Logf("%d events, 8 workers in 2 stores: %d handled, 0 twice, 0 lost", events, len(claimed))
}
