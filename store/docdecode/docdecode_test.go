package docdecode_test

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/256dpi/lungo/bsonkit"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"loandesk/model"
	"loandesk/store"
	"loandesk/store/bsondoc"
	"loandesk/store/docdecode"
)

// session and counter have the shapes of the store's unexported records.
type session struct {
	Token   string    `bson:"_id"`
	Data    []byte    `bson:"data"`
	Expiry  time.Time `bson:"expiry"`
	Deleted bool      `bson:"deleted,omitempty"`
}

type counter struct {
	ID    string  `bson:"_id"`
	Seq   int64   `bson:"seq"`
	Ratio float64 `bson:"ratio"`
	Small int32   `bson:"small"`
	NoTag string
	Skip  string `bson:"-"`
}

// storedTypes are the records the store reads from the embedded engine.
var storedTypes = []any{
	model.Loan{}, model.LoanSummary{}, model.Document{}, model.JournalTxn{},
	store.User{}, store.APIToken{}, store.Lock{}, store.Event{}, store.Worker{},
	session{}, counter{},
}

// TestDecode_MatchesDriver: for every stored type, random values are
// marshalled by the driver, loaded as the engine loads them (bsondoc),
// then decoded by Decode and by bson.Unmarshal of the same bytes; the
// results must be equal, field for field (reflect.DeepEqual: nil and
// empty slices, time zones and pointers included). Then the documents
// are spoiled (nulls, other BSON types, missing, repeated and
// differently cased keys), and Decode must agree with the driver's round
// trip on every one, errors included.
func TestDecode_MatchesDriver(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, proto := range storedTypes {
		typ := reflect.TypeOf(proto)
		t.Run(typ.String(), func(t *testing.T) {
			for i := range 400 {
				v := reflect.New(typ)
				fill(rng, v.Elem(), 0)
				raw, err := bson.Marshal(v.Interface())
				if err != nil {
					t.Fatal(err)
				}
				doc, err := bsondoc.NewDecoder().Decode(raw)
				if err != nil {
					t.Fatal(err)
				}
				want := reflect.New(typ)
				if err := bson.Unmarshal(raw, want.Interface()); err != nil {
					t.Fatal(err)
				}
				got := reflect.New(typ)
				if err := docdecode.Decode(doc, got.Interface()); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got.Interface(), want.Interface()) {
					t.Fatalf("case %d: decoded\n%#v\nthe driver gives\n%#v", i, got.Elem().Interface(), want.Elem().Interface())
				}
				spoilt := spoil(rng, doc)
				want, got = reflect.New(typ), reflect.New(typ)
				wantErr := bsonkit.Transfer(spoilt, want.Interface())
				gotErr := docdecode.Decode(spoilt, got.Interface())
				if (wantErr == nil) != (gotErr == nil) {
					t.Fatalf("case %d spoilt %v: error %v, the driver's %v", i, spoilt, gotErr, wantErr)
				}
				if wantErr == nil && !reflect.DeepEqual(got.Interface(), want.Interface()) {
					t.Fatalf("case %d spoilt %v: decoded\n%#v\nthe driver gives\n%#v", i, spoilt, got.Elem().Interface(), want.Elem().Interface())
				}
			}
		})
	}
}

// TestDecode_FastPathCoversTheHotRecords pins which types skip the
// driver: a field type added to a loan that the fast path cannot take
// would silently bring the round trip back.
func TestDecode_FastPathCoversTheHotRecords(t *testing.T) {
	for _, proto := range []any{model.Loan{}, model.LoanSummary{}, model.Document{}, model.JournalTxn{}, store.User{}, store.APIToken{}, store.Lock{}, session{}, counter{}} {
		if !docdecode.FastPath(reflect.TypeOf(proto)) {
			t.Errorf("%T goes through the driver", proto)
		}
	}
	// An Event carries bson.Raw: the driver decodes it.
	if docdecode.FastPath(reflect.TypeOf(store.Event{})) {
		t.Error("store.Event (bson.Raw payload) on the fast path")
	}
}

// TestDecodeList_GrowsAndTrims: the slice holds exactly the documents.
func TestDecodeList_GrowsAndTrims(t *testing.T) {
	docs := []bsonkit.Doc{
		&bson.D{{Key: "_id", Value: "a"}, {Key: "seq", Value: int64(1)}},
		&bson.D{{Key: "_id", Value: "b"}, {Key: "seq", Value: int32(2)}},
	}
	for _, start := range [][]counter{nil, {{ID: "x"}, {ID: "y"}, {ID: "z"}}} {
		out := start
		if err := docdecode.DecodeList(docs, &out); err != nil {
			t.Fatal(err)
		}
		want := []counter{{ID: "a", Seq: 1}, {ID: "b", Seq: 2}}
		if !reflect.DeepEqual(out, want) {
			t.Errorf("from %v: %+v, want %+v", start, out, want)
		}
	}
	if err := docdecode.DecodeList(docs, new(counter)); err == nil {
		t.Error("a pointer to a struct taken as a list")
	}
}

