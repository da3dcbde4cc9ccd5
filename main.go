// Command loandesk is the Loan Desk admin console for lenders.
//
//	loandesk [serve]              run the web server (default)
//	loandesk jobs                 run the job runner only
//	loandesk db [-addr A]         serve DATA_DIR to other processes (MongoDB protocol)
//	loandesk seed [-n N] [-seed S] load N synthetic loan applications
//	loandesk backup FILE          snapshot the embedded database (server may run)
//	loandesk restore FILE         load a snapshot into an empty DATA_DIR
//	loandesk health [-url U]      exit 0 if this host's server answers /health
//	loandesk version              print the version and build information
//	loandesk help [COMMAND]       the commands and the environment
//
// Every command takes -h. Configuration comes from the environment
// (deploy.Variables); see README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"sync"
	"syscall"
	"time"
	_ "time/tzdata" // TIME_ZONE works on hosts and images without a zoneinfo database

	"loandesk/auth"
	"loandesk/gcpolicy"
	"loandesk/jobs"
	"loandesk/metrics"
	"loandesk/ocr"
	"loandesk/seed"
	"loandesk/store"
	"loandesk/web"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	if err != nil && !errors.Is(err, errUsage) { // a usage error was printed with the usage
		fmt.Fprintln(os.Stderr, "loandesk:", err)
	}
	stop()
	os.Exit(exitCode(err))
}

// errServeJobsNeedsMongo refuses SERVE_JOBS=false on the embedded
// database (see serve).
var errServeJobsNeedsMongo = errors.New("SERVE_JOBS=false needs MONGO_URI: on the embedded database (DATA_DIR) only this process can run the jobs, so they would never run; set MONGO_URI to the shared database (for example mongodb://127.0.0.1:27017/loandesk from `loandesk db`), or leave SERVE_JOBS unset")

func serve(ctx context.Context, cfg config, logger *slog.Logger) error {
	if err := applyGCPolicy(cfg, logger); err != nil {
		return err
	}
	m := metrics.New()
	if cfg.ServeJobs == "false" && cfg.MongoURI == "" {
		// The embedded database belongs to this process alone, so no
		// `loandesk jobs` could ever run its jobs: uploads would wait
		// for OCR for good. Most often a web process of a shared
		// database restarted without its MONGO_URI, which would start
		// an empty database of its own behind the load balancer.
		return errServeJobsNeedsMongo
	}
	st, err := openStore(ctx, cfg, logger, m)
	if err != nil {
		return err
	}
	defer func() {
		if err := st.Close(context.Background()); err != nil {
			logger.Error("close database", "err", err)
		}
	}()

	firstRun, err := isEmpty(ctx, st)
	if err != nil {
		return err
	}
	if err := ensureAdmin(ctx, st, cfg, logger); err != nil {
		return err
	}
	if err := ensureAdminToken(ctx, st, cfg.AdminToken, logger); err != nil {
		return err
	}
	if firstRun && st.Embedded() {
		n, err := seed.Load(ctx, st, demoLoans, 1, time.Now())
		if err != nil {
			return fmt.Errorf("load demo data: %w", err)
		}
		logger.Info("new embedded database: loaded demo loan applications", "count", n)
	}

	if err := st.ServeBackups(ctx, cfg.DataDir, logger); err != nil {
		// Serving works without it; only online backups are unavailable.
		logger.Warn("online backups unavailable", "err", err)
	}
	webCfg := cfg.Web
	webCfg.Metrics = m
	srv, err := web.New(webCfg, st, logger)
	if err != nil {
		return err
	}
	stopMetrics, err := serveMetrics(cfg.MetricsAddr, m, logger)
	if err != nil {
		return err
	}
	defer stopMetrics()
	stopPprof, err := servePprof(cfg.PprofAddr, logger)
	if err != nil {
		return err
	}
	defer stopPprof()
	httpSrv := web.HTTPServer(net.JoinHostPort(cfg.Host, cfg.Port), srv, logger)
	ln, err := net.Listen("tcp", httpSrv.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", httpSrv.Addr, err)
	}
	engine := "mongodb"
	if st.Embedded() {
		engine = "embedded (" + cfg.DataDir + ")"
	}
	logger.Info("Loan Desk is serving", "url", "http://"+displayAddr(ln.Addr()), "database", engine)

	stopJobs := func() {}
	if cfg.ServeJobs == "true" || cfg.ServeJobs == "auto" && st.Embedded() {
		stopJobs = startJobs(ctx, st, cfg, logger, m)
	}
	defer stopJobs()

	errc := make(chan error, 1)
	go func() { errc <- httpSrv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down: finishing in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := httpSrv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	stopJobs()
	logger.Info("stopped")
	return nil
}

// startJobs runs the job runner and the document sweeper until the
// returned stop is called (or ctx ends); stop waits for them.
func startJobs(ctx context.Context, st *store.Store, cfg config, logger *slog.Logger, m *metrics.Metrics) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	if err := ocr.CheckPrograms(); err != nil {
		// Documents are then not read (without prlimit none at all): said
		// once here, and on each document.
		logger.Error("OCR programs missing: documents cannot be read", "err", err)
	}
	r := &jobs.Runner{Queue: st, Handlers: jobs.Handlers(st, cfg.LoanService(st), logger), Workers: cfg.JobWorkers, Logger: logger,
		Dedicated: jobs.DefaultDedicated, Observe: m.ObserveJob}
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := r.Run(ctx); err != nil {
			logger.Error("job runner", "err", err)
		}
	})
	wg.Go(func() { jobs.Sweep(ctx, st, time.Minute, jobs.SweepAge, logger) })
	var once sync.Once
	return func() { once.Do(func() { cancel(); wg.Wait() }) }
}

