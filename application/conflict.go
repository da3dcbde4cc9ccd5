package application

import "loandesk/model"

// FieldDiff is one field's change between two sets of values.
type FieldDiff struct {
	Key   string `json:"field"`
	Label string `json:"label"`
	From  string `json:"from"` // canonical values
	To    string `json:"to"`
	Clash bool   `json:"clash,omitempty"` // both sides changed it, to different values
}

// Comparison is an edit made against an older version, set beside what
// others saved since.
type Comparison struct {
	Mine    []FieldDiff        // what the editor changed: base → mine
	Theirs  []FieldDiff        // what others changed: base → current
	Since   []model.LoanChange // the history entries after the base
	Clashes int
}

// ValuesAt reconstructs the values at version v by undoing, newest first,
// the history entries after it. It reports false when the history does
// not cover every version since v (then no field-level answer is exact).
func ValuesAt(current Values, currentVersion int64, history []model.LoanChange, v int64) (Values, []model.LoanChange, bool) {
	if v > currentVersion || v < 1 {
		return nil, nil, false
	}
	base := current.Clone()
	var since []model.LoanChange
	want := currentVersion
	for i := len(history) - 1; i >= 0 && want > v; i-- {
		h := history[i]
		if h.Version != want {
			return nil, nil, false
		}
		for _, c := range h.Fields {
			if _, ok := base[c.Field]; ok {
				base[c.Field] = c.From
			}
		}
		since = append([]model.LoanChange{h}, since...)
		want--
	}
	return base, since, want == v
}

// Compare lists what mine changed relative to base, what others changed
// from base to current, and where both changed one field differently.
// mine holds only the fields the editor submitted.
func Compare(base, current, mine Values) Comparison {
	var c Comparison
	theirs := map[string]bool{}
	for _, f := range Fields {
		if current[f.Key] != base[f.Key] {
			theirs[f.Key] = true
			c.Theirs = append(c.Theirs, FieldDiff{Key: f.Key, Label: f.Label, From: base[f.Key], To: current[f.Key]})
		}
	}
	for _, f := range Fields {
		v, ok := mine[f.Key]
		if !ok || v == base[f.Key] {
			continue
		}
		d := FieldDiff{Key: f.Key, Label: f.Label, From: base[f.Key], To: v}
		if theirs[f.Key] && v != current[f.Key] {
			d.Clash = true
			c.Clashes++
		}
		c.Mine = append(c.Mine, d)
	}
	return c
}

// Changed returns the fields of mine that differ from base, in page
// order, as history entries record them.
func Changed(base, mine Values) []model.FieldChange {
	var out []model.FieldChange
	for _, f := range Fields {
		if v, ok := mine[f.Key]; ok && v != base[f.Key] {
			out = append(out, model.FieldChange{Field: f.Key, From: base[f.Key], To: v})
		}
	}
	return out
}
