package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"loandesk/auth"
	"loandesk/clock"
	"loandesk/model"
	"loandesk/web"
)

// send makes a same-site request with a form body, as htmx (hx=true) or
// a plain browser form would.
func send(t *testing.T, c *http.Client, method, base, path string, form url.Values, hx bool) response {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if hx {
		req.Header.Set("HX-Request", "true")
	}
	return do(t, c, req)
}

// loanFixture is a fresh database with one known application, an admin,
// an underwriter and a viewer.
type loanFixture struct {
	*testBundle
	loan model.Loan
}

func newLoanFixture(t testing.TB, opts ...option) loanFixture {
	t.Helper()
	b := setup(t, opts...)
	for email, role := range map[string]string{"admin@example.com": auth.RoleAdmin, "uw@example.com": auth.RoleUnderwriter, "viewer@example.com": auth.RoleViewer} {
		b.createUser(t, email, role)
	}
	ctx := context.Background()
	l := model.Loan{
		HumanID: "LN-2026-000042", Status: model.StatusSubmitted, CreatedAt: time.Now(), CreatedBy: "seed", UpdatedAt: time.Now(), UpdatedBy: "seed",
		Applicant: model.Applicant{Name: "Asha Verma", Email: "asha@example.com", Phone: "+91 98765 43210", PAN: "ABCPV1234K",
			DateOfBirth: time.Date(1990, 5, 17, 0, 0, 0, 0, time.UTC), Address: "12, MG Road, Pune 411001", City: "Pune", Employment: "salaried", MonthlyIncome: 85_000_00},
		Terms: model.LoanTerms{Product: "personal", Amount: 5_00_000_00, TenureMonths: 36, AnnualRateBps: 1150, Purpose: "Wedding"},
	}
	if err := b.store.LoanInsertMany(ctx, []model.Loan{l}); err != nil {
		t.Fatal(err)
	}
	got, err := b.store.LoanGet(ctx, l.HumanID)
	if err != nil {
		t.Fatal(err)
	}
	return loanFixture{testBundle: b, loan: got}
}

