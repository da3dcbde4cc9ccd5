package application_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"loandesk/application"
	"loandesk/model"
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

// A third application with a PAN two open ones have flags both, and each
// of them gets a flag naming the third.
func TestService_CreateFlagsEveryOpenApplicationWithThePAN(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	var ids []string
	for range 3 {
		res, err := b.svc.Create(ctx, application.CreateRequest{Actor: uw, Fields: aPersonalLoan("ABCPQ4321Z")})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.Loan.HumanID)
	}
	others := func(id string) []string {
		l, err := b.st.LoanGet(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, f := range l.Flags {
			if f.Code == model.FlagDuplicatePAN {
				out = append(out, f.OtherLoan)
			}
		}
		slices.Sort(out)
		return out
	}
	for i, want := range [][]string{{ids[1], ids[2]}, {ids[0], ids[2]}, {ids[0], ids[1]}} {
		if got := others(ids[i]); !slices.Equal(got, want) {
			t.Errorf("%s is flagged with %v, want %v", ids[i], got, want)
		}
	}
}
