package web_test

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"loandesk/auth"
	"loandesk/model"
	"loandesk/store"
)

// The authorization matrix (issue 19): every route of the server, walked
// from the router itself, × every kind of caller, with the status each
// must get. A route added without a row here fails the test, and so does
// a row whose route is gone. Every refusal of a state-changing request is
// checked to have changed nothing stored (store.Digest before and after).
//
// Callers, in this order (the columns of want): a signed-out visitor;
// API bearer tokens with the roles admin, underwriter and viewer; people
// signed in as viewer, underwriter and admin. Bearer tokens count only
// under /api (and /metrics): on a page they are a signed-out visitor.
//
// Requests are made as a same-site browser page would (Origin and
// Sec-Fetch-Site); cross-site ones are refused before any of this
// (TestCrossOriginProtection). A write carries a body that the allowed
// roles' request would pass with, where one is needed for the role check
// to be reached: a refusal must not depend on the body being wrong.

// principalNames are the matrix's columns.
var principalNames = [...]string{"anon", "token:admin", "token:underwriter", "token:viewer", "viewer", "underwriter", "admin"}

// matrixRow is what each caller gets from one route.
type matrixRow struct {
	want [len(principalNames)]int
	// form is the urlencoded body of a page's write, json an API write's;
	// {version} becomes the loan's current version.
	form url.Values
	json string
	// hx sends the request as htmx does.
	hx bool
}

const (
	s200 = http.StatusOK
	s204 = http.StatusNoContent
	s303 = http.StatusSeeOther
	s400 = http.StatusBadRequest
	s401 = http.StatusUnauthorized
	s403 = http.StatusForbidden
	s404 = http.StatusNotFound
	s409 = http.StatusConflict
	s422 = http.StatusUnprocessableEntity
)

// row builds a matrix row from the statuses in principalNames' order.
func row(statuses ...int) matrixRow {
	var r matrixRow
	copy(r.want[:], statuses)
	return r
}

func (r matrixRow) withForm(kv ...string) matrixRow {
	r.form = url.Values{}
	for i := 0; i < len(kv); i += 2 {
		r.form.Set(kv[i], kv[i+1])
	}
	return r
}

func (r matrixRow) withJSON(body string) matrixRow { r.json = body; return r }
func (r matrixRow) asHTMX() matrixRow              { r.hx = true; return r }

// Shorthands for the common rows.
var (
	// public: anyone, no session needed.
	public = row(s200, s200, s200, s200, s200, s200, s200)
	// page: any signed-in person; others are sent to sign in.
	page = row(s303, s303, s303, s303, s200, s200, s200)
	// fragment: a panel that, asked for outside htmx, sends a signed-in
	// person to the loan page (303 for everyone).
	fragment = row(s303, s303, s303, s303, s303, s303, s303)
	// adminPage: admins only.
	adminPage = row(s303, s303, s303, s303, s403, s403, s200)
	// apiRead: any token or signed-in person.
	apiRead = row(s401, s200, s200, s200, s200, s200, s200)
	// apiAdmin: an admin's token or session.
	apiAdmin = row(s401, s200, s403, s403, s403, s403, s200)
)

