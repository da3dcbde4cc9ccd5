package main

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"loandesk/store"
	"loandesk/store/durable"
	"loandesk/store/embedded"
	"loandesk/store/wire"
)

// dbDefaultAddr is where `loandesk db` listens unless -addr says
// otherwise: MongoDB's port, on the loopback interface only.
const dbDefaultAddr = "127.0.0.1:27017"

// dbShutdownWait bounds how long `loandesk db` waits, after SIGTERM, for
// the commands in progress to finish and answer.
const dbShutdownWait = 20 * time.Second

// dbCommandRow is the `db` subcommand's entry in the command table.
func dbCommandRow() command {
	return command{
		name: "db", args: "[-addr HOST:PORT]", summary: "serve the embedded database to other processes over the MongoDB protocol",
		doc: `Serves the embedded database in DATA_DIR (the same files serve uses) over
the MongoDB wire protocol, so several serve and jobs processes share it:
start them with MONGO_URI=mongodb://127.0.0.1:27017/loandesk. It answers
as the primary of a one-member replica set named "loandesk"; every write
is on disk before it is acknowledged. On SIGINT or SIGTERM it stops
accepting connections, lets the commands in progress finish (up to 20 s)
and closes the database.

Without -auth-file there is no authentication: anyone who can connect can
read and change every record, so -addr must then be a loopback address
(127.0.0.1, ::1, localhost); any other is refused (exit 2). With it,
clients sign in with SCRAM-SHA-256
(MONGO_URI=mongodb://USER:PASSWORD@127.0.0.1:27017/loandesk). With
-tls-cert and -tls-key it speaks TLS only (add tls=true to MONGO_URI).

Strangers cost little. Every connection sends its first message within
10 s. With -auth-file, one that has not signed in sends messages of 16
KiB at most, is silent 30 s at most and finishes signing in within 10 s
of starting to; at -max-connections the one not signed in (without
-auth-file: not past its first message) silent longest is closed for
the new one. A message arrives within 30 s (plus 1 s per 4 MiB) of its
header, and messages being received or run hold 256 MiB at most
together.`,
		flags: func(fs *flag.FlagSet) func(context.Context, invocation) error {
			addr := fs.String("addr", dbDefaultAddr, "the TCP address to listen on")
			advertise := fs.String("advertise", "", "the host:port clients reach this server at, as hello reports it (default: the listening address)")
			maxConns := fs.Int("max-connections", 1000, "the most client connections open at once (1 to 100000)")
			authFile := fs.String("auth-file", "", "a file whose first line is USER:PASSWORD: clients must sign in as that user (SCRAM-SHA-256)")
			tlsCert := fs.String("tls-cert", "", "a PEM certificate file: serve TLS only (with -tls-key)")
			tlsKey := fs.String("tls-key", "", "the PEM private key of -tls-cert")
			return func(ctx context.Context, inv invocation) error {
				p := dbParams{Addr: *addr, Advertise: *advertise, MaxConnections: *maxConns, TLSCert: *tlsCert, TLSKey: *tlsKey}
				if *authFile != "" {
					var err error
					if p.User, p.Password, err = readAuthFile(*authFile); err != nil {
						return err
					}
				}
				err := dbCommand(ctx, inv.cfg, inv.logger, p)
				var ue dbUsageError
				if errors.As(err, &ue) {
					fmt.Fprintf(inv.stderr, "loandesk db: %s\n", ue.msg)
				}
				return err
			}
		},
	}
}

// dbParams are `loandesk db`'s flags.
type dbParams struct {
	Addr           string
	Advertise      string
	MaxConnections int
	// TTLInterval is how often documents past a TTL index's expiry are
	// deleted (default 30 s, as serve does).
	TTLInterval time.Duration
	// User and Password, when User is set, are the account clients must
	// authenticate as.
	User, Password string
	// TLSCert and TLSKey, when set, are PEM files: the server then speaks
	// TLS only (clients add tls=true, and tlsCAFile for a private CA).
	TLSCert, TLSKey string
	// Ready, when set, hears the address once the server listens (tests).
	Ready func(addr string)
}

