package handlers

import (
	"context"
	"errors"
	"slices"
	"time"

	"loandesk/application"
	"loandesk/auth"
	"loandesk/model"
	"loandesk/store"
)

// editOutcome is what became of an edit; exactly one of its parts is set
// beyond Loan (the application as it now stands).
type editOutcome struct {
	Loan model.Loan
	// Errors are per-field messages: nothing was saved.
	Errors application.Errors
	// Refused says why this user may not edit this application.
	Refused string
	// Conflict is set when someone saved since the version edited.
	Conflict *editConflict
}

// editConflict is an edit that lost the race, compared with the winner.
type editConflict struct {
	application.Comparison
	Submitted application.Values // the editor's normalised fields
	Exact     bool               // the history covered every version since
}

// maxEditRetries bounds the re-reads after the versioned write loses a
// race: the re-read sees the newer version and reports the conflict, so
// one is enough; the bound only guards against looping.
const maxEditRetries = 3

// saveLoanEdit applies the fields an editor submitted against version.
// It never overwrites a newer version: if someone saved since, it
// returns their changes beside the editor's as a conflict. raw holds only
// the submitted fields; keys must be application field keys.
func (a *App) saveLoanEdit(ctx context.Context, user auth.User, humanID string, version int64, raw map[string]string) (editOutcome, error) {
	for attempt := 0; ; attempt++ {
		current, err := a.Loans.LoanGet(ctx, humanID)
		if err != nil {
			return editOutcome{}, err
		}
		out := editOutcome{Loan: current}
		if !application.CanEdit(user.Role, current.Status) {
			out.Refused = application.EditRefusal(user.Role, current.Status)
			return out, nil
		}
		mine, errs := normalizeFields(raw, a.now())
		if len(errs) > 0 {
			out.Errors = errs
			return out, nil
		}
		if version < 1 || version > current.Version {
			out.Errors = application.Errors{}
			out.Errors.Add("version", application.CodeStale, "This form is out of date. Load the application again.")
			return out, nil
		}
		now := application.ValuesOf(current)
		if version < current.Version {
			base, since, exact := application.ValuesAt(now, current.Version, current.History, version)
			if !exact {
				base = now // no field-level history: show mine against today's values
			}
			cmp := application.Compare(base, now, mine)
			cmp.Since = since
			out.Conflict = &editConflict{Comparison: cmp, Submitted: mine, Exact: exact}
			return out, nil
		}
		changes := application.Changed(now, mine)
		if len(changes) == 0 {
			return out, nil // nothing to save
		}
		merged := now.Clone()
		for k, v := range mine {
			merged[k] = v
		}
		if errs := application.CheckTogether(merged); len(errs) > 0 {
			out.Errors = errs
			return out, nil
		}
		p, err := updateParams(current, mine, changes, user, a.now())
		if err != nil {
			return editOutcome{}, err
		}
		updated, err := a.Loans.LoanUpdate(ctx, p)
		if errors.Is(err, store.ErrConflict) && attempt < maxEditRetries {
			continue // someone saved between our read and write: report it
		}
		if err != nil {
			return editOutcome{}, err
		}
		out.Loan = updated
		return out, nil
	}
}

// normalizeFields checks each submitted field.
func normalizeFields(raw map[string]string, now time.Time) (application.Values, application.Errors) {
	mine, errs := application.Values{}, application.Errors{}
	for key, v := range raw {
		f, ok := application.FieldByKey(key)
		if !ok {
			errs.Add(key, application.CodeUnknownField, "There is no such field.")
			continue
		}
		canonical, problem := f.Normalize(v, now)
		if problem != nil {
			errs[key] = *problem
			continue
		}
		mine[key] = canonical
	}
	return mine, errs
}

// searchFields are the fields the search keys are made from.
var searchFields = []string{"name", "email", "phone", "pan"}

// updateParams turns an accepted edit into the store's versioned update.
func updateParams(current model.Loan, mine application.Values, changes []model.FieldChange, user auth.User, at time.Time) (store.LoanUpdateParams, error) {
	p := store.LoanUpdateParams{
		ID:      current.ID,
		Version: current.Version,
		Set:     map[string]any{},
		Change:  model.LoanChange{At: at, By: user.Email, ByName: user.Name, Fields: changes},
	}
	updated := current
	touchesSearch := false
	for _, c := range changes {
		f, _ := application.FieldByKey(c.Field)
		v, err := f.StoreValue(mine[c.Field])
		if err != nil {
			return p, err
		}
		p.Set[f.Path] = v
		touchesSearch = touchesSearch || slices.Contains(searchFields, c.Field)
	}
	if touchesSearch {
		if err := application.Apply(&updated, mine); err != nil {
			return p, err
		}
		p.SearchKeys = store.LoanSearchKeys(updated)
	}
	return p, nil
}
