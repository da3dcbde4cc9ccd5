package loadtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/html"
)

// newClient is one staff member's browser: its own cookie jar, and at most one
// connection, kept alive, as the design notes' test has it.
func newClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{
		Jar:     jar,
		Timeout: 60 * time.Second,
		Transport: &http.Transport{
			MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1, IdleConnTimeout: 5 * time.Minute,
			DisableCompression: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// signIn signs c in through the sign-in form, as a browser does (POST
// /login, then the session cookie), and returns where the app sent it
// next: the page asked for, a further step (a code, a password to
// change, a second factor to enrol) or the loans. A 429 (the sign-in
// throttle) is waited out as its Retry-After says.
func signIn(ctx context.Context, c *http.Client, base, email, password string) (string, error) {
	form := url.Values{"email": {email}, "password": {password}}
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/login", strings.NewReader(form.Encode()))
		if err != nil {
			return "", err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := c.Do(req)
		if err != nil {
			return "", err
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		switch {
		case res.StatusCode == http.StatusSeeOther || res.StatusCode == http.StatusFound:
			return res.Header.Get("Location"), nil
		case res.StatusCode == http.StatusTooManyRequests && attempt < 5:
			wait, _ := strconv.Atoi(res.Header.Get("Retry-After"))
			select {
			case <-ctx.Done():
				return "", ctx.Err()
			case <-time.After(time.Duration(max(wait, 1)) * time.Second):
			}
		default:
			return "", fmt.Errorf("sign in as %s: %s", email, res.Status)
		}
	}
}

// bearer authorises a request with the API token.
func bearer(token string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
}

// listItem is what the tool reads of a list entry.
type listItem struct {
	ID            string `json:"id"`
	Version       int64  `json:"version"`
	ApplicantName string `json:"applicantName"`
	City          string `json:"city"`
}

// listIDs pages through GET /api/applications?status=… (empty: every
// status) until it has want ids or the list ends.
func listIDs(ctx context.Context, c *http.Client, base string, auth func(*http.Request), status string, want int) ([]listItem, error) {
	var out []listItem
	for page := 1; len(out) < want; page++ {
		u := fmt.Sprintf("%s/api/applications?page=%d", base, page)
		if status != "" {
			u += "&status=" + status
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		auth(req)
		res, err := c.Do(req)
		if err != nil {
			return nil, err
		}
		var body struct {
			Items []listItem `json:"items"`
			Pages int        `json:"pages"`
		}
		err = json.NewDecoder(res.Body).Decode(&body)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %s %v", u, res.Status, err)
		}
		out = append(out, body.Items...)
		if page >= body.Pages {
			break
		}
	}
	return out[:min(len(out), want)], nil
}

// formValues reads a form's fields from HTML as a browser would submit
// them: inputs (not buttons; checkboxes and radios only when checked),
// textareas, and each select's selected option (else its first).
func formValues(page []byte) url.Values {
	v := url.Values{}
	z := html.NewTokenizer(strings.NewReader(string(page)))
	var textarea, selectName string
	var selectFirst string
	selectChosen := false
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return v
		case html.TextToken:
			if textarea != "" {
				v.Set(textarea, v.Get(textarea)+string(z.Text()))
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			attrs := map[string]string{}
			for hasAttr {
				var k, val []byte
				k, val, hasAttr = z.TagAttr()
				attrs[string(k)] = string(val)
			}
			_, checked := attrs["checked"]
			_, selected := attrs["selected"]
			switch string(name) {
			case "input":
				typ := strings.ToLower(attrs["type"])
				if attrs["name"] == "" || typ == "submit" || typ == "button" || typ == "file" ||
					((typ == "checkbox" || typ == "radio") && !checked) {
					continue
				}
				v.Add(attrs["name"], attrs["value"])
			case "textarea":
				textarea = attrs["name"]
				if textarea != "" {
					v.Set(textarea, "")
				}
			case "select":
				selectName, selectFirst, selectChosen = attrs["name"], "", false
			case "option":
				if selectName == "" {
					continue
				}
				val, ok := attrs["value"]
				if !ok {
					val = "" // the option's text; the app always gives values
				}
				if selectFirst == "" {
					selectFirst = val
				}
				if selected && !selectChosen {
					v.Set(selectName, val)
					selectChosen = true
				}
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "textarea":
				textarea = ""
			case "select":
				if selectName != "" && !selectChosen {
					v.Set(selectName, selectFirst)
				}
				selectName = ""
			}
		}
	}
}

var savedVersion = regexp.MustCompile(`Saved as version (\d+)`)

// savedAs reads the version a save's answer reports ("Saved as version
// 7."), or 0.
func savedAs(body []byte) int64 {
	m := savedVersion.FindSubmatch(body)
	if m == nil {
		return 0
	}
	n, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return n
}
