package handlers

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"loandesk/auth"
	"loandesk/store"
	"loandesk/views"
)

// ShowPasswordChange is the signed-in user's change-password page.
func (a *App) ShowPasswordChange(w http.ResponseWriter, r *http.Request) {
	user, _ := auth.UserFrom(r.Context())
	a.render(w, r, http.StatusOK, views.PasswordPage(a.page(r, "Change password", ""), views.PasswordForm{Required: user.MustChangePassword}))
}

// ChangePassword sets the signed-in user's own password: the current one
// is required (checked within the sign-in limits, like a sign-in), the
// new one must pass the password policy (auth.CheckPassword) and differ.
// Every other session of the user ends; this one goes on under a new
// token.
func (a *App) ChangePassword(w http.ResponseWriter, r *http.Request) {
	user, _ := auth.UserFrom(r.Context())
	form := views.PasswordForm{Required: user.MustChangePassword, Errors: map[string]string{}}
	fail := func(status int) {
		a.render(w, r, status, views.PasswordPage(a.page(r, "Change password", ""), form))
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxLoginBody)
	if err := r.ParseForm(); err != nil {
		a.ErrorPage(w, r, http.StatusBadRequest, "Bad request", "The form could not be read.")
		return
	}
	current, next := r.PostForm.Get("current"), r.PostForm.Get("password")
	id, err := primitive.ObjectIDFromHex(user.ID)
	if err != nil || user.Shared {
		a.ErrorPage(w, r, http.StatusForbidden, "Not allowed", "Only a person signed in with a password can change it.")
		return
	}
	u, err := a.Users.UserGet(r.Context(), id)
	if err != nil {
		a.ServerError(w, r, err)
		return
	}

	ticket, err := a.Throttle.Begin(r.Context(), auth.Attempt{Account: u.Email, Address: clientIP(r), Device: a.knownDevice(r, u)})
	var limited *auth.Limited
	if errors.As(err, &limited) {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(limited.RetryAfter.Seconds()))))
		form.Errors["current"] = "Too many wrong passwords. Please wait " + waitText(int(math.Ceil(limited.RetryAfter.Seconds()))) + " and try again."
		fail(http.StatusTooManyRequests)
		return
	}
	if err != nil {
		a.ServerError(w, r, err)
		return
	}
	if !a.Hasher.Check(u.PasswordHash, current) {
		if err := ticket.Failed(context.WithoutCancel(r.Context())); err != nil {
			a.ServerError(w, r, err)
			return
		}
		form.Errors["current"] = "That is not your current password."
		fail(http.StatusUnprocessableEntity)
		return
	}
	ticket.Passed(context.WithoutCancel(r.Context())) // a right password counts for nothing
	switch err := auth.CheckPassword(next, u.Email, u.Name); {
	case err != nil:
		form.Errors["password"] = err.Error()
	case next == current:
		form.Errors["password"] = "Choose a password other than your current one."
	}
	if len(form.Errors) > 0 {
		fail(http.StatusUnprocessableEntity)
		return
	}

	hash, err := a.Hasher.Hash(next)
	if err != nil {
		a.ServerError(w, r, err)
		return
	}
	now := a.now()
	err = a.audited(r, u.Email, auditPasswordChanged, u.Email, func(ctx context.Context) (string, error) {
		return "other sessions ended", a.Users.UserSetPassword(ctx, id, hash, false, now)
	})
	if errors.Is(err, store.ErrNotFound) {
		a.NotFound(w, r)
		return
	} else if err != nil {
		a.ServerError(w, r, err)
		return
	}
	// This session goes on, signed in again as of now; the others were
	// signed in before the change and end at their next request.
	if err := a.Sessions.RenewToken(r.Context()); err != nil {
		a.ServerError(w, r, err)
		return
	}
	a.Sessions.Put(r.Context(), SessionAuthAt, now.UnixMilli())
	if err := a.listSession(r, u, now); err != nil {
		a.ServerError(w, r, err)
		return
	}
	a.Logger.Info("password changed", "user", u.Email)
	a.flash(r, "Your password was changed; your other sessions are signed out.")
	a.redirect(w, r, "/loans")
}
