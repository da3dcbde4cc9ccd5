package auth

import (
	"testing"
	"time"
)

func TestSignInLimits_Delay(t *testing.T) {
	t.Parallel()
	l := SignInLimits{FreeFailures: 2, FirstDelay: 10 * time.Second, MaxDelay: 35 * time.Second}
	for n, want := range map[int]time.Duration{0: 0, 1: 0, 2: 10 * time.Second, 3: 20 * time.Second, 4: 35 * time.Second, 1000: 35 * time.Second} {
		if got := l.Delay(n); got != want {
			t.Errorf("Delay(%d) = %s, want %s", n, got, want)
		}
	}
	if (SignInLimits{FreeFailures: 1}).Delay(5) != 0 {
		t.Error("no FirstDelay should mean no delay")
	}
}

// A delay that has reached its maximum is not doubled again: with a
// maximum of 2^62 ns (146 years) one more doubling would wrap to a
// negative duration, and then to no delay at all.
func TestSignInLimits_DelayStopsAtTheMaximum(t *testing.T) {
	t.Parallel()
	l := SignInLimits{FreeFailures: 0, FirstDelay: 1 << 62, MaxDelay: 1 << 62}
	for _, n := range []int{0, 1, 2, 3} {
		if got := l.Delay(n); got != 1<<62 {
			t.Errorf("Delay(%d) = %d, want %d", n, got, time.Duration(1<<62))
		}
	}
}

func TestAddressKey(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"203.0.113.7":          "203.0.113.7",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1": "2001:db8:1:2::/64",
		"::ffff:203.0.113.7":   "::ffff:203.0.113.7",
		"not an address":       "not an address",
	} {
		if got := AddressKey(in); got != want {
			t.Errorf("AddressKey(%q) = %q, want %q", in, got, want)
		}
	}
}