// authorizationMatrix is the expected status of every route for every
// caller, by "METHOD pattern" as chi.Walk names it.
var authorizationMatrix = map[string]matrixRow{
	// Probes, static files, metrics.
	"GET /health":   public,
	"GET /ready":    public,
	"GET /static/*": public,
	// Metrics: an admin's token or session only.
	"GET /metrics": row(s401, s200, s403, s403, s403, s403, s200),

	// Signing in and out. A signed-in person asking for the form goes to
	// the loans; an empty form is a 422 for everyone.
	"GET /login":   row(s200, s200, s200, s200, s303, s303, s303),
	"POST /login":  row(s422, s422, s422, s422, s422, s422, s422),
	"POST /logout": row(s303, s303, s303, s303, s303, s303, s303),
	// The code step: with no right password before it, back to sign in.
	"GET /login/code":  row(s303, s303, s303, s303, s303, s303, s303),
	"POST /login/code": row(s303, s303, s303, s303, s303, s303, s303).withForm("code", "123456"),

	// Everyone signed in: their own password (a wrong current one is 422).
	"GET /account/password":   page,
	"GET /account/two-factor": page,
	"GET /account/sessions":   page,
	// A session id listed nowhere: not found, for everyone signed in.
	"POST /account/sessions/{session}/revoke": row(s303, s303, s303, s303, s404, s404, s404),
	"POST /account/two-factor":                row(s303, s303, s303, s303, s422, s422, s422).withForm("current", "wrong password", "code", "123456"),
	"POST /account/password":                  row(s303, s303, s303, s303, s422, s422, s422).withForm("current", "wrong password", "password", "a brand new passphrase 7"),

	// Loans: reading is for every signed-in person.
	"GET /":                  fragment,
	"GET /loans":             page,
	"GET /loans/export.csv":  page,
	"GET /loans/export.xlsx": page,
	// Bulk assign: nothing ticked is a 422 for those who may assign.
	"POST /loans/bulk-assign": row(s303, s303, s303, s303, s403, s422, s422).withForm("assignee", ""),
	// Opened as a page (a reload, a bookmark): back to the list.
	"GET /loans/bulk-assign": row(s303, s303, s303, s303, s303, s303, s303),
	// Bulk hold: a ticked row without a reason is a 422 for those who may
	// hold (nothing changed); viewers a 403 whatever the form.
	"POST /loans/bulk-hold":                         row(s303, s303, s303, s303, s403, s422, s422).withForm("row-LN-2026-000042", "{version}"),
	"GET /loans/bulk-hold":                          row(s303, s303, s303, s303, s303, s303, s303),
	"GET /loans/{id}":                               page,
	"GET /loans/{id}/schedule":                      page,
	"GET /loans/{id}/schedule.csv":                  page,
	"GET /loans/{id}/kfs":                           page,
	"GET /loans/{id}/ledger":                        page,
	"GET /loans/{id}/documents/{doc}":               page,
	"GET /loans/{id}/assignee":                      fragment,
	"GET /loans/{id}/changed":                       fragment,
	"GET /loans/{id}/live":                          fragment,
	"GET /loans/{id}/documents":                     fragment,
	"GET /loans/{id}/jobs":                          fragment,
	"GET /loans/{id}/score":                         fragment,
	"GET /loans/{id}/status":                        fragment,
	"GET /loans/{id}/{section:(?:applicant|terms)}": page,

	// Working an application: underwriters and admins, never a viewer.
	"GET /loans/new": row(s303, s303, s303, s303, s403, s200, s200),
	"POST /loans":    row(s303, s303, s303, s303, s403, s422, s422),
	"GET /loans/{id}/{section:(?:applicant|terms)}/edit": row(s303, s303, s303, s303, s403, s200, s200),
	"POST /loans/{id}/{section:(?:applicant|terms)}": row(s303, s303, s303, s303, s403, s303, s303).
		withForm("version", "{version}", "city", "Nagpur"),
	"PUT /loans/{id}/{section:(?:applicant|terms)}": row(s401, s401, s401, s401, s403, s200, s200).
		withForm("version", "{version}", "city", "Nashik").asHTMX(),
	"POST /loans/{id}/status": row(s401, s401, s401, s401, s403, s204, s422).
		withForm("version", "{version}", "to", "under_review").asHTMX(),
	"POST /loans/{id}/assignee": row(s401, s401, s401, s401, s403, s204, s204).
		withForm("version", "{version}", "assignee", "uw@example.com").asHTMX(),
	"POST /loans/{id}/flags": row(s401, s401, s401, s401, s403, s422, s422).
		withForm("version", "{version}", "code", "shared_pan").asHTMX(),
	"POST /loans/{id}/notes":     row(s303, s303, s303, s303, s403, s303, s303).withForm("text", "A note from the matrix"),
	"POST /loans/{id}/documents": row(s303, s303, s303, s303, s403, s400, s400),
	// The underwriter deletes the document; the admin, after, finds it
	// deleted already. A replacement that is not a multipart upload is a
	// 400 for those who may.
	"POST /loans/{id}/documents/{doc}/delete":  row(s303, s303, s303, s303, s403, s303, s409).withForm("reason", "A copy from the matrix"),
	"POST /loans/{id}/documents/{doc}/replace": row(s303, s303, s303, s303, s403, s400, s400),
	"POST /loans/{id}/score":                   row(s303, s303, s303, s303, s403, s303, s303),
	"POST /loans/{id}/jobs/{event}/retry":      row(s303, s303, s303, s303, s403, s404, s404),
	"POST /loans/{id}/repayments": row(s303, s303, s303, s303, s403, s422, s422).
		withForm("amount", "5,000", "utr", "RCPT00000000001", "idempotencyKey", "matrix-1"),
	// Moving money out: admins only.
	"POST /loans/{id}/disburse": row(s303, s303, s303, s303, s403, s403, s422).
		withForm("utr", "UTIB0000012345"),

	// Administration: admins only.
	"GET /admin/users": adminPage,
	"POST /admin/users": row(s303, s303, s303, s303, s403, s403, s303).
		withForm("email", "matrix@example.com", "name", "Matrix", "role", "admin", "password", "a long enough passphrase 7"),
	"GET /admin/users/{user}": adminPage,
	"POST /admin/users/{user}/role": row(s303, s303, s303, s303, s403, s403, s303).
		withForm("role", "admin"),
	"POST /admin/users/{user}/active": row(s303, s303, s303, s303, s403, s403, s303).
		withForm("active", "false"),
	"POST /admin/users/{user}/password":                  row(s303, s303, s303, s303, s403, s403, s200),
	"POST /admin/users/{user}/two-factor/reset":          row(s303, s303, s303, s303, s403, s403, s303),
	"POST /admin/users/{user}/sessions/{session}/revoke": row(s303, s303, s303, s303, s403, s403, s404),
	"POST /admin/users/{user}/sessions/end":              row(s303, s303, s303, s303, s403, s403, s303),
	"GET /admin/audit":                                   adminPage,
	"GET /admin/queue":                                   adminPage,
	"GET /admin/queue/stats":                             adminPage,
	"GET /admin/ledger":                                  adminPage,
	"GET /admin/locks":                                   adminPage,
	"POST /admin/locks/release":                          row(s303, s303, s303, s303, s403, s403, s422),
	"POST /admin/queue/{event}/retry":                    row(s303, s303, s303, s303, s403, s403, s303),
	"POST /admin/queue/{event}/discard":                  row(s303, s303, s303, s303, s403, s403, s303),

	// The JSON API.
	"GET /api/applications":               apiRead,
	"GET /api/applications/{id}":          apiRead,
	"GET /api/applications/{id}/schedule": apiRead,
	"GET /api/applications/{id}/ledger":   apiRead,
	"GET /api/admin/trial-balance":        apiAdmin,
	"GET /api/admin/queue-stats":          apiAdmin,
	"POST /api/applications":              row(s401, s422, s422, s403, s403, s422, s422).withJSON(`{}`),
	"PATCH /api/applications/{id}": row(s401, s200, s200, s403, s403, s200, s200).
		withJSON(`{"version": {version}, "changes": {"city": "Pune"}}`),
	"POST /api/applications/{id}/repayments": row(s401, s403, s403, s403, s403, s422, s422).
		withJSON(`{"amountPaise": 500000, "utr": "HDFC00000012345"}`),
	"POST /api/applications/{id}/disbursement": row(s401, s403, s403, s403, s403, s403, s422).
		withJSON(`{"utr": "UTIB0000012345"}`),
}

