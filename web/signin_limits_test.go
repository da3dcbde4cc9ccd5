package web_test

// The sign-in limits over HTTP, on a manual clock (issue 19's acceptance
// figures): successes are never counted, guessing from rotating
// addresses is held to the account's hourly ceiling, and the owner's
// right password still works in a browser they signed in on (a known
// device), wherever it is.

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"loandesk/auth"
	"loandesk/clock"
	"loandesk/store"
	"loandesk/web"
)

// loginFrom signs in as a client at addr (behind the trusted proxy).
func loginFrom(t testing.TB, c *http.Client, base, addr, email, password string) response {
	t.Helper()
	form := url.Values{"email": {email}, "password": {password}}
	req, err := http.NewRequest(http.MethodPost, base+"/login", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("X-Forwarded-For", addr)
	return do(t, c, req)
}

// limitsFixture is the server with the default limits on a manual clock,
// behind a trusted proxy (so tests choose the client address).
func limitsFixture(t *testing.T) (*testBundle, *clock.Manual) {
	t.Helper()
	clk := clock.NewManual(time.Now())
	b := setup(t, func(c *web.Config) {
		c.TrustProxy = true
		c.Now = clk.Now
	})
	return b, clk
}

// 200 correct sign-ins from one address (a branch behind one NAT) in a
// minute, each to an account never signed in from there before, all
// succeed: successes use up nothing, not even the address's ceiling of
// 100 failures.
func TestSignIn_TwoHundredSuccessesFromOneAddressInAMinute(t *testing.T) {
	t.Parallel()
	b, clk := limitsFixture(t)
	hash, err := auth.NewHasher(testCost).Hash(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		if _, err := b.store.UserCreate(context.Background(), store.UserCreateParams{
			Email: fmt.Sprintf("staff%d@example.com", i), Name: "Staff", Role: auth.RoleViewer, PasswordHash: hash,
		}); err != nil {
			t.Fatal(err)
		}
	}
	ok := 0
	for i := range 200 {
		clk.Advance(300 * time.Millisecond) // 200 in 60 s
		res := loginFrom(t, newClient(t), b.url, "203.0.113.9", fmt.Sprintf("staff%d@example.com", i), testPassword)
		if res.status == http.StatusSeeOther {
			ok++
		} else {
			t.Errorf("sign-in %d: status %d", i+1, res.status)
		}
	}
	t.Logf("%d of 200 correct sign-ins from one address in a minute succeeded", ok)
}

// 1,000 wrong passwords against one account, each from a new address,
// spread over two hours: in no hour are more than 100 checked (401)
// instead of refused (429); meanwhile the owner's right password works
// at once in the browser they signed in on before (a known device), from
// home and from an address never seen, while a new browser at home is
// held by the ceiling; and in their browser after a few typos of their
// own it works after the device's delay.
func TestSignIn_RotatingAddressesAreHeldToTheAccountCeiling(t *testing.T) {
	t.Parallel()
	b, clk := limitsFixture(t)
	b.createUser(t, "admin@example.com", auth.RoleAdmin)
	const home = "198.51.100.20"
	owner := newClient(t)
	if res := loginFrom(t, owner, b.url, home, "admin@example.com", testPassword); res.status != http.StatusSeeOther {
		t.Fatalf("the owner's first sign-in: status %d", res.status)
	}

	start := clk.Now()
	var checked []time.Time // when a wrong password was checked (401)
	for i := range 1000 {
		clk.Advance(7200 * time.Millisecond)
		addr := fmt.Sprintf("10.%d.%d.%d", i/65536, i/256%256, i%256)
		res := loginFrom(t, newClient(t), b.url, addr, "admin@example.com", "guess number "+strconv.Itoa(i))
		switch res.status {
		case http.StatusUnauthorized:
			checked = append(checked, clk.Now())
		case http.StatusTooManyRequests:
		default:
			t.Fatalf("guess %d: status %d", i, res.status)
		}
		if i == 500 {
			// Mid-attack the owner signs in at once in their browser, at
			// home or anywhere; a new browser waits for the ceiling.
			for _, at := range []string{home, "192.0.2.200"} {
				if res := loginFrom(t, owner, b.url, at, "admin@example.com", testPassword); res.status != http.StatusSeeOther {
					t.Fatalf("the owner's browser at %s mid-attack: status %d, want 303", at, res.status)
				}
			}
			if res := loginFrom(t, newClient(t), b.url, home, "admin@example.com", testPassword); res.status != http.StatusTooManyRequests {
				t.Fatalf("a new browser at home mid-attack: status %d, want 429", res.status)
			}
		}
	}
	worst := 0
	for i, at := range checked {
		n := 0
		for _, later := range checked[i:] {
			if later.Sub(at) < time.Hour {
				n++
			}
		}
		worst = max(worst, n)
	}
	t.Logf("1000 guesses over %s from 1000 addresses: %d checked in all, at most %d in any hour", clk.Now().Sub(start), len(checked), worst)
	if worst > 100 || len(checked) == 0 {
		t.Fatalf("%d wrong passwords checked within one hour, want 1 to 100", worst)
	}

	// The owner mistypes six times in their browser: it waits (30 s after
	// the fifth, 60 s after the sixth), then the right password works.
	for i := range 6 {
		if res := loginFrom(t, owner, b.url, home, "admin@example.com", "my typo "+strconv.Itoa(i)); res.status != http.StatusUnauthorized {
			t.Fatalf("typo %d: status %d", i+1, res.status)
		}
		if i == 4 {
			clk.Advance(30 * time.Second)
		}
	}
	res := loginFrom(t, owner, b.url, home, "admin@example.com", testPassword)
	retry, _ := strconv.Atoi(res.header.Get("Retry-After"))
	if res.status != http.StatusTooManyRequests || retry != 60 {
		t.Fatalf("after six typos: status %d Retry-After %q, want 429 and 60", res.status, res.header.Get("Retry-After"))
	}
	clk.Advance(time.Duration(retry) * time.Second)
	if res := loginFrom(t, owner, b.url, home, "admin@example.com", testPassword); res.status != http.StatusSeeOther {
		t.Fatalf("after the delay: status %d, want 303", res.status)
	}
}

// From an address the account has not signed in from, the ceiling holds
// the owner too while it is full, but only until the window has passed
// (the Retry-After it is told), not for good.
func TestSignIn_NewAddressWaitsOutTheCeilingOnly(t *testing.T) {
	t.Parallel()
	b, clk := limitsFixture(t)
	b.createUser(t, "admin@example.com", auth.RoleAdmin)
	for i := range 100 {
		clk.Advance(time.Second)
		if res := loginFrom(t, newClient(t), b.url, fmt.Sprintf("10.0.%d.%d", i/256, i%256), "admin@example.com", "guess"); res.status != http.StatusUnauthorized {
			t.Fatalf("guess %d: status %d", i+1, res.status)
		}
	}
	res := loginFrom(t, newClient(t), b.url, "192.0.2.44", "admin@example.com", testPassword)
	retry, _ := strconv.Atoi(res.header.Get("Retry-After"))
	if res.status != http.StatusTooManyRequests || retry < 1 || retry > int((70*time.Minute).Seconds()) {
		t.Fatalf("the owner from a new address under a full ceiling: status %d Retry-After %q, want 429 within 70 min", res.status, res.header.Get("Retry-After"))
	}
	clk.Advance(time.Duration(retry) * time.Second)
	if res := loginFrom(t, newClient(t), b.url, "192.0.2.44", "admin@example.com", testPassword); res.status != http.StatusSeeOther {
		t.Fatalf("after Retry-After: status %d, want 303", res.status)
	}
}

// postFrom posts form to path as a client at addr (behind the trusted
// proxy).
func postFrom(t testing.TB, c *http.Client, base, path, addr string, form url.Values) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("X-Forwarded-For", addr)
	return do(t, c, req)
}

