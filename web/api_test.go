package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"loandesk/auth"
	"loandesk/model"
	"loandesk/store"
)

const apiToken = "test-token-0123456789abcdef0123456789abcdef"

// api calls the JSON API with the bearer token (or none when token is
// empty) and decodes the JSON answer.
func api(t *testing.T, c *http.Client, method, u, token, body string) (int, map[string]any, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return apiDo(t, c, req)
}

// apiDo sends req and decodes the JSON answer.
func apiDo(t *testing.T, c *http.Client, req *http.Request) (int, map[string]any, http.Header) {
	t.Helper()
	res := do(t, c, req)
	var out map[string]any
	if err := json.Unmarshal([]byte(res.body), &out); err != nil {
		t.Fatalf("%s %s: status %d, not JSON: %.200s", req.Method, req.URL, res.status, res.body)
	}
	return res.status, out, res.header
}

func TestAPI(t *testing.T) {
	t.Parallel()
	f := newLoanFixture(t)
	if err := f.store.APITokenSet(context.Background(), "ADMIN_TOKEN", apiToken, auth.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	c := newClient(t)
	base := f.url + "/api/applications"

	t.Run("AuthIsRequiredAndBearerCallsMakeNoSession", func(t *testing.T) {
		for _, tok := range []string{"", "wrong-token", "Basic abc"} {
			status, body, _ := api(t, c, http.MethodGet, base, tok, "")
			if status != http.StatusUnauthorized || body["error"] != "unauthorized" {
				t.Errorf("token %q: status %d %v", tok, status, body)
			}
		}
		status, _, header := api(t, c, http.MethodGet, base, apiToken, "")
		if status != http.StatusOK || header.Get("Set-Cookie") != "" {
			t.Fatalf("bearer list: status %d, Set-Cookie %q", status, header.Get("Set-Cookie"))
		}
		if status, body, _ := api(t, c, http.MethodGet, f.url+"/api/nothing", apiToken, ""); status != http.StatusNotFound || body["error"] != "not_found" {
			t.Errorf("unknown endpoint: %d %v", status, body)
		}
	})

	t.Run("ListAndGet", func(t *testing.T) {
		status, body, _ := api(t, c, http.MethodGet, base+"?q=asha&status=submitted", apiToken, "")
		items, _ := body["items"].([]any)
		if status != http.StatusOK || len(items) != 1 || body["total"].(float64) != 1 {
			t.Fatalf("list: %d %v", status, body)
		}
		if status, body, _ := api(t, c, http.MethodGet, base+"?sort=bogus", apiToken, ""); status != http.StatusBadRequest || body["error"] != "invalid_parameter" {
			t.Errorf("bad parameter: %d %v", status, body)
		}
		status, body, _ = api(t, c, http.MethodGet, base+"/LN-2026-000042", apiToken, "")
		fields, _ := body["fields"].(map[string]any)
		if status != http.StatusOK || body["version"].(float64) != 1 || fields["pan"] != "ABCPV1234K" || body["emiPaise"].(float64) != 1648800 {
			t.Fatalf("get: %d %v", status, body)
		}
		if status, body, _ := api(t, c, http.MethodGet, base+"/LN-0000-000000", apiToken, ""); status != http.StatusNotFound || body["error"] != "not_found" {
			t.Errorf("unknown id: %d %v", status, body)
		}
	})

	t.Run("PatchIsVersioned", func(t *testing.T) {
		status, body, _ := api(t, c, http.MethodPatch, base+"/LN-2026-000042", apiToken, `{"version": 1, "changes": {"city": "Mumbai", "amount": 600000}}`)
		if status != http.StatusOK || body["version"].(float64) != 2 || body["fields"].(map[string]any)["amount"] != "600000" {
			t.Fatalf("patch: %d %v", status, body)
		}
		status, body, _ = api(t, c, http.MethodPatch, base+"/LN-2026-000042", apiToken, `{"version": 1, "changes": {"city": "Delhi"}}`)
		if status != http.StatusConflict || body["error"] != "conflict" {
			t.Fatalf("stale patch: %d %v", status, body)
		}
		current := body["current"].(map[string]any)
		clashes := body["clashes"].([]any)
		if current["version"].(float64) != 2 || len(clashes) != 1 || clashes[0] != "city" || len(body["theirs"].([]any)) != 2 {
			t.Fatalf("conflict body: %v", body)
		}
		if l := f.current(t); l.Version != 2 || l.Applicant.City != "Mumbai" {
			t.Fatalf("the stale patch changed the loan: %+v", l)
		}
	})

	t.Run("BadPatchesChangeNothing", func(t *testing.T) {
		before := f.current(t)
		cases := []struct {
			body, field, code string
			status            int
		}{
			{`{"version": 2, "changes": {"pan": "12345"}}`, "pan", "invalid_format", 422},
			{`{"version": 2, "changes": {"pan": true}}`, "pan", "wrong_type", 422},
			{`{"version": 2, "changes": {"city": {"$ne": null}}}`, "city", "wrong_type", 422},
			{`{"version": 2, "changes": {"city": null}}`, "city", "wrong_type", 422},
			{`{"version": 2, "changes": {"status": "approved"}}`, "status", "unknown_field", 422},
			{`{"version": 2, "changes": {"name": "<script>x</script>"}}`, "name", "invalid_characters", 422},
			{`{"version": 2, "changes": {"amount": "99999999999"}}`, "amount", "out_of_range", 422},
			{`{"changes": {"city": "Pune"}}`, "version", "required", 422},
			{`{"version": "2", "changes": {}}`, "", "bad_json", 400},
			{`{"version": 2, "changes": {}, "extra": 1}`, "", "unknown_member", 400},
			{`{"Version": 2, "changes": {}}`, "", "unknown_member", 400}, // member names are case-sensitive
			// Failing input 1 (API side): a repeated key anywhere is
			// refused whole, never "the last one wins".
			{`{"version": 999, "version": 2, "changes": {"city": "Agra"}}`, "", "repeated_field", 400},
			{`{"version": 2, "changes": {"city": "Agra", "city": "Delhi"}}`, "", "repeated_field", 400},
			{`{"version": 2, "changes": {"city": "Agra"}, "changes": {"city": "Delhi"}}`, "", "repeated_field", 400},
			// Invalid UTF-8 and unpaired surrogates are refused, not
			// replaced by U+FFFD and stored.
			{"{\"version\": 2, \"changes\": {\"city\": \"Ag\xffra\"}}", "", "invalid_encoding", 400},
			{`{"version": 2, "changes": {"city": "Ag\udc00ra"}}`, "", "invalid_encoding", 400},
			{`{"version": 2, "changes": {"city": "Agra"}} {}`, "", "bad_json", 400},
			{`not json`, "", "bad_json", 400},
			{`{"version": 2, "changes": {"purpose": "` + strings.Repeat("x", 70_000) + `"}}`, "", "too_large", 413},
		}
		for _, tc := range cases {
			status, body, _ := api(t, c, http.MethodPatch, base+"/LN-2026-000042", apiToken, tc.body)
			if status != tc.status {
				t.Errorf("%.60s: status %d, want %d (%v)", tc.body, status, tc.status, body)
				continue
			}
			if tc.field == "" {
				if body["error"] != tc.code {
					t.Errorf("%.60s: error %v, want %s", tc.body, body["error"], tc.code)
				}
				continue
			}
			fields, _ := body["fields"].(map[string]any)
			problem, _ := fields[tc.field].(map[string]any)
			if problem["code"] != tc.code || problem["message"] == "" {
				t.Errorf("%.60s: %s problem %v, want code %s", tc.body, tc.field, problem, tc.code)
			}
		}
		// Bodies in another charset would be read as other text: 415.
		for _, ct := range []string{"application/json; charset=iso-8859-1", "application/json; charset=utf-16", "application/json; charset"} {
			req, _ := http.NewRequest(http.MethodPatch, base+"/LN-2026-000042", strings.NewReader(`{"version": 2, "changes": {"city": "Pu\u00e9ne"}}`))
			req.Header.Set("Authorization", "Bearer "+apiToken)
			req.Header.Set("Content-Type", ct)
			if res := do(t, c, req); res.status != http.StatusUnsupportedMediaType {
				t.Errorf("%s: status %d", ct, res.status)
			}
		}
		for _, body := range []string{`null`, `[]`, `"x"`, ``} {
			if status, out, _ := api(t, c, http.MethodPatch, base+"/LN-2026-000042", apiToken, body); status != http.StatusBadRequest && !(body == "" && status == http.StatusUnsupportedMediaType) {
				t.Errorf("body %q: %d %v", body, status, out)
			}
		}
		req, _ := http.NewRequest(http.MethodPatch, base+"/LN-2026-000042", strings.NewReader("version=2&city=Pune"))
		req.Header.Set("Authorization", "Bearer "+apiToken)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if res := do(t, c, req); res.status != http.StatusUnsupportedMediaType {
			t.Errorf("form body: status %d", res.status)
		}
		if after := f.current(t); after.Version != before.Version || after.Applicant != before.Applicant || after.Terms != before.Terms {
			t.Fatalf("a bad patch changed the loan")
		}
	})

	t.Run("SessionCookieWorksWithTheSessionsRole", func(t *testing.T) {
		viewer := newClient(t)
		mustLogin(t, viewer, f.url, "viewer@example.com")
		if status, _, _ := api(t, viewer, http.MethodGet, base+"/LN-2026-000042", "", ""); status != http.StatusOK {
			t.Fatalf("viewer get: %d", status)
		}
		req, _ := http.NewRequest(http.MethodPatch, base+"/LN-2026-000042", strings.NewReader(`{"version": 2, "changes": {"city": "Pune"}}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", f.url)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		if res := do(t, viewer, req); res.status != http.StatusForbidden {
			t.Fatalf("viewer patch: %d", res.status)
		}
	})
}

// TestAPI_ListTotalIsTheMatchingCount: the list API's total and pages are
// those of the loans its filters match (one count, not the tabs'), equal
// to the store's tab counts for the same filter, summed over every status
// or taken for the one asked, on 300 seeded loans; a page past the last
// is the last.
func TestAPI_ListTotalIsTheMatchingCount(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.seedLoans(t, 300)
	if err := b.store.APITokenSet(context.Background(), "ADMIN_TOKEN", apiToken, auth.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	some, err := b.store.LoanList(ctx, store.LoanListParams{Limit: 1})
	if err != nil || len(some) != 1 {
		t.Fatalf("no loans: %v", err)
	}
	name := strings.Fields(some[0].Applicant.Name)[0] // a first name: many loans
	c := newClient(t)
	for _, tc := range []struct {
		query  string
		filter store.LoanFilter
		size   int
	}{
		{"", store.LoanFilter{}, 25},
		{"status=submitted", store.LoanFilter{Status: model.StatusSubmitted}, 25},
		{"status=submitted&size=50&page=999", store.LoanFilter{Status: model.StatusSubmitted}, 50},
		{"q=" + url.QueryEscape(name), store.LoanFilter{Search: store.SearchTokens(name)}, 25},
		{"q=" + url.QueryEscape(name) + "&status=under_review", store.LoanFilter{Search: store.SearchTokens(name), Status: model.StatusUnderReview}, 25},
		{"assignee=none&size=100", store.LoanFilter{Assignee: store.AssigneeNone}, 100},
	} {
		counts, err := b.store.LoanCountByStatus(ctx, tc.filter)
		if err != nil {
			t.Fatal(err)
		}
		var want int64
		for status, n := range counts {
			if tc.filter.Status == "" || status == tc.filter.Status {
				want += n
			}
		}
		if want == 0 {
			t.Fatalf("%q matches no loan: the case proves nothing", tc.query)
		}
		status, body, _ := api(t, c, http.MethodGet, b.url+"/api/applications?"+tc.query, apiToken, "")
		if status != http.StatusOK {
			t.Fatalf("%q: status %d %v", tc.query, status, body)
		}
		pages := int((want + int64(tc.size) - 1) / int64(tc.size))
		if body["total"].(float64) != float64(want) || body["pages"].(float64) != float64(pages) || body["pageSize"].(float64) != float64(tc.size) {
			t.Errorf("%q: total %v, pages %v, pageSize %v; want %d, %d, %d", tc.query, body["total"], body["pages"], body["pageSize"], want, pages, tc.size)
		}
		if strings.Contains(tc.query, "page=999") && body["page"].(float64) != float64(pages) {
			t.Errorf("%q: page %v, want the last, %d", tc.query, body["page"], pages)
		}
	}
}
