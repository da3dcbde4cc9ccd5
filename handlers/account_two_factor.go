package handlers

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"loandesk/auth"
	"loandesk/store"
	"loandesk/views"
)

// Session keys of an enrolment under way: the new secret lives in the
// session (stored server-side) until a code from it confirms it.
const (
	sessionTOTPSecret = "totpSecret"
	sessionTOTPURL    = "totpURL"
)

// totpIssuer names the app in authenticator apps.
const totpIssuer = "Loan Desk"

// ShowTwoFactor is the signed-in user's two-factor page: what is on, or
// the enrolment with a new secret as a QR code.
func (a *App) ShowTwoFactor(w http.ResponseWriter, r *http.Request) {
	u, ok := a.signedInUser(w, r)
	if !ok {
		return
	}
	a.renderTwoFactor(w, r, http.StatusOK, u, nil)
}

// EnrolTwoFactor turns two-factor sign-in on: the password (checked
// within the sign-in limits) and a code from the new secret are
// required. The user's other sessions end, and the ten recovery codes are
// shown this once (only their hashes are kept).
func (a *App) EnrolTwoFactor(w http.ResponseWriter, r *http.Request) {
	u, ok := a.signedInUser(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	secret := a.Sessions.GetString(ctx, sessionTOTPSecret)
	if u.TOTP != nil || secret == "" {
		a.redirect(w, r, TwoFactorPath)
		return
	}
	errs := map[string]string{}
	ticket, err := a.Throttle.Begin(ctx, auth.Attempt{Account: u.Email, Address: clientIP(r), Device: a.knownDevice(r, u)})
	var limited *auth.Limited
	if errors.As(err, &limited) {
		secs := int(math.Ceil(limited.RetryAfter.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		errs["current"] = "Too many wrong passwords. Please wait " + waitText(secs) + " and try again."
		a.renderTwoFactor(w, r, http.StatusTooManyRequests, u, errs)
		return
	}
	if err != nil {
		a.ServerError(w, r, err)
		return
	}
	if !a.Hasher.Check(u.PasswordHash, r.PostForm.Get("current")) {
		if err := ticket.Failed(context.WithoutCancel(ctx)); err != nil {
			a.ServerError(w, r, err)
			return
		}
		errs["current"] = "That is not your password."
		a.renderTwoFactor(w, r, http.StatusUnprocessableEntity, u, errs)
		return
	}
	ticket.Passed(context.WithoutCancel(ctx))
	now := a.now()
	step, match := auth.TOTPMatch(secret, r.PostForm.Get("code"), now)
	if !match {
		errs["code"] = "That code is not right. Check that the phone's clock is right and enter the newest code."
		a.renderTwoFactor(w, r, http.StatusUnprocessableEntity, u, errs)
		return
	}

	codes := auth.NewRecoveryCodes(auth.RecoveryCodeCount)
	hashes := make([]string, len(codes))
	for i, c := range codes {
		hashes[i] = store.RecoveryCodeHash(c)
	}
	// The confirming code's step counts as used: it cannot sign in.
	// Sessions signed in with the password alone end; this one goes on
	// under a new token.
	if err := a.audited(r, u.Email, auditTwoFactorEnrolled, u.Email, func(ctx context.Context) (string, error) {
		if err := a.Users.UserTOTPEnable(ctx, u.ID, store.TOTP{Secret: secret, LastStep: step, Recovery: hashes, EnrolledAt: now}); err != nil {
			return "", err
		}
		return "other sessions ended", a.Users.UserEndSessions(ctx, u.ID, now)
	}); err != nil {
		a.userStoreError(w, r, err)
		return
	}
	if err := a.Sessions.RenewToken(ctx); err != nil {
		a.ServerError(w, r, err)
		return
	}
	a.Sessions.Put(ctx, SessionAuthAt, now.UnixMilli())
	if err := a.listSession(r, u, now); err != nil {
		a.ServerError(w, r, err)
		return
	}
	a.Sessions.Remove(ctx, sessionTOTPSecret)
	a.Sessions.Remove(ctx, sessionTOTPURL)
	a.Logger.Info("two-factor sign-in turned on", "user", u.Email)
	a.render(w, r, http.StatusOK, views.TwoFactorPage(a.page(r, "Two-factor sign-in", ""), views.TwoFactor{RecoveryCodes: codes}))
}

// renderTwoFactor shows what is on, or the enrolment (making a new
// secret for the session when it has none).
func (a *App) renderTwoFactor(w http.ResponseWriter, r *http.Request, status int, u store.User, errs map[string]string) {
	ctx := r.Context()
	vm := views.TwoFactor{Errors: errs, Required: u.TOTP == nil && a.TwoFactorRequired(u.Role)}
	if u.TOTP != nil {
		vm.Enrolled, vm.EnrolledAt, vm.RecoveryLeft = true, a.formatDateTime(u.TOTP.EnrolledAt), len(u.TOTP.Recovery)
		a.render(w, r, status, views.TwoFactorPage(a.page(r, "Two-factor sign-in", "account"), vm))
		return
	}
	secret, keyURL := a.Sessions.GetString(ctx, sessionTOTPSecret), a.Sessions.GetString(ctx, sessionTOTPURL)
	if secret == "" {
		key, err := auth.NewTOTPKey(totpIssuer, u.Email)
		if err != nil {
			a.ServerError(w, r, err)
			return
		}
		secret, keyURL = key.Secret, key.URL
		a.Sessions.Put(ctx, sessionTOTPSecret, secret)
		a.Sessions.Put(ctx, sessionTOTPURL, keyURL)
	}
	qr, err := auth.TOTPQRCode(keyURL, 200)
	if err != nil {
		a.ServerError(w, r, err)
		return
	}
	vm.QR, vm.Secret = qr, groupBy4(secret)
	a.render(w, r, status, views.TwoFactorPage(a.page(r, "Two-factor sign-in", "account"), vm))
}

// signedInUser loads the signed-in person (not the shared API token).
func (a *App) signedInUser(w http.ResponseWriter, r *http.Request) (store.User, bool) {
	me, _ := auth.UserFrom(r.Context())
	id, err := primitive.ObjectIDFromHex(me.ID)
	if err != nil || me.Shared {
		a.ErrorPage(w, r, http.StatusForbidden, "Not allowed", "Only a person signed in with a password has two-factor sign-in.")
		return store.User{}, false
	}
	u, err := a.Users.UserGet(r.Context(), id)
	if err != nil {
		a.userStoreError(w, r, err)
		return store.User{}, false
	}
	return u, true
}

// groupBy4 writes a secret in groups of four for typing.
func groupBy4(s string) string {
	var b strings.Builder
	for i, c := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(c)
	}
	return b.String()
}