// applyGCPolicy sets the garbage collector for a long-running process
// (see package gcpolicy) and logs what it chose.
func applyGCPolicy(cfg config, logger *slog.Logger) error {
	p, err := gcpolicy.Apply(func(name string) string { return cfg.GC[name] })
	if err != nil {
		return err
	}
	logger.Info("garbage collector", p.LogAttrs()...)
	return nil
}

// jobsCommand runs only the job runner: for MongoDB deployments, as many
// processes as the queue needs.
func jobsCommand(ctx context.Context, cfg config, logger *slog.Logger) error {
	if err := applyGCPolicy(cfg, logger); err != nil {
		return err
	}
	m := metrics.New()
	st, err := openStore(ctx, cfg, logger, m)
	if err != nil {
		return err
	}
	defer st.Close(context.Background())
	stopMetrics, err := serveMetrics(cfg.MetricsAddr, m, logger)
	if err != nil {
		return err
	}
	defer stopMetrics()
	stopPprof, err := servePprof(cfg.PprofAddr, logger)
	if err != nil {
		return err
	}
	defer stopPprof()
	if st.Embedded() {
		logger.Info("the embedded database belongs to one process: `serve` already runs the jobs; this runs them without the web server")
	}
	stop := startJobs(ctx, st, cfg, logger, m)
	<-ctx.Done()
	logger.Info("shutting down: finishing running jobs")
	stop()
	return nil
}

// demoLoans is the size of the demo set a new embedded database gets.
const demoLoans = 200

// isEmpty reports whether the database has neither users nor loans: a
// first run.
func isEmpty(ctx context.Context, st *store.Store) (bool, error) {
	users, err := st.UserCount(ctx)
	if err != nil {
		return false, err
	}
	loans, err := st.LoanCount(ctx)
	if err != nil {
		return false, err
	}
	return users == 0 && loans == 0, nil
}

// adminTokenName is the API token ADMIN_TOKEN sets.
const adminTokenName = "ADMIN_TOKEN"

// ensureAdminToken makes ADMIN_TOKEN a working admin API token, or, when
// it is unset, revokes the one an earlier start set: the environment is
// the token's only source.
func ensureAdminToken(ctx context.Context, st *store.Store, token string, logger *slog.Logger) error {
	if token == "" {
		return st.APITokenDelete(ctx, adminTokenName)
	}
	if err := st.APITokenSet(ctx, adminTokenName, token, auth.RoleAdmin); err != nil {
		return err
	}
	logger.Info("API token from ADMIN_TOKEN is active")
	return nil
}