func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	f := newRouteFixture(t)
	ctx := context.Background()
	// The digest sees a write, so an unchanged one means nothing changed.
	before := digest(t, f)
	f.createUser(t, "digest@example.com", auth.RoleViewer)
	if after := digest(t, f); !slices.Equal(changedCollections(before, after), []string{"users"}) {
		t.Fatalf("a new user changed %v, want [users]", changedCollections(before, after))
	}

	// The callers: a fresh client each, signed in where a person.
	clients := make([]*http.Client, len(principalNames))
	tokens := make([]string, len(principalNames))
	for i, name := range principalNames {
		clients[i] = newClient(t)
		switch role, isToken := strings.CutPrefix(name, "token:"); {
		case isToken:
			tokens[i] = "matrix-" + role + "-token-0123456789abcdef"
			if err := f.store.APITokenSet(ctx, "MATRIX_"+role, tokens[i], role); err != nil {
				t.Fatal(err)
			}
		case name != "anon":
			email := map[string]string{auth.RoleViewer: "viewer@example.com", auth.RoleUnderwriter: "uw@example.com", auth.RoleAdmin: "admin@example.com"}[name]
			mustLogin(t, clients[i], f.url, email)
		}
	}

	// Every route has a row and every row a route.
	seen := map[string]bool{}
	routes := slices.Clone(f.routes)
	// Signing out last: it ends the callers' sessions.
	slices.SortStableFunc(routes, func(a, b route) int {
		return boolInt(a.pattern == "/logout") - boolInt(b.pattern == "/logout")
	})
	for _, rt := range routes {
		key := rt.method + " " + rt.pattern
		seen[key] = true
		mrow, ok := authorizationMatrix[key]
		if !ok {
			t.Errorf("%s has no row in the authorization matrix: add who may use it", key)
			continue
		}
		for i, name := range principalNames {
			before := digest(t, f)
			res := matrixDo(t, f, clients[i], tokens[i], rt, mrow)
			if res.status != mrow.want[i] {
				t.Errorf("%s as %s: status %d, want %d (%.120s)", key, name, res.status, mrow.want[i], res.body)
				continue
			}
			if !refused(rt, res) {
				continue
			}
			if after := digest(t, f); !maps.Equal(before, after) {
				t.Errorf("%s as %s was refused (%d) but changed what is stored: %v", key, name, res.status, changedCollections(before, after))
			}
		}
	}
	for _, key := range slices.Sorted(maps.Keys(authorizationMatrix)) {
		if !seen[key] {
			t.Errorf("the authorization matrix has a row for %s, which is not a route", key)
		}
	}
}

