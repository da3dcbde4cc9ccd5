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
	"loandesk/web"
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
	mux := http.NewServeMux()
	mux.Handle("GET "+deploy.MetricsPath, m.Handler())
	return serveAside("METRICS_ADDR", "metrics", addr, mux, deploy.MetricsPath, logger)
}

// servePprof serves the runtime's profiles (web.ProfileHandler) on addr,
// a loopback address (config checks), for `go tool pprof` under load;
// an empty addr serves nothing.
func servePprof(addr string, logger *slog.Logger) (stop func(), err error) {
	return serveAside("PPROF_ADDR", "profiles", addr, web.ProfileHandler(), "/debug/pprof/", logger)
}

// serveAside serves h (what it serves, for the log) on its own listener
// at addr (the setting that asked for it) until the returned stop is
// called.
func serveAside(setting, what, addr string, h http.Handler, path string, logger *slog.Logger) (stop func(), err error) {
	if addr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s: listen on %s: %w", setting, addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	if setting == "METRICS_ADDR" {
		srv.WriteTimeout = 30 * time.Second // a CPU profile takes as long as it is asked to
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error(what+" server", "setting", setting, "err", err)
		}
	})
	logger.Info("serving "+what, "url", "http://"+displayAddr(ln.Addr())+path)
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
