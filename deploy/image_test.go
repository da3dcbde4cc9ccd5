package deploy

import (
	"context"
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"loandesk/metrics"
)

// stage is one FROM … AS name section of the Dockerfile.
type stage struct {
	name  string
	from  string
	lines []string // instructions, continuation lines joined
}

func dockerfileStages(t *testing.T) []stage {
	t.Helper()
	data, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var stages []stage
	var cur strings.Builder
	for line := range strings.SplitSeq(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if rest, ok := strings.CutSuffix(trimmed, "\\"); ok {
			cur.WriteString(rest + " ")
			continue
		}
		cur.WriteString(trimmed)
		instr := cur.String()
		cur.Reset()
		if f := strings.Fields(instr); strings.EqualFold(f[0], "FROM") {
			st := stage{from: f[1]}
			if len(f) == 4 && strings.EqualFold(f[2], "AS") {
				st.name = f[3]
			}
			stages = append(stages, st)
			continue
		}
		if len(stages) > 0 {
			stages[len(stages)-1].lines = append(stages[len(stages)-1].lines, instr)
		}
	}
	return stages
}

// The Dockerfile builds a static binary and two non-root images with a
// HEALTHCHECK through `loandesk health`; the web image (the default, last
// stage) exposes PORT; the jobs image has tesseract, poppler and
// jpegtran; every ENV is a setting the binary reads.
func TestDockerfile(t *testing.T) {
	t.Parallel()
	stages := dockerfileStages(t)
	byName := map[string]stage{}
	for _, s := range stages {
		byName[s.name] = s
	}
	build, ok := byName["build"]
	if !ok || !slices.ContainsFunc(build.lines, func(l string) bool { return strings.Contains(l, "CGO_ENABLED=0") }) {
		t.Error("the build stage does not build with CGO_ENABLED=0 (a static binary)")
	}
	if last := stages[len(stages)-1]; last.name != "web" {
		t.Errorf("the last stage (what `docker build .` makes) is %q, want web", last.name)
	}
	vars := varsByName()
	for _, name := range []string{"web", "jobs"} {
		s, ok := byName[name]
		if !ok {
			t.Errorf("no %s stage", name)
			continue
		}
		var user, health, expose string
		for _, l := range s.lines {
			f := strings.Fields(l)
			switch strings.ToUpper(f[0]) {
			case "USER":
				user = f[1]
			case "HEALTHCHECK":
				health = l
			case "EXPOSE":
				expose += " " + strings.Join(f[1:], " ")
			case "ENV":
				for _, kv := range f[1:] {
					k, _, _ := strings.Cut(kv, "=")
					if v, ok := vars[k]; !ok || v.Secret {
						t.Errorf("%s: ENV %s is not a non-secret setting of the binary", name, k)
					}
				}
			}
		}
		if u, _, _ := strings.Cut(user, ":"); u == "" || u == "0" || u == "root" {
			t.Errorf("%s runs as %q, want a non-root user", name, user)
		}
		if !strings.Contains(health, `"health"`) {
			t.Errorf("%s: HEALTHCHECK %q does not run `loandesk health`", name, health)
		}
		switch name {
		case "web":
			if !slices.Contains(strings.Fields(expose), DefaultPort) || !strings.Contains(health, `CMD ["/usr/local/bin/loandesk", "health"]`) {
				t.Errorf("web: EXPOSE%s, %s: want PORT %s and the default health URL", expose, health, DefaultPort)
			}
		case "jobs":
			install := strings.Join(s.lines, "\n")
			for _, pkg := range []string{"tesseract-ocr", "tesseract-ocr-eng", "poppler-utils", "libjpeg-turbo-progs"} {
				if !regexp.MustCompile(`\b` + pkg + `\b`).MatchString(install) {
					t.Errorf("jobs: %s not installed", pkg)
				}
			}
			if !strings.Contains(health, MetricsPath) {
				t.Errorf("jobs: HEALTHCHECK %q should ask the metrics listener", health)
			}
		}
	}
	ignore, err := os.ReadFile("../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{".git", ".env", "node_modules", "data"} {
		if !slices.Contains(strings.Fields(string(ignore)), want) {
			t.Errorf(".dockerignore does not leave out %s", want)
		}
	}
	if slices.Contains(strings.Fields(string(ignore)), "deploy") {
		t.Error(".dockerignore leaves out deploy/, whose Go package the binary imports")
	}
}

// Every loandesk_ series the Grafana dashboard queries is one the
// metrics package exports.
func TestGrafanaDashboard(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("grafana/loandesk.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		UID    string `json:"uid"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatal(err)
	}

	// One of everything, so every family is exported.
	m := metrics.New()
	m.ObserveRequest("GET", []string{"/loans/{id}"}, 409, time.Millisecond)
	m.ObserveRequest("POST", []string{"/login"}, 429, time.Millisecond)
	m.SignInFailed()
	m.ObserveJob("application:score", metrics.JobFailed, time.Millisecond)
	m.LockAcquired("loan:1", 0, true)
	m.LockBusy("loan:1", 0)
	m.LockLost("loan:1")
	if err := m.Register(metrics.NewQueueCollector(func(context.Context) (metrics.QueueSnapshot, error) {
		return metrics.QueueSnapshot{Counts: map[string]map[string]int64{"application:score": {"pending": 1}}}, nil
	}, time.Second)); err != nil {
		t.Fatal(err)
	}
	families, err := m.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	exported := map[string]bool{}
	for _, f := range families {
		name := f.GetName()
		exported[name] = true
		if f.GetType() == dto.MetricType_HISTOGRAM {
			for _, s := range []string{"_bucket", "_count", "_sum"} {
				exported[name+s] = true
			}
		}
	}
	series := regexp.MustCompile(`\b((?:loandesk|go|process)_[a-z0-9_]+)`)
	queried := 0
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			for _, name := range series.FindAllString(tg.Expr, -1) {
				queried++
				if !exported[name] {
					t.Errorf("panel %q queries %s, which is not exported", p.Title, name)
				}
			}
		}
	}
	if queried < 20 || dash.UID == "" {
		t.Fatalf("%d series queried, uid %q", queried, dash.UID)
	}
}
