package store

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// UserDevice is a browser the user signed in on (its device cookie's
// DeviceID is the key in User.Devices).
type UserDevice struct {
	// IssuedAt is when its current token was given (each whole sign-in
	// on it gives a new one).
	IssuedAt time.Time `bson:"issuedAt"`
}

// maxUserDevices bounds the devices kept per user: past it the one
// given its token longest ago is dropped.
const maxUserDevices = 10

// maxDeviceIssueAttempts bounds UserDeviceIssue's retries: each one lost
// to another sign-in of the same user at the same moment.
const maxDeviceIssueAttempts = 100

// UserDeviceIssue records the device id (a DeviceID) as the user's, given
// its token at at, in place of the devices in drop (the token it had
// before); devices given theirs before notBefore are dropped, and the
// oldest past maxUserDevices. id and the ids in drop must be lowercase
// hex. Like UserSessionPut, the change is made on the list as read and
// made again when another sign-in changed it meanwhile, so the list
// never grows past maxUserDevices. A missing user returns ErrNotFound.
func (s *Store) UserDeviceIssue(ctx context.Context, userID primitive.ObjectID, id string, drop []string, at, notBefore time.Time) error {
	for _, x := range append([]string{id}, drop...) {
		if x == "" || !isHexID(x) {
			return fmt.Errorf("store: device of user %s: %q is not a device id", userID.Hex(), x)
		}
	}
	at = at.UTC().Truncate(time.Millisecond)
	u, err := s.UserGet(ctx, userID)
	if err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		filter := bson.M{"_id": u.ID, "devicesRev": u.DevicesRev}
		if u.DevicesRev == 0 {
			filter["devicesRev"] = bson.M{"$exists": false}
		}
		res, err := s.users.UpdateOne(ctx, filter, deviceIssueUpdate(u, id, drop, at, notBefore))
		if err != nil {
			return fmt.Errorf("store: device of user %s: %w", u.ID.Hex(), err)
		}
		if res.MatchedCount == 1 {
			return nil
		}
		if attempt == maxDeviceIssueAttempts {
			return fmt.Errorf("store: device of user %s: the list kept changing (%d attempts)", u.ID.Hex(), attempt+1)
		}
		if u, err = s.UserGet(ctx, u.ID); err != nil {
			return err
		}
	}
}

// deviceIssueUpdate is UserDeviceIssue's update of u's list as read.
func deviceIssueUpdate(u User, id string, drop []string, at, notBefore time.Time) bson.M {
	keep := map[string]UserDevice{}
	unset := bson.M{}
	for x, d := range u.Devices {
		if d.IssuedAt.Before(notBefore) || x == id {
			unset["devices."+x] = ""
			continue
		}
		keep[x] = d
	}
	for _, x := range drop {
		if _, ok := keep[x]; ok {
			unset["devices."+x] = ""
			delete(keep, x)
		}
	}
	for len(keep) >= maxUserDevices {
		oldest := ""
		for x, d := range keep {
			if oldest == "" || d.IssuedAt.Before(keep[oldest].IssuedAt) || (d.IssuedAt.Equal(keep[oldest].IssuedAt) && x < oldest) {
				oldest = x
			}
		}
		unset["devices."+oldest] = ""
		delete(keep, oldest)
	}
	delete(unset, "devices."+id) // set below
	update := bson.M{"$set": bson.M{"devices." + id: UserDevice{IssuedAt: at}}, "$inc": bson.M{"devicesRev": 1}}
	if len(unset) > 0 {
		update["$unset"] = unset
	}
	return update
}