// score records a current score of recommendation on the application,
// as the scoring job would.
func (f loanFixture) score(t *testing.T, recommendation string) {
	t.Helper()
	l := f.current(t)
	if err := f.store.LoanSetScore(context.Background(), l.ID, l.Version, model.LoanScore{Points: 80, Recommendation: recommendation, ScoredAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
}

func (f loanFixture) current(t *testing.T) model.Loan {
	t.Helper()
	l, err := f.store.LoanGet(context.Background(), f.loan.HumanID)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func v(n int64) string { return strconv.FormatInt(n, 10) }

func TestLoanDetail(t *testing.T) {
	t.Parallel()
	f := newLoanFixture(t)
	uw, viewer := newClient(t), newClient(t)
	mustLogin(t, uw, f.url, "uw@example.com")
	mustLogin(t, viewer, f.url, "viewer@example.com")

	res := get(t, uw, f.url+"/loans/LN-2026-000042")
	if res.status != http.StatusOK {
		t.Fatalf("status %d", res.status)
	}
	doc := parse(t, res.body)
	for sel, want := range map[string]string{
		`[data-testid="loan-id"]`:     "LN-2026-000042",
		`[data-testid="loan-status"]`: "Submitted",
		// ₹5,00,000 over 36 months at 11.50 %: ₹16,488.00 (P·r·(1+r)^n/((1+r)^n−1)).
		`[data-testid="loan-emi"]`: "₹16,488",
	} {
		if got := strings.TrimSpace(doc.Find(sel).Text()); got != want {
			t.Errorf("%s = %q, want %q", sel, got, want)
		}
	}
	if !strings.Contains(doc.Find(`[data-testid="section-applicant"]`).Text(), "ABCPV1234K") {
		t.Error("applicant section lacks the PAN")
	}
	if doc.Find(`[data-testid="edit"]`).Length() != 2 || doc.Find(`[data-testid="status-under_review"]`).Length() != 1 {
		t.Error("an underwriter should see two Edit links and Start review")
	}

	vdoc := parse(t, get(t, viewer, f.url+"/loans/LN-2026-000042").body)
	if vdoc.Find(`[data-testid="edit"]`).Length() != 0 || vdoc.Find(`button[data-testid^="status-"]`).Length() != 0 {
		t.Error("a viewer sees edit links or status actions")
	}
	for _, path := range []string{"/loans/LN-2026-999999", "/loans/<script>", "/loans/LN-2026-000042/nosuchsection/edit"} {
		if r := get(t, uw, f.url+path); r.status != http.StatusNotFound || strings.Contains(r.body, "<script>") {
			t.Errorf("%s: status %d", path, r.status)
		}
	}
}

func TestLoanEdit(t *testing.T) {
	t.Parallel()

	t.Run("HtmxSaveSwapsTheSectionAndRecordsHistory", func(t *testing.T) {
		t.Parallel()
		f := newLoanFixture(t)
		c := newClient(t)
		mustLogin(t, c, f.url, "uw@example.com")
		form := get(t, c, f.url+"/loans/LN-2026-000042/applicant/edit")
		if form.status != http.StatusOK || parse(t, form.body).Find(`input[name="version"]`).AttrOr("value", "") != "1" {
			t.Fatalf("edit form: status %d", form.status)
		}
		res := send(t, c, http.MethodPut, f.url, "/loans/LN-2026-000042/applicant", url.Values{"version": {"1"}, "name": {"Asha  Verma-Rao "}, "pan": {"abcpv1234k"}}, true)
		if res.status != http.StatusOK || !strings.Contains(res.body, "Saved as version 2") || !strings.Contains(res.body, `hx-swap-oob="true"`) {
			t.Fatalf("save: status %d\n%s", res.status, res.body)
		}
		l := f.current(t)
		if l.Version != 2 || l.Applicant.Name != "Asha Verma-Rao" || l.Applicant.PAN != "ABCPV1234K" || len(l.History) != 1 {
			t.Fatalf("stored %+v", l)
		}
		h := l.History[0]
		if h.By != "uw@example.com" || h.Version != 2 || len(h.Fields) != 1 || h.Fields[0] != (model.FieldChange{Field: "name", From: "Asha Verma", To: "Asha Verma-Rao"}) {
			t.Fatalf("history %+v", h)
		}
	})

	t.Run("StaleVersionGets409WithBothSidesAndApplyOnTopKeepsBoth", func(t *testing.T) {
		t.Parallel()
		f := newLoanFixture(t)
		admin, uw := newClient(t), newClient(t)
		mustLogin(t, admin, f.url, "admin@example.com")
		mustLogin(t, uw, f.url, "uw@example.com")
		// Both load version 1; the admin saves the amount first.
		if r := send(t, admin, http.MethodPut, f.url, "/loans/LN-2026-000042/terms", url.Values{"version": {"1"}, "amount": {"6,00,000"}, "purpose": {"Wedding"}}, true); r.status != http.StatusOK {
			t.Fatalf("admin save: %d", r.status)
		}
		res := send(t, uw, http.MethodPut, f.url, "/loans/LN-2026-000042/terms", url.Values{"version": {"1"}, "amount": {"500000"}, "tenureMonths": {"48"}}, true)
		if res.status != http.StatusConflict {
			t.Fatalf("stale save: status %d, want 409", res.status)
		}
		doc := parse(t, res.body)
		theirs, mine := doc.Find(`[data-testid="conflict-theirs"]`).Text(), doc.Find(`[data-testid="conflict-mine"]`).Text()
		if !strings.Contains(theirs, "admin") || !strings.Contains(theirs, "₹5,00,000 → ₹6,00,000") {
			t.Errorf("their changes: %q", theirs)
		}
		if !strings.Contains(mine, "Tenure (months): 36 months → 48 months") || strings.Contains(mine, "Amount") {
			t.Errorf("my changes: %q (the amount was not changed by me)", mine)
		}
		if f.current(t).Version != 2 {
			t.Fatal("the conflicting save changed something")
		}
		// "Apply my changes on top" resubmits only my fields at version 2.
		apply := url.Values{}
		doc.Find(`[data-testid="conflict"] form input`).Each(func(_ int, s *goquery.Selection) {
			apply.Add(s.AttrOr("name", ""), s.AttrOr("value", ""))
		})
		if apply.Get("version") != "2" || apply.Get("tenureMonths") != "48" || apply.Has("amount") {
			t.Fatalf("apply form %v", apply)
		}
		if r := send(t, uw, http.MethodPut, f.url, "/loans/LN-2026-000042/terms", apply, true); r.status != http.StatusOK {
			t.Fatalf("apply on top: %d", r.status)
		}
		l := f.current(t)
		if l.Version != 3 || l.Terms.Amount != 6_00_000_00 || l.Terms.TenureMonths != 48 {
			t.Fatalf("after apply: version %d amount %d tenure %d; want both edits", l.Version, l.Terms.Amount, l.Terms.TenureMonths)
		}
	})

	t.Run("SameFieldIsAClashShownNotGuessed", func(t *testing.T) {
		t.Parallel()
		f := newLoanFixture(t)
		c := newClient(t)
		mustLogin(t, c, f.url, "admin@example.com")
		send(t, c, http.MethodPut, f.url, "/loans/LN-2026-000042/applicant", url.Values{"version": {"1"}, "city": {"Mumbai"}}, true)
		res := send(t, c, http.MethodPut, f.url, "/loans/LN-2026-000042/applicant", url.Values{"version": {"1"}, "city": {"Nagpur"}}, true)
		doc := parse(t, res.body)
		if res.status != http.StatusConflict || !strings.Contains(doc.Find(`[data-testid="clash"]`).Text(), "they set Mumbai") {
			t.Fatalf("status %d, clash %q", res.status, doc.Find(`[data-testid="clash"]`).Text())
		}
		if f.current(t).Applicant.City != "Mumbai" {
			t.Fatal("the clashing save overwrote the first one")
		}
	})

	t.Run("WithoutJavaScriptPostRedirects", func(t *testing.T) {
		t.Parallel()
		f := newLoanFixture(t)
		c := newClient(t)
		mustLogin(t, c, f.url, "uw@example.com")
		res := send(t, c, http.MethodPost, f.url, "/loans/LN-2026-000042/terms", url.Values{"version": {"1"}, "purpose": {"Medical expenses"}}, false)
		if res.status != http.StatusSeeOther || res.header.Get("Location") != "/loans/LN-2026-000042" {
			t.Fatalf("status %d location %q", res.status, res.header.Get("Location"))
		}
		if !strings.Contains(get(t, c, f.url+"/loans/LN-2026-000042").body, "Saved as version 2") {
			t.Error("no flash after the redirect")
		}
		// A stale plain POST gets the whole page, with the prompt in it.
		res = send(t, c, http.MethodPost, f.url, "/loans/LN-2026-000042/terms", url.Values{"version": {"1"}, "purpose": {"Travel"}}, false)
		doc := parse(t, res.body)
		if res.status != http.StatusConflict || doc.Find("html").Length() != 1 || doc.Find(`[data-testid="conflict"] form[method="post"]`).Length() != 1 {
			t.Fatalf("stale POST: status %d, prompt with a plain form: %d", res.status, doc.Find(`[data-testid="conflict"] form[method="post"]`).Length())
		}
	})

	t.Run("BadInputIsRefusedAndNothingStored", func(t *testing.T) {
		t.Parallel()
		f := newLoanFixture(t)
		c := newClient(t)
		mustLogin(t, c, f.url, "admin@example.com")
		bad := []struct{ section, field, value string }{
			{"applicant", "name", "<script>alert(1)</script>"},
			{"applicant", "name", strings.Repeat("a", 5000)},
			{"applicant", "email", "not-an-email"},
			{"applicant", "email", "a@b"},
			{"applicant", "phone", "12345"},
			{"applicant", "pan", "ABCD1234K"},
			{"applicant", "dateOfBirth", "2020-01-01"},
			{"applicant", "dateOfBirth", "17/05/1990"},
			{"applicant", "address", "<img src=x onerror=alert(1)>"},
			{"applicant", "employment", "astronaut"},
			{"applicant", "monthlyIncome", "-5"},
			{"applicant", "monthlyIncome", "lots"},
			{"terms", "amount", "0"},
			{"terms", "amount", "1e9"},
			{"terms", "amount", "99,00,00,000"}, // above the personal maximum
			{"terms", "tenureMonths", "twelve"},
			{"terms", "tenureMonths", "600"},
			{"terms", "annualRate", "0"},
			{"terms", "annualRate", "11.555"},
			{"terms", "product", "{\"$ne\": null}"},
			{"terms", "purpose", ""},
		}
		for _, tc := range bad {
			res := send(t, c, http.MethodPut, f.url, "/loans/LN-2026-000042/"+tc.section, url.Values{"version": {"1"}, tc.field: {tc.value}}, true)
			doc := parse(t, res.body)
			msg := doc.Find(`[data-testid="error-` + tc.field + `"]`).Text()
			if res.status != http.StatusUnprocessableEntity || msg == "" {
				t.Errorf("%s=%.30q: status %d, message %q", tc.field, tc.value, res.status, msg)
			}
			if strings.Contains(res.body, "<script>alert") || strings.Contains(res.body, "<img src=x") {
				t.Errorf("%s: input echoed unescaped", tc.field)
			}
		}
		// Ambiguous or undecodable requests are refused whole, before any
		// handler reads them (400).
		for name, form := range map[string]url.Values{
			"a field sent twice": {"version": {"1"}, "city": {"Pune", "Delhi"}},
			"the version twice":  {"version": {"1", "1"}, "city": {"Delhi"}},
			"NUL in a value":     {"version": {"1"}, "name": {"Asha\x00Verma"}},
			"invalid UTF-8":      {"version": {"1"}, "name": {"\xff\xfe"}},
		} {
			if r := send(t, c, http.MethodPut, f.url, "/loans/LN-2026-000042/applicant", form, true); r.status != http.StatusBadRequest {
				t.Errorf("%s: status %d, want 400", name, r.status)
			}
		}
		// A form in another charset would be read as other text: 415.
		req, _ := http.NewRequest(http.MethodPut, f.url+"/loans/LN-2026-000042/applicant", strings.NewReader("version=1&city=Pu%E9ne"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=iso-8859-1")
		req.Header.Set("Origin", f.url)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		if r := do(t, c, req); r.status != http.StatusUnsupportedMediaType {
			t.Errorf("latin-1 form: status %d", r.status)
		}
		// Operator-style keys are not fields: nothing to save.
		ops := url.Values{"version": {"1"}, "name[$ne]": {"x"}, "status": {"approved"}, "version[$gt]": {"0"}}
		if r := send(t, c, http.MethodPut, f.url, "/loans/LN-2026-000042/applicant", ops, true); r.status != http.StatusOK || !strings.Contains(r.body, "Nothing had changed") {
			t.Errorf("operator keys: status %d", r.status)
		}
		for _, ver := range []string{"", "abc", "0", "99", "-1"} {
			if r := send(t, c, http.MethodPut, f.url, "/loans/LN-2026-000042/applicant", url.Values{"version": {ver}, "city": {"Delhi"}}, true); r.status != http.StatusUnprocessableEntity {
				t.Errorf("version %q: status %d", ver, r.status)
			}
		}
		if l := f.current(t); l.Version != 1 || l.Status != model.StatusSubmitted || l.Applicant.City != "Pune" || len(l.History) != 0 {
			t.Fatalf("bad input changed the loan: %+v", l)
		}
	})

	t.Run("ViewerCannotEdit", func(t *testing.T) {
		t.Parallel()
		f := newLoanFixture(t)
		c := newClient(t)
		mustLogin(t, c, f.url, "viewer@example.com")
		if r := get(t, c, f.url+"/loans/LN-2026-000042/applicant/edit"); r.status != http.StatusForbidden {
			t.Errorf("edit form: status %d", r.status)
		}
		if r := send(t, c, http.MethodPut, f.url, "/loans/LN-2026-000042/applicant", url.Values{"version": {"1"}, "city": {"Delhi"}}, true); r.status != http.StatusForbidden {
			t.Errorf("save: status %d", r.status)
		}
		if f.current(t).Version != 1 {
			t.Fatal("a viewer's save changed the loan")
		}
	})
}

func TestLoanStatus(t *testing.T) {
	t.Parallel()
	f := newLoanFixture(t)
	admin, uw, viewer := newClient(t), newClient(t), newClient(t)
	mustLogin(t, admin, f.url, "admin@example.com")
	mustLogin(t, uw, f.url, "uw@example.com")
	mustLogin(t, viewer, f.url, "viewer@example.com")
	move := func(c *http.Client, version int64, to, reason string) response {
		return send(t, c, http.MethodPost, f.url, "/loans/LN-2026-000042/status", url.Values{"version": {v(version)}, "to": {to}, "reason": {reason}}, true)
	}

	if r := move(viewer, 1, model.StatusUnderReview, ""); r.status != http.StatusForbidden {
		t.Fatalf("viewer: status %d", r.status)
	}
	if r := move(uw, 1, model.StatusApproved, ""); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "cannot be moved") {
		t.Fatalf("skipping review: status %d", r.status)
	}
	if r := move(uw, 1, model.StatusUnderReview, ""); r.status != http.StatusNoContent || r.header.Get("HX-Redirect") != "/loans/LN-2026-000042" {
		t.Fatalf("start review: status %d", r.status)
	}
	// A stale click says who moved it where, and applies nothing.
	if r := move(uw, 1, model.StatusRejected, "stale"); r.status != http.StatusConflict ||
		!strings.Contains(strings.Join(strings.Fields(parse(t, r.body).Find(`[data-testid="status-conflict"]`).Text()), " "), "uw saved version 2") {
		t.Fatalf("stale version: status %d, %q", r.status, parse(t, r.body).Find(`[data-testid="status-panel"]`).Text())
	}
	if r := move(uw, 2, model.StatusRejected, "  "); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "reason is required") {
		t.Fatalf("reject without reason: status %d", r.status)
	}
	if r := move(admin, 2, model.StatusOnHold, "Awaiting salary slips"); r.status != http.StatusNoContent {
		t.Fatalf("hold: status %d", r.status)
	}
	if r := move(uw, 3, model.StatusUnderReview, ""); r.status != http.StatusNoContent {
		t.Fatalf("resume: status %d", r.status)
	}
	if r := move(uw, 4, model.StatusApproved, ""); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "no score yet") {
		t.Fatalf("approve without a score: status %d", r.status)
	}
	f.score(t, "refer")
	if r := move(uw, 4, model.StatusApproved, ""); r.status != http.StatusNoContent {
		t.Fatalf("approve: status %d", r.status)
	}
	l := f.current(t)
	if l.Status != model.StatusApproved || l.Version != 5 || len(l.History) != 4 || l.History[1].Reason != "Awaiting salary slips" {
		t.Fatalf("after the workflow: %+v", l)
	}
	if r := send(t, uw, http.MethodPut, f.url, "/loans/LN-2026-000042/terms", url.Values{"version": {"5"}, "purpose": {"Travel"}}, true); r.status != http.StatusForbidden {
		t.Fatalf("editing an approved application: status %d", r.status)
	}
}

func TestLoanStatus_ApprovalLimit(t *testing.T) {
	t.Parallel()
	f := newLoanFixture(t)
	f.restart(t, func(c *web.Config) { c.Policy.UnderwriterApprovalLimit = 1_00_000_00 })
	uw, admin := newClient(t), newClient(t)
	mustLogin(t, uw, f.url, "uw@example.com")
	mustLogin(t, admin, f.url, "admin@example.com")
	move := func(c *http.Client, version int64, to string) response {
		return send(t, c, http.MethodPost, f.url, "/loans/LN-2026-000042/status", url.Values{"version": {v(version)}, "to": {to}}, true)
	}
	if r := move(uw, 1, model.StatusUnderReview); r.status != http.StatusNoContent {
		t.Fatalf("start review: %d", r.status)
	}
	f.score(t, "approve")
	if r := move(uw, 2, model.StatusApproved); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "needs an admin") {
		t.Fatalf("underwriter above the limit: status %d", r.status)
	}
	if r := move(admin, 2, model.StatusApproved); r.status != http.StatusNoContent {
		t.Fatalf("admin: status %d", r.status)
	}
}

// TestLoanEditRace_TwoInstances races 50 editors through two server
// instances on one database: each loads the terms form, changes the
// purpose and saves with the version it loaded, reloading after a 409.
// Every version is won once, the rest get 409, and the history chains
// every accepted change onto the one before it.
func TestLoanEditRace_TwoInstances(t *testing.T) {
	t.Parallel()
	f := newLoanFixture(t)
	second := newTestServer(t, newHandler(t, f.store))
	bases := []string{f.url, second}
	clients := make([]*http.Client, len(bases))
	for i, base := range bases {
		clients[i] = newClient(t)
		mustLogin(t, clients[i], base, "admin@example.com")
	}

	const editors = 50
	var (
		mu        sync.Mutex
		won       = map[string]bool{}
		conflicts int
		wg        sync.WaitGroup
	)
	for e := range editors {
		wg.Go(func() {
			c, base := clients[e%2], bases[e%2]
			// Up to three tries: after a 409 the editor loads the latest
			// form and tries again, as a person would.
			for try := range 3 {
				req, _ := http.NewRequest(http.MethodGet, base+"/loans/LN-2026-000042/terms/edit", nil)
				req.Header.Set("HX-Request", "true")
				form := parse(t, do(t, c, req).body)
				version := form.Find(`input[name="version"]`).AttrOr("value", "")
				purpose := fmt.Sprintf("Purpose from editor %d try %d", e, try)
				res := send(t, c, http.MethodPut, base, "/loans/LN-2026-000042/terms", url.Values{"version": {version}, "purpose": {purpose}}, true)
				mu.Lock()
				switch res.status {
				case http.StatusOK:
					won[purpose] = true
				case http.StatusConflict:
					conflicts++
				default:
					t.Errorf("editor %d: status %d", e, res.status)
				}
				mu.Unlock()
				if res.status != http.StatusConflict {
					return
				}
			}
		})
	}
	wg.Wait()

	l := f.current(t)
	if int(l.Version) != 1+len(won) || len(l.History) != len(won) || len(won) < 2 {
		t.Fatalf("version %d, %d history entries, %d won, %d conflicts", l.Version, len(l.History), len(won), conflicts)
	}
	prev := "Wedding"
	for i, h := range l.History {
		c := h.Fields[0]
		if h.Version != int64(i)+2 || c.From != prev || !won[c.To] {
			t.Fatalf("history[%d] = %+v does not chain from %q", i, h, prev)
		}
		prev = c.To
	}
	if l.Terms.Purpose != prev {
		t.Fatalf("final purpose %q, want %q", l.Terms.Purpose, prev)
	}
	t.Logf("%d editors over 2 instances: %d saves accepted (one per version), %d answered 409, 0 lost", editors, len(won), conflicts)
}

func TestLoanAssign(t *testing.T) {
	t.Parallel()
	f := newLoanFixture(t)
	admin, viewer := newClient(t), newClient(t)
	mustLogin(t, admin, f.url, "admin@example.com")
	mustLogin(t, viewer, f.url, "viewer@example.com")
	assign := func(c *http.Client, version int64, to string) response {
		return send(t, c, http.MethodPost, f.url, "/loans/LN-2026-000042/assignee", url.Values{"version": {v(version)}, "assignee": {to}}, true)
	}
	if r := assign(viewer, 1, "uw@example.com"); r.status != http.StatusForbidden {
		t.Fatalf("viewer: status %d", r.status)
	}
	for _, to := range []string{"viewer@example.com", "nobody@example.com", "<script>"} {
		if r := assign(admin, 1, to); r.status != http.StatusUnprocessableEntity || strings.Contains(r.body, "<script>") {
			t.Fatalf("assign to %q: status %d", to, r.status)
		}
	}
	if r := assign(admin, 1, "uw@example.com"); r.status != http.StatusNoContent {
		t.Fatalf("assign: status %d", r.status)
	}
	if r := assign(admin, 1, ""); r.status != http.StatusConflict {
		t.Fatalf("stale: status %d", r.status)
	}
	l := f.current(t)
	if l.Assignee != "uw@example.com" || l.Version != 2 || l.History[0].Fields[0] != (model.FieldChange{Field: "assignee", From: "", To: "uw@example.com"}) {
		t.Fatalf("after assigning: %+v", l)
	}
	if !strings.Contains(parse(t, get(t, admin, f.url+"/loans/LN-2026-000042").body).Find(`[data-testid="history"]`).Text(), "Assignee") {
		t.Error("history does not name the assignee change")
	}
}

// Business dates are the lender's (Asia/Kolkata by default), whatever
// the server's clock zone: at 00:00 IST on 1 December (18:30 UTC on 30
// November) someone born on 1 December 1925 is 101 and refused, and the
// history shows the lender's date and time with its zone.
func TestLoanEdit_LendersTimeZone(t *testing.T) {
	t.Parallel()
	utcEvening := clock.NewManual(time.Date(2026, 11, 30, 18, 30, 0, 0, time.UTC))
	f := newLoanFixture(t, func(c *web.Config) { c.Now = utcEvening.Now })
	c := newClient(t)
	mustLogin(t, c, f.url, "admin@example.com")
	r := send(t, c, http.MethodPut, f.url, "/loans/LN-2026-000042/applicant", url.Values{"version": {"1"}, "dateOfBirth": {"1925-12-01"}}, true)
	if r.status != http.StatusUnprocessableEntity || parse(t, r.body).Find(`[data-testid="error-dateOfBirth"]`).Text() == "" {
		t.Fatalf("101 years old on the lender's date: status %d", r.status)
	}
	r = send(t, c, http.MethodPut, f.url, "/loans/LN-2026-000042/applicant", url.Values{"version": {"1"}, "dateOfBirth": {"2008-12-01"}}, true)
	if r.status != http.StatusOK {
		t.Fatalf("18 today on the lender's date: status %d", r.status)
	}
	when := parse(t, r.body).Find(`[data-testid="history-entry"]`).First().Text()
	if !strings.Contains(when, "01 Dec 2026, 00:00 IST") {
		t.Fatalf("history entry %q does not show the lender's time with its zone", when)
	}
}

// Search matches text whichever Unicode form it was stored or typed in.
func TestLoanList_SearchUnicodeForms(t *testing.T) {
	t.Parallel()
	f := newLoanFixture(t)
	c := newClient(t)
	mustLogin(t, c, f.url, "admin@example.com")
	if r := send(t, c, http.MethodPut, f.url, "/loans/LN-2026-000042/applicant", url.Values{"version": {"1"}, "name": {"Zoe\u0308 Verma"}}, true); r.status != http.StatusOK {
		t.Fatalf("save: %d", r.status)
	}
	for _, q := range []string{"zo\u00eb", "zoe\u0308", "ZO\u00cb verma"} {
		doc := parse(t, get(t, c, f.url+"/loans?q="+url.QueryEscape(q)).body)
		if n := doc.Find(`[data-testid="loan-row"]`).Length(); n != 1 {
			t.Errorf("search %q: %d rows, want 1", q, n)
		}
	}
	// The same-looking name typed the other way is no change.
	r := send(t, c, http.MethodPut, f.url, "/loans/LN-2026-000042/applicant", url.Values{"version": {"2"}, "name": {"Zo\u00eb Verma"}}, true)
	if r.status != http.StatusOK || !strings.Contains(r.body, "Nothing had changed") || f.current(t).Version != 2 {
		t.Fatalf("re-save in NFC: status %d, version %d", r.status, f.current(t).Version)
	}
}

// newApplicationForm is a complete new application as the form posts it:
// ₹5,00,000 over 60 months at 10.50 %.
func newApplicationForm() url.Values {
	return url.Values{
		"name": {"Ishaan Iyer"}, "email": {"ishaan@example.com"}, "phone": {"98765 01234"}, "pan": {"ABCPI1234K"}, "dateOfBirth": {"1988-03-04"},
		"address": {"7, Brigade Road, Bengaluru 560001"}, "city": {"Bengaluru"}, "employment": {"salaried"}, "monthlyIncome": {"120000"},
		"existingEmis": {"0"}, "product": {"personal"}, "amount": {"500000"}, "tenureMonths": {"60"}, "annualRate": {"10.50"},
		"purpose": {"Wedding"}, "propertyValue": {"0"},
	}
}

// newApplicationJSON is the same application as the API takes it.
const newApplicationJSON = `{"fields": {"name": "Ishaan Iyer", "email": "ishaan@example.com", "phone": "98765 01234", "pan": "ABCPI1234K",
	"dateOfBirth": "1988-03-04", "address": "7, Brigade Road, Bengaluru 560001", "city": "Bengaluru", "employment": "salaried",
	"monthlyIncome": "120000", "existingEmis": 0, "product": "personal", "amount": "500000", "tenureMonths": 60, "annualRate": "10.50",
	"purpose": "Wedding", "propertyValue": "0"}}`

// Maker-checker over HTTP: the underwriter who changed the amount gets
// 422 on Approve, a second underwriter approves; above the two-approver
// amount one approval leaves "Awaiting second approval" and the same
// person's second click is refused.
func TestLoanStatus_MakerChecker(t *testing.T) {
	t.Parallel()
	f := newLoanFixture(t, func(c *web.Config) { c.Policy.DualApprovalAbove = 5_50_000_00 })
	f.createUser(t, "uw2@example.com", auth.RoleUnderwriter)
	uw, uw2 := newClient(t), newClient(t)
	mustLogin(t, uw, f.url, "uw@example.com")
	mustLogin(t, uw2, f.url, "uw2@example.com")
	move := func(c *http.Client, to string) response {
		return send(t, c, http.MethodPost, f.url, "/loans/LN-2026-000042/status", url.Values{"version": {v(f.current(t).Version)}, "to": {to}}, true)
	}
	if r := move(uw, model.StatusUnderReview); r.status != http.StatusNoContent {
		t.Fatalf("start review: %d", r.status)
	}
	if r := send(t, uw, http.MethodPut, f.url, "/loans/LN-2026-000042/terms", url.Values{"version": {"2"}, "amount": {"5,50,000"}}, true); r.status != http.StatusOK {
		t.Fatalf("amount: %d", r.status)
	}
	f.score(t, "approve")
	r := move(uw, model.StatusApproved)
	if msg := parse(t, r.body).Find(`[data-testid="status-error"]`).Text(); r.status != http.StatusUnprocessableEntity || !strings.Contains(msg, "Maker-checker") {
		t.Fatalf("the maker approving: %d %q", r.status, msg)
	}
	if r := move(uw2, model.StatusApproved); r.status != http.StatusNoContent || f.current(t).Status != model.StatusApproved {
		t.Fatalf("a second underwriter: %d, %s", r.status, f.current(t).Status)
	}

	g := newLoanFixture(t, func(c *web.Config) { c.Policy.DualApprovalAbove = 4_00_000_00 })
	g.createUser(t, "uw2@example.com", auth.RoleUnderwriter)
	a, b := newClient(t), newClient(t)
	mustLogin(t, a, g.url, "uw@example.com")
	mustLogin(t, b, g.url, "uw2@example.com")
	gmove := func(c *http.Client, to string) response {
		return send(t, c, http.MethodPost, g.url, "/loans/LN-2026-000042/status", url.Values{"version": {v(g.current(t).Version)}, "to": {to}}, true)
	}
	gmove(a, model.StatusUnderReview)
	g.score(t, "approve")
	if r := gmove(a, model.StatusApproved); r.status != http.StatusNoContent || g.current(t).Status != model.StatusApprovalPending {
		t.Fatalf("first approval: %d %s", r.status, g.current(t).Status)
	}
	if r := gmove(a, model.StatusApproved); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "You gave the first approval") {
		t.Fatalf("the same person again: %d", r.status)
	}
	page := parse(t, get(t, b, g.url+"/loans/LN-2026-000042").body)
	if page.Find(`[data-testid="loan-status"]`).Text() != "Awaiting second approval" || page.Find(`[data-testid="status-approved"]`).Text() != "Give second approval" {
		t.Fatalf("pending page: %q", page.Find(`[data-testid="status-panel"]`).Text())
	}
	if r := gmove(b, model.StatusApproved); r.status != http.StatusNoContent || g.current(t).Status != model.StatusApproved {
		t.Fatalf("second approval: %d", r.status)
	}
	approval := parse(t, get(t, b, g.url+"/loans/LN-2026-000042").body).Find(`[data-testid="history-approval"]`).First()
	// Names for people, e-mails in the tooltip for auditors (createUser
	// names a user by the e-mail's local part).
	if hist, title := approval.Text(), approval.AttrOr("title", ""); hist != "Second approval (checker) · first approver uw · maker seed" ||
		title != "First approver uw@example.com · maker seed" {
		t.Fatalf("history: %q (title %q)", hist, title)
	}
}
