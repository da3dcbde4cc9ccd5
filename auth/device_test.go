package auth

import (
	"strings"
	"testing"
)

// A device cookie holds at most MaxDeviceTokens well-formed tokens, the
// fresh one first; anything else in it is ignored.
func TestDeviceCookie(t *testing.T) {
	t.Parallel()
	a, b, c, d, e := NewDeviceToken(), NewDeviceToken(), NewDeviceToken(), NewDeviceToken(), NewDeviceToken()
	if len(a) != deviceTokenLen || a == b || len(DeviceID(a)) != 64 || DeviceID(a) == DeviceID(b) {
		t.Fatalf("tokens %q %q, ids %q %q", a, b, DeviceID(a), DeviceID(b))
	}
	v := DeviceCookieValue(e, []string{a, e, b, c, d})
	if want := strings.Join([]string{e, a, b, c}, "."); v != want {
		t.Fatalf("value %q, want %q", v, want)
	}
	for value, want := range map[string][]string{
		v:                                  {e, a, b, c},
		a + ".." + "short." + a[:42] + "!": {a},
		a + "." + strings.Repeat("x", 44):  {a},
		strings.Replace(a, a[:1], "+", 1):  nil,
		"":                                 nil,
		strings.Join([]string{a, b, c, d, e}, "."): {a, b, c, d},
	} {
		got := ParseDeviceCookie(value)
		if strings.Join(got, ".") != strings.Join(want, ".") {
			t.Errorf("ParseDeviceCookie(%.60q) = %v, want %v", value, got, want)
		}
	}
}
