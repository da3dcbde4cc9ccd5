package web_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"loandesk/model"
	"loandesk/ocr/ocrtest"
	"loandesk/store"
)

// dbState is what a refused request must leave as it was: loans, users,
// sessions, documents, events and sign-in attempts, read through the
// store's exported methods.
type dbState struct {
	Loans     int64
	Loan      model.Loan // the fixture's loan, whole: version, fields, history
	Users     []store.User
	Sessions  int64
	Signed    map[string][]byte // the signed-in clients' session data
	Documents []model.Document
	Events    []store.Event
	Attempts  map[string]int // sign-in counters by id (failures, ceilings, trusted addresses)
}

// stateProbe reads dbState.
type stateProbe struct {
	f       loanFixture
	clients map[string]*http.Client
}

func (p *stateProbe) read(t *testing.T) dbState {
	t.Helper()
	ctx := context.Background()
	var s dbState
	var err error
	must := func(e error) {
		t.Helper()
		if e != nil {
			t.Fatal(e)
		}
	}
	s.Loans, err = p.f.store.LoanCount(ctx)
	must(err)
	s.Loan, err = p.f.store.LoanGet(ctx, p.f.loan.HumanID)
	must(err)
	s.Users, err = p.f.store.UserList(ctx)
	must(err)
	s.Sessions, err = p.f.store.SessionCount(ctx)
	must(err)
	s.Signed = map[string][]byte{}
	for who, c := range p.clients {
		ck := sessionCookie(t, c, p.f.url)
		if ck == nil {
			t.Fatalf("%s has no session cookie", who)
		}
		data, found, err := p.f.store.Sessions().FindCtx(ctx, ck.Value)
		must(err)
		if !found {
			data = []byte("(no session)")
		}
		s.Signed[who] = data
	}
	s.Documents, err = p.f.store.DocumentsOfLoan(ctx, p.f.loan.ID)
	must(err)
	s.Events, err = p.f.store.EventList(ctx, store.EventListParams{Limit: 1000})
	must(err)
	counters, err := p.f.store.LoginCounterList(ctx)
	must(err)
	s.Attempts = map[string]int{}
	for _, c := range counters {
		s.Attempts[c.ID] = c.N
	}
	return s
}

// unchanged fails the test naming each part of the state that differs.
func unchanged(t *testing.T, what string, before, after dbState) {
	t.Helper()
	bv, av := reflect.ValueOf(before), reflect.ValueOf(after)
	for i := range bv.NumField() {
		if !reflect.DeepEqual(bv.Field(i).Interface(), av.Field(i).Interface()) {
			t.Errorf("%s changed the stored %s:\nbefore %+v\nafter  %+v", what, bv.Type().Field(i).Name, bv.Field(i).Interface(), av.Field(i).Interface())
		}
	}
}

// formCase is a request a state-changing route accepts; the strict-input
// variants spoil it one way each. dup is the field they repeat.
type formCase struct {
	form url.Values
	dup  string
	json string // a JSON body instead of the form (the API)
}

// strictRequest is one spoilt request and the refusal code it must get.
type strictRequest struct {
	name    string
	query   string
	body    string
	ctype   string
	code    string
	message string
}

const (
	msgRepeated = "Send each field once"
	msgEncoding = "is not valid text"
)

