package store

// Rules of the journal no other store test pinned down (surviving mutants
// of scripts/mutation.sh, issue 20).

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"loandesk/clock"
	"loandesk/model"
)

// A line's amount is 1 to 10^15 − 1 paise: both ends exact.
func TestCheckBalanced_AmountLimits(t *testing.T) {
	t.Parallel()
	txn := func(amount int64) model.JournalTxn {
		return model.JournalTxn{Lines: []model.JournalLine{
			{Account: model.AccountBank, Side: model.Debit, Amount: amount, Currency: "INR"},
			{Account: model.AccountLoanPortfolio, Side: model.Credit, Amount: amount, Currency: "INR"},
		}}
	}
	for amount, ok := range map[int64]bool{1: true, 999_999_999_999_999: true, 1_000_000_000_000_000: false, 0: false} {
		if err := CheckBalanced(txn(amount)); (err == nil) != ok || err != nil && !errors.Is(err, ErrUnbalanced) {
			t.Errorf("CheckBalanced(two lines of %d paise) = %v, want accepted %v", amount, err, ok)
		}
	}
	// Only debits is not a transaction, nor is nothing.
	oneSided := model.JournalTxn{Lines: []model.JournalLine{{Account: model.AccountBank, Side: model.Debit, Amount: 5, Currency: "INR"}}}
	for name, txn := range map[string]model.JournalTxn{"a single debit": oneSided, "no lines": {}} {
		if err := CheckBalanced(txn); !errors.Is(err, ErrUnbalanced) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// LedgerPostMany stores every transaction of a batch, or none of them
// when one does not balance; an empty batch stores nothing and is no
// error.
func TestLedgerPostMany_AllOrNone(t *testing.T) {
	t.Parallel()
	st := setup(t).store
	ctx := context.Background()
	txn := func(id string, amount int64) model.JournalTxn {
		return model.JournalTxn{ID: id, Kind: "disbursement", IdempotencyKey: "k:" + id, LoanID: id, Seq: 1, Lines: []model.JournalLine{
			{Account: model.AccountLoanPortfolio, Side: model.Debit, Amount: amount, Currency: "INR"},
			{Account: model.AccountBank, Side: model.Credit, Amount: amount, Currency: "INR"},
		}}
	}
	if err := st.LedgerPostMany(ctx, nil); err != nil {
		t.Fatalf("empty batch: %v", err)
	}
	if err := st.LedgerPostMany(ctx, []model.JournalTxn{txn("a", 100), txn("b", 0)}); !errors.Is(err, ErrUnbalanced) {
		t.Fatalf("a batch with an unbalanced transaction: %v", err)
	}
	if all, err := st.LedgerTxns(ctx); err != nil || len(all) != 0 {
		t.Fatalf("after a refused batch the journal holds %d, %v; want none", len(all), err)
	}
	if err := st.LedgerPostMany(ctx, []model.JournalTxn{txn("a", 100), txn("b", 250)}); err != nil {
		t.Fatal(err)
	}
	all, err := st.LedgerTxns(ctx)
	if err != nil || len(all) != 2 || all[0].ID+all[1].ID != "ab" && all[0].ID+all[1].ID != "ba" {
		t.Fatalf("journal: %+v %v; want a and b", all, err)
	}
}

// A held lock is renewed every third of its TTL: with a TTL of 3 s the
// first renewal (expiresAt = the store's now + TTL) comes after about 1 s,
// well before a 6 s deadline (a renewal every 3 TTLs would come after
// 9 s, long after the lease ran out).
func TestLock_RenewedEveryThirdOfItsTTL(t *testing.T) {
	t.Parallel()
	lockStores(t, func(t *testing.T, st *Store, c *clock.Manual) {
		ctx := context.Background()
		const ttl = 3 * time.Second
		err := st.WithLock(ctx, LockParams{Key: "renewed", TTL: ttl}, func(ctx context.Context, fence int64) error {
			c.Advance(time.Hour) // the store's clock: only a renewal moves expiresAt to an hour later
			want := c.Now().UTC().Add(ttl).Truncate(time.Millisecond)
			deadline := time.Now().Add(2 * ttl)
			for {
				var l Lock
				if err := st.locks.FindOne(ctx, bson.M{"_id": "renewed"}).Decode(&l); err != nil {
					return err
				}
				if l.ExpiresAt.Equal(want) {
					return nil
				}
				if time.Now().After(deadline) {
					return fmt.Errorf("no renewal within %s of a %s lease: expires %s, want %s", 2*ttl, ttl, l.ExpiresAt, want)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
