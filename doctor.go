package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"

	"loandesk/store"
)

// doctorDoc is `loandesk doctor`'s help text.
const doctorDoc = `Checks, against the configured database (MONGO_URI, or the embedded
engine in DATA_DIR), the guarantees Loan Desk relies on, with small
concurrent workloads in scratch collections (doctor_scratch_*) that it
drops afterwards: connection and server version, durability, the indexes
and query shapes the app needs at start, unique, partial unique and TTL
indexes, the versioned-update race (no lost updates), concurrent $inc,
exactly-once claims with findAndModify, a unique index under an insert
race, and the distributed lock with fencing tokens. Prints a table and
exits 1 naming every check that failed, so a MongoDB-compatible server
(Cosmos DB, DocumentDB, FerretDB) can be checked before going live.
The embedded database must not be open in a running server.`

// doctorCommand opens the configured database, runs the checks with
// writers goroutines and ops operations each, prints the table to
// stdout, and returns an error naming the failed checks (nil when none
// failed; warnings do not fail).
func doctorCommand(ctx context.Context, cfg config, logger *slog.Logger, writers, ops int, stdout io.Writer) error {
	if writers < 1 || writers > 256 || ops < 1 || ops > 10000 {
		return fmt.Errorf("doctor: -writers must be 1 to 256 and -ops 1 to 10000 (got %d and %d)", writers, ops)
	}
	st, err := store.Open(ctx, cfg.Store(logger))
	if err != nil {
		return fmt.Errorf("doctor: %w", err)
	}
	defer st.Close(context.Background())
	checks, err := st.Doctor(ctx, store.DoctorParams{Writers: writers, Ops: ops})
	if werr := writeDoctorTable(stdout, checks); err == nil {
		err = werr
	}
	if err != nil {
		return fmt.Errorf("doctor: %w", err)
	}
	var failed []string
	for _, c := range checks {
		if c.Status == store.CheckFail {
			failed = append(failed, c.Name+" ("+c.Detail+")")
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("doctor: %d of %d checks failed: %s", len(failed), len(checks), strings.Join(failed, "; "))
	}
	return nil
}

// writeDoctorTable writes checks as a table: check, PASS/WARN/FAIL,
// detail.
func writeDoctorTable(w io.Writer, checks []store.Check) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tRESULT\tDETAIL")
	for _, c := range checks {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Name, strings.ToUpper(c.Status), c.Detail)
	}
	return tw.Flush()
}
