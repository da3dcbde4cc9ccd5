package metrics

import (
	"strconv"
	"strings"
	"testing"
)

// value is the sample of series (name{labels} with labels sorted by
// name, le last, as the exposition format writes them) in a scrape's text; -1
// when absent.
func value(t *testing.T, text, series string) float64 {
	t.Helper()
	for line := range strings.SplitSeq(text, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(rest, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return v
		}
	}
	return -1
}
