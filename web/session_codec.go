package web

import (
	"bytes"
	"encoding/gob"
	"maps"
	"slices"
	"sync"
	"time"
)

// sortedGobCodec encodes session data like scs's GobCodec but with the
// keys in sorted order. gob writes a map in Go's random iteration order, so
// the same session would encode differently on each request and the store
// could never tell that nothing changed (see store.SessionTouchInterval).
type sortedGobCodec struct{}

type sessionRecord struct {
	Deadline time.Time
	Keys     []string
	Values   []any
}

func (sortedGobCodec) Encode(deadline time.Time, values map[string]any) ([]byte, error) {
	rec := sessionRecord{Deadline: deadline, Keys: make([]string, 0, len(values))}
	for k := range values {
		rec.Keys = append(rec.Keys, k)
	}
	slices.Sort(rec.Keys)
	for _, k := range rec.Keys {
		rec.Values = append(rec.Values, values[k])
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(&rec); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Decode decodes b. Every request decodes its session, and gob spends
// most of that on reading its type description again; the result for
// the same bytes is the same, so decoded sessions are remembered (up to
// maxDecodedSessions, then forgotten all at once) and each caller gets
// its own copy of the values map to change.
func (c sortedGobCodec) Decode(b []byte) (time.Time, map[string]any, error) {
	decodedMu.RLock()
	hit, ok := decoded[string(b)]
	decodedMu.RUnlock()
	if ok {
		return hit.deadline, maps.Clone(hit.values), nil
	}
	deadline, values, err := c.decode(b)
	if err != nil {
		return deadline, values, err
	}
	decodedMu.Lock()
	if len(decoded) >= maxDecodedSessions {
		clear(decoded)
	}
	decoded[string(b)] = decodedSession{deadline: deadline, values: maps.Clone(values)}
	decodedMu.Unlock()
	return deadline, values, nil
}

// maxDecodedSessions bounds the decoded-session memo (a session's bytes
// are ~150; the map costs a few hundred bytes an entry).
const maxDecodedSessions = 20_000

type decodedSession struct {
	deadline time.Time
	values   map[string]any // never handed out: callers get clones
}

var (
	decodedMu sync.RWMutex
	decoded   = map[string]decodedSession{}
)

func (sortedGobCodec) decode(b []byte) (time.Time, map[string]any, error) {
	var rec sessionRecord
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&rec); err != nil {
		return time.Time{}, nil, err
	}
	values := make(map[string]any, len(rec.Keys))
	for i, k := range rec.Keys {
		if i < len(rec.Values) {
			values[k] = rec.Values[i]
		}
	}
	return rec.Deadline, values, nil
}
