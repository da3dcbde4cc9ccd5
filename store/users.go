package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"loandesk/auth"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// User is a person who can sign in. Email is stored lower-cased.
type User struct {
	ID           primitive.ObjectID `bson:"_id"`
	Email        string             `bson:"email"`
	Name         string             `bson:"name"`
	Role         string             `bson:"role"`
	PasswordHash []byte             `bson:"passwordHash"`
	// MustChangePassword sends the user to change their password before
	// anything else (a generated or admin-set password).
	MustChangePassword bool `bson:"mustChangePassword,omitempty"`
	// PasswordChangedAt ends every session signed in before it.
	PasswordChangedAt time.Time `bson:"passwordChangedAt,omitempty"`
	// SessionsEndedAt ends every session signed in before it too: set
	// when the user is deactivated (so reactivating does not bring old
	// sessions back) and when their second factor is reset.
	SessionsEndedAt time.Time `bson:"sessionsEndedAt,omitempty"`
	// Deactivated: the user cannot sign in, and every session of theirs
	// ends at its next request. Nothing of theirs is deleted (their name
	// stays on what they did).
	Deactivated   bool      `bson:"deactivated,omitempty"`
	DeactivatedAt time.Time `bson:"deactivatedAt,omitempty"`
	// TOTP is the user's second factor, when enrolled.
	TOTP *TOTP `bson:"totp,omitempty"`
	// Sessions are the user's signed-in browsers by session id: a
	// session whose id is not here is over (see SessionLive).
	Sessions map[string]UserSession `bson:"sessions,omitempty"`
	// SessionsRev counts the changes UserSessionPut made to Sessions, so
	// two sign-ins at once cannot both add to a list each saw as short.
	SessionsRev int64 `bson:"sessionsRev,omitempty"`
	// Devices are the browsers the user signed in on lately, by the
	// DeviceID of their device cookie (auth.DeviceID): an attempt from
	// one is limited by its own count, not the account's ceiling. At
	// most maxUserDevices; ended when an admin resets the password or
	// the second factor, or deactivates the user (see UserDeviceIssue).
	Devices map[string]UserDevice `bson:"devices,omitempty"`
	// DevicesRev counts the changes UserDeviceIssue made to Devices.
	DevicesRev int64     `bson:"devicesRev,omitempty"`
	CreatedAt  time.Time `bson:"createdAt"`
	UpdatedAt  time.Time `bson:"updatedAt"`
}

// UserCreateParams are the fields of a new user; the password arrives
// already hashed.
type UserCreateParams struct {
	Email        string
	Name         string
	Role         string
	PasswordHash []byte
	// MustChangePassword: the user chooses their own at first sign-in.
	MustChangePassword bool
}

// NormalizeEmail is the form in which emails are stored and looked up.
func NormalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// UserCreate inserts a user. A taken email returns ErrDuplicate.
func (s *Store) UserCreate(ctx context.Context, p UserCreateParams) (User, error) {
	defer s.staff.forget() // after the write: a list read before it is not kept
	now := time.Now().UTC().Truncate(time.Millisecond)
	u := User{
		ID:           primitive.NewObjectID(),
		Email:        NormalizeEmail(p.Email),
		Name:         strings.TrimSpace(p.Name),
		Role:         p.Role,
		PasswordHash: p.PasswordHash,
		CreatedAt:    now,
		UpdatedAt:    now,

		MustChangePassword: p.MustChangePassword,
	}
	if _, err := s.users.InsertOne(ctx, u); err != nil {
		if isDuplicateKey(err) {
			return User{}, fmt.Errorf("store: create user %s: %w", u.Email, ErrDuplicate)
		}
		return User{}, fmt.Errorf("store: create user %s: %w", u.Email, err)
	}
	return u, nil
}

// UserGet returns the user with id, or ErrNotFound.
func (s *Store) UserGet(ctx context.Context, id primitive.ObjectID) (User, error) {
	var u User
	if err := s.users.FindOne(ctx, bson.M{"_id": id}).Decode(&u); err != nil {
		return User{}, fmt.Errorf("store: get user %s: %w", id.Hex(), notFound(err))
	}
	return u, nil
}

