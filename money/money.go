// Package money formats and parses amounts held as integer minor units
// (paise). Money is never a float anywhere in Loan Desk.
package money

import (
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
