package jobs

import (
	"context"
	"log/slog"
	"time"

	"loandesk/clock"
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
	(&Sweeper{Store: st, Interval: interval, Age: age, Logger: logger}).Run(ctx)
}

// Sweeper is Sweep with its clock: it publishes the OCR of documents
// pending for longer than Age, every Interval.
type Sweeper struct {
	Store    *store.Store
	Interval time.Duration // between sweeps (real time)
	Age      time.Duration // how long a document waits before it is swept
	Logger   *slog.Logger
	// Now is the clock documents' ages are measured by (the wall clock
	// when nil).
	Now clock.Func

	swept chan<- struct{} // test signal (see testSignals): a sweep ended
}

// Run sweeps at once, then every Interval until ctx ends.
func (s *Sweeper) Run(ctx context.Context) {
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	t := time.NewTicker(s.Interval)
	defer t.Stop()
	for {
		s.sweepOnce(ctx)
		signal(s.swept)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Sweeper) sweepOnce(ctx context.Context) {
	docs, err := s.Store.DocumentsAwaitingOCR(ctx, s.Now.Now().Add(-s.Age), 500)
	if err != nil {
		if ctx.Err() == nil {
			s.Logger.Error("sweeper: listing documents awaiting OCR failed", "err", err)
		}
		return
	}
	for _, d := range docs {
		if _, err := s.Store.PublishDocumentOCR(ctx, d); err != nil && ctx.Err() == nil {
			s.Logger.Error("sweeper: publishing a document's OCR failed", "document", d.ID.Hex(), "err", err)
		}
	}
}
