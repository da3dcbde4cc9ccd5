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
