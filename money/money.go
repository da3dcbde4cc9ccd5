// Package money formats and parses amounts held as integer minor units
// (paise; 100 paise = 1 rupee). Money is never a float anywhere in Loan Desk.
//
// Digit grouping follows the Indian numbering system: the last three
// digits of the rupees form one group and every group before it has two
// digits, so the commas fall at a thousand, a lakh (1,00,000 = 10⁵) and a
// crore (1,00,00,000 = 10⁷): 12,34,567. This is the grouping of the number
// pattern "#,##,##0" that Unicode CLDR gives for the en-IN locale.
// ParseRupees also reads the international grouping in threes (1,234,567;
// CLDR's root pattern "#,##0") because people paste amounts written that
// way; it never guesses at any other placement of commas.
package money

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// MaxParsePaise is the largest amount ParseRupees accepts:
// ₹99,99,99,99,99,999.99, that is thirteen digits of rupees. It is far
// below the int64 limit, so sums of a few such amounts cannot overflow.
const MaxParsePaise int64 = 9_999_999_999_999_99

// The errors ParseRupees returns. ErrGrouping and ErrTooLarge wrap
// ErrNotAmount, so errors.Is(err, ErrNotAmount) holds for every refusal.
var (
	// ErrNotAmount: not a plain non-negative rupee amount (empty, a sign,
	// letters or other characters, inner spaces, a decimal point without
	// digits on both sides, or more than two decimals).
	ErrNotAmount = errors.New("money: not an amount in rupees")
	// ErrGrouping: commas that are neither exact Indian nor exact
	// international digit grouping ("1,00,00", "10,0000", "1,,000").
	ErrGrouping = fmt.Errorf("%w: digit-grouping commas out of place", ErrNotAmount)
	// ErrTooLarge: more than MaxParsePaise, including amounts whose paise
	// would not fit an int64.
	ErrTooLarge = fmt.Errorf("%w: more than ₹99,99,99,99,99,999.99", ErrNotAmount)
)

// FormatINR renders paise as rupees with the rupee sign and Indian digit
// grouping: 123456700 → "₹12,34,567", 123456 → "₹1,234.56",
// 1001 → "₹10.01", -5 → "-₹0.05". Paise are always two digits and are
// omitted when the amount is a whole number of rupees. A negative amount
// has "-" before the sign. Every int64 formats, math.MinInt64 included
// ("-₹92,23,37,20,36,85,47,758.08").
func FormatINR(paise int64) string {
	neg, mag := magnitude(paise)
	s := "₹" + groupIndian(strconv.FormatUint(mag/100, 10)) + paisePart(mag%100)
	if neg {
		return "-" + s
	}
	return s
}

// FormatRupees writes paise as a plain rupee amount for a form field: no
// symbol, no grouping, two-digit paise only when present: 15000000 →
// "150000", 250075 → "2500.75", -5 → "-0.05". Every int64 formats. For
// 0 ≤ paise ≤ MaxParsePaise, ParseRupees reads the result back exactly.
func FormatRupees(paise int64) string {
	neg, mag := magnitude(paise)
	s := strconv.FormatUint(mag/100, 10) + paisePart(mag%100)
	if neg {
		return "-" + s
	}
	return s
}

// FormatCount writes a count with Indian digit grouping, as money is
// grouped: 10000 → "10,000", 100000 → "1,00,000", 999 → "999",
// -1234 → "-1,234".
func FormatCount(n int64) string {
	neg, mag := magnitude(n)
	s := groupIndian(strconv.FormatUint(mag, 10))
	if neg {
		return "-" + s
	}
	return s
}

// magnitude splits paise into its sign and absolute value. The absolute
// value is unsigned because that of math.MinInt64 does not fit an int64;
// negating in uint64 (two's complement) gives it exactly.
func magnitude(paise int64) (neg bool, mag uint64) {
	mag = uint64(paise)
	if paise < 0 {
		return true, -mag
	}
	return false, mag
}

// paisePart is "" for whole rupees, else "." and two digits (0 ≤ p < 100).
func paisePart(p uint64) string {
	switch {
	case p == 0:
		return ""
	case p < 10:
		return ".0" + strconv.FormatUint(p, 10)
	default:
		return "." + strconv.FormatUint(p, 10)
	}
}

