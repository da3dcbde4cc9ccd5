package auth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"loandesk/clock"
)

// SignInLimits say how many wrong secrets (passwords, codes) are checked
// before a sign-in is slowed or refused. Only failures count: a correct
// password never uses up anything, so an office behind one address can
// sign in as often as it likes. Each step (password, code) is counted on
// its own.
//
//   - From a known device (a browser with a device cookie the account's
//     own, see device.go): the first FreeFailures wrong secrets are free;
//     after that each further attempt from the device waits FirstDelay,
//     doubling per failure up to MaxDelay. Nothing else limits it — not
//     the account's ceiling, not its address — so guessing from
//     elsewhere never locks the owner out of a browser they signed in on.
//     The count is forgotten Window after its last failure, or at once
//     when a sign-in on the device succeeds. A device is known for
//     DeviceFor after its last whole sign-in.
//   - From any other browser (an unknown one):
//   - per account and client address (a "pair"): the same free failures
//     and delays as a device;
//   - per account: at most AccountCeiling failures in any Window, from
//     all unknown browsers together. A guesser rotating addresses is
//     stopped there;
//   - per address: at most AddressCeiling failures in any Window (one
//     address trying many accounts).
type SignInLimits struct {
	FreeFailures   int
	FirstDelay     time.Duration
	MaxDelay       time.Duration
	AccountCeiling int
	AddressCeiling int
	Window         time.Duration
	DeviceFor      time.Duration
}

// DefaultSignInLimits: five typos free, then 30 s, 1, 2, 4, 8 and at most
// 15 minutes between attempts; at most 100 failures an hour per account
// from unknown browsers and 100 an hour per address; a browser stays a
// known device for 90 days after its last sign-in.
var DefaultSignInLimits = SignInLimits{
	FreeFailures:   5,
	FirstDelay:     30 * time.Second,
	MaxDelay:       15 * time.Minute,
	AccountCeiling: 100,
	AddressCeiling: 100,
	Window:         time.Hour,
	DeviceFor:      90 * 24 * time.Hour,
}

// Delay is how long a pair with failures failed attempts waits after its
// last failure before it may try again.
func (l SignInLimits) Delay(failures int) time.Duration {
	if failures < l.FreeFailures || l.FirstDelay <= 0 {
		return 0
	}
	d := l.FirstDelay
	for range failures - l.FreeFailures {
		if d >= l.MaxDelay {
			break
		}
		d *= 2
	}
	return min(d, l.MaxDelay)
}

// Counter is a stored count: n, the time of its last change and when it
// is forgotten.
type Counter struct {
	ID        string
	N         int
	Last      time.Time
	ExpiresAt time.Time
}

// CounterStore keeps the sign-in counters where every server instance
// sees them (the database).
type CounterStore interface {
	// LoginCounterAdd adds delta to the counter id (creating it at 0),
	// sets its last change to last and its expiry to at least expiresAt,
	// and returns it.
	LoginCounterAdd(ctx context.Context, id string, delta int, last, expiresAt time.Time) (Counter, error)
	// LoginCounters returns those of ids that exist and expire after now.
	LoginCounters(ctx context.Context, ids []string, now time.Time) ([]Counter, error)
	// LoginCounterDelete forgets id (absent is fine).
	LoginCounterDelete(ctx context.Context, id string) error
}

// Limited is a refused attempt: try again after RetryAfter.
type Limited struct {
	RetryAfter time.Duration
	// Reason is for the log: "device", "pair", "account" or "address".
	Reason string
}

func (e *Limited) Error() string {
	return fmt.Sprintf("auth: sign-in limited (%s), retry after %s", e.Reason, e.RetryAfter)
}

// Throttle applies SignInLimits over a CounterStore.
type Throttle struct {
	Store  CounterStore
	Limits SignInLimits
	Clock  clock.Func
}

// ceilingBuckets split Window for the ceilings: a count is kept per
// Window/ceilingBuckets, and the ceiling is checked over ceilingBuckets+1
// buckets, which cover any Window-long stretch of time, so at most the
// ceiling fails in any hour, not only in each clock hour.
const ceilingBuckets = 6

