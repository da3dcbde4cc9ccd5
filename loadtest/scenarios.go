package loadtest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"golang.org/x/sync/errgroup"
)

// Result is a scenario's outcome.
type Result struct {
	Summary  Summary
	AppCPU   time.Duration // CPU the app used during the run (0: not known)
	ToolCPU  time.Duration
	Accepted int    // saves answered 200
	Lost     []Edit // accepted saves missing from the history
	// SignedOutAtEnd counts sessions no longer signed in after the run
	// (mixed).
	SignedOutAtEnd int
	// Unconfirmed counts saves answered 200 without the version saved.
	Unconfirmed int
}

// OK reports whether the run had no errors, lost no edit and could
// check every one.
func (r Result) OK() bool {
	return r.Summary.Total.Errors == 0 && r.Summary.SignedOut == 0 && r.SignedOutAtEnd == 0 && len(r.Lost) == 0 && r.Unconfirmed == 0
}

// stillSignedIn counts the clients that are no longer signed in: GET
// /loans answers them with other than 200 (not measured).
func stillSignedIn(ctx context.Context, base string, clients []*http.Client, parallel int) (int, error) {
	var out atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(parallel, 1))
	for _, c := range clients {
		g.Go(func() error {
			res, _, err := do(gctx, c, http.MethodGet, base+"/loans", nil)
			if err != nil {
				return err
			}
			if res.StatusCode != http.StatusOK {
				out.Add(1)
			}
			return nil
		})
	}
	err := g.Wait()
	return int(out.Load()), err
}

// Print writes the report.
func (r Result) Print(w interface{ Write([]byte) (int, error) }) {
	r.Summary.Print(w)
	secs := r.Summary.Seconds
	if r.AppCPU > 0 {
		fmt.Fprintf(w, "app CPU: %.2f cores (%.1f s in %.1f s)\n", r.AppCPU.Seconds()/secs, r.AppCPU.Seconds(), secs)
	}
	fmt.Fprintf(w, "tool CPU: %.2f cores (%.1f s)\n", r.ToolCPU.Seconds()/secs, r.ToolCPU.Seconds())
	if r.SignedOutAtEnd > 0 {
		fmt.Fprintf(w, "sessions no longer signed in after the run: %d\n", r.SignedOutAtEnd)
	}
	if r.Accepted > 0 || r.Summary.Saves > 0 {
		fmt.Fprintf(w, "accepted edits: %d, lost: %d, answered 200 without a version: %d\n", r.Accepted, len(r.Lost), r.Unconfirmed)
	}
	for i, l := range r.Lost {
		if i == 10 {
			fmt.Fprintf(w, "… and %d more\n", len(r.Lost)-10)
			break
		}
		fmt.Fprintf(w, "  lost: %s version %d %s=%q\n", l.Loan, l.Version, l.Field, l.Value)
	}
}

// measure runs fn between two CPU readings.
func measure(app *App, rec *Recorder, fn func() error) (Result, error) {
	appBefore, toolBefore := app.CPU(), ToolCPU()
	err := fn()
	res := Result{Summary: rec.Summary(), ToolCPU: ToolCPU() - toolBefore}
	if after := app.CPU(); after > 0 {
		res.AppCPU = after - appBefore
	}
	return res, err
}

// stepper paces one admin's attacker: each hit waits until the admin has
// read the previous answer and chosen what to do next (its think time
// is the pace's wait, so it is not counted as latency).
type stepper struct {
	next chan step
	cur  vegeta.Target
}

type step struct {
	wait   time.Duration
	target vegeta.Target
	stop   bool
}

// Pace implements vegeta.Pacer.
func (s *stepper) Pace(time.Duration, uint64) (time.Duration, bool) {
	st := <-s.next
	if st.stop {
		return 0, true
	}
	s.cur = st.target
	return st.wait, false
}

// Rate implements vegeta.Pacer (informational only).
func (s *stepper) Rate(time.Duration) float64 { return 0 }

func (s *stepper) targeter(t *vegeta.Target) error {
	*t = s.cur
	t.Header = s.cur.Header.Clone()
	return nil
}

// runAdmin drives one admin: first is its first request after wait;
// then decide, given each answer, the next request and the pause before
// it, until it says stop.
func runAdmin(client *http.Client, rec *Recorder, wait time.Duration, first vegeta.Target,
	decide func(res *vegeta.Result) (vegeta.Target, time.Duration, bool)) {
	measured := *client // the same connection and cookies
	measured.Transport = drainPages{client.Transport}
	atk := vegeta.NewAttacker(vegeta.Client(&measured), vegeta.Workers(1), vegeta.MaxWorkers(1), vegeta.MaxBody(-1))
	s := &stepper{next: make(chan step, 1)}
	results := atk.Attack(s.targeter, s, 0, "")
	s.next <- step{wait: wait, target: first}
	for res := range results {
		rec.Add(res)
		tgt, think, ok := decide(res)
		if !ok {
			s.next <- step{stop: true}
			continue
		}
		s.next <- step{wait: think, target: tgt}
	}
}

