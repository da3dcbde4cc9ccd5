package auth

import (
	"strings"
	"testing"
	"time"
)

func TestTOTPMatch(t *testing.T) {
	t.Parallel()
	key, err := NewTOTPKey("Loan Desk", "asha@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(key.URL, "otpauth://totp/Loan%20Desk:asha@example.com?") || len(key.Secret) != 32 {
		t.Fatalf("key %+v", key)
	}
	now := time.Date(2026, 12, 1, 10, 0, 15, 0, time.UTC)
	step := TOTPStep(now)
	for _, tc := range []struct {
		name   string
		offset int64
		ok     bool
	}{{"current", 0, true}, {"previous", -1, true}, {"next", 1, true}, {"two back", -2, false}, {"two ahead", 2, false}} {
		code, err := TOTPCode(key.Secret, step+tc.offset)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := TOTPMatch(key.Secret, code[:3]+" "+code[3:], now)
		if ok != tc.ok || (ok && got != step+tc.offset) {
			t.Errorf("%s: step %d ok %v, want step %d ok %v", tc.name, got, ok, step+tc.offset, tc.ok)
		}
	}
	for _, bad := range []string{"", "12345", "1234567", "abcdef", "12345a"} {
		if _, ok := TOTPMatch(key.Secret, bad, now); ok {
			t.Errorf("%q matched", bad)
		}
	}
	// RFC 6238's SHA-1 test vector: 59 s after the epoch, "12345678901234567890".
	if code, _ := TOTPCode("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", TOTPStep(time.Unix(59, 0))); code != "287082" {
		t.Fatalf("RFC 6238 vector: %s, want 287082", code)
	}
}

func TestRecoveryCodes(t *testing.T) {
	t.Parallel()
	codes := NewRecoveryCodes(RecoveryCodeCount)
	seen := map[string]bool{}
	for _, c := range codes {
		if len(c) != 19 || NormalizeRecoveryCode(c) != c || seen[c] {
			t.Fatalf("code %q: malformed, not normal or repeated", c)
		}
		seen[c] = true
		typed := strings.ToUpper(strings.ReplaceAll(c, "-", " "))
		if NormalizeRecoveryCode(typed) != c {
			t.Errorf("typed %q reads as %q, want %q", typed, NormalizeRecoveryCode(typed), c)
		}
	}
	if NormalizeRecoveryCode("OIL0-0000-0000-0000") != "0110-0000-0000-0000" {
		t.Error("o, i and l are not read as 0, 1, 1")
	}
	for _, bad := range []string{"", "123456", "0000-0000-0000-000u", "0000-0000-0000-00000"} {
		if got := NormalizeRecoveryCode(bad); got != "" {
			t.Errorf("%q read as %q", bad, got)
		}
	}
}

func TestTOTPQRCode(t *testing.T) {
	t.Parallel()
	key, _ := NewTOTPKey("Loan Desk", "asha@example.com")
	qr, err := TOTPQRCode(key.URL, 200)
	if err != nil || !strings.HasPrefix(qr, "data:image/png;base64,iVBOR") {
		t.Fatalf("QR %.40s, %v", qr, err)
	}
}
