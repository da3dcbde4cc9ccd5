// Package clock is the time source code takes instead of calling
// time.Now, so tests can move time rather than sleep. Production passes
// time.Now; tests pass a *Manual's Now.
package clock

import (
	"sync"
	"time"
)

// Func returns the current time. A nil Func means time.Now.
type Func func() time.Time

// Now returns f's time, or the wall clock when f is nil.
func (f Func) Now() time.Time {
	if f == nil {
		return time.Now()
	}
	return f()
}

// Manual is a clock that moves only when told. It is safe for
// concurrent use.
type Manual struct {
	mu sync.Mutex
	t  time.Time
}

// NewManual returns a clock standing at t.
func NewManual(t time.Time) *Manual { return &Manual{t: t} }

// Now returns the clock's time.
func (m *Manual) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.t
}

// Advance moves the clock forward by d.
func (m *Manual) Advance(d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.t = m.t.Add(d)
}

// Set moves the clock to t.
func (m *Manual) Set(t time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.t = t
}