// withTOTP turns on the second factor of the user with email, straight
// in the store, and returns its secret.
func withTOTP(t *testing.T, b *testBundle, email string) string {
	t.Helper()
	ctx := context.Background()
	key, err := auth.NewTOTPKey("Loan Desk", email)
	if err != nil {
		t.Fatal(err)
	}
	u, err := b.store.UserByEmail(ctx, email)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.store.UserTOTPEnable(ctx, u.ID, store.TOTP{Secret: key.Secret, EnrolledAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	return key.Secret
}

// statuses sends n requests at once (each made by send(i)) and counts
// the answers by status.
func statuses(n int, send func(i int) int) map[int]int {
	got := make(chan int, n)
	start := make(chan struct{})
	for i := range n {
		go func() {
			<-start
			got <- send(i)
		}()
	}
	close(start)
	counts := map[int]int{}
	for range n {
		counts[<-got]++
	}
	return counts
}

// Wrong secrets sent at once from one pair are counted before they are
// checked: exactly the five free ones are checked (401), the others
// wait (429), for passwords and for authenticator codes alike — also
// from an address where the account has signed in before (issue 19,
// found by a tester: 40 passwords at once were all checked, 100 codes
// at once 14).
func TestSignIn_ConcurrentWrongSecretsFromOnePair(t *testing.T) {
	t.Parallel()

	t.Run("Passwords", func(t *testing.T) {
		t.Parallel()
		b, _ := limitsFixture(t)
		b.createUser(t, "admin@example.com", auth.RoleAdmin)
		const addr = "198.51.100.7"
		if res := loginFrom(t, newClient(t), b.url, addr, "admin@example.com", testPassword); res.status != http.StatusSeeOther {
			t.Fatalf("the owner's sign-in: status %d", res.status)
		}
		got := statuses(40, func(i int) int {
			return loginFrom(t, newClient(t), b.url, addr, "admin@example.com", "wrong password "+strconv.Itoa(i)).status
		})
		if got[http.StatusUnauthorized] != 5 || got[http.StatusTooManyRequests] != 35 {
			t.Fatalf("40 wrong passwords at once from one pair: %v, want 5 × 401 and 35 × 429", got)
		}
		if res := loginFrom(t, newClient(t), b.url, addr, "admin@example.com", testPassword); res.status != http.StatusTooManyRequests {
			t.Fatalf("the next attempt: status %d, want 429", res.status)
		}
	})

	t.Run("Codes", func(t *testing.T) {
		t.Parallel()
		b, _ := limitsFixture(t)
		b.createUser(t, "admin@example.com", auth.RoleAdmin)
		secret := withTOTP(t, b, "admin@example.com")
		const addr = "198.51.100.8"
		c := newClient(t)
		if res := loginFrom(t, c, b.url, addr, "admin@example.com", testPassword); res.header.Get("Location") != "/login/code" {
			t.Fatalf("password step: status %d location %q", res.status, res.header.Get("Location"))
		}
		good := map[string]bool{}
		for _, d := range []time.Duration{-auth.TOTPPeriod, 0, auth.TOTPPeriod} {
			good[totpCode(t, secret, time.Now().Add(d))] = true
		}
		got := statuses(30, func(i int) int {
			code := fmt.Sprintf("%06d", 100000+i*7919)
			for good[code] {
				code = fmt.Sprintf("%06d", (mustAtoi(code)+1)%1000000)
			}
			return postFrom(t, c, b.url, "/login/code", addr, url.Values{"code": {code}}).status
		})
		if got[http.StatusUnauthorized] != 5 || got[http.StatusTooManyRequests] != 25 {
			t.Fatalf("30 wrong codes at once from one pair: %v, want 5 × 401 and 25 × 429", got)
		}
	})
}

func mustAtoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		panic(err)
	}
	return n
}

