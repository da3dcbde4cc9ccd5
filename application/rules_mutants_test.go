package application

import (
	"testing"
	"time"
)

// A tenure of 0 months (or less) has no EMI, at any rate: it must not
// divide by the zero (aⁿ − bⁿ) of n = 0, nor by 0 months at 0 %.
func TestEMI_NoTenureNoAmount(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		amount      int64
		months, bps int
	}{
		{1_00_000_00, 0, 1000}, {1_00_000_00, 0, 0}, {1_00_000_00, -1, 1000}, {-1, 12, 1000}, {0, 12, 0},
	} {
		if got := EMI(tc.amount, tc.months, tc.bps); got != 0 {
			t.Errorf("EMI(%d, %d, %d) = %d, want 0", tc.amount, tc.months, tc.bps, got)
		}
	}
	// One month: the amount plus a month's interest (₹1,00,000 at 12 %:
	// ₹1,01,000.00), and at 0 % the amount itself.
	if got := EMI(1_00_000_00, 1, 1200); got != 1_01_000_00 {
		t.Errorf("EMI over 1 month = %d, want 10100000", got)
	}
	if got := EMI(1_00_000_01, 1, 0); got != 1_00_000_01 {
		t.Errorf("EMI over 1 month at 0 %% = %d, want 10000001", got)
	}
}

// The applicant's age at application is 18 to 100 whole years on the
// day, both included; a PAN is exactly five letters, four digits and a
// letter.
func TestNormalize_AgeAndPANLimits(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	dob, _ := FieldByKey("dateOfBirth")
	for in, ok := range map[string]bool{
		"2008-11-25": true,  // 18 today
		"2008-11-26": false, // 18 tomorrow: 17
		"2009-11-25": false, // 17
		"1926-11-25": true,  // 100 today
		"1925-11-26": true,  // 100 (101 tomorrow)
		"1925-11-25": false, // 101 today
	} {
		if _, p := dob.Normalize(in, now); (p == nil) != ok {
			t.Errorf("date of birth %s on %s: problem %v, want accepted %v", in, now.Format(time.DateOnly), p, ok)
		}
	}
	pan, _ := FieldByKey("pan")
	for in, ok := range map[string]bool{
		"ABCDE1234F":  true,
		"ABCDE123F":   false, // 9 characters: three digits
		"ABCDE12345F": false, // five digits
		"ABCD1234F":   false, // four letters
		"ABCDEF1234F": false, // six letters
		"ABCDE1234":   false, // no last letter
		"ABCDE12341":  false, // a digit last
		" ABCDE1234F": true,  // spaces are trimmed
		"ABCDE1234FG": false,
	} {
		if _, p := pan.Normalize(in, now); (p == nil) != ok {
			t.Errorf("PAN %q: problem %v, want accepted %v", in, p, ok)
		}
	}
}

// Without UNDERWRITER_APPROVAL_LIMIT or DUAL_APPROVAL_ABOVE, underwriters
// approve up to ₹25,00,000 and a second approver is needed above it.
func TestDefaultPolicy_Limits(t *testing.T) {
	t.Parallel()
	if DefaultPolicy.UnderwriterApprovalLimit != 25_00_000_00 || DefaultPolicy.DualApprovalAbove != 25_00_000_00 {
		t.Fatalf("DefaultPolicy = %+v, want both limits 250000000 paise", DefaultPolicy)
	}
	if DefaultCreditPolicy.ApproveFrom != 70 || DefaultCreditPolicy.Version != "2026-12" {
		t.Fatalf("DefaultCreditPolicy approves from %d (version %q)", DefaultCreditPolicy.ApproveFrom, DefaultCreditPolicy.Version)
	}
}
