package web_test

// Security rules no other test pins down (each was a surviving mutant of
// scripts/mutation.sh): the default sign-in limits and idle timeout are
// what the server enforces when a deployment sets none, a successful
// sign-in forgets the pair's failures but not the address's, and the
// upload size cap covers the whole request, not only the file.

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"loandesk/auth"
	"loandesk/clock"
	"loandesk/ocr/ocrtest"
	"loandesk/web"
)

// The defaults, by value: the tests below run with them, the other tests
// set their own.
func TestDefaults_SecurityValues(t *testing.T) {
	t.Parallel()
	want := auth.SignInLimits{FreeFailures: 5, FirstDelay: 30 * time.Second, MaxDelay: 15 * time.Minute,
		AccountCeiling: 100, AddressCeiling: 100, Window: time.Hour, DeviceFor: 90 * 24 * time.Hour}
	if auth.DefaultSignInLimits != want {
		t.Errorf("DefaultSignInLimits = %+v, want %+v", auth.DefaultSignInLimits, want)
	}
	for failures, delay := range map[int]time.Duration{0: 0, 4: 0, 5: 30 * time.Second, 6: time.Minute, 7: 2 * time.Minute,
		9: 8 * time.Minute, 10: 15 * time.Minute, 60: 15 * time.Minute} {
		if got := want.Delay(failures); got != delay {
			t.Errorf("Delay(%d) = %s, want %s", failures, got, delay)
		}
	}
	cfg := web.DefaultConfig()
	if cfg.LoginLimits != auth.DefaultSignInLimits || cfg.SessionIdleTimeout != 24*time.Hour ||
		cfg.SessionLifetime != 7*24*time.Hour || cfg.BcryptCost < auth.MinCost || cfg.SecureCookies || cfg.TrustProxy {
		t.Errorf("DefaultConfig() = %+v", cfg)
	}
}

func TestLogin_DefaultLimits(t *testing.T) {
	t.Parallel()

	// Five failures for an account from one address are free; then the
	// pair waits 30 seconds (even with the right password), and no more.
	t.Run("FiveFreeThenThirtySeconds", func(t *testing.T) {
		t.Parallel()
		clk := clock.NewManual(time.Now())
		b := setup(t, func(c *web.Config) { c.Now = clk.Now }) // web.DefaultConfig, bcrypt cost aside
		b.createUser(t, "asha@example.com", auth.RoleViewer)
		c := newClient(t)
		for i := 1; i <= 5; i++ {
			if res := login(t, c, b.url, "asha@example.com", "wrong password "+strconv.Itoa(i)); res.status != http.StatusUnauthorized {
				t.Fatalf("failure %d: status %d, want 401", i, res.status)
			}
		}
		clk.Advance(29 * time.Second)
		res := login(t, c, b.url, "asha@example.com", testPassword)
		if res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") != "1" {
			t.Fatalf("29 s after the 5th failure: status %d Retry-After %q, want 429 and 1", res.status, res.header.Get("Retry-After"))
		}
		clk.Advance(time.Second)
		mustLogin(t, c, b.url, "asha@example.com")
	})

	// A hundred failures from one address are checked in an hour,
	// whatever the accounts; the hundred-and-first waits.
	t.Run("HundredPerAddress", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		c := newClient(t)
		for i := 1; i <= 100; i++ {
			if res := login(t, c, b.url, "nobody"+strconv.Itoa(i)+"@example.com", "wrong password"); res.status != http.StatusUnauthorized {
				t.Fatalf("attempt %d: status %d, want 401", i, res.status)
			}
		}
		res := login(t, c, b.url, "nobody101@example.com", "wrong password")
		retry, err := strconv.Atoi(res.header.Get("Retry-After"))
		if res.status != http.StatusTooManyRequests || err != nil || retry < 1 || retry > 70*60 {
			t.Fatalf("101st attempt: status %d Retry-After %q, want 429 within 70 minutes", res.status, res.header.Get("Retry-After"))
		}
	})

	// A hundred failures for one account from unknown browsers are
	// checked in an hour, whatever the addresses (one each, so no pair
	// and no address waits); the hundred-and-first waits.
	t.Run("HundredPerAccount", func(t *testing.T) {
		t.Parallel()
		b, _ := limitsFixture(t) // web.DefaultConfig's limits, behind a trusted proxy
		b.createUser(t, "asha@example.com", auth.RoleViewer)
		for i := 1; i <= 100; i++ {
			addr := "10.0." + strconv.Itoa(i/256) + "." + strconv.Itoa(i%256)
			if res := loginFrom(t, newClient(t), b.url, addr, "asha@example.com", "wrong password"); res.status != http.StatusUnauthorized {
				t.Fatalf("failure %d (from %s): status %d, want 401", i, addr, res.status)
			}
		}
		res := loginFrom(t, newClient(t), b.url, "10.1.0.1", "asha@example.com", testPassword)
		retry, err := strconv.Atoi(res.header.Get("Retry-After"))
		if res.status != http.StatusTooManyRequests || err != nil || retry < 1 || retry > 70*60 {
			t.Fatalf("101st attempt for the account (right password, new address): status %d Retry-After %q, want 429 within 70 minutes",
				res.status, res.header.Get("Retry-After"))
		}
	})
}