func BenchmarkDecodeLoan(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	var l model.Loan
	fill(rng, reflect.ValueOf(&l).Elem(), 0)
	raw, _ := bson.Marshal(l)
	doc, _ := bsondoc.NewDecoder().Decode(raw)
	b.Run("docdecode", func(b *testing.B) {
		for b.Loop() {
			var out model.Loan
			if err := docdecode.Decode(doc, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("driver_round_trip", func(b *testing.B) {
		for b.Loop() {
			var out model.Loan
			if err := bsonkit.Transfer(doc, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// fill sets v to random values: empty, nil and full slices, nil and set
// pointers, times to the millisecond (BSON's precision) either side of
// 1970, strings with non-ASCII text.
func fill(rng *rand.Rand, v reflect.Value, depth int) {
	switch v.Type() {
	case reflect.TypeFor[time.Time]():
		if rng.IntN(5) == 0 {
			return
		}
		v.Set(reflect.ValueOf(time.UnixMilli(rng.Int64N(4e12) - 1e12).In(time.FixedZone("IST", 19800))))
		return
	case reflect.TypeFor[primitive.ObjectID]():
		if rng.IntN(5) > 0 {
			v.Set(reflect.ValueOf(primitive.NewObjectID()))
		}
		return
	case reflect.TypeFor[bson.Raw]():
		if rng.IntN(2) == 0 {
			raw, _ := bson.Marshal(bson.D{{Key: "loanId", Value: "LN-1"}, {Key: "n", Value: rng.Int32()}})
			v.SetBytes(raw)
		}
		return
	}
	switch v.Kind() {
	case reflect.String:
		words := []string{"", "a", "LN-2026-000123", "राहुल शर्मा", "₹1,00,000", "under_review", "x\x00y"}
		v.SetString(words[rng.IntN(len(words))])
	case reflect.Bool:
		v.SetBool(rng.IntN(2) == 0)
	case reflect.Int, reflect.Int64:
		vals := []int64{0, 1, -1, math.MaxInt32, math.MaxInt32 + 1, math.MinInt64, math.MaxInt64, rng.Int64()}
		v.SetInt(vals[rng.IntN(len(vals))])
	case reflect.Int32:
		v.SetInt(int64(rng.Int32()) - math.MaxInt32/2)
	case reflect.Float64:
		v.SetFloat(rng.NormFloat64() * 1e6)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(rng, v.Field(i), depth+1)
			}
		}
	case reflect.Pointer:
		if depth < 4 && rng.IntN(3) > 0 {
			v.Set(reflect.New(v.Type().Elem()))
			fill(rng, v.Elem(), depth+1)
		}
	case reflect.Map:
		switch rng.IntN(4) {
		case 0: // nil
		case 1:
			v.Set(reflect.MakeMap(v.Type()))
		default:
			v.Set(reflect.MakeMap(v.Type()))
			keys := []string{"a", "b7c9", "sid-Zx_0", "राहुल", "A"}
			for range 1 + rng.IntN(3) {
				item := reflect.New(v.Type().Elem()).Elem()
				fill(rng, item, depth+1)
				v.SetMapIndex(reflect.ValueOf(keys[rng.IntN(len(keys))]), item)
			}
		}
	case reflect.Slice:
		switch rng.IntN(4) {
		case 0: // nil
		case 1:
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		default:
			n := 1 + rng.IntN(3)
			if depth > 3 {
				n = 1
			}
			v.Set(reflect.MakeSlice(v.Type(), n, n))
			for i := range n {
				fill(rng, v.Index(i), depth+1)
			}
		}
	}
}

// spoil returns a copy of doc with a few elements changed, at any depth:
// a value replaced by null or by another BSON type, an element removed,
// repeated or given a differently cased key.
func spoil(rng *rand.Rand, doc bsonkit.Doc) bsonkit.Doc {
	d := spoilDoc(rng, *doc)
	return &d
}

func spoilDoc(rng *rand.Rand, d bson.D) bson.D {
	out := make(bson.D, 0, len(d)+1)
	for _, e := range d {
		if rng.IntN(6) > 0 {
			out = append(out, bson.E{Key: e.Key, Value: spoilValue(rng, e.Value, false)})
			continue
		}
		switch rng.IntN(5) {
		case 0: // removed
		case 1:
			out = append(out, e, bson.E{Key: e.Key, Value: spoilValue(rng, e.Value, true)})
		case 2:
			out = append(out, bson.E{Key: upper(e.Key), Value: e.Value})
		default:
			out = append(out, bson.E{Key: e.Key, Value: spoilValue(rng, e.Value, true)})
		}
	}
	return out
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 32
			break
		}
	}
	return string(b)
}

// spoilValue replaces v (when now) by another value of another BSON type,
// or descends into it.
func spoilValue(rng *rand.Rand, v any, now bool) any {
	if now {
		others := []any{nil, int32(7), int64(1) << 40, 3.0, 2.5, "7", true, primitive.DateTime(1700000000123),
			primitive.NewObjectID(), bson.A{"a", int32(1)}, &bson.D{{Key: "x", Value: int32(1)}},
			primitive.Binary{Data: []byte("ab")}, primitive.Binary{Subtype: 4, Data: make([]byte, 16)},
			primitive.Timestamp{T: 5}, primitive.Undefined{}}
		return others[rng.IntN(len(others))]
	}
	switch x := v.(type) {
	case *bson.D:
		d := spoilDoc(rng, *x)
		return &d
	case bson.A:
		out := make(bson.A, len(x))
		for i, item := range x {
			out[i] = spoilValue(rng, item, rng.IntN(8) == 0)
		}
		return out
	}
	return v
}