// dbCommand serves the embedded database in cfg.DataDir over the wire
// protocol on p.Addr until ctx ends, then shuts down gracefully. It
// fails if DATA_DIR is in use by another process, the address cannot be
// listened on, or EMBEDDED_ENGINE is lungo (only the indexed engine is
// served).
func dbCommand(ctx context.Context, cfg config, logger *slog.Logger, p dbParams) error {
	if p.MaxConnections < 1 || p.MaxConnections > 100_000 {
		return fmt.Errorf("db: -max-connections must be 1 to 100000, got %d", p.MaxConnections)
	}
	if p.User == "" && !loopbackAddr(p.Addr) {
		return dbUsageError{fmt.Sprintf("-addr %s is not a loopback address, and without -auth-file anyone who can reach it could read and change every record: "+
			"give -auth-file FILE (a USER:PASSWORD line; and -tls-cert/-tls-key for other machines), or listen on 127.0.0.1", p.Addr)}
	}
	if cfg.Engine != store.EngineIndexed {
		return fmt.Errorf("db: EMBEDDED_ENGINE=%s: loandesk db serves the %s engine only", cfg.Engine, store.EngineIndexed)
	}
	if cfg.MongoURI != "" {
		logger.Info("db: MONGO_URI is for the clients; this process serves DATA_DIR", "data_dir", cfg.DataDir)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("db: create DATA_DIR %s: %w", cfg.DataDir, err)
	}
	file, err := durable.Open(filepath.Join(cfg.DataDir, store.DataFile), durable.Options{})
	if errors.Is(err, durable.ErrInUse) {
		return fmt.Errorf("db: %w: another Loan Desk process has %s open (stop it first, or use another DATA_DIR)", err, cfg.DataDir)
	}
	if err != nil {
		return fmt.Errorf("db: %w", err)
	}
	defer file.Close()
	engine, err := embedded.Open(file)
	if err != nil {
		return fmt.Errorf("db: open the database in %s: %w", cfg.DataDir, err)
	}
	defer engine.Close()

	if (p.TLSCert == "") != (p.TLSKey == "") {
		return errors.New("db: give both -tls-cert and -tls-key, or neither")
	}
	var tlsConfig *tls.Config
	if p.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(p.TLSCert, p.TLSKey)
		if err != nil {
			return fmt.Errorf("db: TLS certificate: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	ln, err := net.Listen("tcp", p.Addr)
	if err != nil {
		return fmt.Errorf("db: listen on %s: %w", p.Addr, err)
	}
	tcpAddr := ln.Addr()
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
	}
	advertise := p.Advertise
	if advertise == "" {
		advertise = ln.Addr().String()
	}
	srv, err := wire.New(wire.Config{Engine: engine, MaxConnections: p.MaxConnections, Advertise: advertise, Logger: logger, User: p.User, Password: p.Password})
	if err != nil {
		_ = ln.Close()
		return fmt.Errorf("db: %w", err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	addr := ln.Addr().String()
	warnNoAuth(logger, tcpAddr, p.User != "", tlsConfig != nil)
	if err := serveDBBackups(ctx, file, cfg.DataDir, logger); err != nil {
		logger.Warn("db: backups over the socket are unavailable", "err", err)
	}
	stopTTL := make(chan struct{})
	ttlDone := make(chan struct{})
	go func() {
		defer close(ttlDone)
		sweepExpired(engine, max(p.TTLInterval, 0), stopTTL, logger)
	}()
	logger.Info("db: serving the embedded database over the MongoDB wire protocol",
		"addr", addr, "data_dir", cfg.DataDir, "replica_set", "loandesk",
		"mongo_uri", "mongodb://"+srv.Addr()+"/"+store.DefaultDatabase)
	if p.Ready != nil {
		p.Ready(addr)
	}

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-served:
		served <- serveErr
	}
	logger.Info("db: shutting down: finishing the commands in progress")
	sctx, cancel := context.WithTimeout(context.Background(), dbShutdownWait)
	defer cancel()
	shutErr := srv.Shutdown(sctx)
	if err := <-served; !errors.Is(err, wire.ErrServerClosed) && serveErr == nil {
		serveErr = err
	}
	close(stopTTL)
	<-ttlDone
	for _, st := range srv.Stats() {
		logger.Info("db: commands served", "command", st.Name, "calls", st.Calls, "errors", st.Errors,
			"mean", (st.Total / time.Duration(max(st.Calls, 1))).Round(time.Microsecond), "max", st.Max.Round(time.Microsecond))
	}
	if shutErr != nil {
		return fmt.Errorf("db: commands still running after %s were cut off: %w", dbShutdownWait, shutErr)
	}
	if serveErr != nil {
		return fmt.Errorf("db: %w", serveErr)
	}
	logger.Info("db: stopped; every acknowledged write is on disk")
	return nil
}

// dbUsageError is a command line `loandesk db` refuses to run: the
// command prints it, and the process exits 2.
type dbUsageError struct{ msg string }

func (e dbUsageError) Error() string { return "db: " + e.msg }
func (e dbUsageError) Unwrap() error { return errUsage }

// loopbackAddr reports whether every address host:port names is on the
// loopback interface. An empty host (":27017") is every interface; a
// name must resolve to loopback addresses only.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return false
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback()
	}
	ips, err := net.LookupIP(host)
	if err != nil || len(ips) == 0 {
		return false
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return false
		}
	}
	return true
}

