package handlers

import (
	"context"
	"net/http"
	"time"

	"loandesk/auth"
	"loandesk/store"
)

// deviceCookie names the browser's device cookie (auth.ParseDeviceCookie):
// over HTTPS with the __Host- prefix, like the session cookie, so that
// only this host over HTTPS can set it.
func (a *App) deviceCookie() string {
	if a.SecureCookies {
		return "__Host-loandesk_device"
	}
	return "loandesk_device"
}

// deviceTokens are the well-formed tokens of the request's device cookie.
func (a *App) deviceTokens(r *http.Request) []string {
	c, err := r.Cookie(a.deviceCookie())
	if err != nil {
		return nil
	}
	return auth.ParseDeviceCookie(c.Value)
}

// knownDevice is the DeviceID of the request's device cookie when it
// names one of u's devices, still known (given within the limits'
// DeviceFor), and u is active; else "". The attempt is then judged by
// that device's count alone (auth.Attempt.Device).
func (a *App) knownDevice(r *http.Request, u store.User) string {
	if u.Deactivated || len(u.Devices) == 0 {
		return ""
	}
	for _, tok := range a.deviceTokens(r) {
		id := auth.DeviceID(tok)
		if d, ok := u.Devices[id]; ok && a.now().Sub(d.IssuedAt) < a.Throttle.Limits.DeviceFor {
			return id
		}
	}
	return ""
}

// issueDevice makes the browser a known device of u after a whole
// sign-in: a new token in place of the one it had for u (if any), kept
// hashed on u's list of devices, and the browser's cookie holding it
// first, then the tokens of other accounts signed in on it. A failure is
// logged, not shown: the user is signed in, only not yet as a known
// device.
func (a *App) issueDevice(w http.ResponseWriter, r *http.Request, u store.User, now time.Time) {
	keep := a.Throttle.Limits.DeviceFor
	if keep <= 0 {
		return
	}
	var drop, others []string
	for _, tok := range a.deviceTokens(r) {
		if id := auth.DeviceID(tok); hasDevice(u, id) {
			drop = append(drop, id)
		} else {
			others = append(others, tok)
		}
	}
	tok := auth.NewDeviceToken()
	if err := a.Users.UserDeviceIssue(context.WithoutCancel(r.Context()), u.ID, auth.DeviceID(tok), drop, now, now.Add(-keep)); err != nil {
		a.Logger.Warn("give a device cookie", "user", u.Email, "err", err)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name:     a.deviceCookie(),
		Value:    auth.DeviceCookieValue(tok, others),
		Path:     "/",
		MaxAge:   int(keep / time.Second),
		HttpOnly: true,
		Secure:   a.SecureCookies,
		SameSite: http.SameSiteStrictMode,
	})
}

func hasDevice(u store.User, id string) bool {
	_, ok := u.Devices[id]
	return ok
}
