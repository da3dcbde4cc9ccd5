package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"runtime/debug"
	"strings"
	"text/tabwriter"
	"time"

	"loandesk/deploy"
)

// errUsage is a command line that could not be run as written: its
// message and the usage were printed already; the process exits 2, as
// the flag package's programs do.
var errUsage = errors.New("usage error")

// exitCode is the process's exit status for run's error.
func exitCode(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		return 2
	}
	return 1
}

// invocation is what a command runs with.
type invocation struct {
	cfg    config
	logger *slog.Logger
	args   []string // positional arguments, their number checked
	stdout io.Writer
	stderr io.Writer
}

// command is one subcommand: its usage and, once its flags are parsed,
// what it does.
type command struct {
	name    string
	args    string // the positional arguments, as usage shows them
	minArgs int
	maxArgs int
	summary string // one line for the command list
	doc     string // paragraphs for its own help
	// noConfig: runs without reading the environment (help, version).
	noConfig bool
	// flags defines the command's flags on fs and returns what runs
	// with their values once parsed.
	flags func(fs *flag.FlagSet) func(ctx context.Context, inv invocation) error
}

// commands is the command line, in the order help lists it.
func commands() []command {
	return []command{
		{
			name: "serve", summary: "run the web server (the default command)",
			doc: `Serves the admin console and the JSON API on HOST:PORT until SIGINT or
SIGTERM, then finishes in-flight requests (up to 20 s) and stops. On the
embedded database (no MONGO_URI) it also runs the job runner (SERVE_JOBS)
and, on its first start, loads 200 demo loan applications.`,
			flags: func(*flag.FlagSet) func(context.Context, invocation) error {
				return func(ctx context.Context, inv invocation) error { return serve(ctx, inv.cfg, inv.logger) }
			},
		},
		{
			name: "jobs", summary: "run the job runner only, without the web server",
			doc: `Claims and runs queued jobs (OCR of uploaded documents, scoring) with
JOB_WORKERS at once until SIGINT or SIGTERM; running jobs then get 10 s
before their events are released. With MONGO_URI, run as many of these
processes as the queue needs; the embedded database belongs to one
process, where serve runs the jobs itself.`,
			flags: func(*flag.FlagSet) func(context.Context, invocation) error {
				return func(ctx context.Context, inv invocation) error { return jobsCommand(ctx, inv.cfg, inv.logger) }
			},
		},
		dbCommandRow(),
		{
			name: "seed", args: "[-n N] [-seed S]", summary: "load synthetic loan applications",
			doc: `Creates N synthetic loan applications in the configured database; the
same seed gives the same applications.`,
			flags: func(fs *flag.FlagSet) func(context.Context, invocation) error {
				n := fs.Int("n", 1000, "number of loan applications to create (1 to 10000000)")
				seedValue := fs.Uint64("seed", 0, "random seed (0: a new one each run)")
				return func(ctx context.Context, inv invocation) error {
					return seedCommand(ctx, inv.cfg, inv.logger, *n, *seedValue)
				}
			},
		},
		{
			name: "backup", args: "FILE", minArgs: 1, maxArgs: 1, summary: "snapshot the embedded database into FILE",
			doc: `Writes a consistent snapshot of the embedded database in DATA_DIR to FILE,
which must not exist. Works while the server runs (it asks the server over
DATA_DIR/backup.sock) or not. For MongoDB use mongodump.`,
			flags: func(*flag.FlagSet) func(context.Context, invocation) error {
				return func(ctx context.Context, inv invocation) error {
					return backupCommand(ctx, inv.cfg, inv.logger, inv.args[0])
				}
			},
		},
		{
			name: "restore", args: "FILE", minArgs: 1, maxArgs: 1, summary: "load a backup FILE into an empty DATA_DIR",
			doc: `Checks that FILE is a complete Loan Desk backup and makes it the database
in DATA_DIR, which must hold none. For MongoDB use mongorestore.`,
			flags: func(*flag.FlagSet) func(context.Context, invocation) error {
				return func(ctx context.Context, inv invocation) error {
					return restoreCommand(inv.cfg, inv.logger, inv.args[0])
				}
			},
		},
		{
			name: "doctor", summary: "check that the configured database keeps the guarantees Loan Desk relies on",
			doc: doctorDoc,
			flags: func(fs *flag.FlagSet) func(context.Context, invocation) error {
				writers := fs.Int("writers", 8, "concurrent writers in each race (1 to 256)")
				ops := fs.Int("ops", 50, "operations per writer in the update races (1 to 10000)")
				timeout := fs.Duration("timeout", 5*time.Minute, "give up on the checks still running after this long")
				return func(ctx context.Context, inv invocation) error {
					return doctorCommand(ctx, inv.cfg, inv.logger, doctorParams{writers: *writers, ops: *ops, timeout: *timeout}, inv.stdout)
				}
			},
		},
		{
			name: "health", summary: "check that the server here answers its health check (for container health checks)",
			doc: `Asks http://127.0.0.1:PORT/health (or -url) and exits 0 on a 200 within
-timeout, else 1. Container images have no shell or curl: their
HEALTHCHECK runs this. The database is not opened.`,
			flags: func(fs *flag.FlagSet) func(context.Context, invocation) error {
				target := fs.String("url", "", "the URL to check (default http://127.0.0.1:$PORT"+deploy.HealthPath+")")
				timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
				return func(ctx context.Context, inv invocation) error {
					return healthCommand(ctx, cmp.Or(*target, "http://"+net.JoinHostPort("127.0.0.1", inv.cfg.Port)+deploy.HealthPath), *timeout, inv.stdout)
				}
			},
		},
		{
			name: "version", summary: "print the version and build information", noConfig: true,
			doc: `Prints the module version, the source revision and its time (and whether
the tree had uncommitted changes), the Go version and the platform.`,
			flags: func(*flag.FlagSet) func(context.Context, invocation) error {
				return func(_ context.Context, inv invocation) error {
					bi, ok := debug.ReadBuildInfo()
					_, err := io.WriteString(inv.stdout, versionText(bi, ok))
					return err
				}
			},
		},
		{
			name: "help", args: "[COMMAND]", maxArgs: 1, summary: "show this help, or a command's", noConfig: true,
			doc: `Shows the commands and the environment variables, or one command's help.`,
			flags: func(*flag.FlagSet) func(context.Context, invocation) error {
				return func(_ context.Context, inv invocation) error {
					if len(inv.args) == 0 {
						return printUsage(inv.stdout)
					}
					cmd, ok := lookupCommand(inv.args[0])
					if !ok {
						fmt.Fprintf(inv.stderr, "loandesk help: unknown command %q\n\n", inv.args[0])
						_ = printUsage(inv.stderr)
						return errUsage
					}
					return cmd.printUsage(inv.stdout, cmd.flagSet())
				}
			},
		},
	}
}

