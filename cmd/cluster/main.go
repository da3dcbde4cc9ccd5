// Command cluster runs Loan Desk's scale-out topology on one machine
// (package cluster): `loandesk db`, web and job processes on it, and
// nginx in front with deploy/nginx/one-machine.conf, on free loopback
// ports. For the browser spec (e2e/topology.spec.ts) and load runs
// through nginx; Procfile.cluster is the same for people, on fixed ports.
//
//	go run ./cmd/cluster [-binary BIN] [-data DIR] [-seed N] [-web 3] [-jobs 2] [-workers 3] [-control]
//
// When every process answers it prints one JSON line on standard output:
// {"url": nginx, "mongoURI", "db": {"name", "url", "pid"}, "web": [{…}], "jobs": […]}.
// It runs until SIGINT or SIGTERM, then stops nginx, the web and job
// processes and the database in that order. Settings for the loandesk
// processes come from its environment (ADMIN_EMAIL, ADMIN_PASSWORD,
// ADMIN_TOKEN, TWO_FACTOR_ROLES, …).
//
// With -control it also reads commands from standard input, one a line,
// and answers each with one JSON line: "kill N" (SIGKILL web process N,
// from 1), "start N" (start it again on its port, answered once ready),
// "log" (nginx's access log so far: {"accessLog": [lines]}). The end of
// its input stops it, as a signal does.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"loandesk/cluster"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		os.Exit(1)
	}
}

type proc struct {
	Name string `json:"name"`
	URL  string `json:"url"`
	Pid  int    `json:"pid"`
}

func procs(ps []*cluster.Proc) []proc {
	out := make([]proc, len(ps))
	for i, p := range ps {
		out[i] = proc{Name: p.Name, URL: p.URL(), Pid: p.Pid()}
	}
	return out
}

func run() error {
	binary := flag.String("binary", "", "a built loandesk (default: go build this repository's)")
	data := flag.String("data", "", "the DATA_DIR loandesk db serves (default: a new temporary one, removed at the end)")
	seed := flag.Int("seed", 0, "first load this many synthetic applications into DATA_DIR (loandesk seed, before db starts)")
	web := flag.Int("web", 3, "web processes: as many as the nginx configuration's upstream servers")
	jobs := flag.Int("jobs", 2, "job processes")
	workers := flag.Int("workers", 3, "JOB_WORKERS of each job process (each runner adds its own scoring worker)")
	control := flag.Bool("control", false, "read kill N / start N / log commands from standard input; its end stops the cluster")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	moduleDir, err := cluster.ModuleDir(wd)
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "loandesk-cluster-cmd-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	if *binary == "" {
		if *binary, err = cluster.Build(ctx, moduleDir, work); err != nil {
			return err
		}
	}
	dataDir := *data
	if dataDir == "" {
		dataDir = filepath.Join(work, "data")
	}
	if *seed > 0 {
		cmd := exec.CommandContext(ctx, *binary, "seed", "-n", strconv.Itoa(*seed))
		cmd.Env = append(os.Environ(), "DATA_DIR="+dataDir, "MONGO_URI=", "LOG_LEVEL=warn")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	}
	c, err := cluster.Start(ctx, cluster.Options{
		Binary: *binary, DataDir: dataDir, NginxConf: filepath.Join(moduleDir, "deploy/nginx/one-machine.conf"),
		Web: *web, Jobs: *jobs, JobWorkers: *workers, Log: os.Stderr,
	})
	if err != nil {
		return err
	}
	defer c.Stop()
	out := json.NewEncoder(os.Stdout)
	if err := out.Encode(map[string]any{"url": c.URL, "mongoURI": c.MongoURI, "db": procs([]*cluster.Proc{c.DB})[0], "web": procs(c.Web), "jobs": procs(c.Jobs)}); err != nil {
		return err
	}
	if !*control {
		<-ctx.Done()
		return nil
	}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case line, ok := <-lines:
			if !ok {
				return nil
			}
			answer := command(ctx, c, line)
			if err := out.Encode(answer); err != nil {
				return err
			}
		}
	}
}

// command runs one control line and returns its answer.
func command(ctx context.Context, c *cluster.Cluster, line string) map[string]any {
	f := strings.Fields(line)
	if len(f) == 1 && f[0] == "log" {
		return map[string]any{"accessLog": c.AccessLog()}
	}
	if len(f) != 2 || f[0] != "kill" && f[0] != "start" {
		return map[string]any{"error": fmt.Sprintf("unknown command %q: kill N, start N or log", line)}
	}
	n, err := strconv.Atoi(f[1])
	if err != nil || n < 1 || n > len(c.Web) {
		return map[string]any{"error": fmt.Sprintf("no web process %q (1 to %d)", f[1], len(c.Web))}
	}
	if f[0] == "kill" {
		err = c.KillWeb(n - 1)
	} else {
		err = c.StartWeb(ctx, n-1)
	}
	if err != nil {
		return map[string]any{"error": err.Error()}
	}
	return map[string]any{"ok": true, "web": procs(c.Web)}
}