// UserForSession returns the user with id as a request of its session
// sid needs them: without the password hash and second-factor secrets,
// with TOTP holding only EnrolledAt when a second factor is enrolled,
// and with Sessions holding sid alone when it is listed. Every request
// of a signed-in user reads this: decoding all of a user's sessions (up
// to maxUserSessions) on every request cost more than the page. sid must
// be a hex id (a session id this server made); another id returns
// ErrNotFound. A missing user returns ErrNotFound.
func (s *Store) UserForSession(ctx context.Context, id primitive.ObjectID, sid string) (User, error) {
	if !isHexID(sid) {
		return User{}, fmt.Errorf("store: get user %s for a session: %w", id.Hex(), ErrNotFound)
	}
	proj := bson.M{"email": 1, "name": 1, "role": 1, "mustChangePassword": 1, "passwordChangedAt": 1,
		"sessionsEndedAt": 1, "deactivated": 1, "deactivatedAt": 1, "createdAt": 1, "updatedAt": 1,
		"totp.enrolledAt": 1, "sessionsRev": 1}
	if sid != "" {
		proj["sessions."+sid] = 1
	}
	var u User
	if err := s.users.FindOne(ctx, bson.M{"_id": id}, options.FindOne().SetProjection(proj)).Decode(&u); err != nil {
		return User{}, fmt.Errorf("store: get user %s for a session: %w", id.Hex(), notFound(err))
	}
	if len(u.Sessions) == 0 {
		u.Sessions = nil
	}
	return u, nil
}

