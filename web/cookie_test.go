package web_test

import (
	"net/http"
	"strings"
	"testing"

	"loandesk/auth"
	"loandesk/web"
)

// Behind HTTPS (COOKIE_SECURE) the session cookie is __Host- prefixed,
// Secure, HttpOnly, for path / and no domain; over plain HTTP it keeps
// its plain name (a browser refuses __Host- cookies without Secure).
func TestSessionCookie_HostPrefixOverHTTPS(t *testing.T) {
	t.Parallel()
	for _, secure := range []bool{true, false} {
		b := setup(t, func(c *web.Config) { c.SecureCookies = secure })
		b.createUser(t, "asha@example.com", auth.RoleViewer)
		res := login(t, newClient(t), b.url, "asha@example.com", testPassword)
		var session *http.Cookie
		for _, ck := range (&http.Response{Header: res.header}).Cookies() {
			if strings.HasSuffix(ck.Name, "loandesk_session") {
				session = ck
			}
		}
		if session == nil {
			t.Fatalf("secure=%v: no session cookie in %q", secure, res.header.Values("Set-Cookie"))
		}
		wantName := "loandesk_session"
		if secure {
			wantName = "__Host-loandesk_session"
		}
		if session.Name != wantName || session.Secure != secure || !session.HttpOnly || session.Path != "/" || session.Domain != "" {
			t.Errorf("secure=%v: cookie %+v", secure, session)
		}
	}
}
