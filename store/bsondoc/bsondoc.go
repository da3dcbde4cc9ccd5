// Package bsondoc decodes stored BSON documents into bson.D, the form the
// embedded engine keeps in memory, giving exactly what bson.Unmarshal
// gives but faster and smaller: it reads the bytes directly instead of
// through the driver's reflection-based codecs, sizes every element slice
// exactly, and shares the strings that repeat across documents (keys and
// short values such as statuses) instead of allocating them per document.
//
// A database loads hundreds of thousands of documents at start-up, so this
// is the start-up time and most of the resident memory.
package bsondoc

import (
	"errors"
	"fmt"
	"runtime"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
	"golang.org/x/sync/errgroup"
)

// maxSharedLen bounds which string values are shared: short ones repeat
// (statuses, cities, search tokens); long ones rarely do, and looking them
// up would only cost time.
const maxSharedLen = 16

// Decoder decodes documents, remembering strings it has seen. It is not
// safe for concurrent use; give each goroutine its own.
type Decoder struct {
	strings map[string]string
	// values holds shared string values already boxed as interfaces:
	// boxing a string allocates its header, 16 bytes per value, which
	// for a loan's search keys alone was 240 bytes a document.
	values map[string]any
}

// NewDecoder returns a decoder with an empty string table.
func NewDecoder() *Decoder {
	return &Decoder{strings: map[string]string{}, values: map[string]any{}}
}

var errCorrupt = errors.New("bsondoc: corrupt document")

// errRare marks types the fast path leaves to the driver (code with scope,
// DB pointers, old binary): decoding them is rare, so exactness matters
// more than speed.
var errRare = errors.New("bsondoc: rare type")

// Decode decodes one document.
func (d *Decoder) Decode(raw []byte) (*bson.D, error) {
	doc, err := d.document(raw)
	if errors.Is(err, errRare) {
		var slow bson.D
		if err := bson.Unmarshal(raw, &slow); err != nil {
			return nil, fmt.Errorf("bsondoc: %w", err)
		}
		return &slow, nil
	}
	if err != nil {
		return nil, err
	}
	return &doc, nil
}

// maxTable bounds each table. Values that repeat (statuses, names,
// cities) show up within the first documents; the rest are mostly
// unique (PANs, numbers), and adding them only grows and rehashes the
// table, which took a third of decoding.
const maxTable = 1 << 14

// share returns the table's copy of b's string, adding it if new.
func (d *Decoder) share(b []byte) string {
	if s, ok := d.strings[string(b)]; ok { // no allocation for the lookup
		return s
	}
	s := string(b)
	if len(d.strings) < maxTable {
		d.strings[s] = s
	}
	return s
}

// shareValue is share for a string value, boxed once.
func (d *Decoder) shareValue(b []byte) any {
	if v, ok := d.values[string(b)]; ok {
		return v
	}
	var v any = d.share(b)
	if len(d.values) < maxTable {
		d.values[v.(string)] = v
	}
	return v
}

// elements returns the element bytes of a document or array, checked
// against its length prefix and terminator, and how many there are (so
// the result can be allocated at its exact size).
func elements(raw []byte) ([]byte, int, error) {
	length, _, ok := bsoncore.ReadLength(raw)
	if !ok || length < 5 || int(length) > len(raw) || raw[length-1] != 0 {
		return nil, 0, errCorrupt
	}
	els := raw[4 : length-1]
	n := 0
	for rest := els; len(rest) > 0; n++ {
		if _, rest, ok = bsoncore.ReadElement(rest); !ok {
			return nil, 0, errCorrupt
		}
	}
	return els, n, nil
}

func (d *Decoder) document(raw []byte) (bson.D, error) {
	els, n, err := elements(raw)
	if err != nil {
		return nil, err
	}
	doc := make(bson.D, n)
	for i := range doc {
		key, v, rest, err := d.element(els)
		if err != nil {
			return nil, err
		}
		doc[i] = bson.E{Key: d.share(key), Value: v}
		els = rest
	}
	return doc, nil
}

