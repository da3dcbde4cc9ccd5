package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"loandesk/ocr"
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
race, and the distributed lock with fencing tokens, within -timeout.
It also reports (a warning, on this machine) any OCR program that is
not installed: without prlimit no document is read.
Prints a table and exits 1 naming every check that failed, so a
MongoDB-compatible server (Cosmos DB, DocumentDB, FerretDB) can be
checked before going live. The embedded database must not be open in a
running server.`

// doctorParams are doctor's flags.
type doctorParams struct {
	writers int           // goroutines in each race, 1 to 256
	ops     int           // operations per writer, 1 to 10000
	timeout time.Duration // the checks' deadline (opening the database included), above 0
}

// doctorCommand opens the configured database, runs the checks sized by
// p within p.timeout, prints the table to stdout, and returns an error
// naming the failed checks (nil when none failed; warnings do not fail).
// Checks cut off by the timeout fail with their errors; the scratch
// collections are dropped all the same.
func doctorCommand(ctx context.Context, cfg config, logger *slog.Logger, p doctorParams, stdout io.Writer) error {
	if p.writers < 1 || p.writers > 256 || p.ops < 1 || p.ops > 10000 || p.timeout <= 0 {
		return fmt.Errorf("doctor: -writers must be 1 to 256, -ops 1 to 10000 and -timeout above 0 (got %d, %d and %s)", p.writers, p.ops, p.timeout)
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	st, err := store.Open(ctx, cfg.Store(logger))
	if err != nil {
		return fmt.Errorf("doctor: %w", err)
	}
	defer st.Close(context.Background())
	checks, err := st.Doctor(ctx, store.DoctorParams{Writers: p.writers, Ops: p.ops})
	late := ""
	if errors.Is(err, context.DeadlineExceeded) {
		late, err = fmt.Sprintf("not finished within -timeout %s; ", p.timeout), nil
	}
	checks = append(checks, ocrCheck())
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
		return fmt.Errorf("doctor: %s%d of %d checks failed: %s", late, len(failed), len(checks), strings.Join(failed, "; "))
	}
	return nil
}

// ocrCheck reports whether the programs OCR runs are installed on this
// machine (a job runner's): a warning, since a web-only machine needs
// none.
func ocrCheck() store.Check {
	if err := ocr.CheckPrograms(); err != nil {
		return store.Check{Name: "OCR programs", Status: store.CheckWarn, Detail: "not installed: " + strings.TrimPrefix(err.Error(), ocr.ErrMissingTool.Error()+": ")}
	}
	return store.Check{Name: "OCR programs", Status: store.CheckPass, Detail: "prlimit, tesseract, poppler and jpegtran installed"}
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
