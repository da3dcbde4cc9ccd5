// Package docdecode decodes the embedded engine's in-memory documents
// (bson.D trees, as store/bsondoc builds them) straight into Go structs,
// giving exactly what the driver's bson.Unmarshal of the same document
// gives, without encoding the document to BSON bytes first.
//
// That round trip (lungo's bsonkit.Transfer: bson.Marshal, then
// bson.Unmarshal through the driver's reflection codecs) was a quarter of
// the CPU of a loan list request and most of its garbage.
//
// Only what the store's records use takes the fast path: structs with
// `bson` tags whose fields are strings, booleans, integers, float64,
// time.Time, ObjectIDs, []byte, and structs, pointers to structs, slices
// of these and maps of them by string. A type with anything else
// (interfaces, other maps, bson.Raw,
// inline structs), and any value the fast path does not convert itself
// (a double stored in an integer field, a string in a date field …),
// falls back to the driver's round trip for the whole document, so the
// driver's conversions and its errors stay the rule. TestDecode_MatchesDriver
// compares both on every stored type.
package docdecode

import (
	"errors"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/256dpi/lungo/bsonkit"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// errSlow sends a document to the driver: the fast path met a value it
// does not convert itself.
var errSlow = errors.New("docdecode: left to the driver")

// Decode decodes doc into out, a non-nil pointer, as bson.Unmarshal of
// doc's BSON would: fields present in doc are set, others are left as
// they are. Errors are the driver's.
func Decode(doc bsonkit.Doc, out any) error {
	v := reflect.ValueOf(out)
	if v.Kind() == reflect.Pointer && !v.IsNil() && doc != nil {
		if p := planFor(v.Type().Elem()); p != nil {
			if err := p.decode(*doc, v.Elem()); err == nil {
				return nil
			}
		}
	}
	return bsonkit.Transfer(doc, out)
}

// DecodeList decodes docs into out, a pointer to a slice, growing it as
// needed: the slice holds exactly len(docs) elements afterwards, as with
// the driver's Cursor.All.
func DecodeList(docs []bsonkit.Doc, out any) error {
	v := reflect.ValueOf(out)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Slice {
		return errors.New("docdecode: results argument must be a pointer to a slice")
	}
	slice := v.Elem()
	if slice.Cap() < len(docs) {
		grown := reflect.MakeSlice(slice.Type(), len(docs), len(docs))
		reflect.Copy(grown, slice)
		slice = grown
	} else {
		slice = slice.Slice(0, len(docs))
	}
	for i, doc := range docs {
		item := slice.Index(i)
		if err := Decode(doc, item.Addr().Interface()); err != nil {
			return err
		}
	}
	v.Elem().Set(slice)
	return nil
}

// plan is how to decode a document into one struct type.
type plan struct {
	fields map[string]*field
}

type field struct {
	index  int
	decode decoder
}

// decoder sets dst from one document value, or returns errSlow.
type decoder func(val any, dst reflect.Value) error

var plans sync.Map // reflect.Type → *plan, or nil for types left to the driver

// planFor returns t's plan, or nil when t is not a struct the fast path
// handles whole.
func planFor(t reflect.Type) *plan {
	if p, ok := plans.Load(t); ok {
		return p.(*plan)
	}
	p := compileStruct(t, map[reflect.Type]*plan{})
	plans.Store(t, p)
	return p
}

// compileStruct builds t's plan; building holds the plans under
// construction, so recursive types refer to themselves.
func compileStruct(t reflect.Type, building map[reflect.Type]*plan) *plan {
	if t.Kind() != reflect.Struct || t == timeType {
		return nil
	}
	if p, ok := building[t]; ok {
		return p
	}
	p := &plan{fields: map[string]*field{}}
	building[t] = p
	for i := range t.NumField() {
		sf := t.Field(i)
		name, skip, ok := fieldName(sf)
		if !ok {
			return nil
		}
		if skip {
			continue
		}
		dec := compileValue(sf.Type, building)
		if dec == nil {
			return nil
		}
		if _, dup := p.fields[name]; dup {
			return nil // the driver refuses such a type; let it say so
		}
		p.fields[name] = &field{index: i, decode: dec}
	}
	return p
}

// fieldName reads the driver's struct tag rules for sf: the key, whether
// the field is skipped, and ok=false for what the fast path leaves to the
// driver (inline and embedded structs).
func fieldName(sf reflect.StructField) (name string, skip, ok bool) {
	if !sf.IsExported() {
		return "", true, true
	}
	if sf.Anonymous {
		return "", false, false
	}
	tag, has := sf.Tag.Lookup("bson")
	if !has && !strings.Contains(string(sf.Tag), ":") && len(sf.Tag) > 0 {
		tag = string(sf.Tag) // the driver reads a bare tag as its own
	}
	if tag == "-" {
		return "", true, true
	}
	key, opts, _ := strings.Cut(tag, ",")
	for opt := range strings.SplitSeq(opts, ",") {
		if opt == "inline" {
			return "", false, false
		}
	}
	if key == "" {
		key = strings.ToLower(sf.Name)
	}
	return key, false, true
}

var (
	timeType     = reflect.TypeFor[time.Time]()
	objectIDType = reflect.TypeFor[primitive.ObjectID]()
	bytesType    = reflect.TypeFor[[]byte]()
	stringType   = reflect.TypeFor[string]()
)

// compileValue returns the decoder for one field type, or nil when the
// type is left to the driver.
func compileValue(t reflect.Type, building map[reflect.Type]*plan) decoder {
	switch t {
	case timeType:
		return decodeTime
	case objectIDType:
		return decodeObjectID
	case bytesType:
		return decodeBytes
	}
	if t.PkgPath() != "" && t.Kind() != reflect.Struct {
		return nil // named scalars may have their own codecs
	}
	switch t.Kind() {
	case reflect.String:
		return decodeString
	case reflect.Bool:
		return decodeBool
	case reflect.Int, reflect.Int64, reflect.Int32:
		return decodeInt
	case reflect.Float64:
		return decodeFloat
	case reflect.Struct:
		p := compileStruct(t, building)
		if p == nil {
			return nil
		}
		return func(val any, dst reflect.Value) error {
			switch v := val.(type) {
			case nil:
				dst.SetZero()
				return nil
			case *bson.D:
				return p.decode(*v, dst)
			case bson.D:
				return p.decode(v, dst)
			}
			return errSlow
		}
	case reflect.Pointer:
		elem := compileValue(t.Elem(), building)
		if elem == nil || t.Elem().Kind() != reflect.Struct {
			return nil
		}
		return func(val any, dst reflect.Value) error {
			if val == nil {
				dst.SetZero()
				return nil
			}
			if dst.IsNil() {
				dst.Set(reflect.New(t.Elem()))
			}
			return elem(val, dst.Elem())
		}
	case reflect.Map:
		// Keyed by plain strings, as documents are (a user's sessions by
		// id). The driver adds each key's value, decoded into a new zero
		// element, to the map (made if nil; entries already there stay).
		if t.Key() != stringType {
			return nil
		}
		elem := compileValue(t.Elem(), building)
		if elem == nil {
			return nil
		}
		return func(val any, dst reflect.Value) error {
			var doc bson.D
			switch v := val.(type) {
			case nil:
				dst.SetZero()
				return nil
			case *bson.D:
				doc = *v
			case bson.D:
				doc = v
			default:
				return errSlow
			}
			if dst.IsNil() {
				dst.Set(reflect.MakeMapWithSize(t, len(doc)))
			}
			for _, e := range doc {
				item := reflect.New(t.Elem()).Elem()
				if err := elem(e.Value, item); err != nil {
					return err
				}
				dst.SetMapIndex(reflect.ValueOf(e.Key), item)
			}
			return nil
		}
	case reflect.Slice:
		elem := compileValue(t.Elem(), building)
		if elem == nil {
			return nil
		}
		return func(val any, dst reflect.Value) error {
			var items []any
			switch v := val.(type) {
			case nil:
				dst.SetZero()
				return nil
			case bson.A:
				items = v
			case []any:
				items = v
			default:
				return errSlow
			}
			out := reflect.MakeSlice(t, len(items), len(items))
			for i, item := range items {
				if err := elem(item, out.Index(i)); err != nil {
					return err
				}
			}
			dst.Set(out)
			return nil
		}
	}
	return nil
}

// decode sets dst's fields from doc's elements, in order (a repeated key
// is set twice, the last one staying, as with the driver).
func (p *plan) decode(doc bson.D, dst reflect.Value) error {
	for _, e := range doc {
		f, ok := p.fields[e.Key]
		if !ok {
			f, ok = p.fields[strings.ToLower(e.Key)] // the driver's second try
			if !ok {
				continue
			}
		}
		if err := f.decode(e.Value, dst.Field(f.index)); err != nil {
			return err
		}
	}
	return nil
}

func decodeString(val any, dst reflect.Value) error {
	switch v := val.(type) {
	case string:
		dst.SetString(v)
	case nil:
		dst.SetString("")
	default:
		return errSlow
	}
	return nil
}

func decodeBool(val any, dst reflect.Value) error {
	switch v := val.(type) {
	case bool:
		dst.SetBool(v)
	case nil:
		dst.SetBool(false)
	default:
		return errSlow
	}
	return nil
}

// decodeInt takes BSON int32 and int64 values; the driver's own rules
// for doubles (truncation) and booleans stay with the driver.
func decodeInt(val any, dst reflect.Value) error {
	var n int64
	switch v := val.(type) {
	case int32:
		n = int64(v)
	case int64:
		n = v
	case nil:
	default:
		return errSlow
	}
	if dst.OverflowInt(n) {
		return errSlow
	}
	dst.SetInt(n)
	return nil
}

func decodeFloat(val any, dst reflect.Value) error {
	switch v := val.(type) {
	case float64:
		dst.SetFloat(v)
	case nil:
		dst.SetFloat(0)
	default:
		return errSlow
	}
	return nil
}

// decodeTime is the driver's TimeCodec: a BSON date (milliseconds since
// the Unix epoch) as a UTC time.
func decodeTime(val any, dst reflect.Value) error {
	var t time.Time
	switch v := val.(type) {
	case primitive.DateTime:
		t = time.Unix(int64(v)/1000, int64(v)%1000*1_000_000).UTC()
	case nil:
	default:
		return errSlow
	}
	dst.Set(reflect.ValueOf(t))
	return nil
}

func decodeObjectID(val any, dst reflect.Value) error {
	switch v := val.(type) {
	case primitive.ObjectID:
		dst.Set(reflect.ValueOf(v))
	case nil:
		dst.SetZero()
	default:
		return errSlow
	}
	return nil
}

// decodeBytes takes generic binary data (subtype 0), copied so the
// result never shares the engine's stored bytes.
func decodeBytes(val any, dst reflect.Value) error {
	switch v := val.(type) {
	case primitive.Binary:
		if v.Subtype != 0 {
			return errSlow
		}
		dst.SetBytes(append([]byte{}, v.Data...))
	case nil:
		dst.SetZero()
	default:
		return errSlow
	}
	return nil
}
