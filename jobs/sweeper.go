package jobs

import (
	"context"
	"log/slog"
	"time"

	"loandesk/store"
)

// SweepAge is how long a document may wait pending before the sweeper
// publishes its OCR (its upload normally did, at once).
const SweepAge = 30 * time.Second

// Sweep publishes the OCR of documents stored without their event (the
// process died between the two), every interval until ctx ends.
// Publishing is idempotent (the document's dedupe key), so sweeping a
// document whose event exists changes nothing.
func Sweep(ctx context.Context, st *store.Store, interval, age time.Duration, logger *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		sweepOnce(ctx, st, age, logger)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func sweepOnce(ctx context.Context, st *store.Store, age time.Duration, logger *slog.Logger) {
	docs, err := st.DocumentsAwaitingOCR(ctx, time.Now().Add(-age), 500)
	if err != nil {
		if ctx.Err() == nil {
			logger.Error("sweeper: listing documents awaiting OCR failed", "err", err)
		}
		return
	}
	for _, d := range docs {
		if _, err := st.PublishDocumentOCR(ctx, d); err != nil && ctx.Err() == nil {
			logger.Error("sweeper: publishing a document's OCR failed", "document", d.ID.Hex(), "err", err)
		}
	}
}
