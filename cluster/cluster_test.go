package cluster_test

import (
	"os"
	"strings"
	"testing"

	"loandesk/cluster"
)

// TestNginxConfig: the repository's one-machine configuration gets the
// cluster's ports and nothing else changes; a configuration whose
// upstream servers or listen line the cluster cannot place is refused,
// never run half-rewritten.
func TestNginxConfig(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../deploy/nginx/one-machine.conf")
	if err != nil {
		t.Fatal(err)
	}
	conf := string(b)
	got, err := cluster.NginxConfig(conf, 18080, []int{13001, 13002, 13003})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"listen 127.0.0.1:18080;", "server 127.0.0.1:13001 max_fails", "server 127.0.0.1:13002 max_fails", "server 127.0.0.1:13003 max_fails"} {
		if !strings.Contains(got, want) {
			t.Errorf("rewritten configuration lacks %q", want)
		}
	}
	for _, gone := range []string{":8080", ":3001", ":3002", ":3003"} {
		if strings.Contains(got, gone) {
			t.Errorf("rewritten configuration still has %q", gone)
		}
	}
	// Only the ports changed.
	if restored := strings.NewReplacer("18080", "8080", "13001", "3001", "13002", "3002", "13003", "3003").Replace(got); restored != conf {
		t.Error("the rewrite changed more than the ports")
	}
	// What the app relies on from the proxy (README, deploy/nginx).
	for _, want := range []string{
		"proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;", // the app trusts the last entry
		"proxy_set_header Host $http_host;",                            // the port, for the cross-origin check
		"zone loandesk_web",                                            // one round robin for every nginx worker
		"proxy_next_upstream error timeout",                            // a refused connection goes to the next instance
		"client_max_body_size 11m;",                                    // UPLOAD_MAX_BYTES (10 MB) and its form
	} {
		if !strings.Contains(conf, want) {
			t.Errorf("deploy/nginx/one-machine.conf lacks %q", want)
		}
	}
	if strings.Contains(conf, "non_idempotent") {
		t.Error("nginx must never send a POST that reached an instance to another one")
	}

	if _, err := cluster.NginxConfig(conf, 18080, []int{13001, 13002}); err == nil || !strings.Contains(err.Error(), "3 upstream servers") {
		t.Errorf("two web processes for three upstream servers: %v", err)
	}
	if _, err := cluster.NginxConfig(strings.Replace(conf, "listen 127.0.0.1:8080;", "listen 8080;", 1), 18080, []int{13001, 13002, 13003}); err == nil {
		t.Error("a configuration without the loopback listen line was accepted")
	}
}

// TestUpstreams reads the instances of an access-log line as nginx
// writes them, including a request passed on from a refusing instance.
func TestUpstreams(t *testing.T) {
	t.Parallel()
	for line, want := range map[string]string{
		`127.0.0.1 [01/Dec/2026:03:53:42 +0000] "GET /loans HTTP/1.1" 200 upstream="127.0.0.1:42573" upstream_status="200" 0.013`:               "127.0.0.1:42573",
		`127.0.0.1 [01/Dec/2026:03:53:42 +0000] "GET /loans HTTP/1.1" 200 upstream="127.0.0.1:1, 127.0.0.1:2" upstream_status="502, 200" 0.013`: "127.0.0.1:1|127.0.0.1:2",
		`127.0.0.1 [01/Dec/2026:03:53:42 +0000] "GET /metrics HTTP/1.1" 404 upstream="-" upstream_status="-" 0.000`:                             "",
	} {
		if got := strings.Join(cluster.Upstreams(line), "|"); got != want {
			t.Errorf("Upstreams(%q) = %q, want %q", line, got, want)
		}
	}
}
