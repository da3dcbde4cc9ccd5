// Package cluster starts Loan Desk's scale-out topology on one machine
// as real processes: one `loandesk db` serving a DATA_DIR over the
// MongoDB wire protocol, web processes (`loandesk serve`,
// SERVE_JOBS=false, TRUST_PROXY=true) and job processes (`loandesk jobs`)
// on it through MONGO_URI, and Debian's nginx in front of the web
// processes with the repository's deploy/nginx/one-machine.conf. Every
// address is a free loopback port.
//
// The topology test (topology_test.go), the browser spec
// (e2e/topology.spec.ts, through cmd/cluster) and load runs through
// nginx start it here.
package cluster

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Options say what to start.
type Options struct {
	// Binary is a built loandesk (`go build -o BIN .` in the repository;
	// see Build).
	Binary string
	// DataDir is the DATA_DIR `loandesk db` serves (created if missing);
	// empty: a new one under the cluster's own directory.
	DataDir string
	// NginxConf is the repository's deploy/nginx/one-machine.conf. Its
	// upstream servers 127.0.0.1:3001… and `listen 127.0.0.1:8080` are
	// replaced by free ports; everything else runs as written.
	NginxConf string
	// Nginx is the nginx binary; empty: nginx on PATH, else
	// /usr/sbin/nginx.
	Nginx string
	// Web is the number of web processes: as many as the configuration's
	// upstream servers (3). Jobs is the number of job processes, each with
	// JobWorkers workers (JOB_WORKERS).
	Web, Jobs, JobWorkers int
	// Env adds KEY=value settings to every loandesk process (after the
	// cluster's own, so it may override them).
	Env []string
	// Log receives every process's output (nil: discarded). nginx's
	// access log is kept apart: see AccessLog.
	Log io.Writer
}

// Proc is one running process of the topology.
type Proc struct {
	Name string
	// Port is a web process's HTTP port, or a job process's metrics port.
	Port int
	args []string
	env  []string
	cmd  *exec.Cmd
	done chan struct{}
}

// URL is http://127.0.0.1:Port.
func (p *Proc) URL() string { return fmt.Sprintf("http://127.0.0.1:%d", p.Port) }

// Pid is the process id (0 when not running).
func (p *Proc) Pid() int {
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// Cluster is a started topology.
type Cluster struct {
	URL      string // nginx, http://127.0.0.1:PORT
	MongoURI string // the database, for the test's own checks
	DataDir  string
	DB       *Proc
	Web      []*Proc
	Jobs     []*Proc

	opts   Options
	dir    string // the cluster's own files (nginx prefix, data when not given)
	nginx  *Proc
	access lineBuffer
	mu     sync.Mutex
}

// Build compiles the loandesk binary of the module in moduleDir into
// dir and returns its path.
func Build(ctx context.Context, moduleDir, dir string) (string, error) {
	bin := filepath.Join(dir, "loandesk")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	cmd.Dir = moduleDir
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %w\n%s", err, out)
	}
	return bin, nil
}

// ModuleDir is the repository: the nearest go.mod at or above dir.
func ModuleDir(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("cluster: no go.mod above " + dir)
		}
		dir = parent
	}
}

// NginxPath is the nginx binary: on PATH, else Debian's /usr/sbin/nginx;
// "" when neither exists.
func NginxPath() string {
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx"
	}
	return ""
}