func (d *Decoder) array(raw []byte) (bson.A, error) {
	els, n, err := elements(raw)
	if err != nil {
		return nil, err
	}
	arr := make(bson.A, n)
	for i := range arr {
		_, v, rest, err := d.element(els)
		if err != nil {
			return nil, err
		}
		arr[i] = v
		els = rest
	}
	return arr, nil
}

// element decodes the element at the start of els and returns its key,
// its value and the bytes after it.
func (d *Decoder) element(els []byte) (key []byte, v any, rest []byte, err error) {
	t, afterType, ok := bsoncore.ReadType(els)
	if !ok {
		return nil, nil, nil, errCorrupt
	}
	key, afterKey, ok := bsoncore.ReadKeyBytes(afterType)
	if !ok {
		return nil, nil, nil, errCorrupt
	}
	val, rest, ok := bsoncore.ReadValue(afterKey, t)
	if !ok {
		return nil, nil, nil, errCorrupt
	}
	v, err = d.value(val)
	return key, v, rest, err
}

// stringBytes returns the bytes of a BSON string without copying them.
func stringBytes(data []byte) ([]byte, bool) {
	length, rest, ok := bsoncore.ReadLength(data)
	if !ok || length < 1 || int(length) > len(rest) || rest[length-1] != 0 {
		return nil, false
	}
	return rest[:length-1], true
}

// value converts one value to the Go type bson.Unmarshal gives it inside
// a bson.D.
func (d *Decoder) value(val bsoncore.Value) (any, error) {
	switch val.Type {
	case bsontype.Double:
		return val.Double(), nil
	case bsontype.String:
		b, ok := stringBytes(val.Data)
		if !ok {
			return nil, errCorrupt
		}
		if len(b) <= maxSharedLen {
			return d.shareValue(b), nil
		}
		return string(b), nil
	case bsontype.EmbeddedDocument:
		return d.document(val.Data)
	case bsontype.Array:
		return d.array(val.Data)
	case bsontype.Binary:
		sub, data, _, ok := bsoncore.ReadBinary(val.Data)
		if !ok {
			return nil, errCorrupt
		}
		if sub == bson.TypeBinaryBinaryOld {
			return nil, errRare
		}
		return primitive.Binary{Subtype: sub, Data: append([]byte(nil), data...)}, nil
	case bsontype.Undefined:
		return primitive.Undefined{}, nil
	case bsontype.ObjectID:
		return val.ObjectID(), nil
	case bsontype.Boolean:
		return val.Boolean(), nil
	case bsontype.DateTime:
		return primitive.DateTime(val.DateTime()), nil
	case bsontype.Null:
		return nil, nil
	case bsontype.Regex:
		pattern, options := val.Regex()
		return primitive.Regex{Pattern: pattern, Options: options}, nil
	case bsontype.JavaScript:
		return primitive.JavaScript(val.JavaScript()), nil
	case bsontype.Symbol:
		return primitive.Symbol(val.Symbol()), nil
	case bsontype.Int32:
		return val.Int32(), nil
	case bsontype.Timestamp:
		t, i := val.Timestamp()
		return primitive.Timestamp{T: t, I: i}, nil
	case bsontype.Int64:
		return val.Int64(), nil
	case bsontype.Decimal128:
		return val.Decimal128(), nil
	case bsontype.MinKey:
		return primitive.MinKey{}, nil
	case bsontype.MaxKey:
		return primitive.MaxKey{}, nil
	case bsontype.DBPointer, bsontype.CodeWithScope:
		return nil, errRare
	}
	return nil, errCorrupt
}

// DecodeAll decodes documents on every CPU, each worker with its own
// Decoder (so strings are shared per worker).
func DecodeAll(raws [][]byte) ([]*bson.D, error) {
	docs := make([]*bson.D, len(raws))
	workers := runtime.GOMAXPROCS(0)
	chunk := max(1, (len(raws)+workers-1)/workers)
	var g errgroup.Group
	for start := 0; start < len(raws); start += chunk {
		end := min(start+chunk, len(raws))
		g.Go(func() error {
			dec := NewDecoder()
			for i := start; i < end; i++ {
				d, err := dec.Decode(raws[i])
				if err != nil {
					return fmt.Errorf("a document is unreadable: %w", err)
				}
				docs[i] = d
			}
			return nil
		})
	}
	return docs, g.Wait()
}
