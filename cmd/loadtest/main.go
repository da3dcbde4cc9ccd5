// Command loadtest drives Loan Desk the way its staff do and prints what
// they would feel (see package loadtest). By default it builds the app
// from this repository, seeds a fresh embedded database and serves it on
// a free loopback port; -base points it at a running app instead.
//
//	go run ./cmd/loadtest seed     [-loans 10000] [-admins 1000] [-requests 10]
//	go run ./cmd/loadtest mixed    [-loans 10000] [-admins 1000] [-think 1s] [-duration 60s]
//	go run ./cmd/loadtest saturate [-loans 10000] [-start 500] [-step 500] [-max 6000] [-step-for 10s]
//
// It exits 1 when a run had errors or lost an accepted edit.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"loandesk/loadtest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

const usage = `usage: loadtest seed|mixed|saturate [flags]   (loadtest SCENARIO -h for its flags)`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return errors.New("no scenario")
	}
	scenario, args := args[0], args[1:]
	fs := flag.NewFlagSet("loadtest "+scenario, flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := fs.String("base", "", "a running app's URL (default: start one here; loopback only unless -remote)")
	remote := fs.Bool("remote", false, "allow a -base that is not on this machine")
	binary := fs.String("binary", "", "a built loandesk to start (default: go build this repository)")
	loans := fs.Int("loans", 10_000, "applications to seed in the started app")
	email := fs.String("email", "", "with -base: an admin's email, signed in with the password alone (no second factor), to create the staff users")
	password := fs.String("password", "", "with -base: that admin's password")
	token := fs.String("token", "", "with -base: the app's ADMIN_TOKEN (the seed scenario and the lost-edit check)")
	admins := fs.Int("admins", 1000, "seed: clients; mixed: signed-in sessions, as staff users it creates (10 sessions each)")
	requests := fs.Int("requests", 10, "seed: list requests per admin")
	think := fs.Duration("think", time.Second, "mixed: mean pause between an admin's requests")
	duration := fs.Duration("duration", time.Minute, "mixed: how long the admins work")
	start := fs.Int("start", 500, "saturate: first rate, requests/s")
	step := fs.Int("step", 500, "saturate: rate increment")
	maxRate := fs.Int("max", 6000, "saturate: highest rate tried")
	stepFor := fs.Duration("step-for", 10*time.Second, "saturate: time at each rate")
	sessions := fs.Int("sessions", 100, "saturate: signed-in sessions the requests come from, as staff users it creates (10 sessions each)")
	seed := fs.Uint64("seed", 1, "random choices' seed")
	appLog := fs.String("app-log", "", "write the started app's log to this file")
	cpuProfile := fs.String("cpuprofile", "", "write the tool's own CPU profile to this file (profile the app with PPROF_ADDR)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	switch scenario {
	case "seed", "mixed", "saturate":
	default:
		fmt.Fprintln(stderr, usage)
		return fmt.Errorf("unknown scenario %q", scenario)
	}
	if *admins < 1 || *admins > 20_000 || *requests < 1 || *requests > 1000 || *duration > time.Hour || *maxRate > 50_000 {
		return errors.New("bounds: 1–20,000 admins, 1–1,000 requests each, at most 1 h, at most 50,000 requests/s")
	}

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}

	app, err := openApp(ctx, *base, *remote, *binary, *loans, *email, *password, *token, *appLog, stderr)
	if err != nil {
		return err
	}
	defer app.Stop()
	fmt.Fprintf(stdout, "## loadtest %s: %s, %d loans, GOMAXPROCS %d on %d CPUs, %s\n\n",
		scenario, app.Base, app.Loans, runtime.GOMAXPROCS(0), runtime.NumCPU(), time.Now().UTC().Format(time.RFC3339))

	// Sign-ins are bcrypt checks on the app's CPUs: keep them all busy.
	signInParallel := max(4, runtime.NumCPU())
	switch scenario {
	case "seed":
		res, err := loadtest.Seed(ctx, app, loadtest.SeedOptions{Admins: *admins, Requests: *requests, Spread: time.Second})
		if err != nil {
			return err
		}
		res.Print(stdout)
		return verdict(res)
	case "mixed":
		progress := func(s string) { fmt.Fprintln(stderr, s) }
		res, err := loadtest.Mixed(ctx, app, loadtest.MixedOptions{Admins: *admins, Think: *think, Duration: *duration, SignInParallel: signInParallel, Seed: *seed}, progress)
		if err != nil {
			return err
		}
		res.Print(stdout)
		return verdict(res)
	default:
		header := false // printed with the first step, after the sign-ins' progress
		steps, err := loadtest.Saturate(ctx, app, loadtest.SaturateOptions{
			Start: *start, Step: *step, Max: *maxRate, StepFor: *stepFor, Sessions: *sessions, MaxP95: 300 * time.Millisecond, Seed: *seed,
			SignInParallel: signInParallel,
		}, func(s loadtest.StepResult) {
			if !header {
				header = true
				fmt.Fprintln(stdout, "| rate | achieved req/s | p50 ms | p95 ms | p99 ms | errors | conflicts | app CPU | tool CPU | verdict |")
				fmt.Fprintln(stdout, "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
			}
			t, secs := s.Result.Summary.Total, s.Result.Summary.Seconds
			v := "pass"
			if !s.Passed {
				v = "FAIL"
			}
			fmt.Fprintf(stdout, "| %d | %.0f | %.1f | %.1f | %.1f | %d | %d | %.2f | %.2f | %s |\n", s.Rate, t.Rate, t.P50, t.P95, t.P99,
				t.Errors, s.Result.Summary.Conflicts, s.Result.AppCPU.Seconds()/secs, s.Result.ToolCPU.Seconds()/secs, v)
		}, func(s string) { fmt.Fprintln(stderr, s) })
		if err != nil {
			return err
		}
		best := 0
		for _, s := range steps {
			if s.Passed {
				best = s.Rate
			}
		}
		fmt.Fprintf(stdout, "\nhighest rate with p95 < 300 ms and errors ≤ 1 %%: %d requests/s\n\nlast step by route:\n\n", best)
		last := steps[len(steps)-1].Result
		last.Print(stdout)
		if len(last.Lost) > 0 || last.Unconfirmed > 0 {
			return errors.New("accepted edits were lost or could not be checked")
		}
		signedOut := 0
		for _, s := range steps {
			signedOut += s.Result.Summary.SignedOut
		}
		if signedOut > 0 {
			return fmt.Errorf("%d answers sent a session to sign in again (or to a first step): the sessions were not all signed in", signedOut)
		}
		return nil
	}
}

