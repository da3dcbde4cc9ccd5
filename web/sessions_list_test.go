package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// Users see their signed-in browsers and sign out one; admins see a
// user's and sign out one or all.
func TestSessionsList(t *testing.T) {
	t.Parallel()
	f := newLifecycleFixture(t)
	uw2 := newClient(t)
	mustLogin(t, uw2, f.url, "uw@example.com")

	rows := func(c *http.Client, path string) (ids []string, current int) {
		t.Helper()
		doc := parse(t, get(t, c, f.url+path).body)
		doc.Find(`[data-testid="session-row"]`).Each(func(_ int, s *goquery.Selection) {
			if s.Find(`[data-testid="session-current"]`).Length() > 0 {
				current++
			}
			if action, ok := s.Find("form").Attr("action"); ok {
				ids = append(ids, action)
			}
		})
		return ids, current
	}

	t.Run("OwnListSignsOutAnother", func(t *testing.T) {
		revokes, current := rows(f.uw, "/account/sessions")
		if len(revokes) != 1 || current != 1 {
			t.Fatalf("own list: %d others, %d current; want 1 and 1", len(revokes), current)
		}
		if res := postForm(t, f.uw, f.url, revokes[0], nil); res.status != http.StatusSeeOther {
			t.Fatalf("revoke: %d", res.status)
		}
		if signedIn(t, uw2, f.url) {
			t.Fatal("the revoked session is still signed in")
		}
		if !signedIn(t, f.uw, f.url) {
			t.Fatal("revoking another session signed this one out")
		}
		if revokes, current := rows(f.uw, "/account/sessions"); len(revokes) != 0 || current != 1 {
			t.Fatalf("after the revoke: %d others, %d current", len(revokes), current)
		}
	})

	t.Run("AdminSignsOutOneThenAll", func(t *testing.T) {
		uw3 := newClient(t)
		mustLogin(t, uw3, f.url, "uw@example.com")
		path := f.userPath(t, "uw@example.com")
		revokes, _ := rows(f.admin, path)
		if len(revokes) != 2 {
			t.Fatalf("the admin sees %d sessions of the user, want 2", len(revokes))
		}
		body := get(t, f.admin, f.url+path).body
		if !strings.Contains(body, "127.0.0.1") || !strings.Contains(body, "Go-http-client") {
			t.Fatal("the sessions list lacks the address or the browser")
		}
		if res := postForm(t, f.admin, f.url, revokes[0], nil); res.status != http.StatusSeeOther {
			t.Fatalf("revoke: %d", res.status)
		}
		if in := signedIn(t, f.uw, f.url); in == signedIn(t, uw3, f.url) {
			t.Fatal("revoking one of two sessions did not leave exactly one signed in")
		}
		if res := postForm(t, f.admin, f.url, path+"/sessions/end", nil); res.status != http.StatusSeeOther {
			t.Fatalf("sign out everywhere: %d", res.status)
		}
		if signedIn(t, f.uw, f.url) || signedIn(t, uw3, f.url) {
			t.Fatal("a session survived signing out everywhere")
		}
		if revokes, _ := rows(f.admin, path); len(revokes) != 0 {
			t.Fatalf("%d sessions listed after signing out everywhere", len(revokes))
		}
		audit := get(t, f.admin, f.url+"/admin/audit").body
		for _, want := range []string{"Session signed out", "Signed out everywhere by an admin"} {
			if !strings.Contains(audit, want) {
				t.Errorf("the audit log lacks %q", want)
			}
		}
	})

	t.Run("SigningOutLeavesTheList", func(t *testing.T) {
		c := newClient(t)
		mustLogin(t, c, f.url, "admin2@example.com")
		before, _ := rows(f.admin, f.userPath(t, "admin2@example.com"))
		postForm(t, c, f.url, "/logout", nil)
		after, _ := rows(f.admin, f.userPath(t, "admin2@example.com"))
		if len(after) != len(before)-1 {
			t.Fatalf("sessions listed before and after signing out: %d, %d", len(before), len(after))
		}
	})
}
