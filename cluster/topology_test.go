package cluster_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"loandesk/auth"
	"loandesk/cluster"
	"loandesk/model"
	"loandesk/money"
	"loandesk/store"
)

const (
	password   = "topology test password 7f2k"
	admins     = 50   // signed in through nginx
	scoreLoans = 2000 // events for the job processes
	// The loans the HTTP checks work on.
	sameVersionLoan = "LN-2026-000001"
	editedLoan      = "LN-2026-000002"
	disbursedLoan   = "LN-2026-000003"
)

func adminEmail(i int) string { return fmt.Sprintf("admin%02d@topology.test", i+1) }

// TestTopology runs the scale-out topology on one machine, as real
// processes: `loandesk db`, three `loandesk serve` (SERVE_JOBS=false) and
// two `loandesk jobs` on it (JOB_WORKERS=3 and the runner's own scoring
// worker: 4 each), and Debian's nginx with
// deploy/nginx/one-machine.conf in front of the web processes. Through
// nginx (round robin, no sticky sessions):
//
//   - 50 admins save one application at the same version at once: one
//     200, 49 × 409;
//   - 10 admins each make 10 read-modify-write edits (+₹1 monthly income,
//     again on 409): all 100 land;
//   - 20 concurrent disbursements of a sanctioned loan, spread over the
//     three instances: exactly one, one journal transaction;
//
// and meanwhile the 8 workers of the two job processes handle 2,000
// scoring events: each handler run once (their metrics), each event
// claimed once and done (the queue), each application scored.
//
// Without nginx it is skipped, except under CI=true, where it fails:
// scripts/test.sh installs nginx and runs it with -v, so its counts are
// in CI's output. On the 2-core machine it takes about 20 s after the
// build (start 2-3 s, checks 16-20 s); the build of the binary is the
// one Playwright's global setup makes next, so CI builds it once.
func TestTopology(t *testing.T) {
	if cluster.NginxPath() == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("nginx is not installed: under CI the topology test must run (scripts/test.sh installs Debian's nginx)")
		}
		t.Skip("nginx is not installed (apt-get install nginx); CI installs it and runs this test")
	}
	began := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	moduleDir, err := cluster.ModuleDir(".")
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	bin, err := cluster.Build(ctx, moduleDir, work)
	if err != nil {
		t.Fatal(err)
	}
	built := time.Now()
	dataDir := filepath.Join(work, "data")
	scoreIDs := prepare(t, dataDir)

	var logs lockedBuffer
	c, err := cluster.Start(ctx, cluster.Options{
		Binary: bin, DataDir: dataDir, NginxConf: filepath.Join(moduleDir, "deploy/nginx/one-machine.conf"),
		Web: 3, Jobs: 2, JobWorkers: 3, Env: []string{"TWO_FACTOR_ROLES=none"}, Log: &logs,
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, logs.String())
	}
	defer c.Stop()
	defer func() {
		if t.Failed() {
			t.Logf("processes' output:\n%s", logs.String())
		}
	}()
	started := time.Now()
	st, err := store.Open(ctx, store.Config{MongoURI: c.MongoURI, ConnectTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(context.Background())

	// The job processes' 2,000 events run while the HTTP checks do.
	jobsDone := make(chan jobCounts, 1)
	go func() { jobsDone <- runJobs(ctx, t, c, st, scoreIDs) }()

	sessions := signInAdmins(ctx, t, c.URL)
	clientAddresses(ctx, t, st)
	sameVersion(ctx, t, c.URL, sessions)
	readModifyWrite(ctx, t, c.URL, st, sessions[:10])
	disburse(ctx, t, c, st, sessions)
	jc := <-jobsDone

	perInstance := map[string]int{}
	for _, line := range c.AccessLog() {
		if ups := cluster.Upstreams(line); len(ups) > 0 {
			perInstance[ups[len(ups)-1]]++
		}
	}
	var spread []string
	for i, w := range c.Web {
		n := perInstance[fmt.Sprintf("127.0.0.1:%d", w.Port)]
		spread = append(spread, fmt.Sprintf("web%d %d", i+1, n))
		if n == 0 {
			t.Errorf("web%d answered no request through nginx", i+1)
		}
	}
	t.Logf("requests through nginx by instance: %s", strings.Join(spread, ", "))
	t.Logf("jobs: %d events, handler runs %v (total %d), claimed more than once %d, not done %d, applications unscored %d; %d workers live (%s)",
		scoreLoans, jc.runsByProcess, jc.runs, jc.claimedTwice, jc.notDone, jc.unscored, jc.workers, jc.workersBy)
	t.Logf("took %s: build %s, start %s, checks %s", time.Since(began).Round(time.Millisecond),
		built.Sub(began).Round(time.Millisecond), started.Sub(built).Round(time.Millisecond), time.Since(started).Round(time.Millisecond))
}

// prepare writes the fixture into dataDir before `loandesk db` serves it
// (the embedded engine, as `loandesk seed` would): 50 admins whose
// passwords were hashed at bcrypt's lowest cost (a sign-in checks a hash
// at the cost it was made with, so 50 sign-ins take milliseconds, not
// 12 s of the two cores), the three loans of the HTTP checks, and 2,000
// submitted applications to score. It returns those applications.
func prepare(t *testing.T, dataDir string) []model.Loan {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(ctx)
	hash, err := auth.NewHasher(4).Hash(password)
	if err != nil {
		t.Fatal(err)
	}
	for i := range admins {
		if _, err := st.UserCreate(ctx, store.UserCreateParams{Email: adminEmail(i), Name: fmt.Sprintf("Admin %02d", i+1), Role: auth.RoleAdmin, PasswordHash: hash}); err != nil {
			t.Fatal(err)
		}
	}
	loan := func(humanID, status string) model.Loan {
		now := time.Now()
		return model.Loan{
			HumanID: humanID, Status: status, CreatedAt: now, CreatedBy: "seed", UpdatedAt: now, UpdatedBy: "seed",
			Applicant: model.Applicant{Name: "Asha Verma", Email: "asha@example.com", Phone: "+91 98765 43210", PAN: "ABCPV1234K",
				DateOfBirth: time.Date(1990, 5, 17, 0, 0, 0, 0, time.UTC), Address: "12, MG Road, Pune 411001", City: "Pune", Employment: "salaried", MonthlyIncome: 85_000_00},
			Terms: model.LoanTerms{Product: "personal", Amount: 5_00_000_00, TenureMonths: 36, AnnualRateBps: 1150, Purpose: "Wedding"},
		}
	}
	if err := st.LoanInsertMany(ctx, []model.Loan{loan(sameVersionLoan, model.StatusSubmitted), loan(editedLoan, model.StatusSubmitted), loan(disbursedLoan, model.StatusUnderReview)}); err != nil {
		t.Fatal(err)
	}
	// The disbursed loan's scorecard recommends approval, as the scoring
	// job would have recorded it.
	d, err := st.LoanGet(ctx, disbursedLoan)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.LoanSetScore(ctx, d.ID, d.Version, model.LoanScore{Points: 80, Recommendation: "approve", ScoredAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	scored := make([]model.Loan, scoreLoans)
	for i := range scored {
		scored[i] = loan(fmt.Sprintf("LN-2026-%06d", 100000+i), model.StatusSubmitted)
		scored[i].ID = primitive.NewObjectID()
	}
	for batch := range slices.Chunk(scored, 200) {
		if err := st.LoanInsertMany(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	return scored
}

type jobCounts struct {
	runsByProcess                         []int
	runs, claimedTwice, notDone, unscored int
	workers                               int
	workersBy                             string
	dead, failed                          int64
}

// runJobs publishes a scoring event for each application (8 publishers,
// through the official driver to `loandesk db`), waits until the queue
// has none left to do, and counts: handler runs per job process (each
// process's /metrics: every outcome of every run), events claimed more
// than once (attempts > 1), events not done, applications without a
// score.
func runJobs(ctx context.Context, t *testing.T, c *cluster.Cluster, st *store.Store, loans []model.Loan) (jc jobCounts) {
	published := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(loans); i = int(next.Add(1) - 1) {
				if _, err := st.PublishScoring(ctx, loans[i], "topology test", ""); err != nil {
					t.Errorf("publish: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	var stats store.QueueStats
	for {
		var err error
		stats, err = st.QueueStats(ctx, []string{store.EventScoreApplication})
		if err != nil {
			t.Errorf("queue stats: %v", err)
			return jc
		}
		if stats.Totals[store.EventDone]+stats.Totals[store.EventDead] >= scoreLoans || ctx.Err() != nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("jobs: %d events published and handled in %s", len(loans), time.Since(published).Round(time.Millisecond))
	jc.dead = stats.Totals[store.EventDead]
	byProcess := map[int]int{}
	for _, w := range stats.Workers {
		jc.workers += w.Concurrency
		byProcess[w.PID] += w.Concurrency
	}
	jc.workersBy = fmt.Sprint(byProcess)
	if len(byProcess) != 2 {
		t.Errorf("live workers in %d processes (%v), want the 2 job processes", len(byProcess), byProcess)
	}
	for i, p := range c.Jobs {
		runs, err := jobRuns(p.URL() + "/metrics")
		if err != nil {
			t.Errorf("jobs%d metrics: %v", i+1, err)
		}
		jc.runsByProcess = append(jc.runsByProcess, runs)
		jc.runs += runs
		if runs == 0 {
			t.Errorf("jobs%d handled no event: the two processes do not share the queue", i+1)
		}
	}
	for _, l := range loans {
		got, err := st.LoanByID(ctx, l.ID)
		if err != nil || got.Score == nil {
			jc.unscored++
		}
	}
	events, err := st.EventList(ctx, store.EventListParams{Limit: 3 * scoreLoans})
	if err != nil {
		t.Errorf("events: %v", err)
	}
	seen := 0
	for _, ev := range events {
		if ev.Type != store.EventScoreApplication {
			continue
		}
		seen++
		if ev.Attempts > 1 {
			jc.claimedTwice++
		}
		if ev.Status != store.EventDone {
			jc.notDone++
		}
	}
	jc.notDone += scoreLoans - seen
	if jc.runs != scoreLoans || jc.claimedTwice != 0 || jc.notDone != 0 || jc.unscored != 0 || jc.workers != 8 {
		t.Errorf("jobs: %d handler runs for %d events (%v by process), %d claimed more than once, %d not done (%d dead), %d unscored, %d workers",
			jc.runs, scoreLoans, jc.runsByProcess, jc.claimedTwice, jc.notDone, jc.dead, jc.unscored, jc.workers)
	}
	return jc
}

var jobRunSeries = regexp.MustCompile(`(?m)^loandesk_job_duration_seconds_count\{[^}]*type="application:score"[^}]*\} (\d+)$`)

// jobRuns sums a job process's scoring handler runs, every outcome
// (done, failed, dropped, released), from its metrics.
func jobRuns(u string) (int, error) {
	res, err := http.Get(u)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, m := range jobRunSeries.FindAllStringSubmatch(string(body), -1) {
		k, _ := strconv.Atoi(m[1])
		n += k
	}
	return n, nil
}

// session is one admin's browser: a cookie jar, redirects not followed.
type session struct {
	email string
	c     *http.Client
}

func signInAdmins(ctx context.Context, t *testing.T, base string) []session {
	t.Helper()
	out := make([]session, admins)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range out {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			jar, _ := cookiejar.New(nil)
			s := session{email: adminEmail(i), c: &http.Client{Jar: jar, Timeout: time.Minute,
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
			// Each sends an X-Forwarded-For of its own, as a client could:
			// the app must take nginx's entry (127.0.0.1), not this one.
			spoofed := http.Header{"X-Forwarded-For": {"203.0.113.9"}}
			res, _ := do(ctx, t, s, base, http.MethodPost, "/login", url.Values{"email": {s.email}, "password": {password}}, spoofed)
			if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || strings.Contains(loc, "login") {
				t.Errorf("sign in as %s: %d to %q", s.email, res.StatusCode, loc)
			}
			out[i] = s
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return out
}

// do sends a request as a browser on base's page would (same-origin
// fetch metadata), a form when form is set, and returns the answer and
// its body.
func do(ctx context.Context, t *testing.T, s session, base, method, path string, form url.Values, header http.Header) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Origin", base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := s.c.Do(req)
	if err != nil {
		t.Errorf("%s %s as %s: %v", method, path, s.email, err)
		return &http.Response{StatusCode: 0, Header: http.Header{}}, ""
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

var htmx = http.Header{"Hx-Request": {"true"}}

// editForm opens an application's applicant form (as htmx does) and
// returns the values a browser would submit.
func editForm(ctx context.Context, t *testing.T, s session, base, loan string) url.Values {
	t.Helper()
	res, body := do(ctx, t, s, base, http.MethodGet, "/loans/"+loan+"/applicant/edit", nil, htmx)
	if res.StatusCode != http.StatusOK {
		t.Errorf("open %s's applicant form as %s: %d", loan, s.email, res.StatusCode)
		return nil
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	v := url.Values{}
	doc.Find("form input[name]").Each(func(_ int, in *goquery.Selection) {
		typ := strings.ToLower(in.AttrOr("type", "text"))
		_, checked := in.Attr("checked")
		if typ == "submit" || typ == "button" || typ == "file" || (typ == "checkbox" || typ == "radio") && !checked {
			return
		}
		v.Add(in.AttrOr("name", ""), in.AttrOr("value", ""))
	})
	doc.Find("form textarea[name]").Each(func(_ int, ta *goquery.Selection) { v.Set(ta.AttrOr("name", ""), ta.Text()) })
	doc.Find("form select[name]").Each(func(_ int, sel *goquery.Selection) {
		opt := sel.Find("option[selected]").First()
		if opt.Length() == 0 {
			opt = sel.Find("option").First()
		}
		v.Set(sel.AttrOr("name", ""), opt.AttrOr("value", ""))
	})
	if v.Get("version") == "" || v.Get("monthlyIncome") == "" {
		t.Errorf("%s's applicant form has no version or monthly income: %v", loan, v)
		return nil
	}
	return v
}

func save(ctx context.Context, t *testing.T, s session, base, loan string, form url.Values) (int, string) {
	res, body := do(ctx, t, s, base, http.MethodPut, "/loans/"+loan+"/applicant", form, htmx)
	return res.StatusCode, body
}

// sameVersion: all 50 admins open the form at one version, then save at
// once through nginx.
func sameVersion(ctx context.Context, t *testing.T, base string, sessions []session) {
	forms := make([]url.Values, len(sessions))
	for i, s := range sessions {
		if forms[i] = editForm(ctx, t, s, base, sameVersionLoan); forms[i] == nil {
			t.FailNow()
		}
	}
	statuses := map[int]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, s := range sessions {
		wg.Go(func() {
			forms[i].Set("address", fmt.Sprintf("%d, Same Version Road, Pune 411001", i+1))
			<-start
			status, _ := save(ctx, t, s, base, sameVersionLoan, forms[i])
			mu.Lock()
			statuses[status]++
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	t.Logf("%d admins save %s at version %s at once: %d × 200, %d × 409, others %v",
		len(sessions), sameVersionLoan, forms[0].Get("version"), statuses[200], statuses[409], others(statuses, 200, 409))
	if statuses[200] != 1 || statuses[409] != len(sessions)-1 {
		t.Errorf("same version: %v, want one 200 and %d × 409", statuses, len(sessions)-1)
	}
}

var savedAs = regexp.MustCompile(`Saved as version (\d+)`)

// readModifyWrite: each of the admins adds ₹1 to the monthly income 10
// times, reading the form again after each 409. Every accepted save must
// be in the result: the income rises by exactly ₹1 per 200.
func readModifyWrite(ctx context.Context, t *testing.T, base string, st *store.Store, sessions []session) {
	before, err := st.LoanGet(ctx, editedLoan)
	if err != nil {
		t.Fatal(err)
	}
	var accepted, conflicts atomic.Int64
	var wg sync.WaitGroup
	for _, s := range sessions {
		wg.Go(func() {
			for range 10 {
				for try := 0; ; try++ {
					if try == 200 || ctx.Err() != nil {
						t.Errorf("%s: an edit still conflicted after %d tries", s.email, try)
						return
					}
					form := editForm(ctx, t, s, base, editedLoan)
					if form == nil {
						return
					}
					income, err := money.ParseRupees(form.Get("monthlyIncome"))
					if err != nil {
						t.Errorf("monthly income %q: %v", form.Get("monthlyIncome"), err)
						return
					}
					form.Set("monthlyIncome", money.FormatRupees(income+100))
					status, body := save(ctx, t, s, base, editedLoan, form)
					if status == http.StatusConflict {
						conflicts.Add(1)
						continue
					}
					if status != http.StatusOK || !savedAs.MatchString(body) {
						t.Errorf("save as %s: %d %.300s", s.email, status, body)
						return
					}
					accepted.Add(1)
					break
				}
			}
		})
	}
	wg.Wait()
	after, err := st.LoanGet(ctx, editedLoan)
	if err != nil {
		t.Fatal(err)
	}
	kept := (after.Applicant.MonthlyIncome - before.Applicant.MonthlyIncome) / 100
	want := int64(len(sessions) * 10)
	t.Logf("%d admins × 10 read-modify-write edits of %s: %d accepted, %d kept, %d lost (%d conflicts retried); version %d → %d",
		len(sessions), editedLoan, accepted.Load(), kept, accepted.Load()-kept, conflicts.Load(), before.Version, after.Version)
	if accepted.Load() != want || kept != want || after.Version-before.Version != want {
		t.Errorf("read-modify-write: %d accepted, income rose by %d rupees, version by %d; want %d each", accepted.Load(), kept, after.Version-before.Version, want)
	}
}

// disburse: admin 1 approves and sanctions the loan; then 20 requests
// of 20 other admins disburse it at once, nginx spreading them over the
// three instances.
func disburse(ctx context.Context, t *testing.T, c *cluster.Cluster, st *store.Store, sessions []session) {
	for _, to := range []string{model.StatusApproved, model.StatusSanctioned} {
		l, err := st.LoanGet(ctx, disbursedLoan)
		if err != nil {
			t.Fatal(err)
		}
		res, body := do(ctx, t, sessions[0], c.URL, http.MethodPost, "/loans/"+disbursedLoan+"/status",
			url.Values{"version": {strconv.FormatInt(l.Version, 10)}, "to": {to}}, nil)
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s → %s: %d %.500s", disbursedLoan, to, res.StatusCode, body)
		}
	}
	path := "/api/applications/" + disbursedLoan + "/disbursement"
	statuses := map[int]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 20 {
		s := sessions[1+i]
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, c.URL+path, strings.NewReader(fmt.Sprintf(`{"utr": "UTIB%010d"}`, i)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Origin", c.URL)
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			<-start
			res, err := s.c.Do(req)
			if err != nil {
				t.Errorf("disburse as %s: %v", s.email, err)
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			mu.Lock()
			statuses[res.StatusCode]++
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	instances := map[string]int{}
	for _, line := range accessLines(t, c, "POST "+path, 20) {
		for _, u := range cluster.Upstreams(line) {
			instances[u]++
		}
	}
	txns, err := st.LedgerTxnsOfLoan(ctx, disbursedLoan)
	if err != nil {
		t.Fatal(err)
	}
	l, err := st.LoanGet(ctx, disbursedLoan)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("20 concurrent disbursements of %s over %d instances %v: %d × 201, %d × 409, others %v; %d journal transaction(s), status %s",
		disbursedLoan, len(instances), counts(instances), statuses[201], statuses[409], others(statuses, 201, 409), len(txns), l.Status)
	if statuses[201] != 1 || statuses[409] != 19 || len(txns) != 1 || l.Status != model.StatusDisbursed || len(instances) != 3 {
		t.Errorf("disbursements: %v over %d instances, %d journal transactions, status %s; want one 201, 19 × 409, one transaction over 3 instances",
			statuses, len(instances), len(txns), l.Status)
	}
}

// clientAddresses: every session's recorded address is nginx's view of
// the client (127.0.0.1), never the X-Forwarded-For the client sent.
func clientAddresses(ctx context.Context, t *testing.T, st *store.Store) {
	addrs := map[string]int{}
	for i := range admins {
		u, err := st.UserByEmail(ctx, adminEmail(i))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range u.Sessions {
			addrs[s.IP]++
		}
	}
	t.Logf("sessions' client addresses (each client sent X-Forwarded-For: 203.0.113.9): %v", addrs)
	if addrs["127.0.0.1"] != admins || len(addrs) != 1 {
		t.Errorf("client addresses behind nginx: %v, want 127.0.0.1 for all %d", addrs, admins)
	}
}

func others(m map[int]int, except ...int) map[int]int {
	out := map[int]int{}
	for k, v := range m {
		if !slices.Contains(except, k) {
			out[k] = v
		}
	}
	return out
}

func counts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// accessLines returns nginx's access log lines holding match once there
// are want of them: nginx logs a request after answering it, so a client
// can hear its answer before the line is written (a run counted 19 lines
// for 20 answered requests). After 10 s it returns what there is.
func accessLines(t *testing.T, c *cluster.Cluster, match string, want int) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var lines []string
		for _, line := range c.AccessLog() {
			if strings.Contains(line, match) {
				lines = append(lines, line)
			}
		}
		if len(lines) >= want || time.Now().After(deadline) {
			return lines
		}
		time.Sleep(20 * time.Millisecond)
	}
}