// TestAuthorizationMatrix_ForeignIDsAndTamperedFields: an id taken from
// another application, and fields added to a form in the browser, reach
// nothing the form itself does not.
func TestAuthorizationMatrix_ForeignIDsAndTamperedFields(t *testing.T) {
	t.Parallel()
	f := newRouteFixture(t)
	ctx := context.Background()
	docs, err := f.store.DocumentsOfLoan(ctx, f.loan.ID)
	if err != nil || len(docs) != 1 {
		t.Fatalf("documents of the loan: %d, %v", len(docs), err)
	}
	other := f.loan
	other.ID, other.HumanID, other.Version = primitive.NewObjectID(), "LN-2026-000043", 0
	if err := f.store.LoanInsertMany(ctx, []model.Loan{other}); err != nil {
		t.Fatal(err)
	}
	if other, err = f.store.LoanGet(ctx, other.HumanID); err != nil {
		t.Fatal(err)
	}
	uw := newClient(t)
	mustLogin(t, uw, f.url, "uw@example.com")

	t.Run("AnotherApplicationsDocumentIsNotFound", func(t *testing.T) {
		for _, c := range []*http.Client{f.admin, uw} {
			if res := get(t, c, f.url+"/loans/"+other.HumanID+"/documents/"+docs[0].ID.Hex()); res.status != http.StatusNotFound {
				t.Errorf("another loan's document: status %d, want 404", res.status)
			}
		}
	})
	t.Run("AnotherApplicationsJobIsNotRetried", func(t *testing.T) {
		events, err := f.store.EventList(ctx, store.EventListParams{})
		if err != nil || len(events) == 0 {
			t.Fatalf("events: %d, %v", len(events), err)
		}
		before := digest(t, f)
		res := send(t, f.admin, http.MethodPost, f.url, "/loans/"+other.HumanID+"/jobs/"+events[0].ID.Hex()+"/retry", nil, false)
		if res.status != http.StatusNotFound {
			t.Errorf("retry through another loan: status %d, want 404", res.status)
		}
		if after := digest(t, f); !maps.Equal(before, after) {
			t.Errorf("changed %v", changedCollections(before, after))
		}
	})
	t.Run("FieldsAddedToASectionFormAreIgnored", func(t *testing.T) {
		before := f.current(t)
		form := url.Values{"version": {v(before.Version)}, "city": {"Delhi"},
			"status": {"approved"}, "assignee": {"uw@example.com"}, "updatedBy": {"someone@else"}, "createdBy": {"x"},
			"id": {other.HumanID}, "humanId": {other.HumanID}, "amount": {"99,00,000"}, "score": {"900"}}
		if res := send(t, uw, http.MethodPut, f.url, "/loans/"+f.loan.HumanID+"/applicant", form, true); res.status != http.StatusOK {
			t.Fatalf("save: status %d", res.status)
		}
		after := f.current(t)
		if after.Applicant.City != "Delhi" || after.Version != before.Version+1 {
			t.Fatalf("the section's own field was not saved: city %q version %d", after.Applicant.City, after.Version)
		}
		if after.Status != before.Status || after.Assignee != before.Assignee || after.UpdatedBy != "uw@example.com" ||
			after.CreatedBy != before.CreatedBy || after.Terms != before.Terms {
			t.Errorf("tampered fields took effect: status %q assignee %q updatedBy %q createdBy %q terms %+v",
				after.Status, after.Assignee, after.UpdatedBy, after.CreatedBy, after.Terms)
		}
		if o, err := f.store.LoanGet(ctx, other.HumanID); err != nil || o.Version != other.Version || o.Applicant.City != other.Applicant.City {
			t.Errorf("the other application changed: %+v, %v", o.Applicant, err)
		}
	})
	// The first application's (newer) version sent for the other one is
	// a version that application never had: refused as invalid.
	t.Run("AVersionFromAnotherApplicationSavesNothing", func(t *testing.T) {
		before := digest(t, f)
		res := send(t, uw, http.MethodPut, f.url, "/loans/"+other.HumanID+"/applicant", url.Values{"version": {v(f.current(t).Version)}, "city": {"Agra"}}, true)
		if res.status != http.StatusUnprocessableEntity {
			t.Errorf("status %d, want 422", res.status)
		}
		if after := digest(t, f); !maps.Equal(before, after) {
			t.Errorf("changed %v", changedCollections(before, after))
		}
	})
}