// The right password of a user who gives a code next neither forgets the
// pair's failures nor trusts the client: only the whole sign-in, code
// included, does (issue 19, found by a tester: the password step alone
// made the address trusted and cleared its count; the browser becomes a
// known device only after the code, see TestSignIn_KnownDevices).
func TestSignIn_PasswordStepAloneForgetsAndTrustsNothing(t *testing.T) {
	t.Parallel()
	const home = "198.51.100.30"

	t.Run("FailuresForgottenOnlyAfterTheCode", func(t *testing.T) {
		t.Parallel()
		clk := clock.NewManual(time.Now())
		b := setup(t, func(c *web.Config) {
			c.TrustProxy = true
			c.Now = clk.Now
			c.LoginLimits = auth.SignInLimits{FreeFailures: 3, FirstDelay: time.Hour, MaxDelay: time.Hour, Window: 3 * time.Hour}
		})
		b.createUser(t, "admin@example.com", auth.RoleAdmin)
		secret := withTOTP(t, b, "admin@example.com")
		for i := range 2 {
			if res := loginFrom(t, newClient(t), b.url, home, "admin@example.com", "typo "+strconv.Itoa(i)); res.status != http.StatusUnauthorized {
				t.Fatalf("typo %d: status %d", i+1, res.status)
			}
		}
		// The right password, and no code.
		if res := loginFrom(t, newClient(t), b.url, home, "admin@example.com", testPassword); res.header.Get("Location") != "/login/code" {
			t.Fatalf("password step: status %d location %q", res.status, res.header.Get("Location"))
		}
		// The pair's two failures are still there: the third is the last free.
		if res := loginFrom(t, newClient(t), b.url, home, "admin@example.com", "typo 3"); res.status != http.StatusUnauthorized {
			t.Fatalf("third typo: status %d, want 401", res.status)
		}
		if res := loginFrom(t, newClient(t), b.url, home, "admin@example.com", testPassword); res.status != http.StatusTooManyRequests {
			t.Fatalf("after three failures and a password step: status %d, want 429 (the password step forgot the failures)", res.status)
		}
		// After the pair's delay the whole sign-in, code included, forgets
		// them.
		clk.Advance(time.Hour)
		c := newClient(t)
		if res := loginFrom(t, c, b.url, home, "admin@example.com", testPassword); res.header.Get("Location") != "/login/code" {
			t.Fatalf("password step after the delay: status %d location %q", res.status, res.header.Get("Location"))
		}
		if res := postFrom(t, c, b.url, "/login/code", home, url.Values{"code": {totpCode(t, secret, clk.Now())}}); res.status != http.StatusSeeOther {
			t.Fatalf("code step: status %d", res.status)
		}
		for i := range 3 {
			if res := loginFrom(t, newClient(t), b.url, home, "admin@example.com", "typo again "+strconv.Itoa(i)); res.status != http.StatusUnauthorized {
				t.Fatalf("typo %d after the whole sign-in: status %d, want 401", i+1, res.status)
			}
		}
	})

	t.Run("AddressNotTrustedByThePasswordStep", func(t *testing.T) {
		t.Parallel()
		b := setup(t, func(c *web.Config) {
			c.TrustProxy = true
			c.LoginLimits = auth.SignInLimits{FreeFailures: 100, AccountCeiling: 3, Window: time.Hour, DeviceFor: 24 * time.Hour}
		})
		b.createUser(t, "admin@example.com", auth.RoleAdmin)
		withTOTP(t, b, "admin@example.com")
		if res := loginFrom(t, newClient(t), b.url, home, "admin@example.com", testPassword); res.header.Get("Location") != "/login/code" {
			t.Fatalf("password step: status %d location %q", res.status, res.header.Get("Location"))
		}
		for i := range 3 {
			if res := loginFrom(t, newClient(t), b.url, fmt.Sprintf("203.0.113.%d", i), "admin@example.com", "guess"); res.status != http.StatusUnauthorized {
				t.Fatalf("guess %d: status %d", i+1, res.status)
			}
		}
		// The ceiling is full; home had only a password step, so it is
		// held by it like any address.
		if res := loginFrom(t, newClient(t), b.url, home, "admin@example.com", "guess"); res.status != http.StatusTooManyRequests {
			t.Fatalf("a wrong password from home: status %d, want 429 (the password step trusted the address)", res.status)
		}
	})
}

