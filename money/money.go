// Package money formats and parses amounts held as integer minor units
// (paise). Money is never a float anywhere in Loan Desk.
package money

import (
	"errors"
	"strconv"
	"strings"
)

// FormatINR renders paise as rupees with Indian digit grouping
// (₹12,34,567.50); whole-rupee amounts omit the paise.
func FormatINR(paise int64) string {
	neg := paise < 0
	if neg {
		paise = -paise
	}
	rupees, rest := paise/100, paise%100
	s := groupIndian(strconv.FormatInt(rupees, 10))
	if rest != 0 {
		s += "." + twoDigits(rest)
	}
	if neg {
		return "-₹" + s
	}
	return "₹" + s
}

// groupIndian groups the last three digits, then pairs: 1234567 → 12,34,567.
func groupIndian(digits string) string {
	if len(digits) <= 3 {
		return digits
	}
	head, tail := digits[:len(digits)-3], digits[len(digits)-3:]
	var parts []string
	for len(head) > 2 {
		parts = append([]string{head[len(head)-2:]}, parts...)
		head = head[:len(head)-2]
	}
	if head != "" {
		parts = append([]string{head}, parts...)
	}
	return strings.Join(append(parts, tail), ",")
}

func twoDigits(n int64) string {
	if n < 10 {
		return "0" + strconv.FormatInt(n, 10)
	}
	return strconv.FormatInt(n, 10)
}

// ParseRupees reads an amount typed in rupees ("1,50,000", "150000.5",
// "₹ 2,500.75") and returns paise. Grouping commas are ignored wherever
// they are; more than two decimals, signs and anything else are refused.
func ParseRupees(s string) (int64, error) {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "₹"))
	s = strings.ReplaceAll(s, ",", "")
	whole, frac, hasFrac := strings.Cut(s, ".")
	if whole == "" || len(whole) > 13 || !allDigits(whole) || hasFrac && (frac == "" || len(frac) > 2 || !allDigits(frac)) {
		return 0, errNotAmount
	}
	rupees, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, errNotAmount
	}
	var paise int64
	if hasFrac {
		p, _ := strconv.ParseInt(frac, 10, 64)
		if len(frac) == 1 {
			p *= 10
		}
		paise = p
	}
	return rupees*100 + paise, nil
}

// FormatRupees writes paise as a plain rupee amount for a form field:
// no symbol, no grouping, paise only when present ("150000", "2500.75").
func FormatRupees(paise int64) string {
	s := strconv.FormatInt(paise/100, 10)
	if rest := paise % 100; rest != 0 {
		s += "." + twoDigits(rest)
	}
	return s
}

var errNotAmount = errors.New("money: not an amount in rupees")

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