// A successful sign-in forgets the pair's failures (its owner may mistype
// again), but not the address's: a guesser cycling through accounts from
// one address does not get a fresh allowance by signing in to its own.
func TestLogin_SuccessResetsThePairCountOnly(t *testing.T) {
	t.Parallel()

	t.Run("PairCountStartsAgain", func(t *testing.T) {
		t.Parallel()
		b := setup(t, func(c *web.Config) {
			c.LoginLimits = auth.SignInLimits{FreeFailures: 3, FirstDelay: time.Hour, MaxDelay: time.Hour, Window: time.Hour}
		})
		b.createUser(t, "asha@example.com", auth.RoleViewer)
		c := newClient(t)
		login(t, c, b.url, "asha@example.com", "wrong password 1")
		login(t, c, b.url, "asha@example.com", "wrong password 2")
		mustLogin(t, c, b.url, "asha@example.com") // the third attempt
		for i := 1; i <= 3; i++ {
			if res := login(t, newClient(t), b.url, "asha@example.com", "wrong again"); res.status != http.StatusUnauthorized {
				t.Fatalf("failure %d after the sign-in: status %d, want 401 (the pair's count was not reset)", i, res.status)
			}
		}
	})

	t.Run("AddressCountGoesOn", func(t *testing.T) {
		t.Parallel()
		b := setup(t, func(c *web.Config) {
			c.LoginLimits = auth.SignInLimits{FreeFailures: 100, AddressCeiling: 3, Window: time.Hour}
		})
		b.createUser(t, "asha@example.com", auth.RoleViewer)
		c := newClient(t)
		login(t, c, b.url, "someone@example.com", "guess 1")
		login(t, c, b.url, "other@example.com", "guess 2")
		mustLogin(t, c, b.url, "asha@example.com")
		if res := login(t, newClient(t), b.url, "third@example.com", "guess 3"); res.status != http.StatusUnauthorized {
			t.Fatalf("3rd failure: status %d, want 401", res.status)
		}
		if res := login(t, newClient(t), b.url, "fourth@example.com", "guess 4"); res.status != http.StatusTooManyRequests {
			t.Fatalf("4th failure from the address: status %d, want 429 (the address's count was reset)", res.status)
		}
	})
}

// With the default idle timeout (24 hours) an unused session lives a day
// and no longer. The idle stretch is a jump of the store's clock (see
// IdleTimeoutEndsUnusedSession).
func TestSession_DefaultIdleTimeout(t *testing.T) {
	t.Parallel()
	clk := &shiftedClock{}
	b := setupWithStoreClock(t, clk.Now) // web.DefaultConfig's timeouts
	b.createUser(t, "asha@example.com", auth.RoleAdmin)
	c := newClient(t)
	mustLogin(t, c, b.url, "asha@example.com")
	clk.jump(24*time.Hour - time.Minute)
	if !signedIn(t, c, b.url) {
		t.Fatal("signed out after 23 h 59 min unused")
	}
	// The request above was activity, but by the wall clock only moments
	// after sign-in: the session still ends 24 hours after that.
	clk.jump(2 * time.Minute)
	if signedIn(t, c, b.url) {
		t.Fatal("still signed in 24 h 1 min after the last real activity")
	}
}

// The upload cap bounds the whole request: a form field far past it is
// refused (413) before it is read into memory, even with a small file.
func TestUpload_OversizedFieldIsRefusedWhole(t *testing.T) {
	t.Parallel()
	f := newLoanFixture(t, func(c *web.Config) { c.UploadMaxBytes = 4096 })
	uw := newClient(t)
	mustLogin(t, uw, f.url, "uw@example.com")
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("kind", "pan")
	_ = mw.WriteField("note", strings.Repeat("n", 256<<10)) // 256 KB: past 4 KB + the 64 KB for fields
	fw, _ := mw.CreateFormFile("file", "pan.png")
	_, _ = fw.Write(ocrtest.PNG([]string{"PAN ABCPV1234K"}))
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, f.url+"/loans/"+f.loan.HumanID+"/documents", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("HX-Request", "true")
	if res := do(t, uw, req); res.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413:\n%.300s", res.status, res.body)
	}
	if docs, err := f.store.DocumentsOfLoan(context.Background(), f.loan.ID); err != nil || len(docs) != 0 {
		t.Fatalf("the refused upload stored %d documents (err %v)", len(docs), err)
	}
}
