package store

// Rules no other store test pins down (each was a surviving mutant of
// scripts/mutation.sh): API tokens are stored hashed, and the queue hands
// out the oldest available event first.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"loandesk/clock"
	"loandesk/model"
)

func TestStore_APITokens(t *testing.T) {
	t.Parallel()
	const token = "ld_3q9V7xKc2M8pZr4TnW6yB1sE5uHjA0fG"
	sum := sha256.Sum256([]byte(token))
	wantHash := hex.EncodeToString(sum[:])

	t.Run("StoredAsItsSHA256Only", func(t *testing.T) {
		t.Parallel()
		st := setup(t).store
		ctx := context.Background()
		if err := st.APITokenSet(ctx, "ADMIN_TOKEN", token, "admin"); err != nil {
			t.Fatal(err)
		}
		var stored bson.M
		if err := st.apiTokens.FindOne(ctx, bson.M{"_id": "ADMIN_TOKEN"}).Decode(&stored); err != nil {
			t.Fatal(err)
		}
		if stored["hash"] != wantHash {
			t.Fatalf("stored hash %v, want %s (SHA-256 of the token, hex)", stored["hash"], wantHash)
		}
		raw, _ := bson.MarshalExtJSON(stored, false, false)
		if strings.Contains(string(raw), token) {
			t.Fatalf("the token is stored in clear: %s", raw)
		}
	})

	t.Run("FoundByItsValueNeverByItsHash", func(t *testing.T) {
		t.Parallel()
		st := setup(t).store
		ctx := context.Background()
		if err := st.APITokenSet(ctx, "ADMIN_TOKEN", token, "admin"); err != nil {
			t.Fatal(err)
		}
		got, err := st.APITokenByValue(ctx, token)
		if err != nil || got.Name != "ADMIN_TOKEN" || got.Role != "admin" || got.Hash != wantHash {
			t.Fatalf("by value: %+v, %v", got, err)
		}
		// A copy of the database hands out no working token.
		if _, err := st.APITokenByValue(ctx, wantHash); !errors.Is(err, ErrNotFound) {
			t.Fatalf("the stored hash presented as a token: %v, want ErrNotFound", err)
		}
	})
}