// Step is which secret a sign-in attempt checks: each step has its own
// per-pair (and per-device) count, so a right password followed by wrong
// codes is judged as guessing codes, and the codes get their own free
// allowance.
type Step int

const (
	// StepPassword checks a password (signing in, or proving it again).
	StepPassword Step = iota
	// StepCode checks an authenticator or recovery code.
	StepCode
)

// Attempt is one attempt to check a secret of account (a normalised
// email; "" when unusable) from a client address, at step.
type Attempt struct {
	Account string
	Address string
	Step    Step
	// Device is the DeviceID of the browser's device cookie when it is
	// one of the account's devices (the caller checked), else "".
	Device string
}

// pairKey is the counter of the attempt's account and address at step.
func pairKey(step Step, account, address string) string {
	if step == StepCode {
		return "code:" + account + "|" + address
	}
	return "pair:" + account + "|" + address
}

// deviceKey is the counter of the device at step.
func deviceKey(step Step, device string) string {
	if step == StepCode {
		return "devcode:" + device
	}
	return "device:" + device
}

// Ticket is an attempt allowed to check its secret. It was counted before
// the check (so concurrent attempts cannot all pass a limit each read as
// not yet reached); report how the check went with Failed, Passed or
// Succeeded, or Abandon it.
type Ticket struct {
	t       *Throttle
	account string
	address string
	device  string
	now     time.Time
	held    []string // counters this attempt added one to, to take back
}

// Begin decides whether attempt a may check its secret, and counts it.
// A refusal is a *Limited error; it counts as nothing.
//
// The attempt is counted before the secret is checked, as the ceilings
// always were: the pair's count is read (a pair still waiting is refused
// at once), then one is added and the count after the atomic add decides
// — of forty wrong passwords at once from one pair with five free, five
// are checked and thirty-five refused. A wrong secret leaves the count
// as it is (Failed); a right one takes it back (Passed, Succeeded).
func (t *Throttle) Begin(ctx context.Context, a Attempt) (*Ticket, error) {
	now := t.Clock.Now()
	l := t.Limits
	address := AddressKey(a.Address)
	tk := &Ticket{t: t, now: now, account: a.Account, address: address}
	// A known device is counted on its own, an unknown browser by the
	// pair and the ceilings.
	key, reason := pairKey(a.Step, a.Account, address), "pair"
	if a.Device != "" && a.Account != "" {
		tk.device = a.Device
		key, reason = deviceKey(a.Step, a.Device), "device"
	}

	known, err := t.Store.LoginCounters(ctx, []string{key}, now)
	if err != nil {
		return nil, err
	}
	var before Counter // the pair's or device's count as read
	if len(known) == 1 {
		before = known[0]
	}
	if wait := before.Last.Add(l.Delay(before.N)).Sub(now); before.N > 0 && wait > 0 {
		return nil, &Limited{RetryAfter: wait, Reason: reason}
	}
	fail := func(err error) (*Ticket, error) {
		tk.release(context.WithoutCancel(ctx))
		return nil, err
	}
	if tk.device == "" {
		type ceiling struct {
			key, reason string
			max         int
		}
		for _, c := range []ceiling{{"acct:" + a.Account, "account", l.AccountCeiling}, {"addr:" + address, "address", l.AddressCeiling}} {
			if c.max <= 0 || c.reason == "account" && a.Account == "" {
				continue
			}
			wait, err := tk.reserve(ctx, c.key, c.max)
			if err != nil {
				return fail(err)
			}
			if wait > 0 {
				return fail(&Limited{RetryAfter: wait, Reason: c.reason})
			}
		}
	}
	wait, err := tk.reservePair(ctx, key, before)
	if err != nil {
		return fail(err)
	}
	if wait > 0 {
		return fail(&Limited{RetryAfter: wait, Reason: reason})
	}
	return tk, nil
}

// reservePair adds this attempt to the pair's (or device's) count
// (before is the count as Begin read it, its delay over) and returns 0 if the attempt may go
// on: when the attempts counted before it are still free, or are no more
// than Begin read (their delay is over). Otherwise attempts made at the
// same moment took the free ones: this one waits the delay their
// failures would set, counting from now.
func (tk *Ticket) reservePair(ctx context.Context, key string, before Counter) (time.Duration, error) {
	l := tk.t.Limits
	c, err := tk.t.Store.LoginCounterAdd(ctx, key, 1, tk.now, tk.now.Add(l.Window))
	if err != nil {
		return 0, err
	}
	tk.held = append(tk.held, key)
	prior := c.N - 1
	if d := l.Delay(prior); d > 0 && prior > before.N {
		return d, nil
	}
	return 0, nil
}

