package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"loandesk/auth"
	"loandesk/web"
)

// withTwoFactor requires a second factor of roles and runs the
// handlers on clk, so a test moves to the next 30-second step without
// waiting for it.
func withTwoFactor(clk *shiftedClock, roles ...string) option {
	return func(c *web.Config) {
		c.TwoFactorRoles = roles
		c.Now = clk.Now
	}
}

// enrol turns on two-factor sign-in for the user signed in on c and
// returns the secret and the recovery codes.
func enrol(t *testing.T, c *http.Client, base string, clk *shiftedClock) (secret string, recovery []string) {
	t.Helper()
	page := get(t, c, base+"/account/two-factor")
	doc := parse(t, page.body)
	secret = strings.ReplaceAll(doc.Find(`[data-testid="totp-secret"]`).Text(), " ", "")
	if src, _ := doc.Find(`[data-testid="totp-qr"]`).Attr("src"); page.status != http.StatusOK || len(secret) != 32 || !strings.HasPrefix(src, "data:image/png;base64,") {
		t.Fatalf("enrolment page: status %d, secret %q, QR %.30q", page.status, secret, src)
	}
	code := totpCode(t, secret, clk.Now())
	res := postForm(t, c, base, "/account/two-factor", url.Values{"current": {testPassword}, "code": {code}})
	parse(t, res.body).Find(`[data-testid="recovery-code"]`).Each(func(_ int, s *goquery.Selection) { recovery = append(recovery, s.Text()) })
	if res.status != http.StatusOK || len(recovery) != auth.RecoveryCodeCount {
		t.Fatalf("enrol: status %d, %d recovery codes", res.status, len(recovery))
	}
	return secret, recovery
}

func totpCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	code, err := auth.TOTPCode(secret, auth.TOTPStep(at))
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// signInWithCode signs in on c with the password and then code; it
// returns the second step's response.
func signInWithCode(t *testing.T, c *http.Client, base, email, code string) response {
	t.Helper()
	if res := login(t, c, base, email, testPassword); res.status != http.StatusSeeOther || res.header.Get("Location") != "/login/code" {
		t.Fatalf("password step: status %d location %q, want the code step", res.status, res.header.Get("Location"))
	}
	return postForm(t, c, base, "/login/code", url.Values{"code": {code}})
}

func TestTwoFactor_EnrolAndSignIn(t *testing.T) {
	t.Parallel()
	clk := &shiftedClock{}
	b := setup(t, withTwoFactor(clk, auth.RoleAdmin))
	b.createUser(t, "admin@example.com", auth.RoleAdmin)
	here, there := newClient(t), newClient(t)
	for _, c := range []*http.Client{here, there} {
		if res := login(t, c, b.url, "admin@example.com", testPassword); res.header.Get("Location") != "/account/two-factor" {
			t.Fatalf("an admin without a second factor is sent to %q, want the enrolment", res.header.Get("Location"))
		}
	}
	// Nothing else opens before enrolment.
	if res := get(t, here, b.url+"/loans"); res.status != http.StatusSeeOther || res.header.Get("Location") != "/account/two-factor" {
		t.Fatalf("GET /loans before enrolling: %d %q", res.status, res.header.Get("Location"))
	}
	if res := get(t, here, b.url+"/admin/users"); res.status != http.StatusSeeOther {
		t.Fatalf("GET /admin/users before enrolling: %d", res.status)
	}
	// A wrong password or code turns nothing on.
	page := parse(t, get(t, here, b.url+"/account/two-factor").body)
	secret := strings.ReplaceAll(page.Find(`[data-testid="totp-secret"]`).Text(), " ", "")
	for what, form := range map[string]url.Values{
		"wrong password": {"current": {"not my password"}, "code": {totpCode(t, secret, clk.Now())}},
		"wrong code":     {"current": {testPassword}, "code": {"000000"}},
		"no code":        {"current": {testPassword}},
	} {
		if res := postForm(t, here, b.url, "/account/two-factor", form); res.status != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d, want 422", what, res.status)
		}
	}
	if u, _ := b.store.UserByEmail(context.Background(), "admin@example.com"); u.TOTP != nil {
		t.Fatal("refused enrolments turned two-factor on")
	}

	secret, recovery := enrol(t, here, b.url, clk)
	if !signedIn(t, here, b.url) {
		t.Fatal("the enrolling session was signed out")
	}
	if signedIn(t, there, b.url) {
		t.Fatal("a session signed in with the password alone survived the enrolment")
	}
	u, err := b.store.UserByEmail(context.Background(), "admin@example.com")
	if err != nil || u.TOTP == nil || len(u.TOTP.Recovery) != auth.RecoveryCodeCount || strings.Contains(strings.Join(u.TOTP.Recovery, " "), recovery[0]) {
		t.Fatalf("stored: %+v, %v (recovery codes must be stored hashed)", u.TOTP, err)
	}

	t.Run("ThePasswordAloneSignsNobodyIn", func(t *testing.T) {
		c := newClient(t)
		if res := login(t, c, b.url, "admin@example.com", testPassword); res.header.Get("Location") != "/login/code" {
			t.Fatalf("password step goes to %q", res.header.Get("Location"))
		}
		if signedIn(t, c, b.url) {
			t.Fatal("signed in before the code")
		}
	})
	t.Run("TheEnrolmentCodeIsUsed", func(t *testing.T) {
		res := signInWithCode(t, newClient(t), b.url, "admin@example.com", totpCode(t, secret, clk.Now()))
		if res.status != http.StatusUnauthorized || !strings.Contains(res.body, "used already") {
			t.Fatalf("the enrolment's code again: status %d", res.status)
		}
	})
	clk.jump(auth.TOTPPeriod)
	code := totpCode(t, secret, clk.Now())
	t.Run("AWrongCodeIsRefused", func(t *testing.T) {
		wrong := "000000"
		if wrong == code {
			wrong = "111111"
		}
		if res := signInWithCode(t, newClient(t), b.url, "admin@example.com", wrong); res.status != http.StatusUnauthorized {
			t.Fatalf("a wrong code: status %d", res.status)
		}
	})
	c := newClient(t)
	if res := signInWithCode(t, c, b.url, "admin@example.com", code); res.status != http.StatusSeeOther || res.header.Get("Location") != "/loans" {
		t.Fatalf("the right code: status %d location %q", res.status, res.header.Get("Location"))
	}
	if !signedIn(t, c, b.url) {
		t.Fatal("not signed in after the code")
	}
	t.Run("ACodeWorksOnce", func(t *testing.T) {
		res := signInWithCode(t, newClient(t), b.url, "admin@example.com", code)
		if res.status != http.StatusUnauthorized || !strings.Contains(res.body, "used already") {
			t.Fatalf("the same code in the same step: status %d", res.status)
		}
	})
	t.Run("ARecoveryCodeWorksOnce", func(t *testing.T) {
		typed := strings.ToUpper(strings.ReplaceAll(recovery[3], "-", " "))
		c := newClient(t)
		if res := signInWithCode(t, c, b.url, "admin@example.com", typed); res.status != http.StatusSeeOther {
			t.Fatalf("a recovery code: status %d", res.status)
		}
		if page := get(t, c, b.url+"/loans"); !strings.Contains(page.body, "9 left") {
			t.Fatal("the page after a recovery code does not say how many are left")
		}
		if res := signInWithCode(t, newClient(t), b.url, "admin@example.com", recovery[3]); res.status != http.StatusUnauthorized {
			t.Fatalf("the same recovery code again: status %d", res.status)
		}
	})
	t.Run("Audited", func(t *testing.T) {
		body := get(t, c, b.url+"/admin/audit").body
		for _, want := range []string{"Turned on two-factor", "Used a recovery code", "Wrong two-factor code", "authenticator code"} {
			if !strings.Contains(body, want) {
				t.Errorf("the audit log lacks %q", want)
			}
		}
	})
}