// variants spoils a good request: a field repeated in the body, in the
// query, in both, and a value or key that is not UTF-8 text.
func variants(fc formCase) []strictRequest {
	const form = "application/x-www-form-urlencoded"
	with := func(edit func(v url.Values)) string {
		v := url.Values{}
		for k, vals := range fc.form {
			v[k] = append([]string(nil), vals...)
		}
		edit(v)
		return v.Encode()
	}
	good := fc.form.Get(fc.dup)
	if good == "" {
		good = "1"
	}
	if fc.json != "" {
		// JSON bodies are the handler's to check; the query is ours, and so
		// is a form body sent to a JSON route.
		return []strictRequest{
			{"RepeatedInQuery", url.Values{fc.dup: {"1", "2"}}.Encode(), fc.json, "application/json", "repeated_field", msgRepeated},
			{"InvalidUTF8InQuery", fc.dup + "=%FF%FE", fc.json, "application/json", "invalid_encoding", msgEncoding},
			{"NULInQuery", fc.dup + "=a%00b", fc.json, "application/json", "invalid_encoding", msgEncoding},
			{"RepeatedInFormBody", "", url.Values{fc.dup: {"1", "2"}}.Encode(), form, "repeated_field", msgRepeated},
		}
	}
	return []strictRequest{
		{"RepeatedInBody", "", with(func(v url.Values) { v[fc.dup] = []string{good, good + "2"} }), form, "repeated_field", msgRepeated},
		{"RepeatedSameValueInBody", "", with(func(v url.Values) { v[fc.dup] = []string{good, good} }), form, "repeated_field", msgRepeated},
		{"RepeatedInQuery", url.Values{fc.dup: {good, good + "2"}}.Encode(), with(func(v url.Values) { delete(v, fc.dup) }), form, "repeated_field", msgRepeated},
		{"InQueryAndBody", url.Values{fc.dup: {good + "2"}}.Encode(), with(func(v url.Values) { v.Set(fc.dup, good) }), form, "repeated_field", msgRepeated},
		{"InvalidUTF8Value", "", with(func(v url.Values) { v.Set(fc.dup, "\xff\xfe") }), form, "invalid_encoding", msgEncoding},
		{"NULInValue", "", with(func(v url.Values) { v.Set(fc.dup, good+"\x00") }), form, "invalid_encoding", msgEncoding},
		{"ControlCharInValue", "", with(func(v url.Values) { v.Set(fc.dup, good+"\x1b[2J") }), form, "invalid_encoding", msgEncoding},
		{"InvalidUTF8Key", "", with(func(v url.Values) { v.Set("\xff"+fc.dup, good) }), form, "invalid_encoding", msgEncoding},
		{"InvalidUTF8InQuery", fc.dup + "=%C3%28", with(func(v url.Values) { delete(v, fc.dup) }), form, "invalid_encoding", msgEncoding},
		{"BadEscapeInBody", "", with(func(url.Values) {}) + "&" + fc.dup + "=%zz", form, "invalid_encoding", "not properly encoded"},
	}
}

// getVariants spoils a GET's query.
var getVariants = []strictRequest{
	{"RepeatedInQuery", "q=asha&status=submitted&q=verma", "", "", "repeated_field", msgRepeated},
	{"RepeatedEmptyInQuery", "download&download", "", "", "repeated_field", msgRepeated},
	{"InvalidUTF8InQuery", "q=%FF%FE", "", "", "invalid_encoding", msgEncoding},
	{"NULInQuery", "status=approved%00", "", "", "invalid_encoding", msgEncoding},
	{"SemicolonInQuery", "q=a;b", "", "", "invalid_encoding", "not properly encoded"},
}