// reserve counts one more attempt in key's current bucket and returns 0
// if the buckets covering the last Window hold at most max, else takes
// the attempt back and returns how long until they would hold fewer.
func (tk *Ticket) reserve(ctx context.Context, key string, max int) (time.Duration, error) {
	size := tk.t.Limits.Window / ceilingBuckets
	cur := tk.now.Truncate(size)
	ids := make([]string, ceilingBuckets+1) // oldest first
	for i := range ids {
		ids[i] = fmt.Sprintf("%s|%d", key, cur.Add(-time.Duration(ceilingBuckets-i)*size).Unix())
	}
	expires := cur.Add(time.Duration(ceilingBuckets+1) * size)
	// The current bucket's count after the atomic add orders concurrent
	// attempts exactly: of eight at once with room for five, three wait.
	c, err := tk.t.Store.LoginCounterAdd(ctx, ids[ceilingBuckets], 1, tk.now, expires)
	if err != nil {
		return 0, err
	}
	tk.held = append(tk.held, ids[ceilingBuckets])
	older, err := tk.t.Store.LoginCounters(ctx, ids[:ceilingBuckets], tk.now)
	if err != nil {
		return 0, err
	}
	byID := map[string]int{ids[ceilingBuckets]: c.N}
	sum := c.N
	for _, o := range older {
		byID[o.ID] = o.N
		sum += o.N
	}
	if sum <= max {
		return 0, nil
	}
	// Wait until enough of the oldest buckets have left the window that
	// one more attempt fits (this one is taken back meanwhile).
	sum--
	at := cur.Add(size)
	for _, id := range ids {
		if sum < max {
			break
		}
		sum -= byID[id]
		at = at.Add(size)
	}
	return at.Add(-size).Sub(tk.now), nil
}

// release takes back what this attempt added.
func (tk *Ticket) release(ctx context.Context) {
	for _, id := range tk.held {
		_, _ = tk.t.Store.LoginCounterAdd(ctx, id, -1, tk.now, tk.now)
	}
	tk.held = nil
}

// Failed records a wrong secret: the attempt stays counted against the
// ceilings and in the pair's failures.
func (tk *Ticket) Failed(ctx context.Context) error {
	tk.held = nil
	return nil
}

// Passed records a right secret when signing in goes on (the password of
// a user who gives a code next, or the password proved again by a
// signed-in user): the attempt is taken back, and nothing else changes —
// failures are forgotten only once the whole sign-in has succeeded (and
// only then does the browser become a known device: the caller gives it
// its device cookie).
func (tk *Ticket) Passed(ctx context.Context) { tk.release(ctx) }

// Succeeded records a whole sign-in done (the password, and the code
// where one is asked): the attempt is taken back and the failures at
// either step are forgotten — the device's, when it came from a known
// device; else the pair's. A sign-in on a device does not forget its
// address's failures: someone else behind the same address gets no new
// free allowance from the owner's sign-in.
func (tk *Ticket) Succeeded(ctx context.Context) error {
	tk.release(ctx)
	var err error
	for _, step := range []Step{StepPassword, StepCode} {
		key := pairKey(step, tk.account, tk.address)
		if tk.device != "" {
			key = deviceKey(step, tk.device)
		}
		err = errors.Join(err, tk.t.Store.LoginCounterDelete(ctx, key))
	}
	return err
}

// Abandon takes back an attempt whose secret was never checked (a server
// error meanwhile).
func (tk *Ticket) Abandon(ctx context.Context) { tk.release(ctx) }

// AddressKey is the part of a client address that is limited as one: an
// IPv4 address, or an IPv6 address's /64 (one subscriber's network,
// within which addresses are free to rotate).
func AddressKey(addr string) string {
	ip := net.ParseIP(addr)
	if ip == nil || ip.To4() != nil {
		return addr
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}