// warnNoAuth says loudly that the server has no authentication (unless
// it has; dbCommand has refused a non-loopback address without it), and
// that there is no TLS when it listens beyond the loopback interface.
func warnNoAuth(logger *slog.Logger, addr net.Addr, auth, withTLS bool) {
	if !auth {
		logger.Warn("db: NO AUTHENTICATION: anyone who can connect can read and change every record (see -auth-file)")
	}
	tcp, ok := addr.(*net.TCPAddr)
	if auth && !withTLS && (!ok || !tcp.IP.IsLoopback()) {
		logger.Warn("db: LISTENING BEYOND LOOPBACK WITHOUT TLS: passwords are not sent, but every record is, in the clear", "addr", addr.String())
	}
}

// readAuthFile reads USER:PASSWORD from the first line of file.
func readAuthFile(file string) (user, password string, err error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", "", fmt.Errorf("db: -auth-file: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	user, password, ok := strings.Cut(strings.TrimRight(line, "\r"), ":")
	if !ok || user == "" || password == "" {
		return "", "", fmt.Errorf("db: -auth-file %s: the first line must be USER:PASSWORD", file)
	}
	return user, password, nil
}

// sweepExpired deletes documents past their TTL index's expiry every
// interval (30 s when 0) until stop closes.
func sweepExpired(e *embedded.Engine, interval time.Duration, stop <-chan struct{}, logger *slog.Logger) {
	if interval <= 0 {
		interval = 30 * time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			if _, err := e.Expire(now); err != nil && !errors.Is(err, embedded.ErrClosed) {
				logger.Error("db: expiring TTL documents failed", "err", err)
			}
		}
	}
}

// serveDBBackups answers `loandesk backup` on DATA_DIR/backup.sock, as
// serve does (store.FetchBackup's protocol: the snapshot's size as 8
// bytes big-endian, then the snapshot), until ctx ends.
func serveDBBackups(ctx context.Context, file *durable.DB, dataDir string, logger *slog.Logger) error {
	path := filepath.Join(dataDir, store.BackupSocket)
	_ = os.Remove(path) // a stale socket from a killed process; we hold the lock
	ln, err := net.Listen("unix", path)
	if err != nil {
		return err
	}
	_ = os.Chmod(path, 0o600)
	go func() {
		<-ctx.Done()
		_ = ln.Close()
	}()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				err := file.Snapshot(func(size int64, write func(io.Writer) (int64, error)) error {
					var hdr [8]byte
					binary.BigEndian.PutUint64(hdr[:], uint64(size))
					if _, err := conn.Write(hdr[:]); err != nil {
						return err
					}
					_, err := write(conn)
					return err
				})
				if err != nil && !strings.Contains(err.Error(), "closed") {
					logger.Error("db: backup over the socket failed", "err", err)
				}
			}()
		}
	}()
	return nil
}
