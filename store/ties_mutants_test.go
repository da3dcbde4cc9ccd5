package store

import (
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
)

// TestListBounds_TiesDropTheLowestID: at the bound of a user's devices
// (10) or sessions (20), the oldest goes first, and among several of
// the same time, the one with the lowest id.
func TestListBounds_TiesDropTheLowestID(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	unsetOf := func(update bson.M) []string {
		var out []string
		for k := range update["$unset"].(bson.M) {
			out = append(out, k)
		}
		return out
	}

	u := User{Devices: map[string]UserDevice{}}
	for i := range maxUserDevices {
		u.Devices[fmt.Sprintf("d%02d", 10-i)] = UserDevice{IssuedAt: at} // d01 … d10, all at once
	}
	if got := unsetOf(deviceIssueUpdate(u, "d99", nil, at.Add(time.Minute), time.Time{})); len(got) != 1 || got[0] != "devices.d01" {
		t.Errorf("devices at the bound, all of one time: dropped %v, want [devices.d01]", got)
	}

	u = User{Sessions: map[string]UserSession{}}
	for i := range maxUserSessions {
		u.Sessions[fmt.Sprintf("s%02d", 20-i)] = UserSession{AuthAt: at, LastSeen: at} // s01 … s20
	}
	if got := unsetOf(sessionPutUpdate(u, "s99", UserSession{AuthAt: at, LastSeen: at})); len(got) != 1 || got[0] != "sessions.s01" {
		t.Errorf("sessions at the bound, all seen at once: dropped %v, want [sessions.s01]", got)
	}
}
