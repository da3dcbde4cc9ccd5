package store

import (
	"context"
	"regexp"
	"strings"
	"testing"
)

// TestDoctor_ExactFigures: with one writer the doctor's races have one
// answer, so every line's figures are exact: the sizes derived from
// Writers and Ops (Writers×Ops $inc, Writers×Ops/2 claim events, Ops/5
// unique keys and lock rounds per writer), the defaults for zero
// parameters (8 writers × 50), and the engine named on each embedded
// engine.
func TestDoctor_ExactFigures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		engine string
		p      DoctorParams
		want   map[string]string
	}{
		{"indexed, 1 writer × 12", EngineIndexed, DoctorParams{Writers: 1, Ops: 12}, map[string]string{
			"connect and ping":                    "embedded engine (indexed) in DATA_DIR",
			"durability":                          "every commit is synced to disk before it is answered",
			"versioned update race":               "1 writers × 12: 12 won (one per version), 0 conflicts, 0 lost",
			"concurrent $inc":                     "12 concurrent $inc, all 12 kept",
			"exactly-once claims (findAndModify)": "6 events, 1 workers: each claimed exactly once",
			"unique index under an insert race":   "2 keys, 1 writers each: one insert per key accepted, the rest refused as duplicates",
			"distributed lock and fencing":        "2 acquisitions by 1 writers: one holder at a time, fencing tokens rising",
		}},
		{"lungo, 3 writers × 7", EngineLungo, DoctorParams{Writers: 3, Ops: 7}, map[string]string{
			"connect and ping":                    "embedded engine (lungo) in DATA_DIR",
			"concurrent $inc":                     "21 concurrent $inc, all 21 kept",
			"exactly-once claims (findAndModify)": "10 events, 3 workers: each claimed exactly once",
			"unique index under an insert race":   "1 keys, 3 writers each: one insert per key accepted, the rest refused as duplicates",
			"distributed lock and fencing":        "3 acquisitions by 3 writers: one holder at a time, fencing tokens rising",
		}},
		{"defaults (8 writers × 50)", EngineIndexed, DoctorParams{}, map[string]string{
			"concurrent $inc":                     "400 concurrent $inc, all 400 kept",
			"exactly-once claims (findAndModify)": "200 events, 8 workers: each claimed exactly once",
			"unique index under an insert race":   "10 keys, 8 writers each: one insert per key accepted, the rest refused as duplicates",
			"distributed lock and fencing":        "80 acquisitions by 8 writers: one holder at a time, fencing tokens rising",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st, err := Open(ctx, Config{DataDir: t.TempDir(), Engine: tc.engine})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close(ctx) })
			checks, err := st.Doctor(ctx, tc.p)
			if err != nil {
				t.Fatal(err)
			}
			got := checksByName(checks)
			for name, want := range tc.want {
				if c := got[name]; c.Status != CheckPass || c.Detail != want {
					t.Errorf("%s: %s %q, want pass %q", name, c.Status, c.Detail, want)
				}
			}
		})
	}
}

// TestDoctor_ClosedStoreAnswersTheDropError: on a store closed before
// it runs every check fails, each naming what failed, and so does the
// drop of every scratch collection, which is the doctor's error.
func TestDoctor_ClosedStoreAnswersTheDropError(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := setup(t).store
	if err := st.Close(ctx); err != nil {
		t.Fatal(err)
	}
	checks, err := st.Doctor(ctx, DoctorParams{Writers: 1, Ops: 5})
	scratch := regexp.MustCompile(DoctorScratchPrefix + `[0-9a-f]{24}_`)
	norm := func(s string) string { return scratch.ReplaceAllString(s, DoctorScratchPrefix+"X_") }
	var drops []string
	for _, c := range []string{"indexes", "versions", "counter", "claims", "unique"} {
		drops = append(drops, "store: doctor: drop scratch collection "+DoctorScratchPrefix+"X_"+c+": embedded: engine closed")
	}
	if err == nil || norm(err.Error()) != strings.Join(drops, "\n") {
		t.Errorf("error %v, want the five drops refused", err)
	}
	want := []Check{
		{"connect and ping", CheckFail, "store: ping: embedded: engine closed"},
		{"durability", CheckPass, "every commit is synced to disk before it is answered"},
		{"app's indexes and queries at start", CheckPass, "every index created as asked; findAndModify projections, $elemMatch ranges and transactions answered right"},
		{"unique, partial and TTL indexes", CheckFail, "unique refused (embedded: engine closed); partial unique refused (embedded: engine closed); TTL refused (embedded: engine closed)"},
		{"versioned update race", CheckFail, "insert: embedded: engine closed"},
		{"concurrent $inc", CheckFail, "insert: embedded: engine closed"},
		{"exactly-once claims (findAndModify)", CheckFail, "insert 2: embedded: engine closed"},
		{"unique index under an insert race", CheckFail, "create the unique index: embedded: engine closed"},
		{"distributed lock and fencing", CheckFail, "1 errors, the first: store: lock " + DoctorScratchPrefix + "X_lock: fencing token: embedded: engine closed"},
	}
	if len(checks) != len(want) {
		t.Fatalf("%d checks, want %d", len(checks), len(want))
	}
	for i, c := range checks {
		if c.Detail = norm(c.Detail); c != want[i] {
			t.Errorf("check %d: %+v, want %+v", i, c, want[i])
		}
	}
}