// TestStrictInput walks the route table: every state-changing route gets
// a request it would accept, spoilt by a repeated field (in the body, the
// query, or both) or by text that is not UTF-8, and every GET route a
// spoilt query. Each is refused with 400 (JSON with the code under /api,
// the error page elsewhere) and leaves the database as it was. A route
// without a case here fails the test.
func TestStrictInput(t *testing.T) {
	t.Parallel()
	f := newRouteFixture(t)
	uw := newClient(t)
	mustLogin(t, uw, f.url, "uw@example.com")
	probe := &stateProbe{f: f.loanFixture, clients: map[string]*http.Client{"admin": f.admin, "uw": uw}}

	// The probe sees what a handler stores: a failed sign-in is counted.
	before := probe.read(t)
	if res := login(t, newClient(t), f.url, "admin@example.com", "wrong password"); res.status != http.StatusUnauthorized {
		t.Fatalf("wrong password: status %d", res.status)
	}
	if after := probe.read(t); after.Attempts["pair:admin@example.com|127.0.0.1"] != before.Attempts["pair:admin@example.com|127.0.0.1"]+1 {
		t.Fatalf("the probe does not see sign-in attempts: %v then %v", before.Attempts, after.Attempts)
	}

	cases := map[string]formCase{
		"POST /login":                                        {form: url.Values{"email": {"admin@example.com"}, "password": {testPassword}, "next": {"/loans"}}, dup: "email"},
		"POST /logout":                                       {dup: "confirm"},
		"POST /account/password":                             {form: url.Values{"current": {testPassword}, "password": {"plum tractor seventy"}}, dup: "password"},
		"POST /loans/{id}/status":                            {form: url.Values{"version": {"1"}, "to": {model.StatusUnderReview}, "reason": {"Checking"}}, dup: "to"},
		"POST /loans/{id}/assignee":                          {form: url.Values{"version": {"1"}, "assignee": {"uw@example.com"}}, dup: "assignee"},
		"POST /loans/{id}/documents":                         {form: url.Values{"kind": {"pan"}}, dup: "kind"},
		"POST /loans/{id}/documents/{doc}/delete":            {form: url.Values{"reason": {"Blurred copy"}}, dup: "reason"},
		"POST /loans/{id}/documents/{doc}/replace":           {form: url.Values{"kind": {"pan"}}, dup: "kind"},
		"POST /loans/{id}/score":                             {dup: "confirm"},
		"POST /loans/{id}/jobs/{event}/retry":                {dup: "confirm"},
		"POST /loans/{id}/{section}":                         {form: url.Values{"version": {"1"}, "city": {"Mumbai"}, "pan": {"ABCPV1234K"}}, dup: "pan"},
		"PUT /loans/{id}/{section}":                          {form: url.Values{"version": {"1"}, "city": {"Mumbai"}, "pan": {"ABCPV1234K"}}, dup: "pan"},
		"POST /admin/users":                                  {form: url.Values{"email": {"new@example.com"}, "name": {"New"}, "role": {"viewer"}, "password": {"a long enough password"}}, dup: "role"},
		"POST /login/code":                                   {form: url.Values{"code": {"123456"}}, dup: "code"},
		"POST /account/two-factor":                           {form: url.Values{"current": {testPassword}, "code": {"123456"}}, dup: "code"},
		"POST /account/sessions/{session}/revoke":            {dup: "confirm"},
		"POST /admin/users/{user}/role":                      {form: url.Values{"role": {"viewer"}}, dup: "role"},
		"POST /admin/users/{user}/active":                    {form: url.Values{"active": {"false"}}, dup: "active"},
		"POST /admin/users/{user}/password":                  {dup: "confirm"},
		"POST /admin/users/{user}/two-factor/reset":          {dup: "confirm"},
		"POST /admin/users/{user}/sessions/{session}/revoke": {dup: "confirm"},
		"POST /admin/users/{user}/sessions/end":              {dup: "confirm"},
		"POST /admin/queue/{event}/retry":                    {dup: "confirm"},
		"POST /admin/queue/{event}/discard":                  {dup: "confirm"},
		"PATCH /api/applications/{id}":                       {json: `{"version": 1, "changes": {"city": "Mumbai"}}`, dup: "version"},
		"POST /api/applications":                             {json: newApplicationJSON, dup: "fields"},
		"POST /loans":                                        {form: newApplicationForm(), dup: "pan"},
		"POST /loans/{id}/disburse":                          {form: url.Values{"utr": {"UTIB0000012345"}, "firstEmiDate": {""}}, dup: "utr"},
		"POST /loans/{id}/repayments":                        {form: url.Values{"amount": {"5000"}, "utr": {"RCPT00000000001"}, "idempotencyKey": {"k"}}, dup: "amount"},
		"POST /admin/locks/release":                          {form: url.Values{"key": {"loan:LN-2026-000042"}, "fence": {"1"}, "reason": {"stuck"}}, dup: "fence"},
		"POST /api/applications/{id}/disbursement":           {json: `{"utr": "UTIB0000012345"}`, dup: "utr"},
		"POST /api/applications/{id}/repayments":             {json: `{"amountPaise": 500000, "utr": "RCPT00000000001"}`, dup: "utr"},
		"POST /loans/{id}/flags":                             {form: url.Values{"version": {"1"}, "code": {"duplicate_pan"}, "otherLoan": {"LN-2026-000001"}, "note": {"checked"}}, dup: "note"},
		"POST /loans/{id}/notes":                             {form: url.Values{"text": {"Called HR"}}, dup: "text"},
		"POST /loans/bulk-assign":                            {form: url.Values{"assignee": {"uw@example.com"}, "row-LN-2026-000042": {"1"}}, dup: "assignee"},
		"POST /loans/bulk-hold":                              {form: url.Values{"reason": {"Waiting for salary slips"}, "row-LN-2026-000042": {"1"}}, dup: "reason"},
	}

	base := probe.read(t)
	for _, r := range f.routes {
		key := r.method + " " + paramRE.ReplaceAllString(r.pattern, "{$1}")
		var reqs []strictRequest
		switch {
		case r.method == http.MethodGet:
			reqs = getVariants
		case cases[key].dup != "":
			reqs = variants(cases[key])
		default:
			t.Errorf("%s: no strict-input case; add a request this route accepts to the table", key)
			continue
		}
		for _, sr := range reqs {
			what := r.method + " " + r.path + " " + sr.name
			target := f.url + r.path
			if sr.query != "" {
				target += "?" + sr.query
			}
			req, err := http.NewRequest(r.method, target, strings.NewReader(sr.body))
			if err != nil {
				t.Fatal(err)
			}
			if sr.ctype != "" {
				req.Header.Set("Content-Type", sr.ctype)
			}
			req.Header.Set("Origin", f.url)
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			res := do(t, f.admin, req)
			if res.status != http.StatusBadRequest {
				t.Errorf("%s: status %d, want 400", what, res.status)
			}
			if isAPIPath(r.path) {
				assertJSONError(t, what, res, sr.code)
			} else if !strings.Contains(res.body, "Request refused") {
				t.Errorf("%s: not the refusal page: %.200s", what, res.body)
			}
			if !strings.Contains(res.body, sr.message) {
				t.Errorf("%s: the answer does not say %q: %.300s", what, sr.message, res.body)
			}
			unchanged(t, what, base, probe.read(t))
		}
	}
	for key := range cases {
		found := false
		for _, r := range f.routes {
			found = found || r.method+" "+paramRE.ReplaceAllString(r.pattern, "{$1}") == key
		}
		if !found {
			t.Errorf("case %s matches no route", key)
		}
	}
}

