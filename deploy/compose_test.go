package deploy

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"sigs.k8s.io/yaml"
)

// envExample reads ../.env.example: KEY=VALUE lines.
func envExample(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open("../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf(".env.example: %q is not KEY=VALUE", line)
		}
		out[k] = v
	}
	return out
}

// loadCompose loads ../docker-compose.yml with the compose-spec loader,
// the way `docker compose` does, with .env.example as the operator's
// .env and ADMIN_PASSWORD filled in.
func loadCompose(t *testing.T, profiles ...string) *types.Project {
	t.Helper()
	dir := t.TempDir()
	for src, dst := range map[string]string{"../docker-compose.yml": "docker-compose.yml", "../.env.example": ".env", "nginx/nginx.conf": "deploy/nginx/nginx.conf"} {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, dst)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, dst), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	compose, err := os.ReadFile(filepath.Join(dir, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  dir,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(dir, "docker-compose.yml"), Content: compose}},
		Environment: types.Mapping{"ADMIN_PASSWORD": "a long admin password"},
	}, func(o *loader.Options) { o.SetProjectName("loandesk", true); o.Profiles = profiles })
	if err != nil {
		t.Fatalf("compose loader: %v", err)
	}
	return p
}

// docker-compose.yml loads with the compose-spec loader; its services,
// replicas, commands, environment, ports and health checks agree with the
// binary's configuration table, and secrets come only from .env.
func TestCompose(t *testing.T) {
	t.Parallel()
	p := loadCompose(t)
	vars := varsByName()
	svc := func(name string) types.ServiceConfig {
		t.Helper()
		s, err := p.GetService(name)
		if err != nil {
			t.Fatalf("service %s: %v", name, err)
		}
		return s
	}
	for _, name := range []string{"mongo1", "mongo2", "mongo3", "mongo-init", "web", "jobs", "nginx"} {
		svc(name)
	}

	t.Run("ReplicaSetInitialisesItself", func(t *testing.T) {
		members := []string{}
		for _, name := range []string{"mongo1", "mongo2", "mongo3"} {
			s := svc(name)
			if !slices.Contains(s.Command, "--replSet") || !slices.Contains(s.Command, "rs0") || s.HealthCheck == nil {
				t.Errorf("%s: %v, health check %v: want a member of rs0 with a health check", name, s.Command, s.HealthCheck)
			}
			members = append(members, name+":27017")
		}
		init := svc("mongo-init")
		script := strings.Join(init.Command, " ")
		for _, m := range members {
			if !strings.Contains(script, `"`+m+`"`) {
				t.Errorf("mongo-init does not add %s", m)
			}
		}
		if !strings.Contains(script, "rs.initiate") || !strings.Contains(script, `_id: "rs0"`) {
			t.Error("mongo-init does not initiate rs0")
		}
		uri := envExample(t)["MONGO_URI"]
		if !strings.Contains(uri, strings.Join(members, ",")) || !strings.Contains(uri, "replicaSet=rs0") || strings.Contains(uri, "@") {
			t.Errorf(".env.example MONGO_URI %q: want the three members, replicaSet=rs0, no credentials", uri)
		}
	})

	t.Run("AppServices", func(t *testing.T) {
		for name, want := range map[string]struct {
			replicas int
			command  string
			image    string
			target   string
		}{"web": {3, "serve", "loandesk:", "web"}, "jobs": {2, "jobs", "loandesk-jobs:", "jobs"}} {
			s := svc(name)
			if s.Deploy == nil || s.Deploy.Replicas == nil || *s.Deploy.Replicas != want.replicas {
				t.Errorf("%s: replicas %+v, want %d", name, s.Deploy, want.replicas)
			}
			if !slices.Equal([]string(s.Command), []string{want.command}) || !strings.HasPrefix(s.Image, want.image) || s.Build == nil || s.Build.Target != want.target {
				t.Errorf("%s: %s %v built as %+v", name, s.Image, s.Command, s.Build)
			}
			if dep, ok := s.DependsOn["mongo-init"]; !ok || dep.Condition != types.ServiceConditionCompletedSuccessfully {
				t.Errorf("%s does not wait for the replica set: %+v", name, s.DependsOn)
			}
			if !s.ReadOnly || !slices.ContainsFunc(s.Tmpfs, func(p string) bool { return strings.HasPrefix(p, "/tmp") }) {
				t.Errorf("%s: want a read-only root with a tmpfs /tmp", name)
			}
			for k := range s.Environment {
				if _, ok := vars[k]; !ok {
					t.Errorf("%s: environment %s is not read by the binary", name, k)
				}
			}
			if s.Environment["MONGO_URI"] == nil || *s.Environment["MONGO_URI"] == "" {
				t.Errorf("%s gets no MONGO_URI", name)
			}
			metricsAddr := s.Environment["METRICS_ADDR"]
			if metricsAddr == nil || !slices.Contains(s.Expose, portOf(t, *metricsAddr)) {
				t.Errorf("%s: METRICS_ADDR %v not exposed (%v)", name, metricsAddr, s.Expose)
			}
			if s.HealthCheck == nil || len(s.HealthCheck.Test) < 3 || s.HealthCheck.Test[2] != "health" {
				t.Errorf("%s: health check %+v, want `loandesk health`", name, s.HealthCheck)
			}
		}
		web := svc("web")
		port := DefaultPort
		if v := web.Environment["PORT"]; v != nil {
			port = *v
		}
		if !slices.Contains(web.Expose, port) {
			t.Errorf("web exposes %v, PORT is %s", web.Expose, port)
		}
		if v := web.Environment["SERVE_JOBS"]; v == nil || *v != "false" {
			t.Error("web must leave the jobs to the jobs service (SERVE_JOBS=false)")
		}
		if v := web.Environment["TRUST_PROXY"]; v == nil || *v != "true" {
			t.Error("behind nginx, web needs TRUST_PROXY=true for client addresses")
		}
		if slices.ContainsFunc(svc("jobs").HealthCheck.Test, func(s string) bool { return strings.HasSuffix(s, MetricsPath) }) == false {
			t.Error("the jobs health check should ask its metrics listener")
		}
	})

	t.Run("SecretsComeFromTheEnvFile", func(t *testing.T) {
		raw, err := os.ReadFile("../docker-compose.yml")
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Services map[string]struct {
				Environment map[string]any `json:"environment"`
			} `json:"services"`
		}
		if err := yaml.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		for name, s := range doc.Services {
			for k, v := range s.Environment {
				if vars[k].Secret {
					if str, _ := v.(string); !strings.HasPrefix(str, "${") {
						t.Errorf("%s: %s has a value in the compose file; secrets come from .env", name, k)
					}
				}
			}
		}
		for k, v := range envExample(t) {
			spec, ok := vars[k]
			switch {
			case !ok:
				t.Errorf(".env.example sets %s, which the binary does not read", k)
			case spec.Secret && k != "MONGO_URI" && v != "":
				t.Errorf(".env.example gives %s a value: leave secrets for the operator", k)
			}
		}
	})

	t.Run("NginxBalancesTheWebInstances", func(t *testing.T) {
		ngx := svc("nginx")
		mounted := slices.ContainsFunc(ngx.Volumes, func(v types.ServiceVolumeConfig) bool {
			return strings.HasSuffix(v.Source, "deploy/nginx/nginx.conf") && v.Target == "/etc/nginx/nginx.conf" && v.ReadOnly
		})
		if !mounted {
			t.Errorf("nginx does not mount deploy/nginx/nginx.conf read-only: %+v", ngx.Volumes)
		}
		conf, err := os.ReadFile("nginx/nginx.conf")
		if err != nil {
			t.Fatal(err)
		}
		web := svc("web")
		port := DefaultPort
		if v := web.Environment["PORT"]; v != nil {
			port = *v
		}
		if !regexp.MustCompile(`(?m)^\s*server web:` + port + ` resolve\b`).Match(conf) {
			t.Errorf("nginx.conf's upstream is not web:%s (re-resolved)", port)
		}
		listen := regexp.MustCompile(`(?m)^\s*listen (\d+);`).FindSubmatch(conf)
		if listen == nil || len(ngx.Ports) != 1 || ngx.Ports[0].Target != mustAtoi(t, string(listen[1])) {
			t.Errorf("nginx listens on %s, the compose file publishes %+v", listen, ngx.Ports)
		}
		if dep, ok := ngx.DependsOn["web"]; !ok || dep.Condition != types.ServiceConditionHealthy {
			t.Error("nginx should wait for healthy web instances")
		}
	})

	t.Run("MonitoringProfileScrapesEveryProcess", func(t *testing.T) {
		if _, err := p.GetService("prometheus"); err == nil {
			t.Error("prometheus runs without the monitoring profile")
		}
		mon := loadCompose(t, "monitoring")
		for _, name := range []string{"prometheus", "grafana"} {
			if _, err := mon.GetService(name); err != nil {
				t.Fatalf("monitoring profile: %v", err)
			}
		}
		data, err := os.ReadFile("prometheus/prometheus.yml")
		if err != nil {
			t.Fatal(err)
		}
		var conf struct {
			ScrapeConfigs []struct {
				JobName      string `json:"job_name"`
				DNSSDConfigs []struct {
					Names []string `json:"names"`
					Port  int      `json:"port"`
				} `json:"dns_sd_configs"`
			} `json:"scrape_configs"`
		}
		if err := yaml.Unmarshal(data, &conf); err != nil {
			t.Fatal(err)
		}
		scraped := map[string]string{}
		for _, sc := range conf.ScrapeConfigs {
			for _, sd := range sc.DNSSDConfigs {
				for _, n := range sd.Names {
					scraped[n] = strconv.Itoa(sd.Port)
				}
			}
		}
		for _, name := range []string{"web", "jobs"} {
			addr := svc(name).Environment["METRICS_ADDR"]
			if addr == nil || scraped[name] != portOf(t, *addr) {
				t.Errorf("prometheus scrapes %s on %q, its METRICS_ADDR is %v", name, scraped[name], addr)
			}
		}
		graf, _ := mon.GetService("grafana")
		if !slices.ContainsFunc(graf.Volumes, func(v types.ServiceVolumeConfig) bool {
			return strings.HasSuffix(v.Source, "deploy/grafana/loandesk.json")
		}) {
			t.Error("grafana does not get the dashboard")
		}
	})
}
