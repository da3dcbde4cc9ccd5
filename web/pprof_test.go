package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"loandesk/web"
)

// TestProfileHandler: the profile index and a heap profile are served;
// the app's own router has no /debug/pprof/ (profiles only ever go out
// on the loopback PPROF_ADDR).
func TestProfileHandler(t *testing.T) {
	srv := httptest.NewServer(web.ProfileHandler())
	defer srv.Close()
	for path, want := range map[string]string{"/debug/pprof/": "goroutine", "/debug/pprof/heap?debug=1": "heap profile"} {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Errorf("%s: %d, no %q", path, res.StatusCode, want)
		}
	}
	bundle := setup(t)
	res, err := http.Get(bundle.url + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode == 200 {
		t.Error("the app's router serves /debug/pprof/")
	}
}
