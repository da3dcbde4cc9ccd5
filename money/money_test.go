package money

import (
	"errors"
	"math"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestFormatINR(t *testing.T) {
	t.Parallel()
	cases := []struct {
		paise int64
		want  string
	}{
		{0, "₹0"},
		{1, "₹0.01"},
		{5, "₹0.05"},
		{10, "₹0.10"},
		{99, "₹0.99"},
		{100, "₹1"},
		{1001, "₹10.01"},
		{1010, "₹10.10"},
		{99999, "₹999.99"},
		{100000, "₹1,000"},
		{123456, "₹1,234.56"},
		{1000000, "₹10,000"},
		{10000000, "₹1,00,000"},
		{123456700, "₹12,34,567"},
		{123456750, "₹12,34,567.50"},
		{1000000000, "₹1,00,00,000"},
		{100000000000, "₹1,00,00,00,000"},
		{MaxParsePaise, "₹99,99,99,99,99,999.99"},
		{math.MaxInt64, "₹92,23,37,20,36,85,47,758.07"},
		{-1, "-₹0.01"},
		{-5, "-₹0.05"},
		{-100, "-₹1"},
		{-250050, "-₹2,500.50"},
		{-123456700, "-₹12,34,567"},
		{math.MinInt64 + 1, "-₹92,23,37,20,36,85,47,758.07"},
		{math.MinInt64, "-₹92,23,37,20,36,85,47,758.08"},
	}
	for _, c := range cases {
		if got := FormatINR(c.paise); got != c.want {
			t.Errorf("FormatINR(%d) = %q, want %q", c.paise, got, c.want)
		}
	}
}

func TestFormatRupees(t *testing.T) {
	t.Parallel()
	cases := []struct {
		paise int64
		want  string
	}{
		{0, "0"},
		{1, "0.01"},
		{5, "0.05"},
		{50, "0.50"},
		{100, "1"},
		{1001, "10.01"},
		{1010, "10.10"},
		{250075, "2500.75"},
		{15000000, "150000"},
		{MaxParsePaise, "9999999999999.99"},
		{math.MaxInt64, "92233720368547758.07"},
		{-1, "-0.01"},
		{-5, "-0.05"},
		{-50, "-0.50"},
		{-100, "-1"},
		{-250075, "-2500.75"},
		{-15000000, "-150000"},
		{math.MinInt64, "-92233720368547758.08"},
	}
	for _, c := range cases {
		if got := FormatRupees(c.paise); got != c.want {
			t.Errorf("FormatRupees(%d) = %q, want %q", c.paise, got, c.want)
		}
	}
}

func TestParseRupees(t *testing.T) {
	t.Parallel()
	good := []struct {
		in   string
		want int64
	}{
		// Shapes accepted before grouping was checked, still accepted.
		{"150000", 15000000},
		{"1,50,000", 15000000},
		{"₹ 2,500.75", 250075},
		{"₹2,500.75", 250075},
		{"  ₹  2500  ", 250000},
		{"2500.5", 250050},
		{" 0 ", 0},
		{"0", 0},
		{"0.01", 1},
		{"0.1", 10},
		{"10.10", 1010},
		{"10.01", 1001},
		{"0150000", 15000000},
		// No commas: any number of digits up to the limit.
		{"1000", 100000},
		{"1234567", 123456700},
		// Exact Indian grouping.
		{"1,000", 100000},
		{"12,000", 1200000},
		{"1,00,000", 10000000},
		{"10,00,000", 100000000},
		{"12,34,567", 123456700},
		{"12,34,567.50", 123456750},
		{"1,00,00,000", 1000000000},
		{"₹ 1,00,00,00,000", 100000000000},
		// Exact international grouping.
		{"100,000", 10000000},
		{"999,999", 99999900},
		{"1,234,567", 123456700},
		{"1,234,567.89", 123456789},
		{"123,456,789", 12345678900},
		// The limit, both ways of writing it.
		{"9999999999999.99", MaxParsePaise},
		{"99,99,99,99,99,999.99", MaxParsePaise},
		{"9,999,999,999,999.99", MaxParsePaise},
		{"00000000000000000000009999999999999.99", MaxParsePaise},
	}
	for _, c := range good {
		got, err := ParseRupees(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseRupees(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}

	bad := []struct {
		in   string
		want error
	}{
		{"", ErrNotAmount},
		{"₹", ErrNotAmount},
		{"-5", ErrNotAmount},
		{"+5", ErrNotAmount},
		{"-₹5", ErrNotAmount},
		{"₹-5", ErrNotAmount},
		{"1.234", ErrNotAmount},
		{"1.", ErrNotAmount},
		{".5", ErrNotAmount},
		{"1.5.0", ErrNotAmount},
		{"1.-5", ErrNotAmount},
		{"1e5", ErrNotAmount},
		{"abc", ErrNotAmount},
		{"12 34", ErrNotAmount},
		{"1, 000", ErrNotAmount},
		{"0x10", ErrNotAmount},
		{"１２", ErrNotAmount},
		{"١٢", ErrNotAmount},
		{"5 ₹", ErrNotAmount},
		{"₹₹5", ErrNotAmount},
		{"1,000.5,0", ErrNotAmount},
		// Misplaced grouping: refused, never guessed.
		{"1,00,00", ErrGrouping},
		{"10,0000", ErrGrouping},
		{",100", ErrGrouping},
		{"100,", ErrGrouping},
		{",", ErrGrouping},
		{"1,,000", ErrGrouping},
		{"12,34,5678", ErrGrouping},
		{"1,0000,000", ErrGrouping},
		{"123,45,678", ErrGrouping},   // Indian pairs after a 3-digit head
		{"1,234,56,789", ErrGrouping}, // mixed pairs and threes
		{"12,345,67", ErrGrouping},
		{"1,00", ErrGrouping},
		{"1,0", ErrGrouping},
		{"1234,567", ErrGrouping},
		{"1,2345", ErrGrouping},
		{"1,000,00", ErrGrouping},
		{"0,500", ErrGrouping}, // decimal comma, not ₹500
		{"01,000", ErrGrouping},
		{"00,000", ErrGrouping},
		{"1,00,000.", ErrNotAmount},
		// Above the limit, and beyond int64 paise: refused, not wrapped.
		{"10000000000000", ErrTooLarge},
		{"99999999999999", ErrTooLarge},
		{"9,99,99,99,99,99,999", ErrTooLarge},
		{"10,000,000,000,000", ErrTooLarge},
		{"92233720368547758.07", ErrTooLarge},
		{"92233720368547758.08", ErrTooLarge},
		{"184467440737095516.16", ErrTooLarge}, // 2⁶⁴ paise: wraps to 0 in uint64
		{"18446744073709551616", ErrTooLarge},
		{strings.Repeat("9", 400), ErrTooLarge},
	}
	for _, c := range bad {
		got, err := ParseRupees(c.in)
		if err == nil {
			t.Errorf("ParseRupees(%q) = %d, accepted; want %v", c.in, got, c.want)
			continue
		}
		if !errors.Is(err, c.want) || !errors.Is(err, ErrNotAmount) {
			t.Errorf("ParseRupees(%q) error %v; want %v", c.in, err, c.want)
		}
		if c.want == ErrNotAmount && (errors.Is(err, ErrGrouping) || errors.Is(err, ErrTooLarge)) {
			t.Errorf("ParseRupees(%q) error %v; want plain %v", c.in, err, c.want)
		}
		if got != 0 {
			t.Errorf("ParseRupees(%q) returned %d with its error", c.in, got)
		}
	}
}

// roundTrip checks that both formats of p read back as p.
func roundTrip(t *testing.T, p int64) {
	t.Helper()
	if got, err := ParseRupees(FormatRupees(p)); err != nil || got != p {
		t.Fatalf("ParseRupees(FormatRupees(%d) = %q) = %d, %v", p, FormatRupees(p), got, err)
	}
	inr := strings.TrimPrefix(FormatINR(p), "₹")
	if got, err := ParseRupees(inr); err != nil || got != p {
		t.Fatalf("ParseRupees(%q from FormatINR(%d)) = %d, %v", inr, p, got, err)
	}
	if got, err := ParseRupees(FormatINR(p)); err != nil || got != p {
		t.Fatalf("ParseRupees(FormatINR(%d) = %q) = %d, %v", p, FormatINR(p), got, err)
	}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for _, p := range []int64{0, 1, 9, 10, 99, 100, 101, 1001, 1010, 99999, 100000, 10000000, MaxParsePaise - 1, MaxParsePaise} {
		roundTrip(t, p)
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, seed>>1))
	for range 100_000 {
		// Spread over every magnitude, not only the top one or two.
		limit := int64(math.Pow10(1 + r.IntN(15)))
		roundTrip(t, r.Int64N(min(limit, MaxParsePaise+1)))
	}
}

// The grouping rules restated as regular expressions: an oracle independent
// of the hand-written checks.
var (
	plainRupees = regexp.MustCompile(`^[0-9]+$`)
	indianRupee = regexp.MustCompile(`^[1-9][0-9]?(,[0-9]{2})*,[0-9]{3}$`)
	interRupees = regexp.MustCompile(`^[1-9][0-9]{0,2}(,[0-9]{3})+$`)
	paiseDigits = regexp.MustCompile(`^[0-9]{1,2}$`)
)

func FuzzParseRupees(f *testing.F) {
	for _, s := range []string{"150000", "1,50,000", "₹ 2,500.75", "2500.5", "1,00,00", "10,0000", ",100", "100,", "1,,000",
		"12,34,5678", "1,0000,000", "1,234,567", "99,99,99,99,99,999.99", "92233720368547758.08", "0,500", "-5", "1.234"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseRupees(s)

		body := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "₹"))
		whole, frac, hasFrac := strings.Cut(body, ".")
		shaped := (plainRupees.MatchString(whole) || indianRupee.MatchString(whole) || interRupees.MatchString(whole)) &&
			(!hasFrac || paiseDigits.MatchString(frac))
		if !shaped {
			if err == nil {
				t.Fatalf("ParseRupees(%q) = %d, accepted a shape the rules refuse", s, got)
			}
			return
		}
		// Shaped right: the value decides. Work it out without int64 at all.
		digits := strings.TrimLeft(strings.ReplaceAll(whole, ",", ""), "0")
		if len(frac) == 1 {
			frac += "0"
		}
		if frac == "" {
			frac = "00"
		}
		paise := strings.TrimLeft(digits+frac, "0")
		limit := strconv.FormatInt(MaxParsePaise, 10)
		if len(paise) > len(limit) || len(paise) == len(limit) && paise > limit {
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("ParseRupees(%q) = %d, %v; want ErrTooLarge", s, got, err)
			}
			return
		}
		if paise == "" {
			paise = "0"
		}
		if err != nil || strconv.FormatInt(got, 10) != paise {
			t.Fatalf("ParseRupees(%q) = %d, %v; want %s", s, got, err, paise)
		}
		roundTrip(t, got)
	})
}

