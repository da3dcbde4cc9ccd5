package application

import (
	"maps"
	"testing"

	"loandesk/model"
)

// ValuesAt undoes exactly the entries after v: at the current version
// nothing, at v = 2 only version 3's entry; a version after the current
// one, or before 1, has no values.
func TestValuesAt_Versions(t *testing.T) {
	t.Parallel()
	history := []model.LoanChange{
		{Version: 2, Fields: []model.FieldChange{{Field: "city", From: "Pune", To: "Mumbai"}}},
		{Version: 3, Fields: []model.FieldChange{{Field: "amount", From: "500000", To: "600000"}}},
	}
	current := Values{"city": "Mumbai", "amount": "600000"}
	for _, tc := range []struct {
		v     int64
		want  Values
		since int
		ok    bool
	}{
		{3, Values{"city": "Mumbai", "amount": "600000"}, 0, true},
		{2, Values{"city": "Mumbai", "amount": "500000"}, 1, true},
		{1, Values{"city": "Pune", "amount": "500000"}, 2, true},
		{4, nil, 0, false},
		{0, nil, 0, false},
	} {
		base, since, ok := ValuesAt(current, 3, history, tc.v)
		if ok != tc.ok || len(since) != tc.since || !maps.Equal(base, tc.want) {
			t.Errorf("ValuesAt(v=%d) = %v, %d entries, %v; want %v, %d, %v", tc.v, base, len(since), ok, tc.want, tc.since, tc.ok)
		}
		if tc.since > 0 && since[0].Version != tc.v+1 {
			t.Errorf("ValuesAt(v=%d): the entries since start at version %d", tc.v, since[0].Version)
		}
	}
	if current["amount"] != "600000" {
		t.Error("ValuesAt changed the current values")
	}
}
