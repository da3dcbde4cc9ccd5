package web

import (
	"bytes"
	"encoding/gob"
	"slices"
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

func (sortedGobCodec) Decode(b []byte) (time.Time, map[string]any, error) {
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