// ensureAdmin makes ADMIN_EMAIL an admin with ADMIN_PASSWORD when both are
// set. Otherwise, if there are no users at all, it creates
// admin@localhost with a random password, shown once on the terminal or
// written to a 0600 file in DATA_DIR (never logged).
func ensureAdmin(ctx context.Context, st *store.Store, cfg config, logger *slog.Logger) error {
	hasher := auth.NewHasher(cfg.Web.BcryptCost)
	if cfg.AdminEmail != "" && cfg.AdminPassword != "" {
		// The operator's choice is kept (refusing it would stop the
		// server), but a weak one is named at every start.
		if err := auth.CheckPassword(cfg.AdminPassword, cfg.AdminEmail, "Administrator"); err != nil {
			logger.Warn("ADMIN_PASSWORD is weak: choose another", "reason", err.Error())
		}
		u, err := st.UserByEmail(ctx, cfg.AdminEmail)
		switch {
		case errors.Is(err, store.ErrNotFound):
			hash, err := hasher.Hash(cfg.AdminPassword)
			if err != nil {
				return err
			}
			if _, err := st.UserCreate(ctx, store.UserCreateParams{Email: cfg.AdminEmail, Name: "Administrator", Role: auth.RoleAdmin, PasswordHash: hash}); err != nil {
				return err
			}
			logger.Info("created admin from ADMIN_EMAIL", "email", store.NormalizeEmail(cfg.AdminEmail))
		case err != nil:
			return err
		case u.Role != auth.RoleAdmin || !hasher.Check(u.PasswordHash, cfg.AdminPassword) || hasher.NeedsRehash(u.PasswordHash):
			hash, err := hasher.Hash(cfg.AdminPassword)
			if err != nil {
				return err
			}
			if err := st.UserUpdateAccess(ctx, u.ID, auth.RoleAdmin, hash); err != nil {
				return err
			}
			logger.Info("updated admin from ADMIN_EMAIL/ADMIN_PASSWORD", "email", u.Email)
		}
		return nil
	}
	n, err := st.UserCount(ctx)
	if err != nil || n > 0 {
		return err
	}
	password := auth.RandomPassword()
	hash, err := hasher.Hash(password)
	if err != nil {
		return err
	}
	if _, err := st.UserCreate(ctx, store.UserCreateParams{Email: "admin@localhost", Name: "Administrator", Role: auth.RoleAdmin, PasswordHash: hash,
		MustChangePassword: true}); err != nil {
		return err
	}
	// Never to the log: to the operator's terminal, or a 0600 file.
	path, err := deliverFirstPassword(terminal(os.Stderr), cfg.DataDir, "admin@localhost", password)
	if err != nil {
		return err
	}
	if path == "" {
		logger.Warn("no users and no ADMIN_EMAIL/ADMIN_PASSWORD: created the first admin admin@localhost; its password is shown on the terminal once", "email", "admin@localhost")
	} else {
		logger.Warn("no users and no ADMIN_EMAIL/ADMIN_PASSWORD: created the first admin admin@localhost; its password is in a file only this user can read, delete it after signing in",
			"email", "admin@localhost", "file", path)
	}
	return nil
}

// seedCommand loads n synthetic applications; seedValue 0 draws a seed.
func seedCommand(ctx context.Context, cfg config, logger *slog.Logger, n int, seedValue uint64) error {
	if n < 1 || n > 10_000_000 {
		return fmt.Errorf("seed: -n must be between 1 and 10000000")
	}
	if seedValue == 0 {
		seedValue = uint64(time.Now().UnixNano())
	}
	st, err := store.Open(ctx, cfg.Store(logger))
	if err != nil {
		return err
	}
	defer st.Close(context.Background())
	// A bulk load allocates fast and keeps most of it: collecting when the
	// heap has grown 4× instead of 2× halves the time (on 100k loans,
	// 10.8 s to 6.4 s) for a command that exits when done.
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	start := time.Now()
	done, err := seed.Load(ctx, st, n, seedValue, time.Now())
	logger.Info("seeded loan applications", "count", done, "seed", seedValue, "duration", time.Since(start).Round(time.Millisecond))
	return err
}

// backupCommand writes a consistent snapshot of the embedded database.
// While the server runs it holds DATA_DIR, so the snapshot comes from the
// server over DATA_DIR/backup.sock; otherwise this process opens DATA_DIR.
func backupCommand(ctx context.Context, cfg config, logger *slog.Logger, file string) error {
	if cfg.MongoURI != "" {
		return errors.New("backup is for the embedded database; back up MongoDB with mongodump")
	}
	f, err := os.OpenFile(file, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	var n int64
	st, err := store.Open(ctx, cfg.Store(logger))
	switch {
	case store.ErrInUse(err):
		n, err = store.FetchBackup(cfg.DataDir, f)
	case err == nil:
		n, err = st.Backup(f)
		_ = st.Close(context.Background())
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(file)
		return fmt.Errorf("backup: %w", err)
	}
	logger.Info("backup written", "file", file, "bytes", n)
	return nil
}

// restoreCommand makes the backup file the database in DATA_DIR.
func restoreCommand(cfg config, logger *slog.Logger, file string) error {
	if cfg.MongoURI != "" {
		return errors.New("restore is for the embedded database; restore MongoDB with mongorestore")
	}
	if err := store.Restore(file, cfg.DataDir); err != nil {
		return err
	}
	logger.Info("restored backup", "file", file, "data_dir", cfg.DataDir)
	return nil
}

func displayAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
