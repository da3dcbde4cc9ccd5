package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// A single application's form (a section's edit, the status, assignee
// and warning forms) whose hidden version is not one its page writes is
// a malformed form: 422 with nothing changed, with or without htmx (for
// htmx the answer takes the page, not the panel). It once was read as
// version 0 and answered as a conflict with the current version (or the
// edit's "out of date"), inviting a second click. The rule is the bulk
// form's (commit d427aff), one function for both.
func TestSingleFormMalformedVersion(t *testing.T) {
	t.Parallel()
	f := newLoanFixture(t)
	uw := newClient(t)
	mustLogin(t, uw, f.url, "uw@example.com")
	id := f.loan.HumanID
	forms := map[string]url.Values{
		"/loans/" + id + "/applicant": {"city": {"Nagpur"}},
		"/loans/" + id + "/status":    {"to": {"under_review"}},
		"/loans/" + id + "/assignee":  {"assignee": {"uw@example.com"}},
		"/loans/" + id + "/flags":     {"code": {"shared_pan"}, "note": {"Checked with the applicant"}},
	}
	before := mustLoan(t, f, id)
	for _, v := range []string{"abc", "0", "-1", " 1", "01", "+1", "1.0", "99999999999999999999", ""} {
		for path, fields := range forms {
			for _, hx := range []bool{false, true} {
				form := url.Values{"version": {v}}
				for k, vs := range fields {
					form[k] = vs
				}
				res := send(t, uw, http.MethodPost, f.url, path, form, hx)
				if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "that its page never writes") {
					t.Errorf("%s with version %q (htmx %v): %d, want 422 naming the malformed form\n%.300s", path, v, hx, res.status, res.body)
				}
				if hx && res.header.Get("HX-Retarget") != "body" {
					t.Errorf("%s with version %q (htmx): HX-Retarget %q, want the page (body)", path, v, res.header.Get("HX-Retarget"))
				}
			}
		}
	}
	if after := mustLoan(t, f, id); after.Version != before.Version {
		t.Fatalf("malformed forms changed the application: version %d → %d", before.Version, after.Version)
	}
	// The current version, as the page writes it, still saves.
	form := url.Values{"version": {strconv.FormatInt(before.Version, 10)}, "assignee": {"uw@example.com"}}
	if res := send(t, uw, http.MethodPost, f.url, "/loans/"+id+"/assignee", form, false); res.status != http.StatusSeeOther {
		t.Fatalf("a well-formed assignment: %d\n%.300s", res.status, res.body)
	}
}
