package loadtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
)

// Edit is one save the app accepted (200): the application, the version
// the app said it saved as, and the value written.
type Edit struct {
	Loan    string
	Version int64
	Field   string
	Value   string
}

// Edits is the ledger of accepted saves. Safe for concurrent use.
type Edits struct {
	mu   sync.Mutex
	list []Edit
	// unconfirmed counts 200s whose answer named no saved version: the
	// check cannot follow them, so they count against the run.
	unconfirmed int
}

// Unconfirmed records a 200 to a save that did not say which version it
// saved.
func (e *Edits) Unconfirmed() {
	e.mu.Lock()
	e.unconfirmed++
	e.mu.Unlock()
}

// UnconfirmedCount is how many such answers there were.
func (e *Edits) UnconfirmedCount() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.unconfirmed
}

// Accepted records a save the app answered 200.
func (e *Edits) Accepted(ed Edit) {
	e.mu.Lock()
	e.list = append(e.list, ed)
	e.mu.Unlock()
}

// Len is how many saves were accepted.
func (e *Edits) Len() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.list)
}

// Lost lists the accepted saves that the application's version history
// does not hold: no entry at that version, or one that did not set the
// field to the value sent. It reads each edited application once through
// GET /api/applications/{id} (history included), as client c
// (authorised by auth, e.g. a bearer token).
func (e *Edits) Lost(ctx context.Context, c *http.Client, base string, auth func(*http.Request)) ([]Edit, error) {
	e.mu.Lock()
	byLoan := map[string][]Edit{}
	for _, ed := range e.list {
		byLoan[ed.Loan] = append(byLoan[ed.Loan], ed)
	}
	e.mu.Unlock()
	var lost []Edit
	for loan, edits := range byLoan {
		hist, err := history(ctx, c, base, loan, auth)
		if err != nil {
			return nil, err
		}
		for _, ed := range edits {
			if !hist.holds(ed) {
				lost = append(lost, ed)
			}
		}
	}
	return lost, nil
}

type apiHistory struct {
	History []struct {
		Version int64 `json:"version"`
		Fields  []struct {
			Field string `json:"field"`
			To    string `json:"to"`
		} `json:"fields"`
	} `json:"history"`
}

func (h apiHistory) holds(ed Edit) bool {
	for _, ch := range h.History {
		if ch.Version != ed.Version {
			continue
		}
		for _, f := range ch.Fields {
			if f.Field == ed.Field && f.To == ed.Value {
				return true
			}
		}
	}
	return false
}

func history(ctx context.Context, c *http.Client, base, loan string, auth func(*http.Request)) (apiHistory, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/applications/"+loan, nil)
	if err != nil {
		return apiHistory{}, err
	}
	auth(req)
	res, err := c.Do(req)
	if err != nil {
		return apiHistory{}, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return apiHistory{}, fmt.Errorf("GET /api/applications/%s: %s", loan, res.Status)
	}
	var h apiHistory
	if err := json.NewDecoder(res.Body).Decode(&h); err != nil {
		return apiHistory{}, fmt.Errorf("GET /api/applications/%s: %w", loan, err)
	}
	return h, nil
}
