package web

import (
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
