package handlers

import (
	"context"
	"errors"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"loandesk/auth"
	"loandesk/store"
	"loandesk/views"
)

// Session keys of a sign-in waiting for its second factor.
const (
	sessionPendingUser = "pendingUserID"
	sessionPendingAt   = "pendingAt" // when the password was right, Unix milliseconds
	sessionPendingNext = "pendingNext"
)

// codePath is the second step of signing in.
const codePath = "/login/code"

// TwoFactorPath is the signed-in user's two-factor page (enrolment).
const TwoFactorPath = "/account/two-factor"

// pendingFor is how long after the right password the code may be
// entered; then signing in starts again.
const pendingFor = 5 * time.Minute

// TwoFactorRequired reports whether role signs in with a second factor
// (a.TwoFactorRoles).
func (a *App) TwoFactorRequired(role string) bool {
	return slices.Contains(a.TwoFactorRoles, role)
}

// ShowLoginCode asks for the code of the user whose password was right.
func (a *App) ShowLoginCode(w http.ResponseWriter, r *http.Request) {
	if _, ok := a.pendingUser(w, r); !ok {
		return
	}
	a.render(w, r, http.StatusOK, views.LoginCodePage(a.page(r, "Two-factor sign-in", ""), views.CodeForm{}))
}

// LoginCode checks the authenticator's code, or a recovery code, within
// the sign-in limits (a wrong code counts like a wrong password). A code
// is accepted once: only for a time step later than the last accepted
// one, so a code seen over a shoulder or replayed from a log is refused
// even within its 30 seconds. A recovery code works once.
func (a *App) LoginCode(w http.ResponseWriter, r *http.Request) {
	u, ok := a.pendingUser(w, r)
	if !ok {
		return
	}
	fail := func(status int, msg string) {
		a.render(w, r, status, views.LoginCodePage(a.page(r, "Two-factor sign-in", ""), views.CodeForm{Error: msg}))
	}
	ctx := r.Context()
	ticket, err := a.Throttle.Begin(ctx, auth.Attempt{Account: u.Email, Address: clientIP(r), Step: auth.StepCode, Device: a.knownDevice(r, u)})
	var limited *auth.Limited
	if errors.As(err, &limited) {
		secs := int(math.Ceil(limited.RetryAfter.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		fail(http.StatusTooManyRequests, "Too many wrong codes. Please wait "+waitText(secs)+" and try again.")
		return
	}
	if err != nil {
		a.ServerError(w, r, err)
		return
	}
	now := a.now()
	code := r.PostForm.Get("code")
	msg, how := "That code is not right. Check your authenticator app's clock and try the newest code.", "authenticator code"
	if rc := auth.NormalizeRecoveryCode(code); rc != "" {
		how = "recovery code"
		// The code is used up and its use recorded as one change.
		switch err := a.audited(r, u.Email, auditRecoveryCodeUsed, u.Email, func(ctx context.Context) (string, error) {
			return strconv.Itoa(len(u.TOTP.Recovery)-1) + " left", a.Users.UserTOTPUseRecovery(ctx, u.ID, store.RecoveryCodeHash(rc))
		}); {
		case err == nil:
			msg = ""
		case errors.Is(err, store.ErrNotFound):
			msg = "That recovery code is not right, or was used already."
		default:
			ticket.Abandon(context.WithoutCancel(ctx))
			a.ServerError(w, r, err)
			return
		}
	} else if step, match := auth.TOTPMatch(u.TOTP.Secret, code, now); match {
		switch err := a.Users.UserTOTPUseStep(ctx, u.ID, step); {
		case err == nil:
			msg = ""
		case errors.Is(err, store.ErrConflict):
			msg = "That code was used already. Wait for the next code in your app."
		default:
			ticket.Abandon(context.WithoutCancel(ctx))
			a.ServerError(w, r, err)
			return
		}
	}
	if msg != "" {
		if err := ticket.Failed(context.WithoutCancel(ctx)); err != nil {
			a.ServerError(w, r, err)
			return
		}
		a.audit(r, u.Email, auditTwoFactorFailed, u.Email, how)
		fail(http.StatusUnauthorized, msg)
		return
	}
	if err := ticket.Succeeded(context.WithoutCancel(ctx)); err != nil {
		a.Logger.Warn("record a successful sign-in", "err", err)
	}
	next := a.Sessions.GetString(ctx, sessionPendingNext)
	for _, k := range []string{sessionPendingUser, sessionPendingAt, sessionPendingNext} {
		a.Sessions.Remove(ctx, k)
	}
	if how == "recovery code" {
		a.flash(r, "You signed in with a recovery code; "+strconv.Itoa(len(u.TOTP.Recovery)-1)+" left. If you lost your phone, ask an admin to reset your two-factor sign-in.")
	}
	a.completeSignIn(w, r, u, next, now, how)
}

// pendingUser is the user whose password was right in this session and
// who has yet to give their code; without one (or past pendingFor) the
// browser is sent to sign in again.
func (a *App) pendingUser(w http.ResponseWriter, r *http.Request) (store.User, bool) {
	ctx := r.Context()
	idHex := a.Sessions.GetString(ctx, sessionPendingUser)
	at := time.UnixMilli(a.Sessions.GetInt64(ctx, sessionPendingAt))
	id, err := primitive.ObjectIDFromHex(idHex)
	if err != nil || a.now().Sub(at) > pendingFor {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return store.User{}, false
	}
	u, err := a.Users.UserGet(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound) || (err == nil && (u.TOTP == nil || u.Deactivated)):
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return store.User{}, false
	case err != nil:
		a.ServerError(w, r, err)
		return store.User{}, false
	}
	return u, true
}