// drainPages reads the bodies no decision needs (full pages and API
// documents: every GET without HX-Request) to the end without keeping
// them, so vegeta holds an empty body: keeping every 30–60 KB page was
// most of the tool's own CPU, which shares the machine with the app.
// The app still writes, and the tool still reads, every byte; the
// latency vegeta records ends, as before, when the body was read.
type drainPages struct{ next http.RoundTripper }

func (d drainPages) RoundTrip(req *http.Request) (*http.Response, error) {
	next := d.next
	if next == nil {
		next = http.DefaultTransport
	}
	res, err := next.RoundTrip(req)
	// The scenarios' header maps are literals ("HX-Request", not the
	// canonical "Hx-Request"), which Header.Get does not find.
	if err != nil || req.Method != http.MethodGet || req.Header.Get("HX-Request") == "true" || len(req.Header["HX-Request"]) > 0 {
		return res, err
	}
	_, err = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	res.Body = http.NoBody
	return res, err
}

// SeedOptions is the design notes' test: Admins start within Spread,
// each sends Requests list requests back to back over its own keep-alive
// connection.
type SeedOptions struct {
	Admins   int           // 1,000
	Requests int           // 10
	Spread   time.Duration // 1 s
}

// Seed runs `artillery quick --count 1000 --num 10` on GET
// /api/applications (authorised with the API token, as the notes' test
// ran it).
func Seed(ctx context.Context, app *App, o SeedOptions) (Result, error) {
	rec := NewRecorder()
	return measure(app, rec, func() error {
		var wg sync.WaitGroup
		hdr := http.Header{"Authorization": {"Bearer " + app.Token}}
		tgt := vegeta.Target{Method: http.MethodGet, URL: app.Base + "/api/applications", Header: hdr}
		for i := range o.Admins {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sent := 1
				offset := time.Duration(0)
				if o.Admins > 1 {
					offset = o.Spread * time.Duration(i) / time.Duration(o.Admins-1)
				}
				runAdmin(newClient(), rec, offset, tgt, func(*vegeta.Result) (vegeta.Target, time.Duration, bool) {
					if sent >= o.Requests || ctx.Err() != nil {
						return vegeta.Target{}, 0, false
					}
					sent++
					return tgt, 0, true
				})
			}()
		}
		wg.Wait()
		return ctx.Err()
	})
}

// pools are the application ids and words a scenario picks from.
type pools struct {
	all      []string // any application
	editable []string // submitted, under review or on hold: edits go only here
	words    []string // names and application numbers to search for
}

func loadPools(ctx context.Context, app *App) (pools, error) {
	c := newClient()
	auth := bearer(app.Token)
	all, err := listIDs(ctx, c, app.Base, auth, "", 2000)
	if err != nil {
		return pools{}, err
	}
	var p pools
	seen := map[string]bool{}
	for _, it := range all {
		p.all = append(p.all, it.ID)
		// What staff type into the search box: a first name, a surname,
		// an application's number (cities are not searched).
		words := append(strings.Fields(it.ApplicantName), strings.TrimPrefix(it.ID, "LN-"))
		for _, w := range words {
			if w != "" && !seen[w] {
				seen[w] = true
				p.words = append(p.words, w)
			}
		}
	}
	for _, st := range []string{"submitted", "under_review", "on_hold"} {
		items, err := listIDs(ctx, c, app.Base, auth, st, 400)
		if err != nil {
			return pools{}, err
		}
		for _, it := range items {
			p.editable = append(p.editable, it.ID)
		}
	}
	if len(p.all) == 0 || len(p.editable) == 0 {
		return pools{}, errors.New("no applications to work on: seed some (-loans)")
	}
	return p, nil
}

// MixedOptions: Admins signed-in sessions (staff users', SessionsPerUser
// to a user), each pausing Think on average
// (uniformly 0.5–1.5×) between requests, for Duration.
type MixedOptions struct {
	Admins   int
	Think    time.Duration
	Duration time.Duration
	// SignInParallel bounds concurrent sign-ins, password changes and
	// user additions (each a bcrypt hash or check, slow on purpose;
	// default 4).
	SignInParallel int
	Seed           uint64 // the random choices' seed
}

// The mix, in percent of an admin's actions: list pages (all, a status
// tab, a search, a later page by amount), a loan's page, a versioned
// edit of its applicant section, API reads.
const (
	mixList   = 40
	mixDetail = 35
	mixEdit   = 15
	mixAPI    = 10
)

