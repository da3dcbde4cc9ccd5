package auth

import (
	"strings"
	"testing"
)

func TestValidatePassword(t *testing.T) {
	t.Parallel()
	for pw, ok := range map[string]bool{
		"":                         false,
		"elevenchars":              false,
		"twelve chars":             true,
		strings.Repeat("é", 12):    true, // characters, not bytes
		strings.Repeat("x", 128):   true,
		strings.Repeat("x", 129):   false,
		"bad utf8 \xff\xfe\xfd xx": false,
	} {
		if err := ValidatePassword(pw); (err == nil) != ok {
			t.Errorf("ValidatePassword(%.20q) = %v, want ok=%v", pw, err, ok)
		}
	}
}

func TestHasher(t *testing.T) {
	t.Parallel()
	h := NewHasher(4)

	t.Run("EveryCharacterCountsBeyondBcrypts72Bytes", func(t *testing.T) {
		t.Parallel()
		long := strings.Repeat("a", 100)
		hash, err := h.Hash(long + "1")
		if err != nil {
			t.Fatal(err)
		}
		if !h.Check(hash, long+"1") {
			t.Fatal("the right password was refused")
		}
		if h.Check(hash, long+"2") {
			t.Fatal("a password differing after byte 72 was accepted")
		}
	})

	t.Run("UnknownUserNeverMatches", func(t *testing.T) {
		t.Parallel()
		if h.Check(nil, "no such user") || h.Check(nil, "") {
			t.Fatal("a nil hash matched")
		}
	})

	t.Run("NeedsRehashWhenCostChanges", func(t *testing.T) {
		t.Parallel()
		hash, _ := h.Hash("some password")
		if h.NeedsRehash(hash) || !NewHasher(5).NeedsRehash(hash) || !h.NeedsRehash([]byte("garbage")) {
			t.Fatal("NeedsRehash is wrong")
		}
	})

	t.Run("RandomPasswordsPassThePolicyAndDiffer", func(t *testing.T) {
		t.Parallel()
		a, b := RandomPassword(), RandomPassword()
		if a == b || ValidatePassword(a) != nil {
			t.Fatalf("%q, %q", a, b)
		}
	})
}
