package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"loandesk/deploy"
)

// Every command's -h and --help print its usage to stdout and exit 0
// without reading the environment, opening the database or creating
// DATA_DIR (even with a configuration that would not load).
func TestRun_HelpTouchesNothing(t *testing.T) {
	t.Parallel()
	for _, cmd := range commands() {
		for _, form := range [][]string{{cmd.name, "-h"}, {cmd.name, "--help"}, {cmd.name, "-help"}, {"help", cmd.name}} {
			t.Run(strings.Join(form, "_"), func(t *testing.T) {
				t.Parallel()
				dataDir := filepath.Join(t.TempDir(), "data")
				vars := map[string]string{"DATA_DIR": dataDir, "PORT": "not a port"}
				var stdout, stderr bytes.Buffer
				err := run(context.Background(), form, env(vars), &stdout, &stderr)
				if err != nil || exitCode(err) != 0 {
					t.Fatalf("exit %d: %v\nstderr: %s", exitCode(err), err, stderr.String())
				}
				if !strings.HasPrefix(stdout.String(), "Usage: loandesk "+cmd.name) || !strings.Contains(stdout.String(), "-h, --help") {
					t.Fatalf("usage on stdout:\n%s", stdout.String())
				}
				if stderr.Len() != 0 {
					t.Fatalf("stderr: %s", stderr.String())
				}
				if _, err := os.Stat(dataDir); !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("DATA_DIR %s: %v (want it not created)", dataDir, err)
				}
			})
		}
	}
}

// The program's help lists every command and every environment
// variable.
func TestRun_ProgramHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}} {
		var stdout, stderr bytes.Buffer
		dataDir := filepath.Join(t.TempDir(), "data")
		if err := run(context.Background(), args, env(map[string]string{"DATA_DIR": dataDir}), &stdout, &stderr); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		for _, c := range commands() {
			if !strings.Contains(stdout.String(), "\n  "+c.name) {
				t.Errorf("%v: command %s not listed", args, c.name)
			}
		}
		for _, v := range deploy.Variables() {
			if !strings.Contains(stdout.String(), "\n  "+v.Name+" ") {
				t.Errorf("%v: variable %s not listed", args, v.Name)
			}
		}
		if _, err := os.Stat(dataDir); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("DATA_DIR created: %v", err)
		}
	}
}

// Unknown flags, unknown commands, stray and missing arguments are
// usage errors (exit 2) that name the problem and print the usage to
// stderr, and run nothing.
func TestRun_UsageErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"jobs", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"serve", "-x"}, "flag provided but not defined: -x"},
		{[]string{"--port=3000"}, "loandesk serve: flag provided but not defined: -port"},
		{[]string{"seed", "-n", "many"}, `invalid value "many" for flag -n`},
		{[]string{"serve", "extra"}, `unexpected argument "extra"`},
		{[]string{"jobs", "now"}, `unexpected argument "now"`},
		{[]string{"version", "--short"}, "flag provided but not defined: -short"},
		{[]string{"backup"}, "missing FILE"},
		{[]string{"backup", "a", "b"}, `unexpected argument "b"`},
		{[]string{"restore"}, "missing FILE"},
		{[]string{"help", "nope"}, `unknown command "nope"`},
		{[]string{"serv"}, `unknown command "serv"`},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, "_"), func(t *testing.T) {
			t.Parallel()
			dataDir := filepath.Join(t.TempDir(), "data")
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), c.args, env(map[string]string{"DATA_DIR": dataDir}), &stdout, &stderr)
			if exitCode(err) != 2 {
				t.Fatalf("exit %d (%v), want 2", exitCode(err), err)
			}
			if !strings.Contains(stderr.String(), c.want) || !strings.Contains(stderr.String(), "Usage: loandesk") {
				t.Fatalf("stderr does not say %q with the usage:\n%s", c.want, stderr.String())
			}
			if stdout.Len() != 0 {
				t.Fatalf("stdout: %s", stdout.String())
			}
			if _, err := os.Stat(dataDir); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("DATA_DIR created: %v", err)
			}
		})
	}
}