func lookupCommand(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// flagSet is a new, empty flag set for the command; the caller defines
// the flags (c.flags).
func (c command) flagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("loandesk "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // run prints errors and usage itself
	fs.Usage = func() {}
	c.flags(fs)
	return fs
}

// printUsage writes the command's help; fs holds its flags.
func (c command) printUsage(w io.Writer, fs *flag.FlagSet) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: loandesk %s", c.name)
	if c.args != "" {
		fmt.Fprintf(&b, " %s", c.args)
	}
	fmt.Fprintf(&b, "\n\n%s.\n\n%s\n", capitalize(c.summary), c.doc)
	hasFlags := false
	fs.VisitAll(func(*flag.Flag) { hasFlags = true })
	b.WriteString("\nFlags:\n")
	if hasFlags {
		fs.SetOutput(&b)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	b.WriteString("  -h, --help\n    \tshow this help\n")
	if !c.noConfig {
		b.WriteString("\nConfiguration comes from the environment: see 'loandesk help'.\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// printUsage writes the program's help: the commands and the
// environment.
func printUsage(w io.Writer) error {
	var b strings.Builder
	b.WriteString("Loan Desk: the admin console for lenders.\n\nUsage: loandesk [COMMAND] [ARGUMENTS]\n\nCommands:\n")
	tw := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	for _, c := range commands() {
		fmt.Fprintf(tw, "  %s\t%s\n", strings.TrimSpace(c.name+" "+c.args), c.summary)
	}
	_ = tw.Flush()
	b.WriteString("\nRun 'loandesk COMMAND -h' for a command's help.\n\nEnvironment (every setting; a bad value stops start-up naming it):\n")
	tw = tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	for _, v := range deploy.Variables() {
		def := v.Default
		if def == "" {
			def = "unset"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", v.Name, def, v.Doc)
	}
	_ = tw.Flush()
	_, err := io.WriteString(w, b.String())
	return err
}

// run parses the command line and runs the command until ctx ends. Help
// goes to stdout; usage errors go to stderr and return errUsage.
// Nothing reads the environment or opens the database before the
// command line has been understood.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	name := "serve"
	switch {
	case len(args) == 0:
	case args[0] == "-h" || args[0] == "-help" || args[0] == "--help":
		return printUsage(stdout)
	case args[0] == "-version" || args[0] == "--version":
		name, args = "version", args[1:]
	case strings.HasPrefix(args[0], "-"):
		// Flags with no command are serve's.
	default:
		name, args = args[0], args[1:]
	}
	cmd, ok := lookupCommand(name)
	if !ok {
		fmt.Fprintf(stderr, "loandesk: unknown command %q\n\n", name)
		_ = printUsage(stderr)
		return errUsage
	}
	fs := flag.NewFlagSet("loandesk "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	act := cmd.flags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cmd.printUsage(stdout, fs)
		}
		fmt.Fprintf(stderr, "loandesk %s: %v\n\n", cmd.name, err)
		_ = cmd.printUsage(stderr, fs)
		return errUsage
	}
	if n := fs.NArg(); n < cmd.minArgs || n > cmd.maxArgs {
		switch {
		case n > cmd.maxArgs:
			fmt.Fprintf(stderr, "loandesk %s: unexpected argument %q\n\n", cmd.name, fs.Arg(cmd.maxArgs))
		default:
			fmt.Fprintf(stderr, "loandesk %s: missing %s\n\n", cmd.name, cmd.args)
		}
		_ = cmd.printUsage(stderr, fs)
		return errUsage
	}
	inv := invocation{args: fs.Args(), stdout: stdout, stderr: stderr}
	if !cmd.noConfig {
		cfg, err := loadConfig(getenv)
		if err != nil {
			return err
		}
		inv.cfg = cfg
		inv.logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	}
	return act(ctx, inv)
}

// version and revision name the release and its source, set at build
// time where the build has no VCS information (a container build without
// .git): -ldflags "-X main.version=v1.2.3 -X main.revision=abc123".
// Empty means what the build information says.
var version, revision string

// versionText describes the build: bi and ok are what
// debug.ReadBuildInfo returned.
func versionText(bi *debug.BuildInfo, ok bool) string {
	v := version
	settings := map[string]string{}
	goVersion := runtime.Version()
	if ok {
		if v == "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			settings[s.Key] = s.Value
		}
		goVersion = bi.GoVersion
	}
	if v == "" {
		v = "(devel)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "loandesk %s\n", v)
	tw := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	rev := orDefault(revision, orDefault(settings["vcs.revision"], "unknown"))
	if settings["vcs.modified"] == "true" {
		rev += " (modified)"
	}
	fmt.Fprintf(tw, "  revision\t%s\n", rev)
	fmt.Fprintf(tw, "  commit time\t%s\n", orDefault(settings["vcs.time"], "unknown"))
	fmt.Fprintf(tw, "  go\t%s %s/%s\n", goVersion, runtime.GOOS, runtime.GOARCH)
	if cgo, ok := settings["CGO_ENABLED"]; ok {
		fmt.Fprintf(tw, "  cgo\t%s\n", map[string]string{"0": "off", "1": "on"}[cgo])
	}
	_ = tw.Flush()
	return b.String()
}

// healthCommand GETs target and fails unless it answers 200 in time.
func healthCommand(ctx context.Context, target string, timeout time.Duration, stdout io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 1<<16))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("health: %s answered %s", target, res.Status)
	}
	fmt.Fprintf(stdout, "%s: %s\n", target, res.Status)
	return nil
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