// groupIndian groups a run of decimal digits the Indian way: the last
// three, then pairs: 1234567 → 12,34,567; 1000 → 1,000; 999 → 999.
func groupIndian(digits string) string {
	if len(digits) <= 3 {
		return digits
	}
	head, tail := digits[:len(digits)-3], digits[len(digits)-3:]
	var b strings.Builder
	first := len(head) % 2
	if first == 0 {
		first = 2
	}
	b.WriteString(head[:first])
	for i := first; i < len(head); i += 2 {
		b.WriteByte(',')
		b.WriteString(head[i : i+2])
	}
	b.WriteByte(',')
	b.WriteString(tail)
	return b.String()
}

// ParseRupees reads an amount typed in rupees and returns it in paise:
// "150000" → 15000000, "1,50,000" → 15000000, "₹ 2,500.75" → 250075,
// "2500.5" → 250050.
//
// The shape accepted is: optional spaces, an optional "₹" with optional
// spaces after it, the rupees, optionally "." and one or two digits of
// paise, optional spaces. The rupees are digits with either
//   - no commas at all ("150000", leading zeros allowed: "0150000"), or
//   - exact Indian grouping: a first group of 1–2 digits, then any number
//     of 2-digit groups, then a last group of 3 ("1,000", "1,00,000",
//     "12,34,567"), or
//   - exact international grouping: a first group of 1–3 digits, then
//     3-digit groups ("100,000", "1,234,567").
//
// When there are commas, the first group must not start with 0 ("0,500"
// looks like a decimal comma, so it is refused rather than read as ₹500).
//
// Errors: ErrGrouping for commas in any other place ("1,00,00",
// "10,0000", ",100", "100,", "1,,000", "12,34,5678", "1,0000,000");
// ErrTooLarge above MaxParsePaise (nothing ever wraps around); ErrNotAmount
// for everything else refused: signs, more than two decimals, "1.", ".5",
// exponents, inner spaces, letters and non-ASCII digits.
func ParseRupees(s string) (int64, error) {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "₹"))
	whole, frac, hasFrac := strings.Cut(s, ".")
	if whole == "" || !digitsAndCommas(whole) || hasFrac && (frac == "" || len(frac) > 2 || !allDigits(frac)) {
		return 0, ErrNotAmount
	}
	if strings.Contains(whole, ",") {
		if !groupedIndian(whole) && !groupedInternational(whole) {
			return 0, ErrGrouping
		}
		whole = strings.ReplaceAll(whole, ",", "")
	}
	// Accumulate the rupees, stopping as soon as the limit is passed, so a
	// string of any length is refused without overflowing.
	const maxRupees = uint64(MaxParsePaise / 100)
	var rupees uint64
	for i := 0; i < len(whole); i++ {
		rupees = rupees*10 + uint64(whole[i]-'0')
		if rupees > maxRupees {
			return 0, ErrTooLarge
		}
	}
	var p uint64
	if hasFrac {
		p = uint64(frac[0]-'0') * 10
		if len(frac) == 2 {
			p += uint64(frac[1] - '0')
		}
	}
	paise := rupees*100 + p
	if paise > uint64(MaxParsePaise) {
		return 0, ErrTooLarge
	}
	return int64(paise), nil
}

// groupedIndian reports whether s (digits and commas, at least one comma)
// is exactly grouped the Indian way: 1–2 digits, then ",dd" groups, then
// ",ddd" last.
func groupedIndian(s string) bool {
	groups := strings.Split(s, ",")
	last := len(groups) - 1
	if len(groups[last]) != 3 || !firstGroup(groups[0], 2) {
		return false
	}
	for _, g := range groups[1:last] {
		if len(g) != 2 {
			return false
		}
	}
	return true
}

// groupedInternational reports whether s (digits and commas, at least one
// comma) is exactly grouped in threes: 1–3 digits, then ",ddd" groups.
func groupedInternational(s string) bool {
	groups := strings.Split(s, ",")
	if !firstGroup(groups[0], 3) {
		return false
	}
	for _, g := range groups[1:] {
		if len(g) != 3 {
			return false
		}
	}
	return true
}

// firstGroup reports whether g can lead a grouped number: 1 to max
// digits, not starting with 0.
func firstGroup(g string, max int) bool {
	return len(g) >= 1 && len(g) <= max && g[0] != '0'
}

func digitsAndCommas(s string) bool {
	for i := 0; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && s[i] != ',' {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