// Claim takes the event that has been available longest: by availableAt,
// then by _id (publish order) among equals. Newest first would starve the
// oldest events while a backlog lasts.
func TestQueue_ClaimsOldestFirst(t *testing.T) {
	t.Parallel()
	queueEngines(t, func(t *testing.T, st *Store, clk *clock.Manual) {
		ctx := context.Background()
		publish := func(name string, delay time.Duration) primitive.ObjectID {
			t.Helper()
			id, err := st.Publish(ctx, "ocr", map[string]string{"name": name}, PublishOptions{Delay: delay})
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		names := map[primitive.ObjectID]string{}
		names[publish("late", 2*time.Second)] = "late" // published first, due last
		names[publish("first", 0)] = "first"
		names[publish("second", 0)] = "second" // due with "first": publish order decides
		clk.Advance(time.Second)
		names[publish("third", 0)] = "third"
		clk.Advance(2 * time.Second)

		var got []string
		for range names {
			ev, err := st.Claim(ctx, "w1", []string{"ocr"}, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, names[ev.ID])
		}
		if want := "first second third late"; strings.Join(got, " ") != want {
			t.Fatalf("claimed %v, want %s", got, want)
		}
	})
}

// An event published without (or with a nonsensical) number of attempts
// gets DefaultMaxAttempts.
func TestQueue_DefaultMaxAttempts(t *testing.T) {
	t.Parallel()
	queueEngines(t, func(t *testing.T, st *Store, _ *clock.Manual) {
		ctx := context.Background()
		for _, given := range []int{0, -1, 1} {
			if _, err := st.Publish(ctx, "ocr", nil, PublishOptions{MaxAttempts: given}); err != nil {
				t.Fatal(err)
			}
			ev, err := st.Claim(ctx, "w", []string{"ocr"}, time.Minute)
			want := given
			if given <= 0 {
				want = DefaultMaxAttempts
			}
			if err != nil || ev.MaxAttempts != want {
				t.Fatalf("published with MaxAttempts %d: claimed %+v, %v; want MaxAttempts %d", given, ev, err, want)
			}
		}
	})
}

// An event whose worker died on its last attempt goes dead saying so,
// with the last recorded failure when there was one.
func TestQueue_DeadAfterLostLeasesSaysWhy(t *testing.T) {
	t.Parallel()
	queueEngines(t, func(t *testing.T, st *Store, clk *clock.Manual) {
		ctx := context.Background()
		quiet, _ := st.Publish(ctx, "ocr", nil, PublishOptions{MaxAttempts: 1})
		if _, err := st.Claim(ctx, "dies", []string{"ocr"}, time.Second); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Second)
		if _, err := st.Claim(ctx, "w", []string{"ocr"}, time.Minute); !errors.Is(err, ErrNotFound) {
			t.Fatalf("claim after the last lease ran out: %v, want ErrNotFound", err)
		}
		failed, _ := st.Publish(ctx, "ocr", nil, PublishOptions{MaxAttempts: 2})
		ev, err := st.Claim(ctx, "w", []string{"ocr"}, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Fail(ctx, ev, "tesseract crashed", clk.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Claim(ctx, "dies", []string{"ocr"}, time.Second); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Second)
		if _, err := st.Claim(ctx, "w", []string{"ocr"}, time.Minute); !errors.Is(err, ErrNotFound) {
			t.Fatalf("claim after the last lease ran out: %v, want ErrNotFound", err)
		}
		for id, want := range map[primitive.ObjectID]string{
			quiet:  "its worker stopped before finishing, 1 times",
			failed: "its worker stopped before finishing, 2 times (last: tesseract crashed)",
		} {
			if got, err := st.EventGet(ctx, id); err != nil || got.Status != EventDead || got.LastError != want {
				t.Errorf("%+v, %v; want dead with %q", got, err, want)
			}
		}
	})
}

// An unchanged session's write is skipped while its expiry moves out by
// less than the touch interval (a minute, or a tenth of the time left for
// short idle timeouts); never when the expiry moves in.
func TestSessionCache_Fresh(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	c := newSessionCache()
	long, short := now.Add(time.Hour), now.Add(5*time.Minute)
	c.remember("long", []byte("d"), long)
	c.remember("short", []byte("d"), short)
	for _, tc := range []struct {
		key    string
		data   string
		expiry time.Time
		fresh  bool
	}{
		{"long", "d", long, true},
		{"long", "d", long.Add(59 * time.Second), true},
		{"long", "d", long.Add(SessionTouchInterval), false},
		{"long", "d", long.Add(-time.Second), false}, // moved in: written
		{"long", "changed", long, false},
		{"short", "d", short.Add(29 * time.Second), true},  // under a tenth of 5 min 29 s
		{"short", "d", short.Add(40 * time.Second), false}, // over a tenth of 5 min 40 s
		{"unknown", "d", long, false},
	} {
		if got := c.fresh(tc.key, []byte(tc.data), tc.expiry, now); got != tc.fresh {
			t.Errorf("fresh(%s, %s, +%s) = %v, want %v", tc.key, tc.data, tc.expiry.Sub(now), got, tc.fresh)
		}
	}
}

// A heartbeat keeps the worker's record for a day (a TTL index removes it
// after that), well past the time it counts as live.
func TestQueue_HeartbeatKeepsTheWorkerADay(t *testing.T) {
	t.Parallel()
	queueEngines(t, func(t *testing.T, st *Store, clk *clock.Manual) {
		ctx := context.Background()
		if err := st.WorkerHeartbeat(ctx, Worker{ID: "w", Types: []string{"ocr"}}); err != nil {
			t.Fatal(err)
		}
		var w Worker
		if err := st.workers.FindOne(ctx, bson.M{"_id": "w"}).Decode(&w); err != nil {
			t.Fatal(err)
		}
		if !w.LastSeen.Equal(clk.Now()) || w.ExpireAt.Sub(w.LastSeen) != 24*time.Hour || w.Current == nil {
			t.Fatalf("stored worker %+v: want last seen now, kept 24 h, current events an empty list", w)
		}
	})
}

// Whatever makes an event claimable in this process wakes its idle
// workers at once: a publish, a release, a requeue.
func TestQueue_EventsPublishedWakes(t *testing.T) {
	t.Parallel()
	queueEngines(t, func(t *testing.T, st *Store, clk *clock.Manual) {
		ctx := context.Background()
		woken := func(what string, ch <-chan struct{}) {
			t.Helper()
			select {
			case <-ch:
			default:
				t.Fatalf("%s did not wake the idle workers", what)
			}
		}
		ch := st.EventsPublished()
		id, err := st.Publish(ctx, "ocr", nil, PublishOptions{MaxAttempts: 1})
		if err != nil {
			t.Fatal(err)
		}
		woken("a publish", ch)
		ev, err := st.Claim(ctx, "w", []string{"ocr"}, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		ch = st.EventsPublished()
		if err := st.Release(ctx, ev); err != nil {
			t.Fatal(err)
		}
		woken("a release", ch)
		ev, _ = st.Claim(ctx, "w", []string{"ocr"}, time.Minute)
		if err := st.Fail(ctx, ev, "boom", time.Time{}); err != nil {
			t.Fatal(err)
		}
		ch = st.EventsPublished()
		if err := st.Requeue(ctx, id); err != nil {
			t.Fatal(err)
		}
		woken("a requeue", ch)
	})
}

// A commit that updates a live session remembers what it wrote, like one
// that inserts it: the same session committed again moments later is not
// written again.
func TestStore_SessionUpdateIsRemembered(t *testing.T) {
	t.Parallel()
	st := setup(t).store
	ss, ctx := st.Sessions(), context.Background()
	exp := time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)
	if err := ss.CommitCtx(ctx, "t", []byte("first"), exp); err != nil {
		t.Fatal(err)
	}
	if err := ss.CommitCtx(ctx, "t", []byte("second"), exp); err != nil { // an update
		t.Fatal(err)
	}
	marker := exp.Add(-30 * time.Minute) // changed behind the cache's back
	if _, err := st.sessions.UpdateOne(ctx, bson.M{"token": hashToken("t")}, bson.M{"$set": bson.M{"expiry": marker}}); err != nil {
		t.Fatal(err)
	}
	if err := ss.CommitCtx(ctx, "t", []byte("second"), exp.Add(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := storedExpiry(t, st, "t"); !got.Equal(marker) {
		t.Fatalf("the same session 10 s after an update was written again (expiry %s)", got)
	}
}

// A phone number of 10 digits or more is a search key (its last 10
// digits, as people type it); a query of 10 to 13 digits and separators
// is read as one phone number.
func TestLoanSearch_Phones(t *testing.T) {
	t.Parallel()
	keys := LoanSearchKeys(model.Loan{HumanID: "LN-2026-000001", Applicant: model.Applicant{Phone: "98765 43210"}})
	if !slices.Contains(keys, "9876543210") {
		t.Errorf("keys of a 10-digit phone: %v", keys)
	}
	if keys := LoanSearchKeys(model.Loan{HumanID: "LN-2026-000001", Applicant: model.Applicant{Phone: "876543210"}}); slices.Contains(keys, "876543210") {
		t.Errorf("a 9-digit phone is a key: %v", keys)
	}
	for q, phone := range map[string]bool{
		"98765 4321":         false, // 9 digits
		"98765 43210":        true,  // 10
		"+91 (98765) 432-10": true,  // 12
		"0091 98765 432 1":   true,  // 13
		"0091 98765 432 10":  false, // 14
	} {
		if got := isPhoneLike(q); got != phone {
			t.Errorf("isPhoneLike(%q) = %v, want %v", q, got, phone)
		}
	}
	// No search, no condition on the keys ($and of nothing is an error
	// on MongoDB).
	if q := (LoanFilter{}).Query(); q["$and"] != nil {
		t.Errorf("filter without search: %v", q)
	}
}

// lungo's engine gets only the indexes that enforce something (unique,
// TTL); the indexed engine gets every index, for its reads.
func TestStore_IndexesPerEngine(t *testing.T) {
	t.Parallel()
	for engine, wantList := range map[string]bool{EngineIndexed: true, EngineLungo: false} {
		st, err := Open(context.Background(), Config{DataDir: t.TempDir(), Engine: engine})
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]bool{}
		cur, err := st.events.Indexes().List(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var specs []bson.M
		_ = cur.All(context.Background(), &specs)
		for _, s := range specs {
			names[s["name"].(string)] = true
		}
		_ = st.Close(context.Background())
		ttl, list := names["expireAt_1"], len(names) > 3
		if !ttl || list != wantList {
			t.Errorf("%s: events indexes %v; want the TTL index, and the others %v", engine, names, wantList)
		}
	}
}

// A page holds 1 to 100 loans; no limit, or one past 100, is a page of 25.
func TestStore_LoanListPageSize(t *testing.T) {
	t.Parallel()
	st := setup(t).store
	loans := make([]model.Loan, 101)
	for i := range loans {
		loans[i] = model.Loan{HumanID: fmt.Sprintf("LN-2026-%06d", i+1), Status: model.StatusSubmitted, CreatedAt: time.Now()}
	}
	if err := st.LoanInsertMany(context.Background(), loans); err != nil {
		t.Fatal(err)
	}
	for limit, want := range map[int]int{0: 25, -1: 25, 1: 1, 100: 100, 101: 25} {
		got, err := st.LoanList(context.Background(), LoanListParams{Limit: limit})
		if err != nil || len(got) != want {
			t.Errorf("limit %d: %d loans, %v; want %d", limit, len(got), err, want)
		}
	}
}