// isHexID reports whether sid is empty (a session from before sessions
// were listed) or lowercase hex, as session ids are made: anything else
// would be a path in a projection.
func isHexID(sid string) bool {
	for i := 0; i < len(sid); i++ {
		if c := sid[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return len(sid) <= 64
}

// UserByEmail returns the user with that email (any case), or ErrNotFound.
func (s *Store) UserByEmail(ctx context.Context, email string) (User, error) {
	var u User
	if err := s.users.FindOne(ctx, bson.M{"email": NormalizeEmail(email)}).Decode(&u); err != nil {
		return User{}, fmt.Errorf("store: get user by email: %w", notFound(err))
	}
	return u, nil
}

// UserList returns all users ordered by email.
func (s *Store) UserList(ctx context.Context) ([]User, error) {
	cur, err := s.users.Find(ctx, bson.M{}, options.Find().SetSort(bson.D{{Key: "email", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("store: list users: %w", err)
	}
	var users []User
	if err := cur.All(ctx, &users); err != nil {
		return nil, fmt.Errorf("store: list users: %w", err)
	}
	return users, nil
}

// UserListByRole returns the users with one of roles, ordered by email,
// for choosing a user (the list's assignee choices, on every list and
// loan page): without password hashes, second factors or sessions.
// Decoding every staff user's sessions was 15 % of the app's CPU under
// load with 100 users of 10 sessions each.
//
// The answer may be up to staffCacheFor old when another process sharing
// the database changed a user (this process's own changes show at once);
// the cache keeps it by wall-clock time, not the store's clock, so a test
// clock that stands still cannot make it last.
func (s *Store) UserListByRole(ctx context.Context, roles ...string) ([]User, error) {
	dir, err := s.directory(ctx, roles)
	if err != nil {
		return nil, err
	}
	return slices.Clone(dir.users), nil
}

// StaffDirectory is the users who work applications (admins and
// underwriters, active or not), as UserListByRole answers for those
// roles, shared read-only: see StaffDirectory's type. Errors: the
// database's.
func (s *Store) StaffDirectory(ctx context.Context) (*StaffDirectory, error) {
	return s.directory(ctx, []string{auth.RoleAdmin, auth.RoleUnderwriter})
}

// directory answers UserListByRole from the cache or the database.
func (s *Store) directory(ctx context.Context, roles []string) (*StaffDirectory, error) {
	now := time.Now()
	if dir, _, ok := s.staff.get(roles, now); ok {
		return dir, nil
	}
	_, gen, _ := s.staff.get(nil, now)
	users, err := s.userListByRole(ctx, roles)
	if err != nil {
		return nil, err
	}
	dir := newStaffDirectory(users)
	s.staff.put(roles, dir, now, gen)
	return dir, nil
}

// userListByRole reads UserListByRole's answer from the database.
func (s *Store) userListByRole(ctx context.Context, roles []string) ([]User, error) {
	opts := options.Find().SetSort(bson.D{{Key: "email", Value: 1}}).
		SetProjection(bson.M{"passwordHash": 0, "totp": 0, "sessions": 0, "devices": 0})
	cur, err := s.users.Find(ctx, bson.M{"role": bson.M{"$in": roles}}, opts)
	if err != nil {
		return nil, fmt.Errorf("store: list users by role: %w", err)
	}
	var users []User
	if err := cur.All(ctx, &users); err != nil {
		return nil, fmt.Errorf("store: list users by role: %w", err)
	}
	return users, nil
}

// StaffEmails returns the e-mail addresses of the users who work
// applications (admins and underwriters): whom an application can be
// assigned to.
func (s *Store) StaffEmails(ctx context.Context) ([]string, error) {
	users, err := s.userListByRole(ctx, []string{auth.RoleAdmin, auth.RoleUnderwriter})
	if err != nil {
		return nil, err
	}
	out := make([]string, len(users))
	for i, u := range users {
		out[i] = u.Email
	}
	return out, nil
}

// UserCount returns how many users exist.
func (s *Store) UserCount(ctx context.Context) (int64, error) {
	n, err := s.users.CountDocuments(ctx, bson.M{})
	if err != nil {
		return 0, fmt.Errorf("store: count users: %w", err)
	}
	return n, nil
}

// UserUpdateAccess sets a user's role and password hash (used to bootstrap
// the configured admin); every session signed in before ends (see
// PasswordChangedAt). A missing user returns ErrNotFound.
func (s *Store) UserUpdateAccess(ctx context.Context, id primitive.ObjectID, role string, passwordHash []byte) error {
	defer s.staff.forget() // after the write: a list read before it is not kept
	now := time.Now().UTC().Truncate(time.Millisecond)
	return updateMatched(ctx, s.users, bson.M{"_id": id}, bson.M{"$set": bson.M{
		"role":              role,
		"passwordHash":      passwordHash,
		"passwordChangedAt": now,
		"updatedAt":         now,
	}, "$unset": bson.M{"devices": ""}}, ErrNotFound, "update user "+id.Hex())
}

// UserSetPassword sets a user's password hash and whether they must
// change it at their next request, as of at: sessions signed in before at
// end. A password set to be changed (an admin's reset) ends the user's
// devices too; the user's own change keeps them. A missing user returns
// ErrNotFound.
func (s *Store) UserSetPassword(ctx context.Context, id primitive.ObjectID, passwordHash []byte, mustChange bool, at time.Time) error {
	at = at.UTC().Truncate(time.Millisecond)
	update := bson.M{"$set": bson.M{
		"passwordHash":       passwordHash,
		"mustChangePassword": mustChange,
		"passwordChangedAt":  at,
		"updatedAt":          at,
	}}
	if mustChange {
		update["$unset"] = bson.M{"devices": ""}
	}
	return updateMatched(ctx, s.users, bson.M{"_id": id}, update, ErrNotFound, "set password of user "+id.Hex())
}

// ErrLastAdmin refuses a change that would leave no active admin.
var ErrLastAdmin = errors.New("store: the last active admin")

// adminsLock serialises the changes that can remove an active admin, so
// two admins deactivating each other at once cannot both succeed.
const adminsLock = "users:active-admins"

// UserAccessChange is a change of a user's role or whether they are
// active; nil fields stay as they are.
type UserAccessChange struct {
	Role   *string
	Active *bool
}

// UserChangeAccess applies c to the user with id, unless afterwards no
// active admin would remain (ErrLastAdmin, nothing changed). It returns
// the user as they were before. Deactivating ends the user's sessions at
// their next request (the web layer checks Deactivated). A missing user
// returns ErrNotFound.
func (s *Store) UserChangeAccess(ctx context.Context, id primitive.ObjectID, c UserAccessChange, at time.Time) (User, error) {
	defer s.staff.forget() // after the write: a list read before it is not kept
	at = at.UTC().Truncate(time.Millisecond)
	var before User
	err := s.WithLockWait(ctx, adminsLock, 10*time.Second, 5*time.Second, func(ctx context.Context, _ int64) error {
		var err error
		if before, err = s.UserGet(ctx, id); err != nil {
			return err
		}
		role, active := before.Role, !before.Deactivated
		if c.Role != nil {
			role = *c.Role
		}
		if c.Active != nil {
			active = *c.Active
		}
		if before.Role == auth.RoleAdmin && !before.Deactivated && (role != auth.RoleAdmin || !active) {
			others, err := s.users.CountDocuments(ctx, bson.M{"role": auth.RoleAdmin, "deactivated": bson.M{"$ne": true}, "_id": bson.M{"$ne": id}})
			if err != nil {
				return fmt.Errorf("store: count active admins: %w", err)
			}
			if others == 0 {
				return ErrLastAdmin
			}
		}
		set := bson.M{"role": role, "deactivated": !active, "updatedAt": at}
		update := bson.M{"$set": set}
		if !active && !before.Deactivated {
			set["deactivatedAt"] = at
			set["sessionsEndedAt"] = at
			update["$unset"] = bson.M{"devices": ""}
		}
		if active {
			update["$unset"] = bson.M{"deactivatedAt": ""}
		}
		return updateMatched(ctx, s.users, bson.M{"_id": id}, update, ErrNotFound, "change access of user "+id.Hex())
	})
	if err != nil {
		return User{}, err
	}
	return before, nil
}

// SignedInBefore reports whether a session that signed in at authAt
// (Unix milliseconds) was signed in before the user's password changed or
// their sessions were ended: such a session is over.
func (u User) SignedInBefore(authAt int64) bool {
	for _, t := range []time.Time{u.PasswordChangedAt, u.SessionsEndedAt} {
		if !t.IsZero() && authAt < t.UnixMilli() {
			return true
		}
	}
	return false
}

// UserEndSessions ends every session of the user signed in before at
// (they end at their next request). A missing user returns ErrNotFound.
func (s *Store) UserEndSessions(ctx context.Context, id primitive.ObjectID, at time.Time) error {
	at = at.UTC().Truncate(time.Millisecond)
	return updateMatched(ctx, s.users, bson.M{"_id": id}, bson.M{"$set": bson.M{"sessionsEndedAt": at, "updatedAt": at}},
		ErrNotFound, "end sessions of user "+id.Hex())
}

// UserSession is one signed-in browser of a user, as the user and admins
// see it in the list of sessions.
type UserSession struct {
	// AuthAt is when it signed in (or last proved the password again).
	AuthAt    time.Time `bson:"authAt"`
	LastSeen  time.Time `bson:"lastSeen"`
	IP        string    `bson:"ip"`
	UserAgent string    `bson:"ua"`
}

// SessionLive reports whether the session sid (signed in at authAt,
// Unix milliseconds) is still on: listed, and signed in after the
// password changed and after sessions were last ended. A session from
// before sessions were listed (sid "") is judged by the times alone.
func (u User) SessionLive(sid string, authAt int64) bool {
	if u.SignedInBefore(authAt) {
		return false
	}
	if sid == "" {
		return true
	}
	_, ok := u.Sessions[sid]
	return ok
}

// LiveSessions are the user's sessions that are still on, by id.
func (u User) LiveSessions() map[string]UserSession {
	out := map[string]UserSession{}
	for id, s := range u.Sessions {
		if u.SessionLive(id, s.AuthAt.UnixMilli()) {
			out[id] = s
		}
	}
	return out
}

// maxUserSessions bounds the sessions listed per user: past it the
// least recently seen are dropped (and so signed out).
const maxUserSessions = 20

// UserSessionPut lists (or lists again, after the password was proved
// anew) the session sid of the user; sessions no longer live are dropped
// from the list, and the least recently seen past maxUserSessions. sid
// must be a hex id. u is the user as the caller read them; when the list
// changed since (another sign-in at the same moment), the user is read
// again and the change worked out anew, so the list never grows past
// maxUserSessions. A missing user returns ErrNotFound.
func (s *Store) UserSessionPut(ctx context.Context, u User, sid string, us UserSession) error {
	us.AuthAt = us.AuthAt.UTC().Truncate(time.Millisecond)
	us.LastSeen = us.AuthAt
	for attempt := 0; ; attempt++ {
		filter := bson.M{"_id": u.ID, "sessionsRev": u.SessionsRev}
		if u.SessionsRev == 0 {
			filter["sessionsRev"] = bson.M{"$exists": false}
		}
		res, err := s.users.UpdateOne(ctx, filter, sessionPutUpdate(u, sid, us))
		if err != nil {
			return fmt.Errorf("store: list a session of user %s: %w", u.ID.Hex(), err)
		}
		if res.MatchedCount == 1 {
			return nil
		}
		if attempt == maxSessionPutAttempts {
			return fmt.Errorf("store: list a session of user %s: the list kept changing (%d attempts)", u.ID.Hex(), attempt+1)
		}
		if u, err = s.UserGet(ctx, u.ID); err != nil {
			return err
		}
	}
}

// maxSessionPutAttempts bounds UserSessionPut's retries: each one lost
// to another sign-in of the same user at the same moment.
const maxSessionPutAttempts = 100

// sessionPutUpdate is the update that lists sid as us on u's list as
// read: it drops the sessions no longer live and the least recently seen
// past maxUserSessions, and counts the change in sessionsRev.
func sessionPutUpdate(u User, sid string, us UserSession) bson.M {
	set := bson.M{"sessions." + sid: us}
	unset := bson.M{}
	live := u.LiveSessions()
	for id := range u.Sessions {
		if _, ok := live[id]; !ok && id != sid {
			unset["sessions."+id] = ""
		}
	}
	delete(live, sid)
	for len(live) >= maxUserSessions {
		oldest := ""
		for id, x := range live {
			if oldest == "" || x.LastSeen.Before(live[oldest].LastSeen) || (x.LastSeen.Equal(live[oldest].LastSeen) && id < oldest) {
				oldest = id
			}
		}
		unset["sessions."+oldest] = ""
		delete(live, oldest)
	}
	update := bson.M{"$set": set, "$inc": bson.M{"sessionsRev": 1}}
	if len(unset) > 0 {
		update["$unset"] = unset
	}
	return update
}

// UserSessionSeen records that session sid was used at at (callers do
// it at most about once a minute). An unlisted session is not an error.
func (s *Store) UserSessionSeen(ctx context.Context, id primitive.ObjectID, sid string, at time.Time) error {
	_, err := s.users.UpdateOne(ctx, bson.M{"_id": id, "sessions." + sid: bson.M{"$exists": true}},
		bson.M{"$set": bson.M{"sessions." + sid + ".lastSeen": at.UTC().Truncate(time.Millisecond)}})
	if err != nil {
		return fmt.Errorf("store: session of user %s seen: %w", id.Hex(), err)
	}
	return nil
}

// UserSessionRevoke ends the session sid of the user: it is no longer
// listed, so its next request is signed out. An unlisted session returns
// ErrNotFound.
func (s *Store) UserSessionRevoke(ctx context.Context, id primitive.ObjectID, sid string) error {
	return updateMatched(ctx, s.users, bson.M{"_id": id, "sessions." + sid: bson.M{"$exists": true}},
		bson.M{"$unset": bson.M{"sessions." + sid: ""}}, ErrNotFound, "revoke a session of user "+id.Hex())
}
