package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// App is the server under test: one the tool started (the embedded
// engine in a fresh DATA_DIR, seeded), or one already running at Base.
type App struct {
	Base     string // http://127.0.0.1:PORT, no trailing slash
	Email    string // an admin's sign-in: creates the staff users
	Password string
	// EnrolAdmin lets the tool enrol its admin in two-factor sign-in
	// when the app asks (TWO_FACTOR_ROLES includes admin, the default):
	// true for an app it started, never for a running app's admin.
	EnrolAdmin bool
	Token      string // the shared API token, for the seed scenario
	Loans      int    // seeded applications (0 when not started here)

	cmd     *exec.Cmd
	dataDir string
}

// Credentials of the admin a started app is given.
const (
	adminEmail    = "load-admin@loandesk.test"
	adminPassword = "load-test-password-9f3k2"
	adminToken    = "load-test-token-7d1c9a0b2e4f6a8c"
)

// StartOptions say how to start the app.
type StartOptions struct {
	Binary string // a built loandesk; empty: `go build` the module in ModuleDir
	// ModuleDir is the repository (where go.mod is); empty: found from
	// the working directory.
	ModuleDir string
	Loans     int       // applications to seed
	Log       io.Writer // the app's log (nil: discarded)
	// Env adds settings (KEY=value) to the app's environment.
	Env []string
}

// Start builds (unless given a binary), seeds and serves the app on a
// free loopback port, and waits until /ready answers 200.
func Start(ctx context.Context, o StartOptions) (*App, error) {
	work, err := os.MkdirTemp("", "loandesk-load-")
	if err != nil {
		return nil, err
	}
	a := &App{Email: adminEmail, Password: adminPassword, Token: adminToken, Loans: o.Loans, EnrolAdmin: true, dataDir: work}
	bin := o.Binary
	if bin == "" {
		dir := o.ModuleDir
		if dir == "" {
			if dir, err = moduleDir(); err != nil {
				return nil, err
			}
		}
		bin = filepath.Join(work, "loandesk")
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
		build.Dir, build.Stdout, build.Stderr = dir, os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return nil, fmt.Errorf("build loandesk: %w", err)
		}
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	env := append(os.Environ(),
		"DATA_DIR="+filepath.Join(work, "data"), "HOST=127.0.0.1", "PORT="+strconv.Itoa(port),
		"ADMIN_EMAIL="+adminEmail, "ADMIN_PASSWORD="+adminPassword, "ADMIN_TOKEN="+adminToken,
		"LOG_LEVEL=warn")
	env = append(env, o.Env...)
	logTo := o.Log
	if logTo == nil {
		logTo = io.Discard
	}
	if o.Loans > 0 {
		seed := exec.CommandContext(ctx, bin, "seed", "-n", strconv.Itoa(o.Loans))
		seed.Env, seed.Stdout, seed.Stderr = env, logTo, logTo
		if err := seed.Run(); err != nil {
			return nil, fmt.Errorf("seed %d loans: %w", o.Loans, err)
		}
	}
	a.cmd = exec.Command(bin, "serve")
	a.cmd.Env, a.cmd.Stdout, a.cmd.Stderr = env, logTo, logTo
	a.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the tool
	if err := a.cmd.Start(); err != nil {
		return nil, err
	}
	a.Base = fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		res, err := http.Get(a.Base + "/ready")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return a, nil
			}
		}
		if time.Now().After(deadline) {
			a.Stop()
			return nil, errors.New("the app did not become ready within 2 minutes")
		}
		select {
		case <-ctx.Done():
			a.Stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Stop ends a started app (SIGTERM, then SIGKILL after 10 s) and removes
// its data.
func (a *App) Stop() {
	if a.cmd != nil && a.cmd.Process != nil {
		_ = a.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = a.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = a.cmd.Process.Kill()
			<-done
		}
	}
	if a.dataDir != "" {
		_ = os.RemoveAll(a.dataDir)
	}
}

// CPU is the CPU time the app's process has used so far (user + system),
// or 0 when the tool did not start it.
func (a *App) CPU() time.Duration {
	if a.cmd == nil || a.cmd.Process == nil {
		return 0
	}
	return processCPU(a.cmd.Process.Pid)
}

// processCPU reads a process's user and system time from /proc.
func processCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces) start at ")".
	rest := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(rest) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(rest[11], 10, 64)
	stime, _ := strconv.ParseInt(rest[12], 10, 64)
	const ticksPerSecond = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticksPerSecond
}

// ToolCPU is the CPU time this process has used so far.
func ToolCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// moduleDir finds the repository: the nearest go.mod above the working
// directory.
func moduleDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory: run from the repository or pass -binary")
		}
		dir = parent
	}
}
