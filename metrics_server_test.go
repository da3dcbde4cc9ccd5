package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"loandesk/model"
	"loandesk/store"
)

// `loandesk serve` with METRICS_ADDR: real requests and a real job through
// the running server show up in /metrics, by route pattern, on both the
// metrics listener and the app's /metrics (admins and bearer tokens only).
func TestServe_Metrics(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.LoanInsertMany(ctx, []model.Loan{{HumanID: "LN-2026-000001", Status: model.StatusSubmitted, Applicant: model.Applicant{Name: "Asha Rao", PAN: "ABCPR1234K"}}}); err != nil {
		t.Fatal(err)
	}
	st.Close(ctx)

	token := strings.Repeat("t", 40)
	logs := syncBuffer{written: make(chan struct{}, 1)}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- run(runCtx, []string{"serve"}, env(map[string]string{
			"DATA_DIR": dir, "HOST": "127.0.0.1", "PORT": "0", "METRICS_ADDR": "127.0.0.1:0", "LOG_LEVEL": "debug",
			"ADMIN_EMAIL": "admin@example.com", "ADMIN_PASSWORD": "a long admin password", "ADMIN_TOKEN": token,
			"TWO_FACTOR_ROLES": "none", // the admin signs in with the password alone here
		}), io.Discard, &logs)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	waitLog := func(re *regexp.Regexp, what string) []string {
		t.Helper()
		// A liveness guard, not a speed check: starting under -race
		// (the admin's bcrypt hash at cost 12, the store) took over a
		// minute on a CI machine loaded to 25.
		deadline := time.After(5 * time.Minute)
		for {
			if m := re.FindStringSubmatch(logs.String()); m != nil {
				return m
			}
			select {
			case <-logs.written:
			case <-deadline:
				t.Fatalf("no %s in the log:\n%s", what, logs.String())
			case err := <-done:
				t.Fatalf("serve stopped: %v\n%s", err, logs.String())
			}
		}
	}
	app := waitLog(regexp.MustCompile(`Loan Desk is serving" url=(http://\S+)`), "app URL")[1]
	metricsURL := waitLog(regexp.MustCompile(`serving metrics" url=(http://\S+)`), "metrics URL")[1]

	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(method, path, ctype, body string, header ...string) int {
		t.Helper()
		req, err := http.NewRequest(method, app+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	form := "application/x-www-form-urlencoded"
	for range 3 {
		if s := do("GET", "/health", "", ""); s != 200 {
			t.Fatalf("health: %d", s)
		}
	}
	if s := do("POST", "/login", form, url.Values{"email": {"admin@example.com"}, "password": {"not the password"}}.Encode()); s != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", s)
	}
	if s := do("POST", "/login", form, url.Values{"email": {"admin@example.com"}, "password": {"a long admin password"}}.Encode()); s != http.StatusSeeOther {
		t.Fatalf("sign in: %d", s)
	}
	for _, id := range []string{"LN-2026-000001", "LN-2026-000001", "LN-2026-999999"} {
		do("GET", "/loans/"+id, "", "")
	}
	// Two edits made on version 1: the second is a conflict.
	for i, want := range []int{http.StatusOK, http.StatusConflict} {
		body := `{"version": 1, "changes": {"city": "` + []string{"Pune", "Nagpur"}[i] + `"}}`
		if s := do("PATCH", "/api/applications/LN-2026-000001", "application/json", body, "Authorization", "Bearer "+token); s != want {
			t.Fatalf("edit %d on version 1: %d, want %d", i+1, s, want)
		}
	}
	if s := do("POST", "/loans/LN-2026-000001/score", form, ""); s != http.StatusSeeOther {
		t.Fatalf("score: %d", s)
	}
	waitLog(regexp.MustCompile(`job done.*type=application:score`), "scoring job done")

	scrape := func(target string, header ...string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", target, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	// The app's /metrics: a bearer token or an admin's session, no one else.
	if s, _ := scrape(app + "/metrics"); s != http.StatusUnauthorized {
		t.Fatalf("/metrics without credentials: %d", s)
	}
	if s, _ := scrape(app+"/metrics", "Authorization", "Bearer "+token); s != http.StatusOK {
		t.Fatalf("/metrics with the admin token: %d", s)
	}
	if s := do("GET", "/metrics", "", ""); s != http.StatusOK {
		t.Fatalf("/metrics with an admin session: %d", s)
	}
	status, text := scrape(metricsURL)
	if status != http.StatusOK {
		t.Fatalf("METRICS_ADDR: %d", status)
	}
	for series, want := range map[string]float64{
		`loandesk_http_requests_total{code="200",method="GET",route="/health"}`:                  3,
		`loandesk_http_requests_total{code="200",method="GET",route="/loans/{id}"}`:              2,
		`loandesk_http_requests_total{code="404",method="GET",route="/loans/{id}"}`:              1,
		`loandesk_http_requests_total{code="409",method="PATCH",route="/api/applications/{id}"}`: 1,
		`loandesk_http_requests_total{code="303",method="POST",route="/loans/{id}/score"}`:       1,
		`loandesk_http_request_duration_seconds_count{method="GET",route="/health"}`:             3,
		`loandesk_conflicts_total{route="/api/applications/{id}"}`:                               1,
		`loandesk_signin_failures_total`:                                                         1,
		`loandesk_job_duration_seconds_count{outcome="done",type="application:score"}`:           1,
		`loandesk_queue_events{status="done",type="application:score"}`:                          1,
		`loandesk_queue_events{status="pending",type="application:score"}`:                       0,
		`loandesk_queue_oldest_pending_seconds{type="application:score"}`:                        0,
		`loandesk_queue_up`:      1,
		`loandesk_queue_workers`: 1,
	} {
		if got := metricValue(text, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	if strings.Contains(text, "LN-2026") {
		t.Error("a raw URL became a label value")
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes"} {
		if metricValue(text, name) <= 0 {
			t.Errorf("%s missing", name)
		}
	}
}

// metricValue is the sample of series in an exposition text; -1 when
// absent.
func metricValue(text, series string) float64 {
	for line := range strings.SplitSeq(text, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(rest, 64)
			if err != nil {
				return -1
			}
			return v
		}
	}
	return -1
}