// deviceCookieOf is the device cookie a response set, or nil.
func deviceCookieOf(res response) *http.Cookie {
	for _, c := range (&http.Response{Header: res.header}).Cookies() {
		if strings.HasSuffix(c.Name, "loandesk_device") {
			return c
		}
	}
	return nil
}

// Known devices (OWASP's device cookies, issue 19: "never deny the right
// password to its owner for long"): a whole sign-in makes the browser a
// known device of the user; there the owner signs in at once from any
// address while guessing from elsewhere has filled the account's
// ceiling, and the device is limited by its own count alone. A browser
// without the cookie is still held by the ceiling.
func TestSignIn_KnownDevices(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// fill makes n wrong guesses for email from new addresses.
	fill := func(t *testing.T, b *testBundle, email string, n int) {
		t.Helper()
		for i := range n {
			if res := loginFrom(t, newClient(t), b.url, fmt.Sprintf("10.9.%d.%d", i/256, i%256), email, "guess"); res.status != http.StatusUnauthorized {
				t.Fatalf("guess %d: status %d", i+1, res.status)
			}
		}
	}
	fixture := func(t *testing.T) (*testBundle, *clock.Manual) {
		clk := clock.NewManual(time.Now())
		b := setup(t, func(c *web.Config) {
			c.TrustProxy = true
			c.Now = clk.Now
			c.LoginLimits = auth.SignInLimits{FreeFailures: 5, FirstDelay: time.Minute, MaxDelay: time.Hour,
				AccountCeiling: 3, AddressCeiling: 100, Window: time.Hour, DeviceFor: 30 * 24 * time.Hour}
		})
		b.createUser(t, "asha@example.com", auth.RoleUnderwriter)
		return b, clk
	}

	t.Run("TheCookieAndItsRecord", func(t *testing.T) {
		t.Parallel()
		for _, secure := range []bool{false, true} {
			b := setup(t, func(c *web.Config) { c.SecureCookies = secure })
			b.createUser(t, "asha@example.com", auth.RoleViewer)
			res := login(t, newClient(t), b.url, "asha@example.com", testPassword)
			ck := deviceCookieOf(res)
			name := map[bool]string{false: "loandesk_device", true: "__Host-loandesk_device"}[secure]
			if res.status != http.StatusSeeOther || ck == nil || ck.Name != name || !ck.HttpOnly || ck.Secure != secure ||
				ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" || ck.Domain != "" || ck.MaxAge != int((90*24*time.Hour).Seconds()) {
				t.Fatalf("secure %v: status %d, device cookie %+v", secure, res.status, ck)
			}
			u, err := b.store.UserByEmail(ctx, "asha@example.com")
			if err != nil || len(u.Devices) != 1 {
				t.Fatalf("stored devices %v, %v; want one", u.Devices, err)
			}
			if _, ok := u.Devices[auth.DeviceID(ck.Value)]; !ok || strings.Contains(fmt.Sprint(u), ck.Value) {
				t.Fatalf("the user's record keeps %v, want the token's hash and not the token", u.Devices)
			}
		}
	})

	t.Run("OwnerSignsInAtOnceFromANewAddress", func(t *testing.T) {
		t.Parallel()
		b, _ := fixture(t)
		owner := newClient(t)
		if res := loginFrom(t, owner, b.url, "198.51.100.1", "asha@example.com", testPassword); res.status != http.StatusSeeOther {
			t.Fatalf("first sign-in: status %d", res.status)
		}
		fill(t, b, "asha@example.com", 3)
		const cafe = "203.0.113.99"
		if res := loginFrom(t, newClient(t), b.url, cafe, "asha@example.com", testPassword); res.status != http.StatusTooManyRequests {
			t.Fatalf("a new browser under the full ceiling: status %d, want 429", res.status)
		}
		old := deviceCookieOf(loginFrom(t, owner, b.url, cafe, "asha@example.com", testPassword))
		if old == nil {
			t.Fatal("the owner's browser at a new address was not signed in (no new device cookie)")
		}
		// Each sign-in gives a new token: a copy of the old one is a new
		// browser, held by the ceiling.
		thief := newClient(t)
		u, _ := url.Parse(b.url)
		thief.Jar.SetCookies(u, []*http.Cookie{{Name: "loandesk_device", Value: old.Value}})
		if res := loginFrom(t, owner, b.url, cafe, "asha@example.com", testPassword); res.status != http.StatusSeeOther {
			t.Fatalf("the owner's browser again: status %d", res.status)
		}
		if res := loginFrom(t, thief, b.url, cafe, "asha@example.com", "guess"); res.status != http.StatusTooManyRequests {
			t.Fatalf("a replaced token: status %d, want 429", res.status)
		}
	})

	t.Run("ADeviceIsLimitedByItsOwnCount", func(t *testing.T) {
		t.Parallel()
		b, clk := fixture(t)
		owner := newClient(t)
		if res := loginFrom(t, owner, b.url, "198.51.100.1", "asha@example.com", testPassword); res.status != http.StatusSeeOther {
			t.Fatalf("first sign-in: status %d", res.status)
		}
		fill(t, b, "asha@example.com", 3)
		// Twenty wrong passwords at once from the device, each from its own
		// address: the five free are checked, the others wait.
		got := statuses(20, func(i int) int {
			return loginFrom(t, owner, b.url, fmt.Sprintf("192.0.2.%d", i), "asha@example.com", "wrong "+strconv.Itoa(i)).status
		})
		if got[http.StatusUnauthorized] != 5 || got[http.StatusTooManyRequests] != 15 {
			t.Fatalf("20 wrong passwords at once from a device: %v, want 5 × 401 and 15 × 429", got)
		}
		res := loginFrom(t, owner, b.url, "192.0.2.1", "asha@example.com", testPassword)
		if res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") != "60" {
			t.Fatalf("the device after five failures: status %d Retry-After %q, want 429 and 60", res.status, res.header.Get("Retry-After"))
		}
		clk.Advance(time.Minute)
		if res := loginFrom(t, owner, b.url, "192.0.2.1", "asha@example.com", testPassword); res.status != http.StatusSeeOther {
			t.Fatalf("the device after its delay: status %d, want 303", res.status)
		}
	})

	t.Run("ASharedBrowserKnowsEachOfItsUsers", func(t *testing.T) {
		t.Parallel()
		b, _ := fixture(t)
		b.createUser(t, "ravi@example.com", auth.RoleUnderwriter)
		desk := newClient(t)
		for _, who := range []string{"asha@example.com", "ravi@example.com"} {
			if res := loginFrom(t, desk, b.url, "198.51.100.1", who, testPassword); res.status != http.StatusSeeOther {
				t.Fatalf("%s at the desk: status %d", who, res.status)
			}
		}
		fill(t, b, "asha@example.com", 3)
		// Ravi's device is not Asha's: another browser of Ravi's is new.
		ravis := newClient(t)
		if res := loginFrom(t, ravis, b.url, "198.51.100.2", "ravi@example.com", testPassword); res.status != http.StatusSeeOther {
			t.Fatalf("ravi elsewhere: status %d", res.status)
		}
		if res := loginFrom(t, ravis, b.url, "198.51.100.2", "asha@example.com", testPassword); res.status != http.StatusTooManyRequests {
			t.Fatalf("asha in ravi's browser under her full ceiling: status %d, want 429", res.status)
		}
		if res := loginFrom(t, desk, b.url, "198.51.100.3", "asha@example.com", testPassword); res.status != http.StatusSeeOther {
			t.Fatalf("asha at the shared desk under her full ceiling: status %d, want 303", res.status)
		}
	})

	// The code step counts a known device on its own too; the cookie is
	// given only when the code is right.
	t.Run("TwoFactor", func(t *testing.T) {
		t.Parallel()
		b, clk := fixture(t)
		secret := withTOTP(t, b, "asha@example.com")
		owner := newClient(t)
		res := loginFrom(t, owner, b.url, "198.51.100.1", "asha@example.com", testPassword)
		if res.header.Get("Location") != "/login/code" || deviceCookieOf(res) != nil {
			t.Fatalf("password step: location %q, device cookie %v (want none before the code)", res.header.Get("Location"), deviceCookieOf(res))
		}
		res = postFrom(t, owner, b.url, "/login/code", "198.51.100.1", url.Values{"code": {totpCode(t, secret, clk.Now())}})
		if res.status != http.StatusSeeOther || deviceCookieOf(res) == nil {
			t.Fatalf("code step: status %d, device cookie %v", res.status, deviceCookieOf(res))
		}
		fill(t, b, "asha@example.com", 3)
		clk.Advance(auth.TOTPPeriod)
		if res := loginFrom(t, owner, b.url, "203.0.113.5", "asha@example.com", testPassword); res.header.Get("Location") != "/login/code" {
			t.Fatalf("password step under the full ceiling: status %d location %q", res.status, res.header.Get("Location"))
		}
		if res := postFrom(t, owner, b.url, "/login/code", "203.0.113.5", url.Values{"code": {totpCode(t, secret, clk.Now())}}); res.status != http.StatusSeeOther {
			t.Fatalf("code step under the full ceiling: status %d, want 303", res.status)
		}
	})

	// An admin's password reset, a second-factor reset and deactivation
	// end the user's devices; the user's own password change keeps them.
	t.Run("EndedByResetAndDeactivation", func(t *testing.T) {
		t.Parallel()
		b, clk := fixture(t)
		hash, err := auth.NewHasher(testCost).Hash(testPassword)
		if err != nil {
			t.Fatal(err)
		}
		active, inactive := true, false
		for _, tc := range []struct {
			name  string
			end   func(u store.User) error
			ended bool
		}{
			{"own password change", func(u store.User) error { return b.store.UserSetPassword(ctx, u.ID, hash, false, clk.Now()) }, false},
			{"admin's password reset", func(u store.User) error { return b.store.UserSetPassword(ctx, u.ID, hash, true, clk.Now()) }, true},
			{"second-factor reset", func(u store.User) error { return b.store.UserTOTPReset(ctx, u.ID, clk.Now()) }, true},
			{"deactivated and reactivated", func(u store.User) error {
				if _, err := b.store.UserChangeAccess(ctx, u.ID, store.UserAccessChange{Active: &inactive}, clk.Now()); err != nil {
					return err
				}
				_, err := b.store.UserChangeAccess(ctx, u.ID, store.UserAccessChange{Active: &active}, clk.Now())
				return err
			}, true},
		} {
			clk.Advance(2 * time.Hour) // the ceiling empties
			owner := newClient(t)
			if res := loginFrom(t, owner, b.url, "198.51.100.1", "asha@example.com", testPassword); res.status != http.StatusSeeOther {
				t.Fatalf("%s: sign-in: status %d", tc.name, res.status)
			}
			u, err := b.store.UserByEmail(ctx, "asha@example.com")
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.end(u); err != nil {
				t.Fatal(err)
			}
			fill(t, b, "asha@example.com", 3)
			want := map[bool]int{false: http.StatusUnauthorized, true: http.StatusTooManyRequests}[tc.ended]
			if res := loginFrom(t, owner, b.url, "203.0.113.7", "asha@example.com", "guess"); res.status != want {
				t.Errorf("%s: the browser's attempt under the full ceiling: status %d, want %d", tc.name, res.status, want)
			}
		}
	})

	// The list of devices is bounded: ten, the newest.
	t.Run("Bounded", func(t *testing.T) {
		t.Parallel()
		b, clk := fixture(t)
		for range 12 {
			clk.Advance(time.Second)
			if res := login(t, newClient(t), b.url, "asha@example.com", testPassword); res.status != http.StatusSeeOther {
				t.Fatalf("sign-in: status %d", res.status)
			}
		}
		if u, err := b.store.UserByEmail(ctx, "asha@example.com"); err != nil || len(u.Devices) != 10 {
			t.Fatalf("%d devices kept, %v; want 10", len(u.Devices), err)
		}
	})
}
