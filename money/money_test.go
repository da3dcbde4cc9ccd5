package money

import "testing"

func TestFormatINR(t *testing.T) {
	t.Parallel()
	cases := []struct {
		paise int64
		want  string
	}{
		{0, "₹0"},
		{100, "₹1"},
		{99, "₹0.99"},
		{123456, "₹1,234.56"},
		{123456700, "₹12,34,567"},
		{100000000000, "₹1,00,00,00,000"},
		{-250050, "-₹2,500.50"},
	}
	for _, c := range cases {
		if got := FormatINR(c.paise); got != c.want {
			t.Errorf("FormatINR(%d) = %q, want %q", c.paise, got, c.want)
		}
	}
}

func TestParseRupees(t *testing.T) {
	good := map[string]int64{
		"150000": 15000000, "1,50,000": 15000000, "₹ 2,500.75": 250075, "2500.5": 250050, " 0 ": 0, "0.01": 1,
	}
	for in, want := range good {
		got, err := ParseRupees(in)
		if err != nil || got != want {
			t.Errorf("ParseRupees(%q) = %d, %v; want %d", in, got, err, want)
		}
		if err == nil && in != " 0 " {
			if back, _ := ParseRupees(FormatRupees(got)); back != got {
				t.Errorf("FormatRupees(%d) does not parse back", got)
			}
		}
	}
	for _, in := range []string{"", "-5", "+5", "1.234", "1.", ".5", "1e5", "abc", "12 34", "99999999999999", "0x10", "１２"} {
		if _, err := ParseRupees(in); err == nil {
			t.Errorf("ParseRupees(%q) accepted", in)
		}
	}
}
