package store

import (
	"context"
	"errors"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"

	"loandesk/clock"
	"loandesk/model"
)

// lockStores opens a store on each embedded engine with a manual clock.
func lockStores(t *testing.T, run func(t *testing.T, st *Store, c *clock.Manual)) {
	for _, engine := range []string{EngineIndexed, EngineLungo} {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			c := clock.NewManual(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
			st, err := Open(context.Background(), Config{DataDir: t.TempDir(), Engine: engine, Now: c.Now})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close(context.Background()) })
			run(t, st, c)
		})
	}
}

func TestLock_HeldRefusesOthersAndFencesGrow(t *testing.T) {
	t.Parallel()
	lockStores(t, func(t *testing.T, st *Store, c *clock.Manual) {
		ctx := context.Background()
		var fences []int64
		err := st.WithLock(ctx, LockParams{Key: "loan:1", TTL: time.Minute}, func(ctx context.Context, fence int64) error {
			fences = append(fences, fence)
			if err := st.WithLock(ctx, LockParams{Key: "loan:1", TTL: time.Minute}, func(context.Context, int64) error { return nil }); !errors.Is(err, ErrLockHeld) {
				t.Errorf("a second holder: %v", err)
			}
			locks, err := st.LockList(ctx)
			if err != nil || len(locks) != 1 || locks[0].Key != "loan:1" || locks[0].Fence != fence || locks[0].Instance == "" {
				t.Errorf("console: %+v %v", locks, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// Free again after release; the fence keeps growing across
		// release, expiry and the clean-up deleting the lock document.
		for round := range 3 {
			if err := st.WithLock(ctx, LockParams{Key: "loan:1", TTL: time.Minute}, func(_ context.Context, fence int64) error {
				fences = append(fences, fence)
				return nil
			}); err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			if _, err := st.locks.DeleteMany(ctx, bson.M{}); err != nil { // as the TTL monitor would
				t.Fatal(err)
			}
		}
		for i := 1; i < len(fences); i++ {
			if fences[i] <= fences[i-1] {
				t.Fatalf("fences %v do not grow", fences)
			}
		}
		if locks, _ := st.LockList(ctx); len(locks) != 0 {
			t.Fatalf("released locks listed: %+v", locks)
		}
	})
}

// TestLock_StaleTokenNeverHolds: a token drawn before another holder's,
// who took the lock and released it since, must not take the lock: its
// fence would be older than the one the resource last saw. A release
// frees the lock without forgetting its fence, and only an expired
// holder's lock counts as taken over.
func TestLock_StaleTokenNeverHolds(t *testing.T) {
	t.Parallel()
	lockStores(t, func(t *testing.T, st *Store, c *clock.Manual) {
		ctx := context.Background()
		p := LockParams{Key: "loan:7", TTL: time.Minute}
		var early struct {
			Seq int64 `bson:"seq"`
		}
		if err := st.counters.FindOneAndUpdate(ctx, bson.M{"_id": "fence:" + p.Key}, bson.M{"$inc": bson.M{"seq": int64(1)}},
			options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&early); err != nil {
			t.Fatal(err)
		}
		var later int64
		if err := st.WithLock(ctx, p, func(_ context.Context, fence int64) error { later = fence; return nil }); err != nil {
			t.Fatal(err)
		}
		if later <= early.Seq {
			t.Fatalf("the second token %d is not above the first %d", later, early.Seq)
		}
		if _, err := st.lockAttempt(ctx, p, "late-owner", early.Seq); !errors.Is(err, ErrLockHeld) {
			t.Fatalf("the older token took the released lock: %v", err)
		}
		fence, takeover, err := st.lockTake(ctx, p, "next-owner")
		if err != nil || fence <= later || takeover {
			t.Fatalf("a new token after the release: fence %d (last %d), takeover %v, %v", fence, later, takeover, err)
		}
		// Held and then expired: taken over.
		c.Advance(2 * time.Minute)
		if _, takeover, err := st.lockTake(ctx, p, "third-owner"); err != nil || !takeover {
			t.Fatalf("an expired holder's lock: takeover %v, %v", takeover, err)
		}
		if locks, _ := st.LockList(ctx); len(locks) != 1 || locks[0].Owner != "third-owner" {
			t.Fatalf("console: %+v", locks)
		}
		if err := st.lockFree(ctx, bson.M{"_id": p.Key, "owner": "third-owner"}, nil); err != nil {
			t.Fatal(err)
		}
		if err := st.lockFree(ctx, bson.M{"_id": p.Key, "owner": "third-owner"}, nil); !errors.Is(err, ErrNotFound) {
			t.Fatalf("a second release: %v", err)
		}
		if locks, _ := st.LockList(ctx); len(locks) != 0 {
			t.Fatalf("a released lock is listed: %+v", locks)
		}
	})
}

// A holder paused past its TTL (no renewal) is taken over; its writes
// carry the older fence and are refused; its release leaves the new
// holder's lock alone; its renewal finds the lock lost.
func TestLock_PausedHolderIsFencedOff(t *testing.T) {
	t.Parallel()
	lockStores(t, func(t *testing.T, st *Store, c *clock.Manual) {
		ctx := context.Background()
		p := LockParams{Key: "loan:7", TTL: 30 * time.Second}
		stale, err := st.lockAcquire(ctx, p, "paused-holder") // acquires, then stalls: no renewal
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.lockAcquire(ctx, p, "other"); !errors.Is(err, ErrLockHeld) {
			t.Fatalf("before expiry: %v", err)
		}
		c.Advance(31 * time.Second)
		err = st.WithLock(ctx, p, func(ctx context.Context, fence int64) error {
			if fence <= stale {
				t.Errorf("takeover fence %d not above %d", fence, stale)
			}
			if err := st.LedgerFenceAdvance(ctx, "ledger:loan:7", fence); err != nil {
				t.Fatal(err)
			}
			// The paused holder wakes up and writes.
			if err := st.LedgerFenceAdvance(ctx, "ledger:loan:7", stale); !errors.Is(err, ErrStaleFence) {
				t.Errorf("stale write: %v", err)
			}
			if _, err := st.locks.DeleteOne(ctx, bson.M{"_id": p.Key, "owner": "paused-holder"}); err != nil {
				t.Fatal(err)
			}
			if locks, _ := st.LockList(ctx); len(locks) != 1 || locks[0].Fence != fence {
				t.Errorf("the stale release touched the new lock: %+v", locks)
			}
			if err := st.lockRenew(ctx, p, "paused-holder"); !errors.Is(err, ErrLockLost) {
				t.Errorf("stale renewal: %v", err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// The same fence again is allowed (a holder writes several times).
		if err := st.LedgerFenceAdvance(ctx, "ledger:loan:7", stale+1); err != nil && !errors.Is(err, ErrStaleFence) {
			t.Fatal(err)
		}
	})
}

// A lock released by an admin while held: the holder's next renewal
// finds it gone, its ctx is cancelled and WithLock says it was lost.
func TestLock_LossCancelsTheHolder(t *testing.T) {
	t.Parallel()
	lockStores(t, func(t *testing.T, st *Store, c *clock.Manual) {
		ctx := context.Background()
		started := make(chan int64)
		done := make(chan error)
		go func() {
			done <- st.WithLock(ctx, LockParams{Key: "stuck", TTL: 60 * time.Millisecond}, func(ctx context.Context, fence int64) error {
				started <- fence
				<-ctx.Done()
				return nil
			})
		}()
		fence := <-started
		if err := st.LockRelease(ctx, LockReleaseParams{Key: "stuck", Fence: fence + 1, By: "admin", Reason: "x"}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("release with another fence: %v", err)
		}
		if err := st.LockRelease(ctx, LockReleaseParams{Key: "stuck", Fence: fence, By: "admin@example.com", Reason: "worker hung"}); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			if !errors.Is(err, ErrLockLost) {
				t.Fatalf("WithLock: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the holder was not told it lost the lock")
		}
		n, _ := st.lockReleases.CountDocuments(ctx, bson.M{"key": "stuck", "by": "admin@example.com", "reason": "worker hung"})
		if n != 1 {
			t.Fatalf("%d release records", n)
		}
	})
}

// Many goroutines race for one lock: never two inside at once, every
// one gets in eventually (with a wait), fences all different.
func TestLock_RaceNeverOverlaps(t *testing.T) {
	t.Parallel()
	lockStores(t, func(t *testing.T, st *Store, c *clock.Manual) {
		ctx := context.Background()
		var inside, overlaps, entered atomic.Int64
		var mu sync.Mutex
		seen := map[int64]bool{}
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				err := st.WithLock(ctx, LockParams{Key: "hot", TTL: time.Minute, Wait: time.Hour}, func(ctx context.Context, fence int64) error {
					if inside.Add(1) != 1 {
						overlaps.Add(1)
					}
					entered.Add(1)
					mu.Lock()
					if seen[fence] {
						t.Errorf("fence %d twice", fence)
					}
					seen[fence] = true
					mu.Unlock()
					runtime.Gosched() // let the others try to get in while this one holds it
					inside.Add(-1)
					return nil
				})
				if err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if overlaps.Load() != 0 || entered.Load() != 16 {
			t.Fatalf("overlaps %d, entered %d", overlaps.Load(), entered.Load())
		}
	})
}

func TestLedger_PostsBalancedTransactionsOnly(t *testing.T) {
	t.Parallel()
	lockStores(t, func(t *testing.T, st *Store, c *clock.Manual) {
		ctx := context.Background()
		line := func(acct, side string, amount int64) model.JournalLine {
			return model.JournalLine{Account: acct, Side: side, Amount: amount, Currency: "INR"}
		}
		good := model.JournalTxn{ID: "t1", Kind: "disbursement", IdempotencyKey: "disbursement:LN-1", UTR: "UTIB0000000001", LoanID: "LN-1", Seq: 1, Lines: []model.JournalLine{
			line(model.AccountLoanPortfolio, model.Debit, 5_00_000_00), line(model.AccountBank, model.Credit, 4_88_200_00),
			line(model.AccountProcessingFee, model.Credit, 10_000_00), line(model.AccountGSTOutput, model.Credit, 1_800_00)}}
		for name, bad := range map[string][]model.JournalLine{
			"one paisa off":    {line(model.AccountLoanPortfolio, model.Debit, 100), line(model.AccountBank, model.Credit, 99)},
			"another currency": {{Account: model.AccountBank, Side: model.Debit, Amount: 100, Currency: "USD"}, line(model.AccountLoanPortfolio, model.Credit, 100)},
			"zero":             {line(model.AccountBank, model.Debit, 0), line(model.AccountLoanPortfolio, model.Credit, 0)},
			"negative":         {line(model.AccountBank, model.Debit, -5), line(model.AccountLoanPortfolio, model.Credit, -5)},
			"unknown account":  {line("petty_cash", model.Debit, 5), line(model.AccountLoanPortfolio, model.Credit, 5)},
			"no side":          {line(model.AccountBank, "both", 5), line(model.AccountLoanPortfolio, model.Credit, 5)},
			"overflowing":      {line(model.AccountBank, model.Debit, 1<<62), line(model.AccountLoanPortfolio, model.Credit, 1<<62)},
			"no lines":         nil,
		} {
			tx := good
			tx.ID, tx.IdempotencyKey, tx.UTR, tx.Lines = "bad-"+name, "bad:"+name, "", bad
			if err := st.LedgerPost(ctx, tx); !errors.Is(err, ErrUnbalanced) {
				t.Errorf("%s: %v", name, err)
			}
		}
		if err := st.LedgerPost(ctx, good); err != nil {
			t.Fatal(err)
		}
		retry := good
		retry.ID = "t2"
		if err := st.LedgerPost(ctx, retry); !errors.Is(err, ErrDuplicate) {
			t.Fatalf("retry: %v", err)
		}
		sameUTR := good
		sameUTR.ID, sameUTR.IdempotencyKey, sameUTR.LoanID = "t3", "disbursement:LN-2", "LN-2"
		if err := st.LedgerPost(ctx, sameUTR); !errors.Is(err, ErrUTRUsed) {
			t.Fatalf("same UTR: %v", err)
		}
		// A second posting numbered like one already there (decided on a
		// journal that changed since) is a conflict.
		second := good
		second.ID, second.IdempotencyKey, second.UTR = "t4", "repayment:x", "RCPT000000000001"
		if err := st.LedgerPost(ctx, second); !errors.Is(err, ErrConflict) {
			t.Fatalf("the same sequence number again: %v", err)
		}
		second.Seq = 0
		if err := st.LedgerPost(ctx, second); err == nil {
			t.Fatal("a posting without a sequence number was stored")
		}
		all, err := st.LedgerTxns(ctx)
		if err != nil || len(all) != 1 || all[0].ID != "t1" || len(all[0].Lines) != 4 {
			t.Fatalf("journal: %+v %v", all, err)
		}
	})
}

// The journal has no update, replace or delete path: its type offers
// inserts and reads only.
func TestLedger_JournalIsAppendOnly(t *testing.T) {
	t.Parallel()
	typ := reflect.TypeOf(appendOnly{})
	for i := range typ.NumMethod() {
		name := typ.Method(i).Name
		for _, banned := range []string{"Update", "Replace", "Delete", "Drop", "Bulk", "FindOneAnd"} {
			if strings.Contains(name, banned) {
				t.Errorf("the journal has a %s method", name)
			}
		}
	}
	if f, ok := reflect.TypeOf(Store{}).FieldByName("journal"); !ok || f.Type != typ {
		t.Fatal("the store's journal is not the append-only type")
	}
}
