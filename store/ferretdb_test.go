package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"loandesk/clock"
	"loandesk/ferrettest"
	"loandesk/model"
)

// TestFerretDB runs the store's core operations through MONGO_URI and
// the official driver against FerretDB v1 (in-process, SQLite in a
// temporary directory): a MongoDB-compatible server without TTL or
// partial indexes. The store must start there, name what it degraded,
// and do sign-in, sessions across a restart, the TTL sweep, list and
// search, a versioned edit and a job run. What FerretDB cannot do under
// concurrency is measured in TestFerretDB_Races.
func TestFerretDB(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	uri := ferrettest.Start(t, "loandesk")
	clk := clock.NewManual(time.Now().Truncate(time.Millisecond))
	open := func(t *testing.T) *Store {
		t.Helper()
		st, err := Open(ctx, Config{MongoURI: uri, Now: clk.Now})
		if err != nil {
			t.Fatalf("open through MONGO_URI: %v", err)
		}
		t.Cleanup(func() { _ = st.Close(ctx) })
		return st
	}
	st := open(t)

	t.Run("StartsDegradedNamingEachRefusedIndex", func(t *testing.T) {
		var got []string
		for _, d := range st.Degraded() {
			got = append(got, d.Feature+" "+d.Collection+"."+d.Keys)
		}
		want := []string{
			"TTL index sessions.expiry",
			"TTL index login_attempts.expiresAt",
			"TTL index locks.expiresAt",
			"partial unique index journal.utr",
			"partial unique index loans.intakeKey",
			"partial unique index events.dedupeKey",
			"TTL index events.expireAt",
			"TTL index workers.expireAt",
			"$elemMatch range on one array element loans.searchKeys",
			"findAndModify with a projection loans._id, version",
			"transactions audit._id",
		}
		if !slices.Equal(got, want) {
			t.Fatalf("degraded:\n%q\nwant\n%q", got, want)
		}
	})

	t.Run("SignIn", func(t *testing.T) {
		u, err := st.UserCreate(ctx, UserCreateParams{Email: "Asha@Example.com", Name: "Asha", Role: "admin", PasswordHash: []byte("hash")})
		if err != nil {
			t.Fatal(err)
		}
		got, err := st.UserByEmail(ctx, "asha@example.COM")
		if err != nil || got.ID != u.ID || !bytes.Equal(got.PasswordHash, []byte("hash")) {
			t.Fatalf("user by email: %+v, %v", got, err)
		}
		if _, err := st.UserCreate(ctx, UserCreateParams{Email: "asha@example.com", Name: "Again", Role: "admin"}); err == nil {
			t.Fatal("a second user with the same email was created: the unique index is not enforced")
		}
		for i := 1; i <= 3; i++ {
			c, err := st.LoginCounterAdd(ctx, "ip:127.0.0.1", 1, clk.Now(), clk.Now().Add(time.Hour))
			if err != nil || c.N != i {
				t.Fatalf("failed sign-in %d: counter %+v, %v", i, c, err)
			}
		}
	})

	t.Run("SessionSurvivesRestartAndExpiredOnesAreSwept", func(t *testing.T) {
		if err := st.Sessions().CommitCtx(ctx, "live", []byte("data"), clk.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := st.Sessions().CommitCtx(ctx, "old", []byte("x"), clk.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		again := open(t) // a second instance, as after a restart
		b, found, err := again.Sessions().FindCtx(ctx, "live")
		if err != nil || !found || string(b) != "data" {
			t.Fatalf("session after restart: %q, %v, %v", b, found, err)
		}
		clk.Advance(2 * time.Minute)
		n, err := again.SweepExpired(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if left, _ := again.sessions.CountDocuments(ctx, bson.M{}); n < 1 || left != 1 {
			t.Fatalf("sweep deleted %d, %d sessions left, want the expired one gone and 1 left", n, left)
		}
		if _, found, _ := again.Sessions().FindCtx(ctx, "live"); !found {
			t.Fatal("the sweep deleted a live session")
		}
	})

	t.Run("ListSearchAndVersionedEdit", func(t *testing.T) {
		loans := []model.Loan{
			{HumanID: "LN-2026-000123", Status: model.StatusSubmitted, Applicant: model.Applicant{Name: "Asha Iyer", PAN: "ABCPI1234K", Phone: "+91 98765 43210"}},
			{HumanID: "LN-2026-000124", Status: model.StatusSubmitted, Applicant: model.Applicant{Name: "Ashok Sharma", PAN: "ABCPS1111K"}},
			{HumanID: "LN-2026-000200", Status: model.StatusApproved, Applicant: model.Applicant{Name: "Iyer Ramesh", PAN: "ABCPR2222K"}},
		}
		for i := range loans {
			loans[i].CreatedAt = clk.Now().Add(time.Duration(i) * time.Minute)
		}
		if err := st.LoanInsertMany(ctx, loans); err != nil {
			t.Fatal(err)
		}
		for typed, want := range map[string]string{
			"ash": "LN-2026-000124 LN-2026-000123", "iyer": "LN-2026-000200 LN-2026-000123",
			"98765": "LN-2026-000123", "LN-2026-0002": "LN-2026-000200", "zz": "",
		} {
			got, err := st.LoanList(ctx, LoanListParams{LoanFilter: LoanFilter{Search: SearchTokens(typed)}, Limit: 10})
			if err != nil {
				t.Fatalf("search %q: %v", typed, err)
			}
			if ids := humanIDs(got); ids != want {
				t.Errorf("search %q found %q, want %q", typed, ids, want)
			}
		}
		page, err := st.LoanList(ctx, LoanListParams{LoanFilter: LoanFilter{Status: model.StatusSubmitted}, Limit: 1, Skip: 1})
		if err != nil || humanIDs(page) != "LN-2026-000123" {
			t.Fatalf("second page of submitted: %q, %v", humanIDs(page), err)
		}
		counts, err := st.LoanCountByStatus(ctx, LoanFilter{})
		if err != nil || counts[model.StatusSubmitted] != 2 || counts[model.StatusApproved] != 1 {
			t.Fatalf("counts by status: %v, %v", counts, err)
		}

		cur, err := st.LoanGet(ctx, "LN-2026-000123")
		if err != nil {
			t.Fatal(err)
		}
		next := cur
		next.Terms.Purpose = "home"
		change := model.LoanChange{At: clk.Now(), By: "asha@example.com", Fields: []model.FieldChange{{Field: "purpose", From: "", To: "home"}}}
		saved, err := st.LoanUpdate(ctx, next, change)
		if err != nil || saved.Version != cur.Version+1 {
			t.Fatalf("versioned edit: version %d, %v", saved.Version, err)
		}
		if _, err := st.LoanUpdate(ctx, next, change); !errors.Is(err, ErrConflict) {
			t.Fatalf("an edit at the old version: %v, want ErrConflict", err)
		}
		got, err := st.LoanGet(ctx, "LN-2026-000123")
		if err != nil || got.Terms.Purpose != "home" || got.Version != saved.Version || len(got.History) != 1 {
			t.Fatalf("after the edit: purpose %q version %d history %d, %v", got.Terms.Purpose, got.Version, len(got.History), err)
		}
	})

	t.Run("JobRun", func(t *testing.T) {
		id, err := st.Publish(ctx, "score", map[string]string{"loan": "LN-2026-000123"}, PublishOptions{LoanID: "LN-2026-000123"})
		if err != nil {
			t.Fatal(err)
		}
		ev, err := st.Claim(ctx, "w1", []string{"score"}, time.Minute)
		if err != nil || ev.ID != id || ev.Status != EventProcessing || ev.Attempts != 1 {
			t.Fatalf("claim: %+v, %v", ev, err)
		}
		if _, err := st.Claim(ctx, "w2", []string{"score"}, time.Minute); !errors.Is(err, ErrNotFound) {
			t.Fatalf("a second claim while leased: %v, want ErrNotFound", err)
		}
		if err := st.Complete(ctx, ev); err != nil {
			t.Fatal(err)
		}
		done, err := st.EventGet(ctx, id)
		if err != nil || done.Status != EventDone {
			t.Fatalf("after complete: %+v, %v", done, err)
		}
		stats, err := st.QueueStats(ctx, []string{"score"})
		if err != nil {
			t.Fatalf("queue stats: %v", err)
		}
		t.Logf("queue stats: %+v", stats)
		// The finished event expires through the store's sweeper.
		clk.Set(done.ExpireAt.Add(time.Second))
		if _, err := st.SweepExpired(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := st.EventGet(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Fatalf("the finished event after its expiry: %v, want ErrNotFound", err)
		}
	})
}

func humanIDs(loans []model.LoanSummary) string {
	var b bytes.Buffer
	for i, l := range loans {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(l.HumanID)
	}
	return b.String()
}

// TestFerretDB_Races measures, without failing, what FerretDB v1 does
// with the concurrent writes Loan Desk relies on: versioned edits of one
// loan from several writers, and claims of one queue by several workers.
// The figures are in the test's log and the README; `loandesk doctor`
// is what fails on them.
func TestFerretDB_Races(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := Open(ctx, Config{MongoURI: ferrettest.Start(t, "loandesk")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close(ctx) })

	t.Run("VersionedEdits", func(t *testing.T) {
		loan := insertTestLoan(t, st)
		const writers, attempts = 6, 8
		var (
			mu       sync.Mutex
			accepted = map[int64]int{} // version produced → writers told they made it
			wg       sync.WaitGroup
		)
		for g := range writers {
			wg.Go(func() {
				for n := range attempts {
					cur, err := st.LoanGet(ctx, loan.HumanID)
					if err != nil {
						t.Error(err)
						return
					}
					next := cur
					next.Terms.Purpose = fmt.Sprintf("g%d-n%d", g, n)
					saved, err := st.LoanUpdate(ctx, next, model.LoanChange{At: time.Now(), By: "race@test",
						Fields: []model.FieldChange{{Field: "purpose", From: cur.Terms.Purpose, To: next.Terms.Purpose}}})
					if errors.Is(err, ErrConflict) {
						continue
					}
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					accepted[saved.Version]++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		final, err := st.LoanGet(ctx, loan.HumanID)
		if err != nil {
			t.Fatal(err)
		}
		var saves, twice int
		for _, n := range accepted {
			saves += n
			if n > 1 {
				twice++
			}
		}
		t.Logf("FerretDB: %d writers × %d versioned edits: %d answered saved, %d versions told to more than one writer; the loan ends at version %d with %d history entries (%d saves lost)",
			writers, attempts, saves, twice, final.Version, len(final.History), saves-len(final.History))
	})

	t.Run("Claims", func(t *testing.T) {
		const events, workers = 20, 4
		for i := range events {
			if _, err := st.Publish(ctx, "race", map[string]int{"i": i}, PublishOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		var (
			mu     sync.Mutex
			claims = map[string]int{}
			wg     sync.WaitGroup
		)
		for w := range workers {
			wg.Go(func() {
				for {
					ev, err := st.Claim(ctx, fmt.Sprintf("w%d", w), []string{"race"}, time.Hour)
					if errors.Is(err, ErrNotFound) {
						return
					}
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					claims[ev.ID.Hex()]++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		var total int
		for _, n := range claims {
			total += n
		}
		t.Logf("FerretDB: %d events, %d workers claiming: %d claims of %d distinct events (%d duplicate claims)",
			events, workers, total, len(claims), total-len(claims))
	})
}
