package store

import (
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

// staffCache holds the last UserListByRole answer for one set of roles.
type staffCache struct {
	mu    sync.Mutex
	roles []string
	users []User
	at    time.Time // when users was read; zero: nothing held
	gen   uint64    // bumped by forget, so a read that raced a change is not kept
}

// get returns a copy of the held list for roles if it is younger than
// staffCacheFor at now, and the generation to pass to put.
func (c *staffCache) get(roles []string, now time.Time) ([]User, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at.IsZero() || now.Sub(c.at) >= staffCacheFor || now.Before(c.at) || !slices.Equal(c.roles, roles) {
		return nil, c.gen, false
	}
	return slices.Clone(c.users), c.gen, true
}

// put keeps users, read at at for roles, unless forget ran since the
// generation gen was handed out.
func (c *staffCache) put(roles []string, users []User, at time.Time, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	c.roles, c.users, c.at = slices.Clone(roles), slices.Clone(users), at
}

// forget drops the held list: this process changed a user.
func (c *staffCache) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.users, c.at = nil, time.Time{}
}
