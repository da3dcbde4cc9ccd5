package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// Password length limits, counted in characters.
const (
	MinPasswordLen = 12
	MaxPasswordLen = 128
	// MinCost is the lowest bcrypt cost the server accepts in production.
	MinCost = 12
)

// ValidatePassword checks the password policy and returns a message fit
// to show next to the field, or nil.
func ValidatePassword(pw string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case !utf8.ValidString(pw):
		return errors.New("Password contains invalid characters.")
	case n < MinPasswordLen:
		return fmt.Errorf("Password must be at least %d characters.", MinPasswordLen)
	case n > MaxPasswordLen:
		return fmt.Errorf("Password must be at most %d characters.", MaxPasswordLen)
	}
	return nil
}

// Hasher hashes and checks passwords with bcrypt at a fixed cost.
//
// bcrypt reads only the first 72 bytes of its input and Go's bcrypt refuses
// longer ones, while our policy allows 128 characters (up to 512 bytes).
// So the password is first reduced with SHA-256 and base64-encoded
// (44 bytes, no NUL bytes): every character counts and no input is refused.
type Hasher struct {
	Cost int

	dummyOnce sync.Once
	dummy     []byte
}

// NewHasher returns a Hasher at cost.
func NewHasher(cost int) *Hasher { return &Hasher{Cost: cost} }

func prehash(pw string) []byte {
	sum := sha256.Sum256([]byte(pw))
	out := make([]byte, base64.StdEncoding.EncodedLen(len(sum)))
	base64.StdEncoding.Encode(out, sum[:])
	return out
}

// Hash returns the bcrypt hash of pw.
func (h *Hasher) Hash(pw string) ([]byte, error) {
	hash, err := bcrypt.GenerateFromPassword(prehash(pw), h.Cost)
	if err != nil {
		return nil, fmt.Errorf("auth: hash password: %w", err)
	}
	return hash, nil
}

// Check reports whether pw matches hash. A nil hash (unknown user) still
// spends one bcrypt comparison, so response time does not reveal whether
// an email is registered.
func (h *Hasher) Check(hash []byte, pw string) bool {
	if hash == nil {
		h.dummyOnce.Do(func() {
			h.dummy, _ = bcrypt.GenerateFromPassword([]byte("no such user"), h.Cost)
		})
		_ = bcrypt.CompareHashAndPassword(h.dummy, prehash(pw))
		return false
	}
	return bcrypt.CompareHashAndPassword(hash, prehash(pw)) == nil
}

// NeedsRehash reports whether hash was made at another cost than h's.
func (h *Hasher) NeedsRehash(hash []byte) bool {
	cost, err := bcrypt.Cost(hash)
	return err != nil || cost != h.Cost
}

// RandomPassword returns a random 26-character password (130 bits) for
// a bootstrap account.
func RandomPassword() string { return rand.Text() }