func verdict(r loadtest.Result) error {
	if !r.OK() {
		return fmt.Errorf("%d errors, %d lost edits, %d unconfirmed saves", r.Summary.Total.Errors, len(r.Lost), r.Unconfirmed)
	}
	return nil
}

// openApp starts the app here, or checks and uses the one at base.
func openApp(ctx context.Context, base string, remote bool, binary string, loans int, email, password, token, logFile string, stderr io.Writer) (*loadtest.App, error) {
	if base != "" {
		u, err := url.Parse(base)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("-base %q is not a URL", base)
		}
		if h := u.Hostname(); !remote && h != "127.0.0.1" && h != "localhost" && h != "::1" {
			return nil, fmt.Errorf("-base %s is not on this machine: add -remote to load another", base)
		}
		if email == "" || password == "" || token == "" {
			return nil, errors.New("-base needs -email and -password (an admin who signs in with the password alone: it creates the staff users the load comes from) and -token (the app's ADMIN_TOKEN)")
		}
		return &loadtest.App{Base: base, Email: email, Password: password, Token: token}, nil
	}
	var log io.Writer
	if logFile != "" {
		f, err := os.Create(logFile)
		if err != nil {
			return nil, err
		}
		log = f
	}
	fmt.Fprintf(stderr, "starting the app with %d seeded loans…\n", loans)
	return loadtest.Start(ctx, loadtest.StartOptions{Binary: binary, Loans: loans, Log: log})
}
