package embedded

import (
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
	"weak"

	"github.com/256dpi/lungo/bsonkit"
	"go.mongodb.org/mongo-driver/bson"

	"loandesk/store/docdecode"
)

// decodeMemo remembers what a stored document decoded to, so a list page
// read again and again (the first page of each status tab, by a thousand
// admins) is decoded once per change of each document rather than once
// per request: decoding was a third of a list request's CPU.
//
// It rests on two facts of this engine. A stored document never changes:
// a write stores a new one (collection.go), so a document's address
// names its content for as long as it lives. And a result decoded from
// it, when it holds no slice, map, pointer or interface (a list page's
// projection leaves none in store.Loan), can be copied to every caller
// without them sharing anything they could change.
//
// Entries are keyed by the stored document's address, with the
// projection and the result type, and leave when the document is
// collected (a write replaced it and no snapshot holds it any more).
// Each entry holds a weak pointer to its document, and a hit counts only
// while that pointer still leads to the very document looked up: an
// address reused by a new document before the cleanup ran is a miss.
// (A weak pointer made per lookup, as first written, cost 3 % of the
// server's CPU: weak.Make searches the object's span for its record.)
// At most maxDecoded entries are kept; past that, results are decoded
// and not remembered until writes free room.
type decodeMemo struct {
	tables sync.Map // tableKey → *decodeTable
	n      atomic.Int64
}

// decodeTable holds the results of one projection into one type, by the
// stored document's address: a find looks its table up once, then each
// document by a plain integer key (a composite key with the projection's
// string, hashed per document, was most of the memo's cost).
type decodeTable struct {
	m sync.Map // uintptr → *decoded
}

type tableKey struct {
	proj string
	typ  reflect.Type
}

// decoded is a remembered result and the document it was read from.
type decoded struct {
	doc   weak.Pointer[bson.D]
	value reflect.Value // a flat struct value
}

// maxDecoded bounds the memo: about 500 bytes an entry for a loan's list
// fields, so at most some 25 MB.
const maxDecoded = 50_000

// decodeList is docdecode.DecodeList for the results of a find: result i
// is doc(i), read from the stored document stored[i] through the
// projection named key. It answers exactly as DecodeList does. It takes
// remembered results only when out points to an empty slice of structs
// (a fresh result, so decoding into a zero element is what DecodeList
// would do), and calls doc only for results it does not remember.
func (m *decodeMemo) decodeList(stored []bsonkit.Doc, key string, doc func(int) bsonkit.Doc, out any) error {
	v := reflect.ValueOf(out)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Slice ||
		v.Elem().Cap() != 0 || v.Elem().Type().Elem().Kind() != reflect.Struct {
		docs := make([]bsonkit.Doc, len(stored))
		for i := range docs {
			docs[i] = doc(i)
		}
		return docdecode.DecodeList(docs, out)
	}
	elem := v.Elem().Type().Elem()
	slice := reflect.MakeSlice(v.Elem().Type(), len(stored), len(stored))
	t := m.table(tableKey{proj: key, typ: elem})
	for i, src := range stored {
		item := slice.Index(i)
		k := uintptr(unsafe.Pointer(src)) // decoded.doc says it is still the same document
		got, found := t.m.Load(k)
		if found && got.(*decoded).doc.Value() == src {
			item.Set(got.(*decoded).value)
			continue
		}
		if err := docdecode.Decode(doc(i), item.Addr().Interface()); err != nil {
			return err
		}
		if !flat(item) {
			continue
		}
		kept := &decoded{doc: weak.Make(src), value: reflect.New(elem).Elem()}
		kept.value.Set(item)
		switch {
		case found:
			// A collected document's entry whose cleanup has not run yet:
			// take its place (its cleanup then finds a different entry).
			if t.m.CompareAndSwap(k, got, kept) {
				runtime.AddCleanup(src, m.forget, forgetKey{t, k, kept})
			}
		case m.n.Load() < maxDecoded:
			if _, loaded := t.m.LoadOrStore(k, kept); !loaded {
				m.n.Add(1)
				runtime.AddCleanup(src, m.forget, forgetKey{t, k, kept})
			}
		}
	}
	v.Elem().Set(slice)
	return nil
}

// forgetKey names the entry a cleanup removes: the key and the entry
// made for the collected document, so a cleanup that runs after a new
// document at the same address took the key leaves that one alone.
type forgetKey struct {
	table *decodeTable
	doc   uintptr
	entry *decoded
}

func (m *decodeMemo) forget(f forgetKey) {
	if f.table.m.CompareAndDelete(f.doc, f.entry) {
		m.n.Add(-1)
	}
}

// table returns the results table of a projection and type. Tables are
// never removed: there are as many as the app's distinct list
// projections and result types, a handful.
func (m *decodeMemo) table(k tableKey) *decodeTable {
	if t, ok := m.tables.Load(k); ok {
		return t.(*decodeTable)
	}
	t, _ := m.tables.LoadOrStore(k, &decodeTable{})
	return t.(*decodeTable)
}

var timeType = reflect.TypeFor[time.Time]()

// flat reports whether v shares no memory a caller could change: no
// non-nil slice, map, pointer, interface, channel or function anywhere
// in it (strings are immutable; a time.Time's location is never changed).
func flat(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Slice, reflect.Map, reflect.Pointer, reflect.Interface, reflect.Chan, reflect.Func, reflect.UnsafePointer:
		return v.IsNil()
	case reflect.Struct:
		if v.Type() == timeType {
			return true
		}
		for i := range v.NumField() {
			if !flat(v.Field(i)) {
				return false
			}
		}
	case reflect.Array:
		for i := range v.Len() {
			if !flat(v.Index(i)) {
				return false
			}
		}
	}
	return true
}