// Mixed signs in o.Admins sessions through the sign-in form, each with
// its own connection, as staff users it creates (see signInStaff), then
// lets them work for o.Duration, and afterwards checks that every
// session is still signed in and every accepted edit is in the version
// histories.
func Mixed(ctx context.Context, app *App, o MixedOptions, progress func(string)) (Result, error) {
	p, err := loadPools(ctx, app)
	if err != nil {
		return Result{}, err
	}
	clients, err := signInStaff(ctx, app, o.Admins, cmp.Or(o.SignInParallel, 4), progress)
	if err != nil {
		return Result{}, err
	}
	edits := &Edits{}
	rec := NewRecorder()
	res, err := measure(app, rec, func() error {
		stopAt := time.Now().Add(o.Duration)
		var wg sync.WaitGroup
		for i, c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				a := &mixedAdmin{id: i, base: app.Base, rng: rand.New(rand.NewPCG(o.Seed, uint64(i))), pools: p, edits: edits, think: o.Think}
				first, _ := a.choose()
				offset := time.Duration(a.rng.Int64N(int64(o.Think) + 1)) // spread the starts over one think time
				runAdmin(c, rec, offset, first, func(res *vegeta.Result) (vegeta.Target, time.Duration, bool) {
					next, pause, ok := a.after(res) // records a save before any stop
					if time.Now().After(stopAt) || ctx.Err() != nil {
						return vegeta.Target{}, 0, false
					}
					return next, pause, ok
				})
			}()
		}
		wg.Wait()
		return ctx.Err()
	})
	if err != nil {
		return res, err
	}
	if res.SignedOutAtEnd, err = stillSignedIn(ctx, app.Base, clients, cmp.Or(o.SignInParallel, 4)); err != nil {
		return res, err
	}
	res.Accepted, res.Unconfirmed = edits.Len(), edits.UnconfirmedCount()
	res.Lost, err = edits.Lost(ctx, newClient(), app.Base, bearer(app.Token))
	return res, err
}

// mixedAdmin is one admin's state: what it is editing, if anything.
type mixedAdmin struct {
	id    int
	base  string
	rng   *rand.Rand
	pools pools
	edits *Edits
	think time.Duration

	editing string // the application whose form is open
	tries   int    // saves of this edit answered 409
	value   string // the address being saved
	n       int    // edits made, for unique values
}

var htmx = http.Header{"HX-Request": {"true"}}

func (a *mixedAdmin) pause() time.Duration {
	return a.think/2 + time.Duration(a.rng.Int64N(int64(a.think)+1))
}

func (a *mixedAdmin) pick(list []string) string { return list[a.rng.IntN(len(list))] }

// choose picks the next action by the mix.
func (a *mixedAdmin) choose() (vegeta.Target, time.Duration) {
	get := func(path string, h http.Header) vegeta.Target {
		return vegeta.Target{Method: http.MethodGet, URL: a.base + path, Header: h}
	}
	r := a.rng.IntN(100)
	switch {
	case r < mixList:
		switch a.rng.IntN(4) {
		case 0:
			return get("/loans", nil), a.pause()
		case 1:
			st := []string{"submitted", "under_review", "approved", "on_hold"}
			return get("/loans?status="+a.pick(st), nil), a.pause()
		case 2:
			return get("/loans?q="+url.QueryEscape(a.pick(a.pools.words)), nil), a.pause()
		default:
			return get(fmt.Sprintf("/loans?page=%d&sort=amount_desc", 1+a.rng.IntN(20)), nil), a.pause()
		}
	case r < mixList+mixDetail:
		return get("/loans/"+a.pick(a.pools.all), nil), a.pause()
	case r < mixList+mixDetail+mixEdit:
		a.editing, a.tries = a.pick(a.pools.editable), 0
		return get("/loans/"+a.editing+"/applicant/edit", htmx), a.pause()
	default:
		if a.rng.IntN(2) == 0 {
			return get("/api/applications?status=under_review&page="+fmt.Sprint(1+a.rng.IntN(10)), nil), a.pause()
		}
		return get("/api/applications/"+a.pick(a.pools.all), nil), a.pause()
	}
}

// after reads an answer and decides the next request: an open edit form
// is filled in and saved after a pause; a save that conflicts reloads
// the form and tries again (up to 3 times), as a person would.
func (a *mixedAdmin) after(res *vegeta.Result) (vegeta.Target, time.Duration, bool) {
	if a.editing == "" {
		t, d := a.choose()
		return t, d, true
	}
	loan := a.editing
	switch {
	case res.Method == http.MethodGet && res.Code == http.StatusOK:
		form := formValues(res.Body)
		if form.Get("version") == "" {
			break // not a form: give up this edit
		}
		a.n++
		a.value = fmt.Sprintf("%d Load Street, admin %d edit %d", a.rng.IntN(900)+100, a.id, a.n)
		form.Set("address", a.value)
		h := htmx.Clone()
		h.Set("Content-Type", "application/x-www-form-urlencoded")
		return vegeta.Target{Method: http.MethodPut, URL: a.base + "/loans/" + loan + "/applicant", Body: []byte(form.Encode()), Header: h}, a.pause(), true
	case res.Method == http.MethodPut && res.Code == http.StatusOK:
		if v := savedAs(res.Body); v > 0 {
			a.edits.Accepted(Edit{Loan: loan, Version: v, Field: "address", Value: a.value})
		} else {
			a.edits.Unconfirmed()
		}
	case res.Method == http.MethodPut && res.Code == http.StatusConflict && a.tries < 3:
		a.tries++
		return vegeta.Target{Method: http.MethodGet, URL: a.base + "/loans/" + loan + "/applicant/edit", Header: htmx}, a.think / 4, true
	}
	a.editing = ""
	t, d := a.choose()
	return t, d, true
}