// An admin resets a user's second factor (a lost phone): the user's
// sessions end and their codes stop working; they enrol again.
func TestTwoFactor_AdminReset(t *testing.T) {
	t.Parallel()
	clk := &shiftedClock{}
	b := setup(t, withTwoFactor(clk, auth.RoleUnderwriter))
	b.createUser(t, "admin@example.com", auth.RoleAdmin)
	b.createUser(t, "uw@example.com", auth.RoleUnderwriter)
	admin, uw := newClient(t), newClient(t)
	mustLogin(t, admin, b.url, "admin@example.com") // admins need none here
	if res := login(t, uw, b.url, "uw@example.com", testPassword); res.header.Get("Location") != "/account/two-factor" {
		t.Fatalf("a required role is sent to %q", res.header.Get("Location"))
	}
	secret, _ := enrol(t, uw, b.url, clk)
	u, _ := b.store.UserByEmail(context.Background(), "uw@example.com")
	path := "/admin/users/" + u.ID.Hex()
	if page := get(t, admin, b.url+path); !strings.Contains(page.body, `data-testid="reset-2fa"`) {
		t.Fatal("the user's page offers no two-factor reset")
	}
	if res := postForm(t, admin, b.url, path+"/two-factor/reset", nil); res.status != http.StatusSeeOther {
		t.Fatalf("reset: status %d", res.status)
	}
	if signedIn(t, uw, b.url) {
		t.Fatal("the user's session survived the reset")
	}
	clk.jump(auth.TOTPPeriod)
	c := newClient(t)
	res := login(t, c, b.url, "uw@example.com", testPassword)
	if res.header.Get("Location") != "/account/two-factor" {
		t.Fatalf("after the reset the password leads to %q, want the enrolment", res.header.Get("Location"))
	}
	if res := postForm(t, c, b.url, "/login/code", url.Values{"code": {totpCode(t, secret, clk.Now())}}); res.status != http.StatusSeeOther || res.header.Get("Location") != "/login" {
		t.Fatalf("the old secret's code: status %d %q", res.status, res.header.Get("Location"))
	}
	if body := get(t, admin, b.url+"/admin/audit").body; !strings.Contains(body, "Two-factor reset by an admin") {
		t.Fatal("the reset is not in the audit log")
	}
}

// By default admins sign in with a second factor; TWO_FACTOR_ROLES can
// change that.
func TestTwoFactor_DefaultForAdmins(t *testing.T) {
	t.Parallel()
	if roles := web.DefaultConfig().TwoFactorRoles; len(roles) != 1 || roles[0] != auth.RoleAdmin {
		t.Fatalf("default two-factor roles %q, want [admin]", roles)
	}
}
