package web

import (
	"bytes"
	"encoding/binary"
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

// Encode encodes the session. scs commits (so encodes) the session at the
// end of every request, and a fresh gob encoder writing its type
// description each time was 4 % of the server's CPU; the same session
// encodes to the same bytes, so for sessions of strings and integers (all
// the app stores) the bytes are remembered by a key made of the values
// (up to maxDecodedSessions, then forgotten all at once) and each caller
// gets its own copy.
func (c sortedGobCodec) Encode(deadline time.Time, values map[string]any) ([]byte, error) {
	key, ok := encodedKey(deadline, values)
	if ok {
		encodedMu.RLock()
		b, hit := encoded[key]
		encodedMu.RUnlock()
		if hit {
			return bytes.Clone(b), nil
		}
	}
	b, err := c.encode(deadline, values)
	if err != nil || !ok {
		return b, err
	}
	encodedMu.Lock()
	if len(encoded) >= maxDecodedSessions {
		clear(encoded)
	}
	encoded[key] = bytes.Clone(b)
	encodedMu.Unlock()
	return b, nil
}

var (
	encodedMu sync.RWMutex
	encoded   = map[string][]byte{}
)

// encodedKey names a session whose values are all strings and int64s,
// unambiguously (every part is length-prefixed, every value typed), or
// reports that it holds another type.
func encodedKey(deadline time.Time, values map[string]any) (string, bool) {
	when, err := deadline.MarshalBinary() // as gob writes it: wall time and zone offset
	if err != nil {
		return "", false
	}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b := make([]byte, 0, 128)
	b = binary.AppendUvarint(b, uint64(len(when)))
	b = append(b, when...)
	for _, k := range keys {
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
		switch v := values[k].(type) {
		case string:
			b = append(b, 's')
			b = binary.AppendUvarint(b, uint64(len(v)))
			b = append(b, v...)
		case int64:
			b = append(b, 'i')
			b = binary.AppendVarint(b, v)
		default:
			return "", false
		}
	}
	return string(b), true
}

func (sortedGobCodec) encode(deadline time.Time, values map[string]any) ([]byte, error) {
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
