package embedded

import (
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"testing"
	"time"
	"unsafe"
	"weak"

	"github.com/256dpi/lungo/bsonkit"
	"github.com/256dpi/lungo/mongokit"
	"go.mongodb.org/mongo-driver/bson"
)

// The memos' bounds and keys, pinned: each one only saves work, so no
// answer shows them, but a memo that remembers nothing, or without
// bound, or a wrong thing, is a regression in speed or memory.

// The count memo remembers the first maxCachedRanks counts of a state
// (and no failed count), answering them again without counting.
func TestCountMemo_RemembersUpToItsBound(t *testing.T) {
	t.Parallel()
	c := newCollection()
	counted := 0
	count := func(i int) func() (int, error) {
		return func() (int, error) { counted++; return i, nil }
	}
	filter := func(i int) bsonkit.Doc { return &bson.D{{Key: "n", Value: int64(i)}} }
	for i := range maxCachedRanks + 1 {
		if n, err := memoCount(c, filter(i), count(i)); err != nil || n != i {
			t.Fatalf("count %d: %d, %v", i, n, err)
		}
	}
	counted = 0
	for i := range maxCachedRanks + 1 {
		if n, err := memoCount(c, filter(i), count(i)); err != nil || n != i {
			t.Fatalf("count %d again: %d, %v", i, n, err)
		}
	}
	if counted != 1 {
		t.Fatalf("asked again, %d of %d counts were counted anew; want only the one past the bound of %d", counted, maxCachedRanks+1, maxCachedRanks)
	}

	failing := newCollection()
	calls := 0
	fail := func() (int, error) { calls++; return 0, errors.New("ended") }
	for range 2 {
		if _, err := memoCount(failing, filter(1), fail); err == nil {
			t.Fatal("a failed count answered without its error")
		}
	}
	if calls != 2 {
		t.Fatalf("a failed count was remembered: %d calls for 2 asks", calls)
	}
}

// filterKey takes plain top-level equalities to strings and integers, and
// nothing else (an empty name, a path, an operator, another type).
func TestFilterKey_OnlyPlainEqualities(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		filter bson.D
		ok     bool
	}{
		{bson.D{{Key: "status", Value: "submitted"}}, true},
		{bson.D{{Key: "status", Value: "submitted"}, {Key: "n", Value: int32(3)}, {Key: "m", Value: int64(4)}}, true},
		{bson.D{}, true},
		{bson.D{{Key: "", Value: "x"}}, false},
		{bson.D{{Key: "a.b", Value: "x"}}, false},
		{bson.D{{Key: "$or", Value: bson.A{}}}, false},
		{bson.D{{Key: "n", Value: 1.5}}, false},
	} {
		if _, ok := filterKey(&tc.filter); ok != tc.ok {
			t.Errorf("filterKey(%v): ok %v, want %v", tc.filter, ok, tc.ok)
		}
	}
	a, _ := filterKey(&bson.D{{Key: "n", Value: int32(1)}})
	b, _ := filterKey(&bson.D{{Key: "n", Value: int64(1)}})
	if a == b {
		t.Error("int32 1 and int64 1 share a key")
	}
}

// An index's rank cache keeps the first maxCachedRanks ranks asked for,
// and no more.
func TestRankCache_RemembersUpToItsBound(t *testing.T) {
	t.Parallel()
	ix, err := newIndex("k_1", mongokit.IndexConfig{Key: &bson.D{{Key: "k", Value: int32(1)}}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if err := ix.add(int64(i), &bson.D{{Key: "_id", Value: int64(i)}, {Key: "k", Value: fmt.Sprint(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range maxCachedRanks + 50 {
		want := rank(ix, newEntry([]any{fmt.Sprintf("%05d", i)}, lowest))
		if got := cachedRank(ix, []any{fmt.Sprintf("%05d", i)}, lowest); got != want {
			t.Fatalf("rank %d: %d, want %d", i, got, want)
		}
	}
	kept := 0
	ix.ranks.Load().m.Range(func(any, any) bool { kept++; return true })
	if kept != maxCachedRanks {
		t.Fatalf("%d ranks kept of %d asked, want the first %d", kept, maxCachedRanks+50, maxCachedRanks)
	}
}

// A remembered result counts only while its weak pointer leads to the
// very document looked up: an entry left at an address that another
// document now has (its own was collected, its cleanup has not run) is a
// miss, and the new document is decoded.
func TestDecodeMemo_AnEntryOfAnotherDocumentAtTheAddressIsAMiss(t *testing.T) {
	t.Parallel()
	m := &decodeMemo{}
	gone := &bson.D{{Key: "_id", Value: 1}, {Key: "version", Value: int64(1)}, {Key: "status", Value: "old"}}
	here := &bson.D{{Key: "_id", Value: 1}, {Key: "version", Value: int64(2)}, {Key: "status", Value: "new"}}
	stale := &decoded{doc: weak.Make(gone), value: reflect.New(reflect.TypeFor[listItem]()).Elem()}
	stale.value.Set(reflect.ValueOf(listItem{ID: 1, Version: 1, Status: "old"}))
	tab := m.table(tableKey{proj: "p", typ: reflect.TypeFor[listItem]()})
	tab.m.Store(uintptr(unsafe.Pointer(here)), stale)
	var out []listItem
	if err := m.decodeList([]bsonkit.Doc{here}, "p", func(int) bsonkit.Doc { return here }, &out); err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || out[0].Version != 2 || out[0].Status != "new" {
		t.Fatalf("decoded %+v, want version 2, new (not the entry of the document that had the address)", out)
	}
	runtime.KeepAlive(gone)
}

// Entries leave with their documents: once the documents a page was
// decoded from are collected, the memo's count of entries is back where
// it was, so its bound (maxDecoded) counts live entries only.
func TestDecodeMemo_EntriesLeaveWithTheirDocuments(t *testing.T) {
	t.Parallel()
	m := &decodeMemo{}
	func() {
		stored := make([]bsonkit.Doc, 50)
		for i := range stored {
			stored[i] = &bson.D{{Key: "_id", Value: i}, {Key: "version", Value: int64(1)}, {Key: "status", Value: "s"}}
		}
		var out []listItem
		if err := m.decodeList(stored, "p", func(i int) bsonkit.Doc { return stored[i] }, &out); err != nil {
			t.Fatal(err)
		}
		if n := m.n.Load(); n != 50 {
			t.Fatalf("%d entries after decoding 50 documents, want 50", n)
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for m.n.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d entries 10 s after their documents were dropped, want 0", m.n.Load())
		}
		// The runtime runs cleanups on its own goroutine some time after
		// the collection that found the object dead, and says nothing when
		// it has: polling is the only way to see them.
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}
