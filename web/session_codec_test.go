package web

import (
	"bytes"
	"maps"
	"testing"
	"time"
)

// TestSessionCodec_DecodeMemo: decoding the same bytes again (from the
// memo) gives the same deadline and values, and a caller changing its
// map (as scs does on Put) changes neither the memo nor the next
// caller's map.
func TestSessionCodec_DecodeMemo(t *testing.T) {
	var c sortedGobCodec
	deadline := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	values := map[string]any{"userID": "6560f0a1", "authAt": int64(1764500000), "flash": "Saved."}
	b, err := c.Encode(deadline, values)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		d, got, err := c.Decode(b)
		if err != nil || !d.Equal(deadline) || !maps.Equal(got, values) {
			t.Fatalf("decode %d: %v %v %v", i, d, got, err)
		}
		got["flash"] = "changed by the request"
		delete(got, "userID")
	}
	if _, _, err := c.Decode([]byte("not gob")); err == nil {
		t.Error("garbage decoded")
	}
}

// TestSessionCodec_EncodeMemo: a remembered encoding is byte for byte
// the fresh one, for the same values only (a changed value, a type, a
// key, the deadline or its zone each encode anew), and a caller changing
// the bytes it got does not change what the next caller gets.
func TestSessionCodec_EncodeMemo(t *testing.T) {
	var c sortedGobCodec
	deadline := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	base := map[string]any{"userID": "6560f0a1", "authAt": int64(1764500000), "sid": "0a1b"}
	variants := []struct {
		name     string
		deadline time.Time
		values   map[string]any
	}{
		{"same", deadline, base},
		{"a value", deadline, map[string]any{"userID": "6560f0a2", "authAt": int64(1764500000), "sid": "0a1b"}},
		{"an integer", deadline, map[string]any{"userID": "6560f0a1", "authAt": int64(1764500001), "sid": "0a1b"}},
		{"a key", deadline, map[string]any{"userId": "6560f0a1", "authAt": int64(1764500000), "sid": "0a1b"}},
		{"a key more", deadline, map[string]any{"userID": "6560f0a1", "authAt": int64(1764500000), "sid": "0a1b", "flash": ""}},
		{"key and value run together", deadline, map[string]any{"userID6560f0a1": "", "authAt": int64(1764500000), "sid": "0a1b"}},
		{"the deadline", deadline.Add(time.Millisecond), base},
		{"the deadline's zone", deadline.In(time.FixedZone("IST", 19800)), base},
		{"another type", deadline, map[string]any{"userID": "6560f0a1", "authAt": int32(17645), "sid": "0a1b"}},
	}
	seen := map[string]string{}
	for round := range 2 { // the second round answers from the memo
		for _, v := range variants {
			got, err := c.Encode(v.deadline, v.values)
			if err != nil {
				t.Fatal(err)
			}
			fresh, err := c.encode(v.deadline, v.values)
			if err != nil || !bytes.Equal(got, fresh) {
				t.Fatalf("round %d, %s: remembered bytes differ from a fresh encoding", round, v.name)
			}
			d, values, err := c.Decode(got)
			if err != nil || !d.Equal(v.deadline) || !maps.Equal(values, v.values) {
				t.Fatalf("round %d, %s: decodes to %v %v %v", round, v.name, d, values, err)
			}
			if other, ok := seen[string(got)]; ok && other != v.name && round == 0 {
				t.Errorf("%s encodes like %s", v.name, other)
			}
			seen[string(got)] = v.name
			got[len(got)-1] ^= 0xff // a caller scribbling on its copy
		}
	}
}
