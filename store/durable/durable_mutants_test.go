package durable

// Rules of the commit path and of opening a file that no other test pins
// down (each was a surviving mutant of scripts/mutation.sh).

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/fnv"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// state is what Load gives, as plain maps: namespace → key → body, and
// namespace → index name → definition.
func state(t *testing.T, db *DB) (docs map[string]map[string]string, indexes map[string]map[string]string) {
	t.Helper()
	nss, err := db.Load()
	if err != nil {
		t.Fatal(err)
	}
	docs, indexes = map[string]map[string]string{}, map[string]map[string]string{}
	for _, ns := range nss {
		docs[ns.Name], indexes[ns.Name] = map[string]string{}, map[string]string{}
		for _, body := range ns.Docs {
			docs[ns.Name][string(body)] = string(body)
		}
		for name, def := range ns.Indexes {
			indexes[ns.Name][name] = string(def)
		}
	}
	return docs, indexes
}

func doc(body string) Doc { return Doc{Key: []byte("k-" + body), Body: []byte(body)} }

func TestDB_CommitOrder(t *testing.T) {
	t.Parallel()

	// Drops come before puts within a change, as deletes come before
	// puts: an index dropped and created again under its name in one
	// commit (a transaction that redefines it) keeps the new definition.
	t.Run("IndexDroppedAndPutAgainKeepsTheNewDefinition", func(t *testing.T) {
		t.Parallel()
		db := open(t, filepath.Join(t.TempDir(), "x.db"))
		if err := db.Commit([]Change{{Namespace: "a.b", IndexPuts: map[string][]byte{"_id_": []byte("id"), "status_1": []byte("old")}}}); err != nil {
			t.Fatal(err)
		}
		if err := db.Commit([]Change{{Namespace: "a.b", IndexDrops: []string{"status_1"}, IndexPuts: map[string][]byte{"status_1": []byte("new")}}}); err != nil {
			t.Fatal(err)
		}
		_, ix := state(t, db)
		if got := ix["a.b"]["status_1"]; got != "new" {
			t.Fatalf("index status_1 = %q, want %q (indexes %v)", got, "new", ix["a.b"])
		}
	})

	// A change that drops its namespace and writes into it again (a
	// collection dropped and refilled in one transaction) leaves exactly
	// the new documents, and the changes after it in the commit land too.
	t.Run("DropThenWritesInOneChangeAndTheChangesAfterIt", func(t *testing.T) {
		t.Parallel()
		db := open(t, filepath.Join(t.TempDir(), "x.db"))
		if err := db.Commit([]Change{{Namespace: "a.b", Puts: []Doc{doc("old1"), doc("old2")}, IndexPuts: map[string][]byte{"i": []byte("old")}}}); err != nil {
			t.Fatal(err)
		}
		err := db.Commit([]Change{
			{Namespace: "a.b", Drop: true, Puts: []Doc{doc("new")}, IndexPuts: map[string][]byte{"j": []byte("new")}},
			{Namespace: "a.c", Puts: []Doc{doc("other")}},
		})
		if err != nil {
			t.Fatal(err)
		}
		docs, ix := state(t, db)
		want := map[string]map[string]string{"a.b": {"new": "new"}, "a.c": {"other": "other"}}
		if !sameMaps(docs, want) || len(ix["a.b"]) != 1 || ix["a.b"]["j"] != "new" {
			t.Fatalf("docs %v indexes %v, want docs %v and only index j", docs, ix, want)
		}
	})

	// Every index definition of a change is written, and so is every
	// change after it.
	t.Run("EveryIndexPutAndEveryLaterChangeLands", func(t *testing.T) {
		t.Parallel()
		db := open(t, filepath.Join(t.TempDir(), "x.db"))
		err := db.Commit([]Change{
			{Namespace: "a.b", IndexPuts: map[string][]byte{"_id_": []byte("id"), "x_1": []byte("x"), "y_1": []byte("y")}},
			{Namespace: "a.c", Puts: []Doc{doc("c")}, IndexPuts: map[string][]byte{"z_1": []byte("z")}},
		})
		if err != nil {
			t.Fatal(err)
		}
		docs, ix := state(t, db)
		if len(ix["a.b"]) != 3 || ix["a.b"]["y_1"] != "y" || ix["a.b"]["x_1"] != "x" || ix["a.c"]["z_1"] != "z" || docs["a.c"]["c"] != "c" {
			t.Fatalf("docs %v indexes %v", docs, ix)
		}
	})

	// CommitGroup (the engine's group commit) applies each writer's list in
	// order in one transaction: a later writer's put of a key wins, and
	// empty lists in the group change nothing.
	t.Run("GroupAppliesEachListInOrder", func(t *testing.T) {
		t.Parallel()
		db := open(t, filepath.Join(t.TempDir(), "x.db"))
		key := []byte("k")
		group := [][]Change{
			{{Namespace: "a.b", Puts: []Doc{{Key: key, Body: []byte("first")}}}},
			nil,
			{{Namespace: "a.b", Puts: []Doc{{Key: key, Body: []byte("second")}, doc("more")}}},
		}
		if err := db.CommitGroup(group); err != nil {
			t.Fatal(err)
		}
		if err := db.CommitSerial([]Change{{Namespace: "a.c", Puts: []Doc{doc("serial")}}}); err != nil {
			t.Fatal(err)
		}
		docs, _ := state(t, db)
		want := map[string]map[string]string{"a.b": {"second": "second", "more": "more"}, "a.c": {"serial": "serial"}}
		if !sameMaps(docs, want) {
			t.Fatalf("docs %v, want %v", docs, want)
		}
		if err := db.CommitGroup([][]Change{nil, {}}); err != nil {
			t.Fatalf("a group of empty lists: %v", err)
		}
	})
}

