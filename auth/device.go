package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// Device cookies (OWASP, "Slow Down Online Guessing Attacks with Device
// Cookies"): every whole sign-in gives the browser a new random token
// naming it as a device of that user; the user's record keeps only the
// token's DeviceID. An attempt that brings a token valid for the account
// is judged by that device's own count alone (Attempt.Device), never by
// the account's ceiling or its address, so guessing from elsewhere
// cannot lock the owner out of a browser they have signed in on.

// MaxDeviceTokens is how many tokens one browser's cookie holds: one per
// account that signed in on it lately (a branch's shared desk), the
// newest first.
const MaxDeviceTokens = 4

// deviceTokenLen is the length of a token: 32 random bytes, unpadded
// base64url.
const deviceTokenLen = 43

// NewDeviceToken returns a new random device token.
func NewDeviceToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DeviceID is how a device token is stored and counted: its SHA-256 in
// hex. Tokens are 256 random bits, so a fast hash is enough, and a copy
// of the database hands out no working token.
func DeviceID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// ParseDeviceCookie returns the well-formed tokens of a device cookie's
// value (tokens joined by "."), at most MaxDeviceTokens, in order.
func ParseDeviceCookie(value string) []string {
	var out []string
	for tok := range strings.SplitSeq(value, ".") {
		if len(out) == MaxDeviceTokens {
			break
		}
		if len(tok) == deviceTokenLen && strings.Trim(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == "" {
			out = append(out, tok)
		}
	}
	return out
}

// DeviceCookieValue is the cookie value holding tokens: fresh first, then
// the others in order, without repeats, at most MaxDeviceTokens.
func DeviceCookieValue(fresh string, others []string) string {
	out := []string{fresh}
	for _, t := range others {
		if len(out) == MaxDeviceTokens {
			break
		}
		if t != fresh {
			out = append(out, t)
		}
	}
	return strings.Join(out, ".")
}
