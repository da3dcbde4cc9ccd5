package loadtest

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"loandesk/auth"
)

// The staff the tool signs in as. The workload comes from many people,
// as at a lender: each staff user is signed in at most SessionsPerUser
// times (the app keeps a user's 20 most recently seen sessions and signs
// out the rest), in the role that works applications without being an
// admin (lists, views and edits them; no user administration).
const (
	SessionsPerUser = 10
	staffRole       = auth.RoleUnderwriter
)

// The app's pages the sign-in steps lead to.
const (
	pathCode           = "/login/code"         // the second step: a TOTP code
	pathPassword       = "/account/password"   // a password to change first
	pathTwoFactorEnrol = "/account/two-factor" // a second factor to enrol first
)

// staffUser is one staff account the tool created.
type staffUser struct {
	email, password string
}

// signInStaff gives n signed-in browsers (each its own cookie jar and
// connection) from ceil(n / SessionsPerUser) staff users: the app's
// admin creates them through the add-user form, each signs in once and
// changes its generated password as the app requires at a first sign-in
// (which signs out its other sessions, so this comes first), then every
// other session signs in through the sign-in form. Up to parallel
// sign-ins run at once (each is a bcrypt check, slow by design).
func signInStaff(ctx context.Context, app *App, n, parallel int, progress func(string)) ([]*http.Client, error) {
	say := func(format string, a ...any) {
		if progress != nil {
			progress(fmt.Sprintf(format, a...))
		}
	}
	parallel = max(parallel, 1)
	began := time.Now()
	users := make([]staffUser, (n+SessionsPerUser-1)/SessionsPerUser)
	admin, err := adminBrowser(ctx, app, parallel)
	if err != nil {
		return nil, err
	}
	run := randomWord(4) // this run's users are new even on an app loaded before
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallel)
	var done atomic.Int64
	for i := range users {
		g.Go(func() error {
			users[i] = staffUser{email: fmt.Sprintf("load-%s-%04d@loandesk.test", run, i+1), password: randomWord(15)}
			if err := createUser(gctx, admin, app.Base, users[i], fmt.Sprintf("Load Staff %s %d", run, i+1)); err != nil {
				return err
			}
			if k := done.Add(1); k%100 == 0 || int(k) == len(users) {
				say("created %d of %d staff users (%s) (%.0f s)", k, len(users), staffRole, time.Since(began).Seconds())
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}

	// Each user's first session signs in and changes the password.
	clients := make([]*http.Client, n)
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(parallel)
	done.Store(0)
	for i := range users {
		g.Go(func() error {
			c := newClient()
			u := &users[i]
			loc, err := signIn(gctx, c, app.Base, u.email, u.password)
			if err != nil {
				return err
			}
			if pathOf(loc) != pathPassword {
				return fmt.Errorf("sign in as %s, a user just created: sent to %q, not to change the password first", u.email, loc)
			}
			next := randomWord(15)
			if err := changePassword(gctx, c, app.Base, u.email, u.password, next); err != nil {
				return err
			}
			u.password = next
			clients[i*SessionsPerUser] = c
			if k := done.Add(1); k%100 == 0 || int(k) == len(users) {
				say("%d of %d staff users changed their first password (%.0f s)", k, len(users), time.Since(began).Seconds())
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}

	// Then every other session signs in with the user's own password.
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(parallel)
	done.Store(int64(len(users)))
	for i := range clients {
		if clients[i] != nil {
			continue
		}
		g.Go(func() error {
			c := newClient()
			u := users[i/SessionsPerUser]
			loc, err := signIn(gctx, c, app.Base, u.email, u.password)
			if err != nil {
				return err
			}
			if err := signedInAt(loc, u.email); err != nil {
				return err
			}
			clients[i] = c
			if k := done.Add(1); k%100 == 0 || int(k) == n {
				say("%d of %d sessions signed in as %d staff users (%.0f s)", k, n, len(users), time.Since(began).Seconds())
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return clients, nil
}

// signedInAt checks where a sign-in sent a staff user: anywhere but a
// further step.
func signedInAt(loc, email string) error {
	switch p := pathOf(loc); {
	case p == pathCode || p == pathTwoFactorEnrol:
		return fmt.Errorf("sign in as %s (role %s): the app asks this role for a second factor (its TWO_FACTOR_ROLES includes %s); the tool's staff sign in with a password", email, staffRole, staffRole)
	case p == pathPassword:
		return fmt.Errorf("sign in as %s: the app still asks for a password change", email)
	case p == "/login":
		return fmt.Errorf("sign in as %s: sent back to the sign-in page", email)
	}
	return nil
}

// adminBrowser signs the app's admin in (its own cookie jar, up to
// conns connections) to create the staff users. The admin must be signed
// in fully by its password: a started app's admin, asked to enrol a
// second factor (TWO_FACTOR_ROLES includes admin, the default), enrols
// one through the app's form; a running app's admin is never enrolled by
// the tool, and one that signs in with a code cannot be used.
func adminBrowser(ctx context.Context, app *App, conns int) (*http.Client, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{
		Jar:     jar,
		Timeout: 60 * time.Second,
		Transport: &http.Transport{
			MaxConnsPerHost: conns, MaxIdleConnsPerHost: conns, IdleConnTimeout: time.Minute,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	loc, err := signIn(ctx, c, app.Base, app.Email, app.Password)
	if err != nil {
		return nil, err
	}
	switch pathOf(loc) {
	case pathCode:
		return nil, fmt.Errorf("the admin %s signs in with a second factor (a TOTP code), which the tool cannot give: "+
			"it needs an admin who signs in with the password alone, to create its staff users (run the app with a TWO_FACTOR_ROLES without admin, e.g. none, and give such an admin's -email and -password)", app.Email)
	case pathPassword:
		return nil, fmt.Errorf("the admin %s must change its password before anything else: sign in once in a browser and change it, then give the new one as -password", app.Email)
	case pathTwoFactorEnrol:
		if !app.EnrolAdmin {
			return nil, fmt.Errorf("the admin %s must enrol a second factor before anything else (the app's TWO_FACTOR_ROLES includes admin), and the tool does not enrol a running app's admin: "+
				"give an admin who signs in with the password alone (run the app with a TWO_FACTOR_ROLES without admin, e.g. none)", app.Email)
		}
		if err := enrolTwoFactor(ctx, c, app.Base, app.Email, app.Password); err != nil {
			return nil, err
		}
	case "/login":
		return nil, fmt.Errorf("sign in as %s: sent back to the sign-in page", app.Email)
	}
	return c, nil
}

var totpSecret = regexp.MustCompile(`data-testid="totp-secret"[^>]*>([A-Z2-7 ]+)<`)

// enrolTwoFactor turns on two-factor sign-in for the signed-in c as a
// person does: the enrolment page shows a new secret, the form takes the
// password and the secret's current code.
func enrolTwoFactor(ctx context.Context, c *http.Client, base, email, password string) error {
	res, body, err := do(ctx, c, http.MethodGet, base+pathTwoFactorEnrol, nil)
	if err != nil {
		return err
	}
	m := totpSecret.FindSubmatch(body)
	if res.StatusCode != http.StatusOK || m == nil {
		return fmt.Errorf("enrol %s in two-factor sign-in: GET %s: %s, no secret on the page", email, pathTwoFactorEnrol, res.Status)
	}
	secret := strings.ReplaceAll(string(m[1]), " ", "")
	code, err := auth.TOTPCode(secret, auth.TOTPStep(time.Now()))
	if err != nil {
		return err
	}
	res, _, err = do(ctx, c, http.MethodPost, base+pathTwoFactorEnrol, url.Values{"current": {password}, "code": {code}})
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("enrol %s in two-factor sign-in: %s", email, res.Status)
	}
	return nil
}

// createUser adds u through the admin's add-user form.
func createUser(ctx context.Context, admin *http.Client, base string, u staffUser, name string) error {
	form := url.Values{"email": {u.email}, "name": {name}, "role": {staffRole}, "password": {u.password}}
	res, body, err := do(ctx, admin, http.MethodPost, base+"/admin/users", form)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("add user %s: %s %s", u.email, res.Status, fieldErrors(body))
	}
	return nil
}

// changePassword changes the signed-in c's password through the form.
func changePassword(ctx context.Context, c *http.Client, base, email, current, next string) error {
	res, body, err := do(ctx, c, http.MethodPost, base+pathPassword, url.Values{"current": {current}, "password": {next}})
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("change the first password of %s: %s %s", email, res.Status, fieldErrors(body))
	}
	return nil
}

var fieldError = regexp.MustCompile(`(?s)<p[^>]*(?:error|alert|invalid)[^>]*>(.*?)</p>`)

// fieldErrors picks a form page's error messages, to say why it was
// refused.
func fieldErrors(page []byte) string {
	var msgs []string
	for _, m := range fieldError.FindAllSubmatch(page, 5) {
		if s := strings.TrimSpace(string(m[1])); s != "" && !strings.Contains(s, "<") {
			msgs = append(msgs, s)
		}
	}
	return strings.Join(msgs, " ")
}

// do sends a GET, or a form POST when form is not nil, and reads the
// answer.
func do(ctx context.Context, c *http.Client, method, u string, form url.Values) (*http.Response, []byte, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res, b, err
}

// pathOf is a redirect target's path.
func pathOf(loc string) string {
	u, err := url.Parse(loc)
	if err != nil {
		return loc
	}
	return u.Path
}

var word = base32.NewEncoding("abcdefghijkmnpqrstuvwxyz23456789").WithPadding(base32.NoPadding)

// randomWord is n random bytes as letters and digits: passwords (15
// bytes, 24 characters) and a run's tag.
func randomWord(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return word.EncodeToString(b)
}
