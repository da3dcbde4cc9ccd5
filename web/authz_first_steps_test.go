package web_test

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"strings"
	"testing"

	"loandesk/auth"
	"loandesk/handlers"
	"loandesk/store"
	"loandesk/web"
)

// TestAuthorizationMatrix_FirstStepsOpenNothingElse (issue 19, found by a
// tester): a session whose user must first change an admin-set password,
// or must first enrol a second factor, opens that step's page and nothing
// else — no page, htmx fragment, API call (the JSON API once moved money
// for such a session) or /metrics — and a refused request changes nothing
// stored. Every route comes from the router, as in TestAuthorizationMatrix;
// public routes (the sign-in steps, static files, health) stay open.
func TestAuthorizationMatrix_FirstStepsOpenNothingElse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, step, code string
		setUp            func(t *testing.T, f routeFixture) *http.Client
		opts             []option
	}{
		{
			name: "PasswordChange", step: "/account/password", code: "password_change_required",
			setUp: func(t *testing.T, f routeFixture) *http.Client {
				hash, err := auth.NewHasher(testCost).Hash(testPassword)
				if err != nil {
					t.Fatal(err)
				}
				// An admin whose password an admin set: the role that
				// could move money.
				if _, err := f.store.UserCreate(context.Background(), store.UserCreateParams{
					Email: "temporary@example.com", Name: "Temporary", Role: auth.RoleAdmin, PasswordHash: hash, MustChangePassword: true}); err != nil {
					t.Fatal(err)
				}
				return signInToStep(t, f, "temporary@example.com", "/account/password")
			},
		},
		{
			name: "TwoFactorEnrolment", step: handlers.TwoFactorPath, code: "two_factor_enrolment_required",
			// Underwriters sign in with a second factor here, so the
			// fixture's admin sets up without one.
			opts: []option{func(c *web.Config) { c.TwoFactorRoles = []string{auth.RoleUnderwriter} }},
			setUp: func(t *testing.T, f routeFixture) *http.Client {
				return signInToStep(t, f, "uw@example.com", handlers.TwoFactorPath)
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newRouteFixture(t, tc.opts...)
			c := tc.setUp(t, f)
			checked := 0
			for _, rt := range f.routes {
				key := rt.method + " " + rt.pattern
				mrow, ok := authorizationMatrix[key]
				if !ok {
					continue // TestAuthorizationMatrix names it
				}
				if rt.path == "/logout" || strings.HasPrefix(rt.path, "/login") || strings.HasPrefix(rt.path, tc.step) || !signInNeeded(mrow) {
					continue
				}
				checked++
				before := digest(t, f)
				res := matrixDo(t, f, c, "", rt, mrow)
				if !sentToStep(res, tc.step, tc.code) {
					t.Errorf("%s before %s: status %d Location %q HX-Redirect %q (%.120s): want the step",
						key, tc.step, res.status, res.header.Get("Location"), res.header.Get("HX-Redirect"), res.body)
					continue
				}
				if after := digest(t, f); !maps.Equal(before, after) {
					t.Errorf("%s before %s was refused but changed %v", key, tc.step, changedCollections(before, after))
				}
			}
			if checked < 50 {
				t.Fatalf("only %d routes checked: the route walk lost its routes", checked)
			}
		})
	}
}

// signInToStep signs email in with the test password and checks that the
// sign-in ends at step.
func signInToStep(t *testing.T, f routeFixture, email, step string) *http.Client {
	t.Helper()
	c := newClient(t)
	res := login(t, c, f.url, email, testPassword)
	if res.status != http.StatusSeeOther {
		t.Fatalf("sign in as %s: status %d", email, res.status)
	}
	if next := get(t, c, f.url+"/loans"); next.status != http.StatusSeeOther || next.header.Get("Location") != step {
		t.Fatalf("signed in as %s, /loans: status %d Location %q, want %s", email, next.status, next.header.Get("Location"), step)
	}
	return c
}

// signInNeeded reports whether a signed-out visitor is refused the route
// (a page sends them to sign in, the API answers 401).
func signInNeeded(r matrixRow) bool {
	return r.want[0] == s303 || r.want[0] == s401
}

// sentToStep reports whether res refuses the request and names step: a
// page's 303 to it, htmx's 403 with HX-Redirect to it, or the JSON API's
// (and /metrics') 403 with code.
func sentToStep(res response, step, code string) bool {
	switch res.status {
	case http.StatusSeeOther:
		return res.header.Get("Location") == step
	case http.StatusForbidden:
		if res.header.Get("HX-Redirect") == step {
			return true
		}
		var body struct {
			Error string `json:"error"`
		}
		return json.Unmarshal([]byte(res.body), &body) == nil && body.Error == code
	}
	return false
}