// health exits 0 when the URL answers 200, 1 otherwise; it reads PORT
// for its default URL and opens no database.
func TestRun_Health(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/health" {
			http.Error(w, "down", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	dataDir := filepath.Join(t.TempDir(), "data")
	vars := map[string]string{"PORT": port, "DATA_DIR": dataDir}
	var stdout bytes.Buffer
	if err := run(context.Background(), []string{"health"}, env(vars), &stdout, io.Discard); err != nil || !strings.Contains(stdout.String(), "200") {
		t.Fatalf("healthy: %v %q", err, stdout.String())
	}
	if err := run(context.Background(), []string{"health", "-url", srv.URL + "/ready"}, env(vars), io.Discard, io.Discard); exitCode(err) != 1 || !strings.Contains(err.Error(), "503") {
		t.Fatalf("unhealthy: %v", err)
	}
	if _, err := os.Stat(dataDir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("DATA_DIR created: %v", err)
	}
}

func TestExitCode(t *testing.T) {
	t.Parallel()
	if exitCode(nil) != 0 || exitCode(errUsage) != 2 || exitCode(errors.New("database in use")) != 1 {
		t.Fatal("exit codes: want 0 for success, 2 for usage, 1 for failures")
	}
}

// A configuration error is reported only once the command line is
// understood, and is an ordinary failure (exit 1).
func TestRun_BadConfigurationFailsTheCommand(t *testing.T) {
	t.Parallel()
	err := run(context.Background(), []string{"jobs"}, env(map[string]string{"PORT": "http", "DATA_DIR": t.TempDir()}), io.Discard, io.Discard)
	if exitCode(err) != 1 || !strings.Contains(err.Error(), "PORT") {
		t.Fatalf("got %v", err)
	}
}

func TestRun_Version(t *testing.T) {
	t.Parallel()
	var stdout bytes.Buffer
	for _, args := range [][]string{{"version"}, {"--version"}} {
		stdout.Reset()
		if err := run(context.Background(), args, env(map[string]string{"PORT": "bad"}), &stdout, io.Discard); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(stdout.String(), "loandesk ") || !strings.Contains(stdout.String(), "go1.") {
			t.Fatalf("%v:\n%s", args, stdout.String())
		}
	}

	t.Run("BuildInfo", func(t *testing.T) {
		t.Parallel()
		bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "loandesk", Version: "v1.4.0"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "7016fcc24b477c20a089b755db51115875e2fdb2"},
			{Key: "vcs.time", Value: "2026-11-30T22:47:21Z"},
			{Key: "vcs.modified", Value: "true"},
			{Key: "CGO_ENABLED", Value: "0"},
		}}
		got := versionText(bi, true)
		for _, want := range []string{"loandesk v1.4.0\n", "7016fcc24b477c20a089b755db51115875e2fdb2 (modified)", "2026-11-30T22:47:21Z", "go1.26.8 ", "cgo          off"} {
			if !strings.Contains(got, want) {
				t.Errorf("missing %q in:\n%s", want, got)
			}
		}
		if got := versionText(nil, false); !strings.HasPrefix(got, "loandesk (devel)\n") || !strings.Contains(got, "revision     unknown") {
			t.Errorf("without build info:\n%s", got)
		}
	})
}

// The configuration table (deploy.Variables) is exactly what loadConfig
// reads, and the README's Configuration table lists every variable.
func TestConfigTable(t *testing.T) {
	t.Parallel()
	var read []string
	if _, err := loadConfig(func(k string) string { read = append(read, k); return "" }); err != nil {
		t.Fatal(err)
	}
	var table []string
	for _, v := range deploy.Variables() {
		table = append(table, v.Name)
	}
	slices.Sort(read)
	read = slices.Compact(read)
	slices.Sort(table)
	if !slices.Equal(read, table) {
		t.Fatalf("loadConfig reads %v\ndeploy.Variables lists %v", read, table)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range table {
		if !strings.Contains(string(readme), "`"+name+"`") {
			t.Errorf("README.md does not document %s", name)
		}
	}
}

// SERVE_JOBS=false on the embedded database is refused before anything
// is created: no process could run that database's jobs, and a web
// process of a shared database restarted without its MONGO_URI would
// otherwise serve an empty database of its own behind the load balancer.
func TestRun_ServeJobsFalseNeedsMongoURI(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")
	vars := map[string]string{"DATA_DIR": dataDir, "PORT": "0", "HOST": "127.0.0.1", "SERVE_JOBS": "false"}
	err := run(context.Background(), []string{"serve"}, env(vars), io.Discard, io.Discard)
	if err == nil || exitCode(err) == 0 || !strings.Contains(err.Error(), "SERVE_JOBS=false needs MONGO_URI") {
		t.Fatalf("got %v (exit %d), want the refusal naming MONGO_URI", err, exitCode(err))
	}
	if _, err := os.Stat(dataDir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("DATA_DIR %s: %v (want it not created)", dataDir, err)
	}
}
