package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"loandesk/deploy"
	"loandesk/metrics"
	"loandesk/store"
)

// openStore opens the configured database with its lock metrics going to
// m, and adds the queue's collector to m.
func openStore(ctx context.Context, cfg config, logger *slog.Logger, m *metrics.Metrics) (*store.Store, error) {
	sc := cfg.Store(logger)
	sc.Locks = m
	st, err := store.Open(ctx, sc)
	if err != nil {
		return nil, err
	}
	if err := m.Register(metrics.NewQueueCollector(queueSnapshot(st), 5*time.Second)); err != nil {
		_ = st.Close(context.Background())
		return nil, err
	}
	return st, nil
}

// queueSnapshot reads the queue for a metrics scrape.
func queueSnapshot(st *store.Store) func(context.Context) (metrics.QueueSnapshot, error) {
	return func(ctx context.Context) (metrics.QueueSnapshot, error) {
		qs, err := st.QueueStats(ctx, store.EventTypes)
		if err != nil {
			return metrics.QueueSnapshot{}, err
		}
		oldest, err := st.QueueOldestPending(ctx, store.EventTypes)
		if err != nil {
			return metrics.QueueSnapshot{}, err
		}
		return metrics.QueueSnapshot{Counts: qs.Counts, OldestPending: oldest, Workers: len(qs.Workers)}, nil
	}
}

// serveMetrics serves m at /metrics on addr, without authentication,
// until the returned stop is called; an empty addr serves nothing.
func serveMetrics(addr string, m *metrics.Metrics, logger *slog.Logger) (stop func(), err error) {
	if addr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("METRICS_ADDR: listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+deploy.MetricsPath, m.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("metrics server", "err", err)
		}
	})
	logger.Info("serving metrics", "url", "http://"+displayAddr(ln.Addr())+deploy.MetricsPath)
	var once sync.Once
	return func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(ctx)
			wg.Wait()
		})
	}, nil
}