// refused reports whether res refuses the request for who sent it: a 401
// or 403, or a 303 to the sign-in page.
func refused(rt route, res response) bool {
	switch res.status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return true
	case http.StatusSeeOther:
		return strings.HasPrefix(res.header.Get("Location"), "/login") && rt.path != "/logout"
	}
	return false
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func digest(t *testing.T, f routeFixture) map[string]string {
	t.Helper()
	d, err := f.store.Digest(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func changedCollections(before, after map[string]string) []string {
	var out []string
	for name := range maps.Keys(after) {
		if before[name] != after[name] {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// matrixDo makes rt's request as one caller, with the row's body.
func matrixDo(t *testing.T, f routeFixture, c *http.Client, token string, rt route, mrow matrixRow) response {
	t.Helper()
	version := strconv.FormatInt(f.current(t).Version, 10)
	var body, ct string
	switch {
	case mrow.json != "":
		body, ct = strings.ReplaceAll(mrow.json, "{version}", version), "application/json"
	case rt.method == http.MethodPost || rt.method == http.MethodPut || rt.method == http.MethodPatch:
		form := url.Values{}
		for k, vs := range mrow.form {
			form[k] = []string{strings.ReplaceAll(vs[0], "{version}", version)}
		}
		body, ct = form.Encode(), "application/x-www-form-urlencoded"
		if isAPIPath(rt.path) {
			body, ct = "{}", "application/json"
		}
	}
	req, err := http.NewRequest(rt.method, f.url+rt.path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	req.Header.Set("Origin", f.url)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if mrow.hx {
		req.Header.Set("HX-Request", "true")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return do(t, c, req)
}