// Start starts the database, the web processes (the first alone, so that
// an ADMIN_EMAIL in Env is created once), the job processes and nginx,
// and returns when each answers: the database its port, each web
// process /ready, each job process /metrics, nginx /health.
func Start(ctx context.Context, o Options) (_ *Cluster, err error) {
	if o.Binary == "" {
		return nil, errors.New("cluster: Options.Binary is required (see Build)")
	}
	if o.Nginx == "" {
		if o.Nginx = NginxPath(); o.Nginx == "" {
			return nil, errors.New("cluster: nginx is not installed (Debian: apt-get install nginx)")
		}
	}
	if o.Web <= 0 {
		o.Web = 3
	}
	if o.JobWorkers <= 0 {
		o.JobWorkers = 4
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	conf, err := os.ReadFile(o.NginxConf)
	if err != nil {
		return nil, fmt.Errorf("cluster: the nginx configuration: %w", err)
	}
	dir, err := os.MkdirTemp("", "loandesk-cluster-")
	if err != nil {
		return nil, err
	}
	// nginx's workers run as nobody when it is started as root: they must
	// reach its temporary directories under the prefix.
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	c := &Cluster{opts: o, dir: dir, DataDir: o.DataDir}
	defer func() {
		if err != nil {
			c.Stop()
		}
	}()
	if c.DataDir == "" {
		c.DataDir = filepath.Join(dir, "data")
	}

	ports, err := freePorts(1 + o.Web + o.Jobs + 1)
	if err != nil {
		return nil, err
	}
	dbAddr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	c.MongoURI = "mongodb://" + dbAddr + "/loandesk"
	c.DB = &Proc{Name: "db", Port: ports[0], args: []string{"db", "-addr", dbAddr}, env: []string{"DATA_DIR=" + c.DataDir}}
	if err := c.start(c.DB); err != nil {
		return nil, err
	}
	if err := waitTCP(ctx, c.DB, dbAddr); err != nil {
		return nil, err
	}

	common := []string{"MONGO_URI=" + c.MongoURI, "DATA_DIR=", "HOST=127.0.0.1"}
	for i := range o.Web {
		c.Web = append(c.Web, &Proc{Name: fmt.Sprintf("web%d", i+1), Port: ports[1+i], args: []string{"serve"},
			env: append(append(append([]string{}, common...), "PORT="+strconv.Itoa(ports[1+i]), "SERVE_JOBS=false", "TRUST_PROXY=true"), o.Env...)})
	}
	for i := range o.Jobs {
		p := ports[1+o.Web+i]
		c.Jobs = append(c.Jobs, &Proc{Name: fmt.Sprintf("jobs%d", i+1), Port: p, args: []string{"jobs"},
			env: append(append(append([]string{}, common...), "JOB_WORKERS="+strconv.Itoa(o.JobWorkers), fmt.Sprintf("METRICS_ADDR=127.0.0.1:%d", p)), o.Env...)})
	}
	// The first web process alone: it creates ADMIN_EMAIL's user and
	// the indexes; the others then find both.
	if len(c.Web) > 0 {
		if err := c.StartWeb(ctx, 0); err != nil {
			return nil, err
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, len(c.Web)+len(c.Jobs))
	for i := 1; i < len(c.Web); i++ {
		wg.Go(func() { errs[i] = c.StartWeb(ctx, i) })
	}
	for i, p := range c.Jobs {
		wg.Go(func() {
			if errs[len(c.Web)+i] = c.start(p); errs[len(c.Web)+i] == nil {
				errs[len(c.Web)+i] = waitHTTP(ctx, p, p.URL()+"/metrics")
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	lbPort := ports[len(ports)-1]
	text, err := NginxConfig(string(conf), lbPort, c.webPorts())
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o755); err != nil {
		return nil, err
	}
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(text), 0o644); err != nil {
		return nil, err
	}
	c.URL = fmt.Sprintf("http://127.0.0.1:%d", lbPort)
	c.nginx = &Proc{Name: "nginx", Port: lbPort}
	if err := c.startNginx(confPath); err != nil {
		return nil, err
	}
	if err := waitHTTP(ctx, c.nginx, c.URL+"/health"); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Cluster) webPorts() []int {
	ports := make([]int, len(c.Web))
	for i, w := range c.Web {
		ports[i] = w.Port
	}
	return ports
}

var (
	upstreamServer = regexp.MustCompile(`(?m)^(\s*server\s+)127\.0\.0\.1:300\d\b`)
	listenLine     = regexp.MustCompile(`(?m)^(\s*listen\s+)127\.0\.0\.1:8080;`)
)

// NginxConfig is conf (deploy/nginx/one-machine.conf) with nginx
// listening on 127.0.0.1:lbPort and its upstream servers at webPorts, in
// order. The configuration must name exactly as many upstream servers
// 127.0.0.1:300N as there are ports, and listen on 127.0.0.1:8080.
func NginxConfig(conf string, lbPort int, webPorts []int) (string, error) {
	servers := upstreamServer.FindAllStringIndex(conf, -1)
	if len(servers) != len(webPorts) {
		return "", fmt.Errorf("cluster: the nginx configuration names %d upstream servers 127.0.0.1:300N, the cluster has %d web processes", len(servers), len(webPorts))
	}
	if len(listenLine.FindAllStringIndex(conf, -1)) != 1 {
		return "", errors.New("cluster: the nginx configuration must listen on 127.0.0.1:8080 exactly once")
	}
	i := 0
	conf = upstreamServer.ReplaceAllStringFunc(conf, func(m string) string {
		out := upstreamServer.ReplaceAllString(m, fmt.Sprintf("${1}127.0.0.1:%d", webPorts[i]))
		i++
		return out
	})
	return listenLine.ReplaceAllString(conf, fmt.Sprintf("${1}127.0.0.1:%d;", lbPort)), nil
}

// start runs p's command (the loandesk binary with p.args) with output
// to the log, killed with the test or tool that started it.
func (c *Cluster) start(p *Proc) error {
	cmd := exec.Command(c.opts.Binary, p.args...)
	cmd.Env = append(os.Environ(), "LOG_LEVEL=warn")
	cmd.Env = append(cmd.Env, p.env...)
	return c.run(p, cmd)
}

func (c *Cluster) run(p *Proc, cmd *exec.Cmd) error {
	w := prefixWriter(c.opts.Log, p.Name)
	if cmd.Stdout == nil {
		cmd.Stdout = w
	}
	cmd.Stderr = w
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("cluster: start %s: %w", p.Name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	c.mu.Lock()
	p.cmd, p.done = cmd, done
	c.mu.Unlock()
	return nil
}

func (c *Cluster) startNginx(confPath string) error {
	cmd := exec.Command(c.opts.Nginx, "-p", c.dir+"/", "-e", "stderr", "-c", confPath)
	cmd.Stdout = &c.access
	return c.run(c.nginx, cmd)
}

// StartWeb starts web process i (again, after KillWeb) on its port and
// waits until it answers /ready.
func (c *Cluster) StartWeb(ctx context.Context, i int) error {
	p := c.Web[i]
	if err := c.start(p); err != nil {
		return err
	}
	return waitHTTP(ctx, p, p.URL()+"/ready")
}

// KillWeb ends web process i with SIGKILL (no graceful shutdown: a
// crash, or the hardest restart) and waits until it has exited.
func (c *Cluster) KillWeb(i int) error {
	p := c.Web[i]
	c.mu.Lock()
	cmd, done := p.cmd, p.done
	c.mu.Unlock()
	if cmd == nil {
		return fmt.Errorf("cluster: %s is not running", p.Name)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return err
	}
	<-done
	return nil
}

// AccessLog is nginx's access log so far, one request a line, each with
// upstream="ADDR[, ADDR…]" (the instances tried, in order) and
// upstream_status="…".
func (c *Cluster) AccessLog() []string { return c.access.lines() }

// Upstreams reads the instances a line of AccessLog names, in the order
// nginx tried them.
func Upstreams(line string) []string {
	m := upstreamField.FindStringSubmatch(line)
	if m == nil || m[1] == "" || m[1] == "-" {
		return nil
	}
	return strings.Split(m[1], ", ")
}

var upstreamField = regexp.MustCompile(`upstream="([^"]*)"`)

// Stop ends nginx (SIGQUIT: after the requests in progress), the web and
// job processes (SIGTERM: their graceful shutdown) and then the database
// (SIGTERM), each waited for (SIGKILL after 30 s), and removes the
// cluster's own directory (not an Options.DataDir).
func (c *Cluster) Stop() {
	stop := func(ps []*Proc, sig syscall.Signal) {
		var wg sync.WaitGroup
		for _, p := range ps {
			c.mu.Lock()
			cmd, done := p.cmd, p.done
			c.mu.Unlock()
			if cmd == nil {
				continue
			}
			wg.Go(func() {
				_ = cmd.Process.Signal(sig)
				select {
				case <-done:
				case <-time.After(30 * time.Second):
					_ = cmd.Process.Kill()
					<-done
				}
			})
		}
		wg.Wait()
	}
	if c.nginx != nil {
		stop([]*Proc{c.nginx}, syscall.SIGQUIT)
	}
	stop(append(append([]*Proc{}, c.Web...), c.Jobs...), syscall.SIGTERM)
	if c.DB != nil {
		stop([]*Proc{c.DB}, syscall.SIGTERM)
	}
	if c.dir != "" {
		_ = os.RemoveAll(c.dir)
	}
}

// waitTCP waits (up to a minute) until addr accepts connections.
func waitTCP(ctx context.Context, p *Proc, addr string) error {
	return wait(ctx, p, func() bool {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
		}
		return err == nil
	})
}

// waitHTTP waits (up to a minute) until GET u answers 200.
func waitHTTP(ctx context.Context, p *Proc, u string) error {
	client := &http.Client{Timeout: 5 * time.Second}
	return wait(ctx, p, func() bool {
		res, err := client.Get(u)
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	})
}

func wait(ctx context.Context, p *Proc, ok func() bool) error {
	deadline := time.Now().Add(time.Minute)
	for !ok() {
		select {
		case <-p.done:
			return fmt.Errorf("cluster: %s exited at start (its output is in the cluster's log)", p.Name)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cluster: %s did not answer within a minute", p.Name)
		}
	}
	return nil
}

// freePorts returns n distinct loopback ports that were free a moment
// ago (all held at once, so they differ).
func freePorts(n int) ([]int, error) {
	ports := make([]int, n)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports, nil
}

// lineBuffer keeps what is written to it, by line. Safe for concurrent
// use.
type lineBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lineBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lineBuffer) lines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b.buf.Bytes()))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

// prefixWriter writes each line to w behind "name: ".
func prefixWriter(w io.Writer, name string) io.Writer {
	if w == io.Discard {
		return w
	}
	return &prefixed{w: w, prefix: []byte(name + ": ")}
}

type prefixed struct {
	mu      sync.Mutex
	w       io.Writer
	prefix  []byte
	partial []byte
}

func (p *prefixed) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.partial = append(p.partial, b...)
	for {
		i := bytes.IndexByte(p.partial, '\n')
		if i < 0 {
			return len(b), nil
		}
		line := append(append([]byte{}, p.prefix...), p.partial[:i+1]...)
		p.partial = p.partial[i+1:]
		if _, err := p.w.Write(line); err != nil {
			return len(b), err
		}
	}
}
