package web_test

// Security rules no other test pins down (each was a surviving mutant of
// scripts/mutation.sh): the default sign-in limits and idle timeout are
// what the server enforces when a deployment sets none, a successful
// sign-in forgets the email's failures but not the address's, and the
// upload size cap covers the whole request, not only the file.

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"loandesk/auth"
	"loandesk/handlers"
	"loandesk/ocr/ocrtest"
	"loandesk/web"
)

// The defaults, by value: the tests below run with them, the other tests
// set their own.
func TestDefaults_SecurityValues(t *testing.T) {
	t.Parallel()
	if want := (handlers.LoginLimits{PerIP: 50, PerEmail: 10, Window: 15 * time.Minute}); handlers.DefaultLoginLimits != want {
		t.Errorf("DefaultLoginLimits = %+v, want %+v", handlers.DefaultLoginLimits, want)
	}
	cfg := web.DefaultConfig()
	if cfg.LoginLimits != handlers.DefaultLoginLimits || cfg.SessionIdleTimeout != 24*time.Hour ||
		cfg.SessionLifetime != 7*24*time.Hour || cfg.BcryptCost < auth.MinCost || cfg.SecureCookies || cfg.TrustProxy {
		t.Errorf("DefaultConfig() = %+v", cfg)
	}
}

// sameWindow runs attempts, a sequence of sign-ins that must fall in one
// fixed 15-minute window of the limiter (the wall clock's), and runs it
// again should a window boundary pass meanwhile. attempts returns what
// went wrong, or "".
func sameWindow(t *testing.T, attempts func() string) {
	t.Helper()
	for try := 0; ; try++ {
		before := time.Now().Truncate(15 * time.Minute)
		failure := attempts()
		if time.Now().Truncate(15*time.Minute).Equal(before) || try == 1 {
			if failure != "" {
				t.Fatal(failure)
			}
			return
		}
	}
}

func TestLogin_DefaultLimits(t *testing.T) {
	t.Parallel()

	// Ten failures for one email are allowed in 15 minutes, the eleventh
	// attempt is refused (even with the right password) until the
	// window ends.
	t.Run("TenPerEmail", func(t *testing.T) {
		t.Parallel()
		sameWindow(t, func() string {
			b := setup(t) // web.DefaultConfig, bcrypt cost aside
			b.createUser(t, "asha@example.com", auth.RoleViewer)
			c := newClient(t)
			for i := 1; i <= 10; i++ {
				if res := login(t, c, b.url, "asha@example.com", "wrong password "+strconv.Itoa(i)); res.status != http.StatusUnauthorized {
					return fmt.Sprintf("failure %d: status %d, want 401", i, res.status)
				}
			}
			res := login(t, c, b.url, "asha@example.com", testPassword)
			if res.status != http.StatusTooManyRequests {
				return fmt.Sprintf("11th attempt: status %d, want 429", res.status)
			}
			retry, err := strconv.Atoi(res.header.Get("Retry-After"))
			if err != nil || retry < 1 || retry > 15*60 {
				return fmt.Sprintf("Retry-After %q, want 1 to 900 seconds", res.header.Get("Retry-After"))
			}
			return ""
		})
	})

	// Fifty attempts from one address are allowed in 15 minutes, whatever
	// the emails; the fifty-first is refused.
	t.Run("FiftyPerAddress", func(t *testing.T) {
		t.Parallel()
		sameWindow(t, func() string {
			b := setup(t)
			c := newClient(t)
			for i := 1; i <= 50; i++ {
				if res := login(t, c, b.url, "nobody"+strconv.Itoa(i)+"@example.com", "wrong password"); res.status != http.StatusUnauthorized {
					return fmt.Sprintf("attempt %d: status %d, want 401", i, res.status)
				}
			}
			if res := login(t, c, b.url, "nobody51@example.com", "wrong password"); res.status != http.StatusTooManyRequests {
				return fmt.Sprintf("51st attempt: status %d, want 429", res.status)
			}
			return ""
		})
	})
}

// A successful sign-in forgets the email's failures (its owner may mistype
// again), but not the address's: a guesser cycling through accounts from
// one address does not get a fresh allowance by signing in to its own.
func TestLogin_SuccessResetsTheEmailCountOnly(t *testing.T) {
	t.Parallel()

	t.Run("EmailCountStartsAgain", func(t *testing.T) {
		t.Parallel()
		sameWindow(t, func() string {
			b := setup(t, func(c *web.Config) {
				c.LoginLimits = handlers.LoginLimits{PerIP: 100, PerEmail: 3, Window: 15 * time.Minute}
			})
			b.createUser(t, "asha@example.com", auth.RoleViewer)
			c := newClient(t)
			login(t, c, b.url, "asha@example.com", "wrong password 1")
			login(t, c, b.url, "asha@example.com", "wrong password 2")
			mustLogin(t, c, b.url, "asha@example.com") // the third attempt
			for i := 1; i <= 3; i++ {
				if res := login(t, newClient(t), b.url, "asha@example.com", "wrong again"); res.status != http.StatusUnauthorized {
					return fmt.Sprintf("failure %d after the sign-in: status %d, want 401 (the email's count was not reset)", i, res.status)
				}
			}
			return ""
		})
	})

	t.Run("AddressCountGoesOn", func(t *testing.T) {
		t.Parallel()
		sameWindow(t, func() string {
			b := setup(t, func(c *web.Config) {
				c.LoginLimits = handlers.LoginLimits{PerIP: 4, PerEmail: 100, Window: 15 * time.Minute}
			})
			b.createUser(t, "asha@example.com", auth.RoleViewer)
			c := newClient(t)
			login(t, c, b.url, "someone@example.com", "guess 1")
			login(t, c, b.url, "other@example.com", "guess 2")
			mustLogin(t, c, b.url, "asha@example.com") // the address's third attempt
			if res := login(t, newClient(t), b.url, "third@example.com", "guess 3"); res.status != http.StatusUnauthorized {
				return fmt.Sprintf("4th attempt: status %d, want 401", res.status)
			}
			if res := login(t, newClient(t), b.url, "fourth@example.com", "guess 4"); res.status != http.StatusTooManyRequests {
				return fmt.Sprintf("5th attempt from the address: status %d, want 429 (the address's count was reset)", res.status)
			}
			return ""
		})
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
