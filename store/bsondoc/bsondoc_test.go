package bsondoc

import (
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// everyType holds a value of every BSON type, nested in documents and
// arrays, including the rare ones left to the driver.
func everyType(rare bool) bson.D {
	oid := primitive.NewObjectIDFromTimestamp(time.Unix(1700000000, 0))
	dec, _ := primitive.ParseDecimal128("12345.6789")
	d := bson.D{
		{Key: "double", Value: 3.25}, {Key: "nan", Value: math.NaN()}, {Key: "negzero", Value: math.Copysign(0, -1)},
		{Key: "string", Value: "submitted"}, {Key: "long string", Value: "a string well past the sharing limit ✓"},
		{Key: "empty", Value: ""}, {Key: "utf8", Value: "₹ 1,00,000 — नमस्ते"},
		{Key: "doc", Value: bson.D{{Key: "a", Value: int32(1)}, {Key: "b", Value: bson.D{{Key: "c", Value: "x"}}}}},
		{Key: "emptydoc", Value: bson.D{}}, {Key: "emptyarr", Value: bson.A{}},
		{Key: "arr", Value: bson.A{int32(1), int64(2), 3.5, "s", bson.D{{Key: "k", Value: "v"}}, bson.A{nil, true}}},
		{Key: "bin", Value: primitive.Binary{Subtype: 0, Data: []byte{1, 2, 3}}},
		{Key: "uuid", Value: primitive.Binary{Subtype: 4, Data: make([]byte, 16)}},
		{Key: "undef", Value: primitive.Undefined{}},
		{Key: "oid", Value: oid}, {Key: "true", Value: true}, {Key: "false", Value: false},
		{Key: "date", Value: primitive.NewDateTimeFromTime(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))},
		{Key: "null", Value: nil},
		{Key: "regex", Value: primitive.Regex{Pattern: "^ab+c$", Options: "im"}},
		{Key: "js", Value: primitive.JavaScript("function(){}")}, {Key: "sym", Value: primitive.Symbol("sym")},
		{Key: "i32", Value: int32(-7)}, {Key: "i32max", Value: int32(math.MaxInt32)},
		{Key: "ts", Value: primitive.Timestamp{T: 1700000000, I: 3}},
		{Key: "i64", Value: int64(math.MinInt64)}, {Key: "small", Value: int64(5)},
		{Key: "dec", Value: dec}, {Key: "min", Value: primitive.MinKey{}}, {Key: "max", Value: primitive.MaxKey{}},
		{Key: "", Value: "empty key"}, {Key: "dup", Value: 1.0}, {Key: "dup", Value: 2.0},
	}
	if rare {
		d = append(d,
			bson.E{Key: "cws", Value: primitive.CodeWithScope{Code: "x", Scope: bson.D{{Key: "y", Value: int32(1)}}}},
			bson.E{Key: "dbp", Value: primitive.DBPointer{DB: "db.c", Pointer: oid}},
			bson.E{Key: "oldbin", Value: primitive.Binary{Subtype: bson.TypeBinaryBinaryOld, Data: []byte{4, 5, 6}}},
		)
	}
	return d
}

func TestDecode_MatchesUnmarshal(t *testing.T) {
	for _, rare := range []bool{false, true} {
		raw, err := bson.Marshal(everyType(rare))
		if err != nil {
			t.Fatal(err)
		}
		assertSame(t, raw)
	}
}

func TestDecode_SharesRepeatedStrings(t *testing.T) {
	dec := NewDecoder()
	raw, _ := bson.Marshal(bson.D{{Key: "status", Value: "submitted"}})
	a, _ := dec.Decode(raw)
	b, _ := dec.Decode(raw)
	ka, kb := (*a)[0].Key, (*b)[0].Key
	va, vb := (*a)[0].Value.(string), (*b)[0].Value.(string)
	if unsafeData(ka) != unsafeData(kb) || unsafeData(va) != unsafeData(vb) {
		t.Fatal("a key or short value repeated across documents is not shared")
	}
}

