package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"loandesk/auth"
	"loandesk/store"
	"loandesk/views"
)

// Audit actions: what the audit log records, as stable codes.
const (
	auditUserCreated       = "user.created"
	auditRoleChanged       = "user.role_changed"
	auditDeactivated       = "user.deactivated"
	auditReactivated       = "user.reactivated"
	auditPasswordReset     = "user.password_reset"
	auditTwoFactorReset    = "user.two_factor_reset"
	auditSignedIn          = "account.signed_in"
	auditSignInRefused     = "account.sign_in_refused"
	auditPasswordChanged   = "account.password_changed"
	auditTwoFactorEnrolled = "account.two_factor_enrolled"
	auditRecoveryCodeUsed  = "account.recovery_code_used"
	auditTwoFactorFailed   = "account.two_factor_failed"
	auditSessionRevoked    = "session.revoked"
	auditSessionsEnded     = "user.sessions_ended"
)

// auditLabels are the actions in words, for the audit page.
var auditLabels = map[string]string{
	auditUserCreated:       "User added",
	auditRoleChanged:       "Role changed",
	auditDeactivated:       "Deactivated",
	auditReactivated:       "Reactivated",
	auditPasswordReset:     "Password reset by an admin",
	auditTwoFactorReset:    "Two-factor reset by an admin",
	auditSignedIn:          "Signed in",
	auditSignInRefused:     "Sign-in refused",
	auditPasswordChanged:   "Changed own password",
	auditTwoFactorEnrolled: "Turned on two-factor",
	auditRecoveryCodeUsed:  "Used a recovery code",
	auditTwoFactorFailed:   "Wrong two-factor code",
	auditSessionRevoked:    "Session signed out",
	auditSessionsEnded:     "Signed out everywhere by an admin",
}

// audited does act and records it as action of actor (the signed-in
// user when "") about target, as one change (store.Store.Audited): act
// makes its writes through the ctx it is given and returns the entry's
// detail. If act returns an error, that error is returned and nothing
// act wrote stays, nor is anything recorded; if the entry cannot be
// written, the action is undone and the error returned. Only on a server
// without transactions can an action stand without its entry: then the
// failure to record is logged as an error and nil returned.
func (a *App) audited(r *http.Request, actor, action, target string, act func(ctx context.Context) (detail string, err error)) error {
	if actor == "" {
		u, _ := auth.UserFrom(r.Context())
		actor = u.Email
	}
	err := a.Users.Audited(r.Context(), func(ctx context.Context) (store.AuditEntry, error) {
		detail, err := act(ctx)
		return store.AuditEntry{At: a.now(), Actor: actor, Action: action, Target: target, Detail: detail, IP: clientIP(r)}, err
	})
	if errors.Is(err, store.ErrAuditNotRecorded) {
		a.Logger.Error("audit entry not recorded", "action", action, "actor", actor, "target", target, "err", err)
		return nil
	}
	return err
}

// audit records an event on its own: a refused sign-in or a wrong code
// (nothing changed), or a sign-in, recorded after its session started
// (the session store is not in a transaction with it, so a crash between
// the two leaves a session without its entry). A failure to record is
// logged as an error.
func (a *App) audit(r *http.Request, actor, action, target, detail string) {
	if actor == "" {
		u, _ := auth.UserFrom(r.Context())
		actor = u.Email
	}
	e := store.AuditEntry{At: a.now(), Actor: actor, Action: action, Target: target, Detail: detail, IP: clientIP(r)}
	if err := a.Users.AuditAdd(context.WithoutCancel(r.Context()), e); err != nil {
		a.Logger.Error("audit entry not recorded", "action", action, "actor", actor, "target", target, "err", err)
	}
}

// auditPageSize is how many entries the audit page shows at once.
const auditPageSize = 100

// ShowAudit is the audit log for admins, newest first; ?user= narrows it
// to one user, ?before= continues after an entry ("<unix ms>-<id>").
func (a *App) ShowAudit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p := store.AuditListParams{Target: store.NormalizeEmail(q.Get("user")), Limit: auditPageSize}
	if before := q.Get("before"); before != "" {
		ms, idHex, _ := strings.Cut(before, "-")
		n, err1 := strconv.ParseInt(ms, 10, 64)
		id, err2 := primitive.ObjectIDFromHex(idHex)
		if err1 != nil || err2 != nil {
			a.ErrorPage(w, r, http.StatusBadRequest, "Bad request", "That page of the audit log does not exist.")
			return
		}
		p.BeforeAt, p.BeforeID = time.UnixMilli(n).UTC(), id
	}
	entries, err := a.Users.AuditList(r.Context(), p)
	if err != nil {
		a.ServerError(w, r, err)
		return
	}
	vm := views.AuditLog{Target: p.Target, Rows: a.auditRows(entries)}
	if len(entries) == auditPageSize {
		last := entries[len(entries)-1]
		v := url.Values{"before": {strconv.FormatInt(last.At.UnixMilli(), 10) + "-" + last.ID.Hex()}}
		if p.Target != "" {
			v.Set("user", p.Target)
		}
		vm.Older = "/admin/audit?" + v.Encode()
	}
	a.render(w, r, http.StatusOK, views.AuditPage(a.page(r, "Audit log", "audit"), vm))
}

// auditRows shows entries with their times in the lender's zone, to the
// second.
func (a *App) auditRows(entries []store.AuditEntry) []views.AuditRow {
	rows := make([]views.AuditRow, len(entries))
	for i, e := range entries {
		label := auditLabels[e.Action]
		if label == "" {
			label = e.Action
		}
		rows[i] = views.AuditRow{When: e.At.In(a.zone()).Format("02 Jan 2006, 15:04:05 MST"), Actor: e.Actor, Action: label, Target: e.Target, Detail: e.Detail, IP: e.IP}
	}
	return rows
}
