package store

import (
	"iter"
	"slices"
	"sync"
	"time"
)

// staffCacheFor is how long a list of staff users read from the database
// is answered again without reading: every list and loan page shows the
// assignee choices, and reading 100 staff users was 5 % of the server's
// CPU under load. This process forgets its list at once when it changes
// a user's role, name or activation (staffCache.forget); another process
// sharing the database (MONGO_URI) sees such a change within this time.
// The choices are only what a form offers: assigning re-reads the staff
// (StaffEmails) and refuses a user who is no longer one.
const staffCacheFor = 2 * time.Second

// StaffDirectory is a read-only list of users, as UserListByRole reads
// them (in e-mail order, without password hashes, second factors,
// sessions or devices), shared by every request for staffCacheFor: a
// list or loan page asks it for the assignee choices and for the names
// of the people in its history several times, and copying 100 users for
// each ask was 17 % of the bytes the server allocated under load. Nothing
// handed out can change it: Users yields copies. A nil directory is
// empty.
type StaffDirectory struct {
	users []User
	names map[string]string // e-mail → name, for users with a name
}

func newStaffDirectory(users []User) *StaffDirectory {
	d := &StaffDirectory{users: users, names: make(map[string]string, len(users))}
	for _, u := range users {
		if u.Name != "" {
			d.names[u.Email] = u.Name
		}
	}
	return d
}

// Users yields a copy of each user, in e-mail order.
func (d *StaffDirectory) Users() iter.Seq[User] {
	return func(yield func(User) bool) {
		if d == nil {
			return
		}
		for _, u := range d.users {
			if !yield(u) {
				return
			}
		}
	}
}

// Name is the name of the user with e-mail email; "" when no user listed
// has that e-mail or the user has no name.
func (d *StaffDirectory) Name(email string) string {
	if d == nil {
		return ""
	}
	return d.names[email]
}

// Has reports whether a user with e-mail email is listed.
func (d *StaffDirectory) Has(email string) bool {
	if d == nil {
		return false
	}
	for _, u := range d.users {
		if u.Email == email {
			return true
		}
	}
	return false
}

// staffCache holds the last UserListByRole answer for one set of roles.
type staffCache struct {
	mu    sync.Mutex
	roles []string
	dir   *StaffDirectory
	at    time.Time // when dir was read; zero: nothing held
	gen   uint64    // bumped by forget, so a read that raced a change is not kept
}

// get returns the held directory for roles if it is younger than
// staffCacheFor at now, and the generation to pass to put.
func (c *staffCache) get(roles []string, now time.Time) (*StaffDirectory, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at.IsZero() || now.Sub(c.at) >= staffCacheFor || now.Before(c.at) || !slices.Equal(c.roles, roles) {
		return nil, c.gen, false
	}
	return c.dir, c.gen, true
}

// put keeps dir, read at at for roles, unless forget ran since the
// generation gen was handed out.
func (c *staffCache) put(roles []string, dir *StaffDirectory, at time.Time, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	c.roles, c.dir, c.at = slices.Clone(roles), dir, at
}

// forget drops the held list: this process changed a user.
func (c *staffCache) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.dir, c.at = nil, time.Time{}
}