func sameMaps(a, b map[string]map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, m := range a {
		n, ok := b[k]
		if !ok || len(m) != len(n) {
			return false
		}
		for kk, v := range m {
			if n[kk] != v {
				return false
			}
		}
	}
	return true
}

func TestOpen_Refusals(t *testing.T) {
	t.Parallel()

	// Without a LockTimeout, Open waits a second for the file, then
	// gives up: it never hangs on a file another process holds.
	t.Run("DefaultLockTimeoutGivesUp", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "x.db")
		open(t, path)
		done := make(chan error, 1)
		go func() {
			db, err := Open(path, Options{})
			if err == nil {
				_ = db.Close()
			}
			done <- err
		}()
		select {
		case err := <-done:
			if !errors.Is(err, ErrInUse) {
				t.Fatalf("got %v, want ErrInUse", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Open with the default lock timeout still waits after 5 s")
		}
	})

	// A bbolt file of another program is refused, not adopted (Open used
	// to write its metadata into such a file).
	t.Run("ForeignBboltFileIsRefusedAndLeftAlone", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "theirs.db")
		b, err := bolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		err = b.Update(func(tx *bolt.Tx) error {
			bk, err := tx.CreateBucket([]byte("theirs"))
			if err != nil {
				return err
			}
			return bk.Put([]byte("k"), []byte("v"))
		})
		if err != nil {
			t.Fatal(err)
		}
		_ = b.Close()
		db, err := Open(path, Options{LockTimeout: 50 * time.Millisecond})
		if err == nil {
			_ = db.Close()
			t.Fatal("a bbolt file of another program was opened as a Loan Desk database")
		}
		b, err = bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		_ = b.View(func(tx *bolt.Tx) error {
			if tx.Bucket(metaBucket) != nil {
				t.Error("the refused file was written to")
			}
			return nil
		})
	})
}

// metaPage builds a bbolt meta page (page header, then the meta fields and
// their FNV-64a checksum) with the given page size.
func metaPage(pageSize uint32) []byte {
	buf := make([]byte, 16+64)
	m := buf[16:]
	le := binary.LittleEndian
	le.PutUint32(m[0:], 0xED0CDAED)
	le.PutUint32(m[4:], 2)
	le.PutUint32(m[8:], pageSize)
	le.PutUint64(m[40:], 7) // high water
	le.PutUint64(m[48:], 3) // txid
	h := fnv.New64a()
	_, _ = h.Write(m[:56])
	le.PutUint64(m[56:], h.Sum64())
	return buf
}

// The page sizes a meta page may give are 512 B to 1 MiB, both included.
func TestReadMeta_PageSizeLimitsAreInclusive(t *testing.T) {
	t.Parallel()
	for ps, valid := range map[uint32]bool{511: false, 512: true, 4096: true, 1 << 20: true, 1<<20 + 1: false} {
		m, ok := readMeta(bytes.NewReader(metaPage(ps)), 0)
		if ok != valid || ok && (m.pageSize != ps || m.highWater != 7 || m.txid != 3) {
			t.Errorf("page size %d: meta %+v ok=%v, want ok=%v", ps, m, ok, valid)
		}
	}
	bad := metaPage(4096)
	bad[16+20] ^= 1 // a field changed after the checksum was taken
	if _, ok := readMeta(bytes.NewReader(bad), 0); ok {
		t.Error("a meta page with a wrong checksum was read")
	}
}
