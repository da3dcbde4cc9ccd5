package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"loandesk/auth"
)

// Survivors of the 2026-12-02 gremlins run of users.go (issue 20), each
// applied by hand and seen failing.

// A session signed in at the very millisecond of a password change (the
// user's own change renews their session at that instant) is not before
// it; one a millisecond earlier is. Kills users.go:332:28 (`authAt <
// t.UnixMilli()` → `<=`, and → `>=`).
func TestUser_SignedInBefore_TheSameMillisecondIsNotBefore(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 2, 6, 30, 0, 0, time.UTC)
	for _, u := range []User{{PasswordChangedAt: at}, {SessionsEndedAt: at}} {
		for authAt, want := range map[int64]bool{at.UnixMilli() - 1: true, at.UnixMilli(): false, at.UnixMilli() + 1: false} {
			if got := u.SignedInBefore(authAt); got != want {
				t.Errorf("changed %v / ended %v, signed in at %d: before = %v, want %v", u.PasswordChangedAt, u.SessionsEndedAt, authAt-at.UnixMilli(), got, want)
			}
		}
	}
	if (User{}).SignedInBefore(0) {
		t.Error("a user never changed: every session is before nothing")
	}
}

// The last active admin cannot be demoted by a role change (not only by
// deactivation), and a change made while another holds the admins' lock
// waits for it rather than failing. Kills users.go:300:68 (`role !=
// auth.RoleAdmin` → `==`) and :288:58 (the 5 s wait → 0).
func TestUserChangeAccess_LastAdminAndTheLockWait(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := setup(t).store
	admin, err := st.UserCreate(ctx, UserCreateParams{Email: "only.admin@example.com", Name: "Only Admin", Role: auth.RoleAdmin, PasswordHash: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	uw, err := st.UserCreate(ctx, UserCreateParams{Email: "uw@example.com", Name: "Uma", Role: auth.RoleUnderwriter, PasswordHash: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	role := auth.RoleUnderwriter
	if _, err := st.UserChangeAccess(ctx, admin.ID, UserAccessChange{Role: &role}, time.Now()); !errors.Is(err, ErrLastAdmin) {
		t.Fatalf("demoting the last admin: %v, want ErrLastAdmin", err)
	}
	if got, _ := st.UserGet(ctx, admin.ID); got.Role != auth.RoleAdmin {
		t.Fatalf("the last admin is now %s", got.Role)
	}
	held := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- st.WithLockWait(ctx, adminsLock, 10*time.Second, 0, func(context.Context, int64) error {
			close(held)
			time.Sleep(300 * time.Millisecond)
			return nil
		})
	}()
	<-held
	viewer := auth.RoleViewer
	if _, err := st.UserChangeAccess(ctx, uw.ID, UserAccessChange{Role: &viewer}, time.Now()); err != nil {
		t.Fatalf("a change while the admins' lock is held for 300 ms: %v, want it to wait and succeed", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// Listing a session drops the sessions that are no longer live (signed
// in before the sessions were ended) and keeps the one listed. Kills
// users.go:430:35 (`id != sid` → `==` in sessionPutUpdate).
func TestUserSessionPut_DropsSessionsNoLongerLive(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := setup(t).store
	u, err := st.UserCreate(ctx, UserCreateParams{Email: "asha@example.com", Name: "Asha", Role: auth.RoleUnderwriter, PasswordHash: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)
	if err := st.UserSessionPut(ctx, u, "aa01", UserSession{AuthAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := st.UserEndSessions(ctx, u.ID, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	u, _ = st.UserGet(ctx, u.ID)
	if err := st.UserSessionPut(ctx, u, "bb02", UserSession{AuthAt: t0.Add(2 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	u, _ = st.UserGet(ctx, u.ID)
	if _, old := u.Sessions["aa01"]; old || len(u.Sessions) != 1 {
		t.Fatalf("sessions after the new one: %v, want bb02 alone", u.Sessions)
	}
	if _, ok := u.Sessions["bb02"]; !ok {
		t.Fatalf("the new session is not listed: %v", u.Sessions)
	}
}