// Values up to maxSharedLen bytes are shared, longer ones are not; a
// document with an ordinary binary is still decoded here (the driver's
// decoder, left for rare types, shares nothing).
func TestDecode_SharingLimits(t *testing.T) {
	exact, over := strings.Repeat("x", maxSharedLen), strings.Repeat("y", maxSharedLen+1)
	dec := NewDecoder()
	raw, _ := bson.Marshal(bson.D{
		{Key: "exact", Value: exact}, {Key: "over", Value: over},
		{Key: "bin", Value: primitive.Binary{Subtype: bson.TypeBinaryGeneric, Data: []byte{1, 2}}},
	})
	a, err := dec.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := dec.Decode(raw)
	value := func(d *bson.D, i int) string { return (*d)[i].Value.(string) }
	if unsafeData(value(a, 0)) != unsafeData(value(b, 0)) {
		t.Errorf("a %d-byte value is not shared", maxSharedLen)
	}
	if unsafeData(value(a, 1)) == unsafeData(value(b, 1)) {
		t.Errorf("a %d-byte value is shared", maxSharedLen+1)
	}
	if unsafeData((*a)[2].Key) != unsafeData((*b)[2].Key) {
		t.Error("a document with a generic binary was left to the driver's decoder")
	}
}

// The string tables stop growing at maxTable entries each, whatever is
// decoded; what is in them stays shared.
func TestDecode_TablesAreBounded(t *testing.T) {
	arr := make(bson.A, maxTable+100)
	for i := range arr {
		arr[i] = "v" + strconv.Itoa(i)
	}
	raw, _ := bson.Marshal(bson.D{{Key: "arr", Value: arr}})
	dec := NewDecoder()
	got, err := dec.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(dec.strings) != maxTable || len(dec.values) != maxTable {
		t.Fatalf("tables hold %d strings and %d values, want %d each", len(dec.strings), len(dec.values), maxTable)
	}
	if last := (*got)[0].Value.(bson.A)[maxTable+99]; last != "v"+strconv.Itoa(maxTable+99) {
		t.Fatalf("a value past the tables' limit decoded as %v", last)
	}
}

func TestDecode_RejectsCorrupt(t *testing.T) {
	raw, _ := bson.Marshal(everyType(false))
	for _, bad := range [][]byte{nil, {}, raw[:4], raw[:len(raw)-1], append(raw[:len(raw)-1:len(raw)-1], 1)} {
		if _, err := NewDecoder().Decode(bad); err == nil {
			t.Errorf("accepted %d corrupt bytes", len(bad))
		}
	}
}

// FuzzDecode feeds mutated documents to both decoders: whatever the
// driver decodes, Decode must decode to the same value, and it must never
// panic.
func FuzzDecode(f *testing.F) {
	for _, rare := range []bool{false, true} {
		raw, _ := bson.Marshal(everyType(rare))
		f.Add(raw)
	}
	small, _ := bson.Marshal(bson.D{{Key: "a", Value: bson.A{int32(1), "x"}}})
	f.Add(small)
	f.Fuzz(func(t *testing.T, raw []byte) {
		var want bson.D
		if err := bson.Unmarshal(raw, &want); err != nil {
			_, _ = NewDecoder().Decode(raw) // must not panic
			return
		}
		assertSame(t, raw)
	})
}

func assertSame(t *testing.T, raw []byte) {
	t.Helper()
	var want bson.D
	if err := bson.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	got, err := NewDecoder().Decode(raw)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	// NaN != NaN, so compare re-encoded bytes as well as Go values.
	wantRaw, _ := bson.Marshal(want)
	gotRaw, _ := bson.Marshal(got)
	if string(wantRaw) != string(gotRaw) || !reflect.DeepEqual(stripNaN(want), stripNaN(*got)) {
		t.Fatalf("Decode differs from bson.Unmarshal\n got %#v\nwant %#v", *got, want)
	}
}
func unsafeData(s string) *byte { return unsafe.StringData(s) }

// stripNaN replaces NaNs (which never DeepEqual) with a marker.
func stripNaN(v any) any {
	switch x := v.(type) {
	case bson.D:
		out := make(bson.D, len(x))
		for i, e := range x {
			out[i] = bson.E{Key: e.Key, Value: stripNaN(e.Value)}
		}
		return out
	case bson.A:
		out := make(bson.A, len(x))
		for i, e := range x {
			out[i] = stripNaN(e)
		}
		return out
	case float64:
		if math.IsNaN(x) {
			return "NaN"
		}
	}
	return v
}
