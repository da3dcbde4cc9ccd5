package handlers

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"loandesk/auth"
	"loandesk/store"
	"loandesk/views"
)

// maxLoginBody bounds the sign-in form; anything larger is not a sign-in.
const maxLoginBody = 64 << 10

// msgBadCredentials is the one message for every failed sign-in, so the
// form never reveals whether an email is registered.
const msgBadCredentials = "Incorrect email or password."

// ShowLogin renders the sign-in form; a signed-in user goes to the loans.
func (a *App) ShowLogin(w http.ResponseWriter, r *http.Request) {
	if _, ok := auth.UserFrom(r.Context()); ok {
		http.Redirect(w, r, "/loans", http.StatusSeeOther)
		return
	}
	form := views.LoginForm{Next: safeNext(r.URL.Query().Get("next"))}
	a.render(w, r, http.StatusOK, views.LoginPage(a.page(r, "Sign in", ""), form))
}

// Login checks the credentials within the sign-in limits (a.Throttle)
// and on success starts a session under a fresh token.
func (a *App) Login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxLoginBody)
	if err := r.ParseForm(); err != nil {
		a.loginFailed(w, r, http.StatusBadRequest, views.LoginForm{Error: "The form could not be read. Please try again."})
		return
	}
	email := strings.TrimSpace(r.PostForm.Get("email"))
	password := r.PostForm.Get("password")
	form := views.LoginForm{Email: email, Next: safeNext(r.PostForm.Get("next"))}
	if !utf8.ValidString(email) || len(email) > 254 {
		form.Email = ""
	}
	if email == "" || password == "" {
		form.Error = "Enter your email and password."
		a.loginFailed(w, r, http.StatusUnprocessableEntity, form)
		return
	}

	var hash []byte
	user, err := a.Users.UserByEmail(r.Context(), form.Email)
	switch {
	case err == nil:
		hash = user.PasswordHash
	case !errors.Is(err, store.ErrNotFound):
		a.ServerError(w, r, err)
		return
	}

	// The limits decide whether this attempt may check a password at
	// all; only a wrong password is counted (auth.SignInLimits). A
	// browser that is one of the user's known devices is counted on its
	// own.
	now := a.now()
	ticket, err := a.Throttle.Begin(r.Context(), auth.Attempt{
		Account: store.NormalizeEmail(form.Email), Address: clientIP(r), Device: a.knownDevice(r, user)})
	var limited *auth.Limited
	if errors.As(err, &limited) {
		a.Logger.Warn("sign-in limited", "reason", limited.Reason, "email", form.Email, "retry_after", limited.RetryAfter.String())
		secs := int(math.Ceil(limited.RetryAfter.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		form.Error = "Too many sign-in attempts. Please wait " + waitText(secs) + " and try again."
		a.loginFailed(w, r, http.StatusTooManyRequests, form)
		return
	}
	if err != nil {
		a.ServerError(w, r, err)
		return
	}

	// Every path checks a hash (a dummy one for unknown emails), so the
	// response time does not tell which emails are registered.
	if !a.Hasher.Check(hash, password) || form.Email == "" || utf8.RuneCountInString(password) > auth.MaxPasswordLen {
		if err := ticket.Failed(context.WithoutCancel(r.Context())); err != nil {
			a.ServerError(w, r, err)
			return
		}
		form.Error = msgBadCredentials
		a.loginFailed(w, r, http.StatusUnauthorized, form)
		return
	}

	// The right password of a deactivated user: told so (only someone who
	// knows the password learns it), and recorded. It is not counted, and
	// forgets no failures: nobody signed in.
	if user.Deactivated {
		ticket.Passed(context.WithoutCancel(r.Context()))
		a.audit(r, user.Email, auditSignInRefused, user.Email, "deactivated")
		form.Error = "This account is deactivated. Ask an administrator."
		a.loginFailed(w, r, http.StatusForbidden, form)
		return
	}
	// With two-factor sign-in the password is only the first step: the
	// session remembers whose code to ask for, signed in as nobody. The
	// right password is not counted, but the failures are forgotten only
	// when the code is right too.
	if user.TOTP != nil {
		ticket.Passed(context.WithoutCancel(r.Context()))
		if err := a.Sessions.RenewToken(r.Context()); err != nil {
			a.ServerError(w, r, err)
			return
		}
		a.Sessions.Put(r.Context(), sessionPendingUser, user.ID.Hex())
		a.Sessions.Put(r.Context(), sessionPendingAt, now.UnixMilli())
		a.Sessions.Put(r.Context(), sessionPendingNext, form.Next)
		http.Redirect(w, r, codePath, http.StatusSeeOther)
		return
	}
	if err := ticket.Succeeded(context.WithoutCancel(r.Context())); err != nil {
		a.Logger.Warn("record a successful sign-in", "err", err)
	}
	a.completeSignIn(w, r, user, form.Next, now, "")
}

// completeSignIn starts the user's session under a fresh token (which
// defeats session fixation), makes the browser a known device of the
// user (a new device cookie) and sends them on: to change their password
// first if they must, else to next or the loans. how says which second
// factor was used, for the audit log.
func (a *App) completeSignIn(w http.ResponseWriter, r *http.Request, user store.User, next string, now time.Time, how string) {
	if err := a.Sessions.RenewToken(r.Context()); err != nil {
		a.ServerError(w, r, err)
		return
	}
	a.issueDevice(w, r, user, now)
	a.Sessions.Put(r.Context(), SessionUserID, user.ID.Hex())
	a.Sessions.Put(r.Context(), SessionAuthAt, now.UnixMilli())
	a.Sessions.Remove(r.Context(), SessionID) // a new id in the user's list of sessions
	if err := a.listSession(r, user, now); err != nil {
		a.ServerError(w, r, err)
		return
	}
	a.Logger.Info("signed in", "user", user.Email, "role", user.Role)
	a.audit(r, user.Email, auditSignedIn, user.Email, how)
	target := next
	if target == "" {
		target = "/loans"
	}
	switch {
	case user.MustChangePassword:
		target = "/account/password"
	case user.TOTP == nil && a.TwoFactorRequired(user.Role):
		target = TwoFactorPath
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

func (a *App) loginFailed(w http.ResponseWriter, r *http.Request, status int, form views.LoginForm) {
	a.render(w, r, status, views.LoginPage(a.page(r, "Sign in", ""), form))
}

// safeNext accepts only a local absolute path, so the sign-in form cannot
// be used to send people to another site. Browsers drop tabs and line
// breaks from URLs and read a backslash as a slash, so "/\t/evil.example"
// would become "//evil.example": any whitespace, control character or
// backslash is refused, and what remains must parse as a path that stays
// on this host (OWASP ASVS 5.0 V3, open redirects).
func safeNext(next string) string {
	if len(next) > 2048 || strings.ContainsFunc(next, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) || r == '\\' }) {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.HasPrefix(u.Path, "//") || u.Path == "/login" {
		return ""
	}
	if here, _ := url.Parse("https://loandesk.invalid/"); here.ResolveReference(u).Host != here.Host {
		return ""
	}
	return next
}

// clientIP is the request's remote address without the port. Behind a
// trusted proxy the web layer has already replaced RemoteAddr.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// waitText is "30 seconds" or "15 minutes".
func waitText(secs int) string {
	if secs < 60 {
		return fmt.Sprintf("%d second%s", secs, plural(secs))
	}
	m := (secs + 59) / 60
	return fmt.Sprintf("%d minute%s", m, plural(m))
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
