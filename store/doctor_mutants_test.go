package store

import (
	"context"
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
