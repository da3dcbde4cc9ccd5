package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"loandesk/ferrettest"
)

// checksByName indexes the doctor's checks by name.
func checksByName(checks []Check) map[string]Check {
	m := make(map[string]Check, len(checks))
	for _, c := range checks {
		m[c.Name] = c
	}
	return m
}

func TestStore_Doctor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("EmbeddedPassesEveryCheckAndLeavesNothing", func(t *testing.T) {
		t.Parallel()
		st := setup(t).store
		before, err := st.db.ListCollectionNames(ctx, bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		checks, err := st.Doctor(ctx, DoctorParams{Writers: 4, Ops: 20})
		if err != nil {
			t.Fatal(err)
		}
		if len(checks) != 9 {
			t.Fatalf("%d checks, want 9: %+v", len(checks), checks)
		}
		for _, c := range checks {
			if c.Status != CheckPass {
				t.Errorf("%s: %s: %s", c.Name, c.Status, c.Detail)
			}
		}
		if got := checksByName(checks)["concurrent $inc"].Detail; got != "80 concurrent $inc, all 80 kept" {
			t.Errorf("concurrent $inc: %q", got)
		}
		after, err := st.db.ListCollectionNames(ctx, bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range after {
			if strings.HasPrefix(name, DoctorScratchPrefix) {
				t.Errorf("scratch collection %s left behind (before: %v)", name, before)
			}
		}
		for coll, filter := range map[string]bson.M{
			"locks":    {"_id": bson.M{"$gte": DoctorScratchPrefix, "$lt": DoctorScratchPrefix + maxRune}},
			"counters": {"_id": bson.M{"$gte": "fence:" + DoctorScratchPrefix, "$lt": "fence:" + DoctorScratchPrefix + maxRune}},
		} {
			if n, err := st.db.Collection(coll).CountDocuments(ctx, filter); err != nil || n != 0 {
				t.Errorf("%s: %d scratch documents left, %v", coll, n, err)
			}
		}
	})

	// FerretDB v1 applies updates as read-then-write: the doctor must
	// fail the races on it with the figures, and name the missing
	// features. The figures vary from run to run; the test asserts that
	// some were lost, never a number.
	t.Run("FerretDBFailsNamingLostUpdatesAndMissingFeatures", func(t *testing.T) {
		t.Parallel()
		st, err := Open(ctx, Config{MongoURI: ferrettest.Start(t, "loandesk")})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close(ctx) })
		checks, err := st.Doctor(ctx, DoctorParams{Writers: 8, Ops: 25})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range checks {
			t.Logf("%-36s %-4s %s", c.Name, c.Status, c.Detail)
		}
		byName := checksByName(checks)
		for name, want := range map[string]string{
			"connect and ping":                    "FerretDB",
			"app's indexes and queries at start":  "TTL index missing",
			"unique, partial and TTL indexes":     "TTL refused",
			"versioned update race":               "LOST UPDATES",
			"concurrent $inc":                     "LOST UPDATES",
			"exactly-once claims (findAndModify)": "DUPLICATE CLAIMS",
		} {
			c := byName[name]
			if !strings.Contains(c.Detail, want) {
				t.Errorf("%s: %s %q, want it to name %q", name, c.Status, c.Detail, want)
			}
			if name != "connect and ping" && c.Status != CheckFail {
				t.Errorf("%s: %s, want fail", name, c.Status)
			}
		}
		// The figures vary, but they must add up: what was lost is what
		// was answered as applied less what was kept.
		var lost, writers, ops, won, moved, shared int64
		if _, err := fmt.Sscanf(byName["versioned update race"].Detail,
			"%d LOST UPDATES: %d writers × %d: %d updates answered as applied, the version moved %d; %d versions won by more than one writer",
			&lost, &writers, &ops, &won, &moved, &shared); err != nil ||
			writers != 8 || ops != 25 || lost != won-moved || lost < 1 || shared < 1 || shared > lost {
			t.Errorf("versioned update race: figures that do not add up (%v): %q", err, byName["versioned update race"].Detail)
		}
		var incs, kept int64
		if _, err := fmt.Sscanf(byName["concurrent $inc"].Detail, "%d LOST UPDATES: %d concurrent $inc kept %d", &lost, &incs, &kept); err != nil ||
			incs != 200 || lost != incs-kept || lost < 1 {
			t.Errorf("concurrent $inc: figures that do not add up (%v): %q", err, byName["concurrent $inc"].Detail)
		}
		var dup, events, workers, claims, distinct, unclaimed int64
		if _, err := fmt.Sscanf(byName["exactly-once claims (findAndModify)"].Detail,
			"%d DUPLICATE CLAIMS: %d events, %d workers: %d claims of %d distinct events, %d left unclaimed",
			&dup, &events, &workers, &claims, &distinct, &unclaimed); err != nil ||
			events != 100 || workers != 8 || dup != claims-distinct {
			t.Errorf("claims: figures that do not add up (%v): %q", err, byName["exactly-once claims (findAndModify)"].Detail)
		}
		if c := byName["durability"]; c.Status != CheckWarn || !strings.Contains(c.Detail, "standalone") {
			t.Errorf("durability: %s %q, want a warning about a standalone server", c.Status, c.Detail)
		}
		names, err := st.db.ListCollectionNames(ctx, bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			if strings.HasPrefix(name, DoctorScratchPrefix) {
				t.Errorf("scratch collection %s left behind", name)
			}
		}
	})
}

// TestStore_DoctorStopsAtItsDeadline: at the largest sizes (256 writers
// × 10,000 operations) a passed deadline stops every check; before, the
// claims check inserted 1.28 million documents in one write and the
// unique-index race kept inserting after errors, running for more than
// ten minutes with -timeout 1ns.
func TestStore_DoctorStopsAtItsDeadline(t *testing.T) {
	t.Parallel()
	st := setup(t).store
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := st.Doctor(ctx, DoctorParams{Writers: 256, Ops: 10_000})
		done <- err
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("the doctor ran on two minutes past its deadline")
	}
}
