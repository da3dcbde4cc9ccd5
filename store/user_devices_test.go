package store

import (
	"context"
	"sync"
	"testing"
	"time"

	"loandesk/auth"
)

// Sixteen browsers signing in as one user at the same moment each get a
// device: the list ends at maxUserDevices, never more, all of them among
// the newest; a device given its token before notBefore is dropped, and
// a device's old id gives way to its new one.
func TestStore_UserDeviceIssue(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	u, err := b.store.UserCreate(ctx, UserCreateParams{Email: "uw@x.com", Name: "U", Role: auth.RoleUnderwriter, PasswordHash: []byte("h")})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	ids := make([]string, 16)
	var wg sync.WaitGroup
	for i := range ids {
		ids[i] = auth.DeviceID(auth.NewDeviceToken())
		wg.Go(func() {
			if err := b.store.UserDeviceIssue(ctx, u.ID, ids[i], nil, start.Add(time.Duration(i)*time.Second), start.Add(-time.Hour)); err != nil {
				t.Errorf("device %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	got, err := b.store.UserGet(ctx, u.ID)
	if err != nil || len(got.Devices) != maxUserDevices {
		t.Fatalf("%d devices after 16 at once, %v; want %d", len(got.Devices), err, maxUserDevices)
	}

	// A later sign-in on device 15 replaces its id; devices from before
	// start+10s are past notBefore and dropped.
	fresh := auth.DeviceID(auth.NewDeviceToken())
	if err := b.store.UserDeviceIssue(ctx, u.ID, fresh, []string{ids[15]}, start.Add(time.Minute), start.Add(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	got, _ = b.store.UserGet(ctx, u.ID)
	for id, d := range got.Devices {
		if id == ids[15] || d.IssuedAt.Before(start.Add(10*time.Second)) {
			t.Errorf("device %s (given %s) kept", id, d.IssuedAt)
		}
	}
	if _, ok := got.Devices[fresh]; !ok || len(got.Devices) > 6 {
		t.Fatalf("devices %v: want the fresh one and at most devices 10–14", got.Devices)
	}
	if err := b.store.UserDeviceIssue(ctx, u.ID, "not/hex", nil, start, start); err == nil {
		t.Fatal("a malformed device id was accepted")
	}
}
