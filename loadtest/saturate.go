package loadtest

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// SaturateOptions: an open loop (requests sent at a fixed rate whatever
// the answers) on the mixed scenario's mix, from Sessions signed-in
// sessions of staff users (see signInStaff), at Start, Start+Step, … requests per second, StepFor each,
// until a step fails (p95 ≥ MaxP95 or errors > 1 %) or Max is passed.
type SaturateOptions struct {
	Start, Step, Max int
	StepFor          time.Duration
	Sessions         int
	MaxP95           time.Duration // 300 ms
	Seed             uint64
	// SignInParallel bounds concurrent sign-ins (default 4).
	SignInParallel int
}

// StepResult is one rate's outcome.
type StepResult struct {
	Rate   int
	Result Result
	Passed bool
}

// Saturate steps the rate up and returns every step run; the highest
// passing rate is the last step with Passed.
// progressText, when not nil, hears how the sign-ins go.
func Saturate(ctx context.Context, app *App, o SaturateOptions, progress func(StepResult), progressText func(string)) ([]StepResult, error) {
	p, err := loadPools(ctx, app)
	if err != nil {
		return nil, err
	}
	clients, err := signInStaff(ctx, app, o.Sessions, cmp.Or(o.SignInParallel, 4), progressText)
	if err != nil {
		return nil, err
	}
	cookies := make([]string, len(clients))
	u, _ := url.Parse(app.Base)
	for i, c := range clients {
		for _, ck := range c.Jar.Cookies(u) {
			cookies[i] += ck.Name + "=" + ck.Value + "; "
		}
	}
	forms, err := openForms(ctx, app, p.editable, cookies[0])
	if err != nil {
		return nil, err
	}
	mix := &openMix{base: app.Base, rng: rand.New(rand.NewPCG(o.Seed, 99)), pools: p, cookies: cookies, forms: forms, sent: map[int]string{}}
	edits := &Edits{}
	var steps []StepResult
	for rate := o.Start; rate <= o.Max && ctx.Err() == nil; rate += o.Step {
		rec := NewRecorder()
		atk := vegeta.NewAttacker(vegeta.Workers(64), vegeta.MaxWorkers(20000), vegeta.Client(openLoopClient()), vegeta.MaxBody(-1))
		res, err := measure(app, rec, func() error {
			for r := range atk.Attack(mix.target, vegeta.ConstantPacer{Freq: rate, Per: time.Second}, o.StepFor, "") {
				rec.Add(r)
				mix.answered(r, edits)
			}
			return ctx.Err()
		})
		if err != nil {
			return steps, err
		}
		total := res.Summary.Total
		passed := total.P95 < float64(o.MaxP95.Milliseconds()) && float64(total.Errors) <= 0.01*float64(total.Requests)
		st := StepResult{Rate: rate, Result: res, Passed: passed}
		steps = append(steps, st)
		if progress != nil {
			progress(st)
		}
		if !passed {
			break
		}
	}
	if len(steps) > 0 {
		last := &steps[len(steps)-1].Result
		last.Accepted, last.Unconfirmed = edits.Len(), edits.UnconfirmedCount()
		last.Lost, err = edits.Lost(ctx, newClient(), app.Base, bearer(app.Token))
	}
	return steps, err
}

