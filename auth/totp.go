package auth

import (
	"bytes"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
)

// Two-factor sign-in with time-based one-time passwords (RFC 6238): the
// defaults every authenticator app reads (SHA-1, six digits, 30-second
// steps), a 160-bit secret, and a code accepted for the current step or
// one step either side (clock drift). The library is
// github.com/pquerna/otp: the most used Go implementation of RFC 4226 and
// 6238, small, comparing codes in constant time, and able to draw the QR
// code itself (through github.com/boombuler/barcode), so no image or
// JavaScript library is needed. Which step a code matched is worked out
// here, so that a code is accepted once (see TOTPMatch).

// TOTPPeriod is the length of a time step.
const TOTPPeriod = 30 * time.Second

// RecoveryCodeCount is how many one-time recovery codes a user gets.
const RecoveryCodeCount = 10

// TOTPKey is a new secret with its otpauth:// URL (what the QR code
// holds).
type TOTPKey struct {
	Secret string
	URL    string
}

// NewTOTPKey makes a random secret for account (an email) at issuer.
func NewTOTPKey(issuer, account string) (TOTPKey, error) {
	k, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: account, SecretSize: 20})
	if err != nil {
		return TOTPKey{}, fmt.Errorf("auth: new TOTP key: %w", err)
	}
	return TOTPKey{Secret: k.Secret(), URL: k.URL()}, nil
}

// TOTPQRCode draws the key's URL as a QR code, as a data: URL of a PNG
// (the page's Content-Security-Policy allows data: images, nothing
// else from elsewhere).
func TOTPQRCode(keyURL string, size int) (string, error) {
	k, err := otp.NewKeyFromURL(keyURL)
	if err != nil {
		return "", fmt.Errorf("auth: QR code: %w", err)
	}
	img, err := k.Image(size, size)
	if err != nil {
		return "", fmt.Errorf("auth: QR code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", fmt.Errorf("auth: QR code: %w", err)
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// TOTPStep is the time step that at falls in.
func TOTPStep(at time.Time) int64 { return at.Unix() / int64(TOTPPeriod/time.Second) }

// TOTPMatch reports the time step for which code is secret's code, trying
// the step of now, then the one before and the one after. A code is six
// digits; spaces in it are ignored. The caller accepts the code only if
// the step is later than the last one accepted, so each code works once.
func TOTPMatch(secret, code string, now time.Time) (step int64, ok bool) {
	code = strings.ReplaceAll(code, " ", "")
	if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
		return 0, false
	}
	cur := TOTPStep(now)
	for _, s := range []int64{cur, cur - 1, cur + 1} {
		valid, err := hotp.ValidateCustom(code, uint64(s), secret, hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err == nil && valid {
			return s, true
		}
	}
	return 0, false
}

// TOTPCode is secret's code at step (for tests and tools).
func TOTPCode(secret string, step int64) (string, error) {
	return hotp.GenerateCodeCustom(secret, uint64(step), hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
}

// recoveryAlphabet is Crockford's base32, lower case: no i, l, o or u, so
// a code read aloud or copied by hand is not mistaken.
const recoveryAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

var recoveryEncoding = base32.NewEncoding(recoveryAlphabet).WithPadding(base32.NoPadding)

// NewRecoveryCodes makes n one-time recovery codes of 80 random bits
// each, written "xxxx-xxxx-xxxx-xxxx".
func NewRecoveryCodes(n int) []string {
	codes := make([]string, n)
	for i := range codes {
		b := make([]byte, 10)
		_, _ = rand.Read(b) // crypto/rand.Read never fails
		s := recoveryEncoding.EncodeToString(b)
		codes[i] = s[0:4] + "-" + s[4:8] + "-" + s[8:12] + "-" + s[12:16]
	}
	return codes
}

// NormalizeRecoveryCode is a typed recovery code in the form the codes
// are made in: lower case, grouped by dashes, spaces dropped, o read as
// 0 and i or l as 1; "" when it cannot be one.
func NormalizeRecoveryCode(s string) string {
	s = strings.NewReplacer(" ", "", "-", "", "o", "0", "i", "1", "l", "1").Replace(strings.ToLower(s))
	if len(s) != 16 || strings.Trim(s, recoveryAlphabet) != "" {
		return ""
	}
	return s[0:4] + "-" + s[4:8] + "-" + s[8:12] + "-" + s[12:16]
}
