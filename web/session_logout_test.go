package web_test

import (
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"loandesk/ocr/ocrtest"
)

// TestSession_EndedTokenStaysEnded is the race the session store's
// tombstones close: a request loads a signed-in session, the same session
// ends while that request is still running (sign-out, or a sign-in that
// renews the token), and then the request finishes. Its end-of-request
// commit (here the idle-timeout touch: scs re-commits every loaded
// session) must not bring the ended token back.
//
// The slow request is a plain (no JavaScript) form upload whose body is
// sent through a pipe: the server loads the session, the upload handler
// then waits for the rest of the body, and the session ends meanwhile.
// A urlencoded form cannot be used: the strict-input middleware reads and
// checks such a body whole before the session is loaded, so it is never
// in flight past the load. A multipart upload, the slowest request a
// browser really sends, is.
//
// The upload's own answer proves the ordering: the redirect to the loan
// page means it ran signed in, i.e. its session was loaded before the
// session ended, and its commit comes after the body is finished, i.e.
// after the session ended. A redirect to /login means the request arrived
// too late; the attempt is repeated with a longer head start, and the test
// never passes without the ordering.
func TestSession_EndedTokenStaysEnded(t *testing.T) {
	t.Parallel()

	t.Run("UploadInFlightAcrossSignOut", func(t *testing.T) {
		t.Parallel()
		f := newLoanFixture(t)
		endedInFlight(t, f, func(c *http.Client) {
			res := postForm(t, c, f.url, "/logout", nil)
			if res.status != http.StatusSeeOther || res.header.Get("Location") != "/login" {
				t.Fatalf("logout: status %d location %q", res.status, res.header.Get("Location"))
			}
		})
	})

	t.Run("UploadInFlightAcrossSignInRenewingTheToken", func(t *testing.T) {
		t.Parallel()
		f := newLoanFixture(t)
		endedInFlight(t, f, func(c *http.Client) {
			// Signing in again renews the token: scs deletes the old one.
			mustLogin(t, c, f.url, "uw@example.com")
		})
	})
}

// endedInFlight signs in, starts a slow upload with the session cookie,
// runs end (which must end that cookie's session) while the upload is in
// flight, finishes the upload, and then checks the old cookie is not
// signed in. It retries with a longer head start until the upload
// demonstrably loaded its session before end ran.
func endedInFlight(t *testing.T, f loanFixture, end func(c *http.Client)) {
	t.Helper()
	file := ocrtest.TextPDF([]string{"PAN: ABCPV1234K"})
	for headStart := 10 * time.Millisecond; ; headStart *= 2 {
		if headStart > 10*time.Second {
			t.Fatal("the upload never ran signed in across the end of its session: the race was not exercised")
		}
		c := newClient(t)
		mustLogin(t, c, f.url, "uw@example.com")
		old := sessionCookie(t, c, f.url)
		if old == nil {
			t.Fatal("no session cookie after sign-in")
		}

		pr, pw := io.Pipe()
		mw := multipart.NewWriter(pw)
		req, err := http.NewRequest(http.MethodPost, f.url+"/loans/"+f.loan.HumanID+"/documents", pr)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Origin", f.url)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		type answer struct {
			status   int
			location string
			err      error
		}
		answered := make(chan answer, 1)
		go func() {
			res, err := c.Do(req)
			// Unblock a body write still pending if the server answered
			// without reading the rest.
			_ = pr.CloseWithError(io.ErrClosedPipe)
			if err != nil {
				answered <- answer{err: err}
				return
			}
			_, _ = io.Copy(io.Discard, res.Body)
			_ = res.Body.Close()
			answered <- answer{status: res.StatusCode, location: res.Header.Get("Location")}
		}()

		// The first half goes now: the request is under way; the server
		// loads its session and the handler waits for the rest. Write
		// errors mean the server answered early; the answer says how.
		_ = mw.WriteField("kind", "pan")
		fw, _ := mw.CreateFormFile("file", "pan.pdf")
		_, _ = fw.Write(file[:len(file)/2])
		time.Sleep(headStart)
		end(c)
		_, _ = fw.Write(file[len(file)/2:])
		_ = mw.Close()
		_ = pw.Close()

		a := <-answered
		if a.err != nil {
			t.Fatalf("slow upload: %v", a.err)
		}
		switch {
		case a.status == http.StatusSeeOther && strings.HasPrefix(a.location, "/loans/"+f.loan.HumanID):
			// Ran signed in, finished after the session ended: the case.
		case a.status == http.StatusSeeOther && strings.HasPrefix(a.location, "/login"):
			t.Logf("head start %s: the upload loaded its session after it ended; retrying", headStart)
			continue
		default:
			t.Fatalf("slow upload: status %d location %q", a.status, a.location)
		}

		// A client that kept the old cookie (a copy of it, or the browser
		// after the upload's answer set it again) must be signed out.
		stale := newClient(t)
		u, _ := url.Parse(f.url)
		stale.Jar.SetCookies(u, []*http.Cookie{{Name: old.Name, Value: old.Value, Path: "/"}})
		if signedIn(t, stale, f.url) {
			t.Fatal("the ended session is signed in again: the in-flight upload's commit re-created it")
		}
		return
	}
}