// openLoopClient is the client vegeta makes for KeepAlive(true),
// Connections(10000), Timeout(30 s) and Redirects(NoFollow), reading the
// bodies of pages and API documents to the end without keeping them
// (drainPages): only saves' answers are read.
func openLoopClient() *http.Client {
	dialer := &net.Dialer{KeepAlive: 30 * time.Second}
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: drainPages{&http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         dialer.DialContext,
			MaxIdleConnsPerHost: 10000,
		}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// openForm is an application's applicant form as last known: its
// fields, and the version to save against.
type openForm struct {
	values  url.Values
	version string
}

// openForms reads the applicant form of each editable application once
// (not measured).
func openForms(ctx context.Context, app *App, ids []string, cookie string) (map[string]*openForm, error) {
	forms := map[string]*openForm{}
	c := newClient()
	for _, id := range ids {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, app.Base+"/loans/"+id+"/applicant/edit", nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Cookie", cookie)
		req.Header.Set("HX-Request", "true")
		res, err := c.Do(req)
		if err != nil {
			return nil, err
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET the applicant form of %s: %s %v", id, res.Status, err)
		}
		v := formValues(body)
		forms[id] = &openForm{values: v, version: v.Get("version")}
	}
	return forms, nil
}

// openMix makes the open loop's requests: the mixed scenario's mix, each
// from a random session; an edit is a save of the form as last known
// (its version from the last answer about it), so concurrent saves of
// one application conflict as they would between people.
type openMix struct {
	mu      sync.Mutex
	base    string
	rng     *rand.Rand
	pools   pools
	cookies []string
	forms   map[string]*openForm
	n       int
	// sent holds each save's address by its number, which rides in the
	// target URL's fragment (never sent to the server) to its result.
	sent map[int]string
}

func (m *openMix) target(t *vegeta.Target) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	h := http.Header{"Cookie": {m.cookies[m.rng.IntN(len(m.cookies))]}}
	pick := func(list []string) string { return list[m.rng.IntN(len(list))] }
	get := func(path string) { *t = vegeta.Target{Method: http.MethodGet, URL: m.base + path, Header: h} }
	r := m.rng.IntN(100)
	switch {
	case r < mixList:
		switch m.rng.IntN(4) {
		case 0:
			get("/loans")
		case 1:
			get("/loans?status=" + pick([]string{"submitted", "under_review", "approved", "on_hold"}))
		case 2:
			get("/loans?q=" + url.QueryEscape(pick(m.pools.words)))
		default:
			get(fmt.Sprintf("/loans?page=%d&sort=amount_desc", 1+m.rng.IntN(20)))
		}
	case r < mixList+mixDetail:
		get("/loans/" + pick(m.pools.all))
	case r < mixList+mixDetail+mixEdit:
		id := pick(m.pools.editable)
		f := m.forms[id]
		m.n++
		v := url.Values{}
		for k, vals := range f.values {
			v[k] = vals
		}
		v.Set("version", f.version)
		address := fmt.Sprintf("%d Open Loop Road, save %d", 100+m.rng.IntN(900), m.n)
		v.Set("address", address)
		m.sent[m.n] = address
		h.Set("HX-Request", "true")
		h.Set("Content-Type", "application/x-www-form-urlencoded")
		*t = vegeta.Target{Method: http.MethodPut, URL: fmt.Sprintf("%s/loans/%s/applicant#save-%d", m.base, id, m.n), Body: []byte(v.Encode()), Header: h}
	default:
		if m.rng.IntN(2) == 0 {
			get("/api/applications?status=under_review&page=" + strconv.Itoa(1+m.rng.IntN(10)))
		} else {
			get("/api/applications/" + pick(m.pools.all))
		}
	}
	return nil
}

var formVersion = regexp.MustCompile(`name="version"[^>]*value="(\d+)"`)

// answered learns from a save's answer: a 200 is an accepted edit (and
// the version to save against next), a 409 carries the current version.
func (m *openMix) answered(r *vegeta.Result, edits *Edits) {
	if r.Method != http.MethodPut {
		return
	}
	u, err := url.Parse(r.URL)
	if err != nil {
		return
	}
	id := pathID(u.Path)
	n, _ := strconv.Atoi(strings.TrimPrefix(u.Fragment, "save-"))
	m.mu.Lock()
	defer m.mu.Unlock()
	address, sent := m.sent[n]
	delete(m.sent, n)
	f := m.forms[id]
	if f == nil || !sent {
		return
	}
	switch r.Code {
	case http.StatusOK:
		v := savedAs(r.Body)
		if v == 0 {
			edits.Unconfirmed()
		}
		if v > 0 {
			edits.Accepted(Edit{Loan: id, Version: v, Field: "address", Value: address})
			if cur, _ := strconv.ParseInt(f.version, 10, 64); v > cur {
				f.version = strconv.FormatInt(v, 10)
			}
		}
	case http.StatusConflict:
		if mm := formVersion.FindSubmatch(r.Body); mm != nil {
			f.version = string(mm[1])
		}
	}
}

// pathID is the application number in /loans/{id}/….
func pathID(p string) string {
	const prefix = "/loans/"
	if len(p) <= len(prefix) {
		return ""
	}
	rest := p[len(prefix):]
	for i := range len(rest) {
		if rest[i] == '/' {
			return rest[:i]
		}
	}
	return rest
}
