package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"loandesk/store"
)

// A sign-in for an unknown email still goes through the password check
// (the hasher's dummy bcrypt comparison), so the response time does not
// tell registered emails from others. Observed without timing: the
// hasher makes its dummy hash the first time it checks against no hash,
// so after such a sign-in it has one. (That the dummy check costs a full
// comparison is auth's TestHasher_UnknownUserCostsAComparison.)
func TestLogin_UnknownEmailIsCheckedAgainstTheDummyHash(t *testing.T) {
	t.Parallel()
	st, err := store.Open(context.Background(), store.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close(context.Background()) })
	cfg := DefaultConfig()
	cfg.BcryptCost = bcrypt.MinCost
	s, err := New(cfg, st, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)

	dummy := reflect.ValueOf(s.app.Hasher).Elem().FieldByName("dummy")
	if dummy.Len() != 0 {
		t.Fatal("the dummy hash exists before any sign-in")
	}
	form := url.Values{"email": {"nobody@example.com"}, "password": {"some password"}}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", srv.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", res.StatusCode)
	}
	if dummy.Len() == 0 {
		t.Fatal("a sign-in for an unknown email skipped the password check")
	}
}