// The reported bug: a plain form saving the applicant with the PAN sent
// twice was answered 422 "Send this field once" after the city had been
// saved as version 2. It is refused before the handler and nothing is
// stored; the same form without the repeat saves.
func TestStrictInput_RepeatedPANInPlainFormStoresNothing(t *testing.T) {
	t.Parallel()
	f := newLoanFixture(t)
	c := newClient(t)
	mustLogin(t, c, f.url, "admin@example.com")

	req, _ := http.NewRequest(http.MethodPut, f.url+"/loans/"+f.loan.HumanID+"/applicant",
		strings.NewReader("version=1&city=Mumbai&pan=ABCPV1234K&pan=ZZZZZ9999Z"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", f.url)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res := do(t, c, req)
	if res.status != http.StatusBadRequest || !strings.Contains(res.body, `The field &#34;pan&#34; was sent more than once`) {
		t.Fatalf("status %d, want 400 naming pan:\n%.500s", res.status, res.body)
	}
	if l := f.current(t); l.Version != 1 || l.Applicant.City != "Pune" || l.Applicant.PAN != "ABCPV1234K" || len(l.History) != 0 {
		t.Fatalf("the refused save stored version %d, city %q, pan %q, %d history entries", l.Version, l.Applicant.City, l.Applicant.PAN, len(l.History))
	}

	// Control: the same form with the PAN once is a save.
	res = send(t, c, http.MethodPut, f.url, "/loans/"+f.loan.HumanID+"/applicant", url.Values{"version": {"1"}, "city": {"Mumbai"}, "pan": {"ABCPV1234K"}}, false)
	if res.status >= 400 {
		t.Fatalf("the form without the repeat: status %d", res.status)
	}
	if l := f.current(t); l.Version != 2 || l.Applicant.City != "Mumbai" {
		t.Fatalf("the form without the repeat stored version %d, city %q", l.Version, l.Applicant.City)
	}
}

// A form body past 64 KB is a 413 (JSON under /api) and stores nothing;
// one just under it is read.
func TestStrictInput_LargeFormIs413(t *testing.T) {
	t.Parallel()
	f := newLoanFixture(t)
	c := newClient(t)
	mustLogin(t, c, f.url, "admin@example.com")
	big := url.Values{"version": {"1"}, "city": {"Mumbai"}, "address": {strings.Repeat("a", 64<<10)}}
	res := send(t, c, http.MethodPut, f.url, "/loans/"+f.loan.HumanID+"/applicant", big, true)
	if res.status != http.StatusRequestEntityTooLarge || !strings.Contains(res.body, "larger than 64 KB") {
		t.Fatalf("status %d, want 413:\n%.300s", res.status, res.body)
	}
	if l := f.current(t); l.Version != 1 || l.Applicant.City != "Pune" {
		t.Fatalf("a refused large form stored version %d city %q", l.Version, l.Applicant.City)
	}
	c2 := newClient(t)
	mustLogin(t, c2, f.url, "admin@example.com")
	res = send(t, c2, http.MethodPatch, f.url, "/api/applications/"+f.loan.HumanID, big, false)
	if res.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("API: status %d, want 413", res.status)
	}
	assertJSONError(t, "API 413", res, "request_too_large")
	// Under the limit the body is read (and the handler judges it).
	ok := url.Values{"version": {"1"}, "city": {"Mumbai"}, "purpose": {strings.Repeat("b", 60<<10)}}
	if res := send(t, c, http.MethodPut, f.url, "/loans/"+f.loan.HumanID+"/applicant", ok, true); res.status == http.StatusRequestEntityTooLarge || res.status == http.StatusBadRequest {
		t.Fatalf("a 60 KB form: status %d", res.status)
	}
}

// The upload form is multipart, which the middleware leaves to the upload
// handler (it bounds the body first): a repeated part or a file name that
// is not UTF-8 text is refused there, and nothing is stored.
func TestStrictInput_MultipartUpload(t *testing.T) {
	t.Parallel()
	f := newLoanFixture(t)
	c := newClient(t)
	mustLogin(t, c, f.url, "admin@example.com")
	probe := &stateProbe{f: f, clients: map[string]*http.Client{"admin": c}}
	png := ocrtest.PNG([]string{"PAN ABCPV1234K"})
	base := probe.read(t)
	for _, tc := range []struct {
		name  string
		query string
		parts [][3]string // name, filename ("" for a text field), content
	}{
		{"KindTwice", "", [][3]string{{"kind", "", "pan"}, {"kind", "", "income"}, {"file", "pan.png", string(png)}}},
		{"TwoFiles", "", [][3]string{{"kind", "", "pan"}, {"file", "a.png", string(png)}, {"file", "b.png", string(png)}}},
		{"KindInQueryToo", "kind=income", [][3]string{{"kind", "", "pan"}, {"file", "pan.png", string(png)}}},
		{"NULInKind", "", [][3]string{{"kind", "", "pan\x00"}, {"file", "pan.png", string(png)}}},
		{"FileNameNotUTF8", "", [][3]string{{"kind", "", "pan"}, {"file", "p\xffn.png", string(png)}}},
	} {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		for _, p := range tc.parts {
			if p[1] == "" {
				mw.WriteField(p[0], p[2])
				continue
			}
			fw, _ := mw.CreateFormFile(p[0], p[1])
			fw.Write([]byte(p[2]))
		}
		mw.Close()
		target := f.url + "/loans/" + f.loan.HumanID + "/documents"
		if tc.query != "" {
			target += "?" + tc.query
		}
		req, _ := http.NewRequest(http.MethodPost, target, &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Origin", f.url)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		req.Header.Set("HX-Request", "true")
		if res := do(t, c, req); res.status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", tc.name, res.status)
		}
		unchanged(t, tc.name, base, probe.read(t))
	}
	// Control: the same upload with each part once is stored.
	if res := upload(t, c, f.url, f.loan.HumanID, "pan", "pan.png", png); res.status != http.StatusOK {
		t.Fatalf("a good upload: status %d", res.status)
	}
	if docs, _ := f.store.DocumentsOfLoan(context.Background(), f.loan.ID); len(docs) != len(base.Documents)+1 {
		t.Fatalf("a good upload stored %d documents, want %d", len(docs), len(base.Documents)+1)
	}
}