func FuzzFormat(f *testing.F) {
	for _, p := range []int64{0, -5, 1010, 1001, MaxParsePaise, MaxParsePaise + 1, math.MaxInt64, math.MinInt64} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p int64) {
		plain, inr := FormatRupees(p), FormatINR(p)
		// Both formats carry the same digits and sign.
		neg := p < 0
		if neg != strings.HasPrefix(plain, "-") || neg != strings.HasPrefix(inr, "-₹") {
			t.Fatalf("sign: %d → %q, %q", p, plain, inr)
		}
		if strings.ReplaceAll(strings.Replace(inr, "₹", "", 1), ",", "") != plain {
			t.Fatalf("FormatINR(%d) = %q and FormatRupees = %q differ", p, inr, plain)
		}
		// The digits are the value: compare with strconv on the magnitude.
		mag := strings.ReplaceAll(strings.TrimPrefix(plain, "-"), ".", "")
		want := strings.TrimPrefix(strconv.FormatInt(p, 10), "-")
		if !strings.Contains(plain, ".") {
			mag += "00"
		}
		if strings.TrimLeft(mag, "0") != strings.TrimLeft(want, "0") {
			t.Fatalf("FormatRupees(%d) = %q", p, plain)
		}
		if 0 <= p && p <= MaxParsePaise {
			roundTrip(t, p)
		} else if _, err := ParseRupees(plain); err == nil {
			t.Fatalf("ParseRupees(%q) accepted an amount outside 0..MaxParsePaise", plain)
		}
	})
}

func TestFormatCount(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 10000: "10,000", 100000: "1,00,000",
		2457: "2,457", 12345678: "1,23,45,678", -1234: "-1,234", math.MinInt64: "-92,23,37,20,36,85,47,75,808"} {
		if got := FormatCount(n); got != want {
			t.Errorf("FormatCount(%d) = %q, want %q", n, got, want)
		}
	}
}
