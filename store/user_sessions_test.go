package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"loandesk/auth"
)

// Twenty-eight browsers (8 more than the bound) signing in as one user
// at the same moment, each with the user as read before any of them: the
// list ends at maxUserSessions, never more, and every sign-in succeeded.
func TestStore_UserSessionPutRaceKeepsTheBound(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	u, err := b.store.UserCreate(ctx, UserCreateParams{Email: "uw@x.com", Name: "U", Role: auth.RoleUnderwriter, PasswordHash: []byte("h")})
	if err != nil {
		t.Fatal(err)
	}
	const browsers = 28
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	errs := make(chan error, browsers)
	for i := range browsers {
		wg.Go(func() {
			sid := fmt.Sprintf("%032x", i+1)
			errs <- b.store.UserSessionPut(ctx, u, sid, UserSession{AuthAt: start.Add(time.Duration(i) * time.Millisecond), IP: "10.0.0.1"})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("a sign-in failed: %v", err)
		}
	}
	got, err := b.store.UserGet(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(got.Sessions); n != maxUserSessions {
		t.Errorf("%d sessions listed after %d sign-ins, want exactly %d", n, browsers, maxUserSessions)
	}
	if got.SessionsRev != browsers {
		t.Errorf("sessionsRev %d, want %d: one per sign-in", got.SessionsRev, browsers)
	}
	if maxUserSessions != 20 {
		t.Errorf("maxUserSessions = %d: the README and the sessions page say 20", maxUserSessions)
	}
}

// One by one, the least recently seen session makes room for the 21st.
func TestStore_UserSessionPutDropsTheLeastRecentlySeen(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	u, err := b.store.UserCreate(ctx, UserCreateParams{Email: "uw@x.com", Name: "U", Role: auth.RoleUnderwriter, PasswordHash: []byte("h")})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for i := range maxUserSessions + 1 {
		// A stale u each time: the store reads the user again.
		if err := b.store.UserSessionPut(ctx, u, fmt.Sprintf("%032x", i+1), UserSession{AuthAt: start.Add(time.Duration(i) * time.Minute)}); err != nil {
			t.Fatal(err)
		}
		if i == 5 {
			// The first session was used again after the others signed in.
			if err := b.store.UserSessionSeen(ctx, u.ID, fmt.Sprintf("%032x", 1), start.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
	}
	got, err := b.store.UserGet(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Sessions) != maxUserSessions {
		t.Fatalf("%d sessions, want %d", len(got.Sessions), maxUserSessions)
	}
	if _, ok := got.Sessions[fmt.Sprintf("%032x", 2)]; ok {
		t.Error("the second session (least recently seen) was kept")
	}
	for _, sid := range []int{1, 3, maxUserSessions + 1} {
		if _, ok := got.Sessions[fmt.Sprintf("%032x", sid)]; !ok {
			t.Errorf("session %d was dropped", sid)
		}
	}
}

// A request reads its user with its own session only, and no secrets.
func TestStore_UserForSession(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	u, err := b.store.UserCreate(ctx, UserCreateParams{Email: "admin@x.com", Name: "A", Role: auth.RoleAdmin, PasswordHash: []byte("hash"), MustChangePassword: true})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	mine, other := fmt.Sprintf("%032x", 1), fmt.Sprintf("%032x", 2)
	for _, sid := range []string{mine, other} {
		if err := b.store.UserSessionPut(ctx, u, sid, UserSession{AuthAt: at, IP: "10.0.0." + sid[31:], UserAgent: "Firefox"}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := b.store.UserForSession(ctx, u.ID, mine)
	if err != nil {
		t.Fatal(err)
	}
	if got.Email != "admin@x.com" || got.Name != "A" || got.Role != auth.RoleAdmin || !got.MustChangePassword || got.PasswordHash != nil || got.TOTP != nil {
		t.Errorf("got %+v", got)
	}
	if len(got.Sessions) != 1 || got.Sessions[mine].IP != "10.0.0.1" || !got.Sessions[mine].LastSeen.Equal(at) {
		t.Errorf("sessions %+v, want %s alone as listed", got.Sessions, mine)
	}
	if !got.SessionLive(mine, at.UnixMilli()) || got.SessionLive(other, at.UnixMilli()) {
		t.Error("SessionLive on the projected user: want its own session live and no other")
	}

	// Enrolled: TOTP says so, without the secret or the recovery codes.
	if err := b.store.UserTOTPEnable(ctx, u.ID, TOTP{Secret: "JBSWY3DPEHPK3PXP", Recovery: []string{"r1"}, EnrolledAt: at}); err != nil {
		t.Fatal(err)
	}
	got, err = b.store.UserForSession(ctx, u.ID, mine)
	if err != nil || got.TOTP == nil || got.TOTP.Secret != "" || got.TOTP.Recovery != nil || !got.TOTP.EnrolledAt.Equal(at) {
		t.Errorf("enrolled user: TOTP %+v, %v; want only EnrolledAt", got.TOTP, err)
	}

	// A revoked session is not listed; a session id that is not a made
	// one is refused before it reaches a projection; so is an unknown user.
	if err := b.store.UserSessionRevoke(ctx, u.ID, mine); err != nil {
		t.Fatal(err)
	}
	if got, err := b.store.UserForSession(ctx, u.ID, mine); err != nil || got.Sessions != nil || got.SessionLive(mine, at.UnixMilli()) {
		t.Errorf("revoked: %+v, %v", got.Sessions, err)
	}
	for _, sid := range []string{"a.b", "$where", "ABCDEF", "sessions"} {
		if _, err := b.store.UserForSession(ctx, u.ID, sid); err == nil {
			t.Errorf("session id %q accepted", sid)
		}
	}
	if _, err := b.store.UserForSession(ctx, primitive.NewObjectID(), mine); err == nil {
		t.Error("an unknown user was found")
	}
}
