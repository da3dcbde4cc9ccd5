package application_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"loandesk/application"
)

// An idempotency key is at most 255 printable ASCII characters (space to
// tilde, both included).
func TestService_CreateIdempotencyKeyLimits(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for i, tc := range []struct {
		key string
		ok  bool
	}{
		{strings.Repeat("k", 255), true},
		{strings.Repeat("k", 256), false},
		{"a key ~ with spaces", true},
		{" ", true},
		{"~", true},
		{"tab\there", false},
		{"\x1f", false},
		{"del\x7f", false},
		{"é", false},
	} {
		pan := "ABCPK" + string(rune('0'+i)) + "000K" // a PAN per case: no duplicate flags to read around
		_, err := b.svc.Create(context.Background(), application.CreateRequest{Actor: uw, Fields: aPersonalLoan(pan), IdempotencyKey: tc.key})
		var inv *application.Invalid
		refused := errors.As(err, &inv) && inv.Fields["idempotencyKey"].Code == application.CodeInvalidFormat
		if tc.ok && err != nil || !tc.ok && !refused {
			t.Errorf("key %q: %v, want accepted %v", tc.key, err, tc.ok)
		}
	}
}
