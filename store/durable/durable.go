// Package durable persists an embedded database's documents and index
// definitions in a bbolt file. Its input is engine-neutral: per commit, per
// namespace, the documents put and deleted by _id and the indexes created
// or dropped. A commit is synced to disk before Commit returns, and
// concurrent commits share one sync (bbolt's batch: group commit).
//
// bbolt was chosen over Pebble because it is one file with one writer and
// copy-on-write B+tree pages: a crash leaves the last committed state
// (no log replay to get right), consistent backups are a read transaction,
// and its file lock is the "database in use" check we need.
package durable

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
	"go.mongodb.org/mongo-driver/bson"
)

// formatVersion is stored in the meta bucket; a file without it, or with
// another version, is refused.
const formatVersion = "loandesk-durable-1"

var (
	metaBucket = []byte("meta")
	nsPrefix   = "ns:"
	docsBucket = []byte("docs")
	idxBucket  = []byte("indexes")
)

// ErrInUse means another process holds the database file.
var ErrInUse = errors.New("database in use")

// ErrRefused means a commit was refused before anything was written, so
// the file is unchanged and the caller need not resynchronise.
var ErrRefused = errors.New("commit refused")

// idIndex is the primary index every collection keeps: documents are
// stored by _id, so it cannot be dropped.
const idIndex = "_id_"

// Change is what one commit did to one namespace ("db.collection").
// Deletes are applied before Puts, so a document deleted and re-put under
// the same _id in one commit survives.
type Change struct {
	Namespace  string
	Drop       bool              // remove the namespace first (documents and indexes)
	Puts       []Doc             // documents written, keyed by _id
	Deletes    [][]byte          // _id keys removed
	IndexPuts  map[string][]byte // index name → encoded definition
	IndexDrops []string
}

// Doc is one stored document: its _id key and its encoded body.
type Doc struct {
	Key  []byte
	Body []byte
}

// DB is an open durable database file.
type DB struct {
	bolt *bolt.DB
	path string
}

// Options tune Open.
type Options struct {
	// LockTimeout is how long to wait for another process to release the
	// file before giving up with ErrInUse.
	LockTimeout time.Duration
}

// Open opens (creating if missing) the database file at path.
func Open(path string, opts Options) (*DB, error) {
	if opts.LockTimeout == 0 {
		opts.LockTimeout = time.Second
	}
	if err := checkFile(path); err != nil {
		return nil, err
	}
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.LockTimeout, FreelistType: bolt.FreelistMapType})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("durable: %s: %w: another process has it open", path, ErrInUse)
		}
		return nil, fmt.Errorf("durable: %s is not a readable Loan Desk database (truncated or foreign file?): %w", path, err)
	}
	db := &DB{bolt: b, path: path}
	if err := db.checkFormat(); err != nil {
		_ = b.Close()
		return nil, err
	}
	return db, nil
}

func (db *DB) checkFormat() error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(metaBucket)
		if meta == nil {
			// A new file has no buckets yet; one with buckets but no
			// metadata belongs to another program. (TxStats counts this
			// transaction's allocations, not the file's pages: it said
			// nothing here, and such files used to be adopted.)
			if hasBuckets(tx) {
				return fmt.Errorf("durable: %s is a bbolt file of another program (no Loan Desk metadata)", db.path)
			}
			m, err := tx.CreateBucket(metaBucket)
			if err != nil {
				return err
			}
			return m.Put([]byte("format"), []byte(formatVersion))
		}
		if !isOurFormat(tx) {
			return fmt.Errorf("durable: %s has format %q, this build reads %q", db.path, meta.Get([]byte("format")), formatVersion)
		}
		return nil
	})
}

// isOurFormat reports whether the file carries this build's format mark.
func isOurFormat(tx *bolt.Tx) bool {
	meta := tx.Bucket(metaBucket)
	return meta != nil && bytes.Equal(meta.Get([]byte("format")), []byte(formatVersion))
}

func hasBuckets(tx *bolt.Tx) bool {
	found := false
	_ = tx.ForEach(func([]byte, *bolt.Bucket) error { found = true; return nil })
	return found
}

// Path is the database file's path.
func (db *DB) Path() string { return db.path }

// Close closes the file (releasing its lock).
func (db *DB) Close() error { return db.bolt.Close() }

// Commit applies changes atomically and durably. Concurrent callers are
// batched into one transaction and one sync.
func (db *DB) Commit(changes []Change) error {
	if len(changes) == 0 {
		return nil
	}
	if err := Validate(changes); err != nil {
		return err
	}
	return db.bolt.Batch(func(tx *bolt.Tx) error { return apply(tx, changes) })
}

// CommitSerial is Commit for a caller that already serialises its commits
// (an engine holding its write lock): no batching delay.
func (db *DB) CommitSerial(changes []Change) error {
	return db.CommitGroup([][]Change{changes})
}

// CommitGroup applies several callers' changes, in order, as one
// transaction with one sync: an engine's group commit. Each list must
// have passed Validate; all land or none.
func (db *DB) CommitGroup(group [][]Change) error {
	empty := true
	for _, changes := range group {
		empty = empty && len(changes) == 0
		if err := Validate(changes); err != nil {
			return err
		}
	}
	if empty {
		return nil
	}
	return db.bolt.Update(func(tx *bolt.Tx) error {
		for _, changes := range group {
			if err := apply(tx, changes); err != nil {
				return err
			}
		}
		return nil
	})
}

// Validate refuses changes that no engine may make (ErrRefused), before
// anything is written.
func Validate(changes []Change) error {
	for _, c := range changes {
		if c.Namespace == "" {
			return fmt.Errorf("durable: %w: a change without a namespace", ErrRefused)
		}
		if slices.Contains(c.IndexDrops, idIndex) {
			return fmt.Errorf("durable: %w: the %s index of %s cannot be dropped", ErrRefused, idIndex, c.Namespace)
		}
	}
	return nil
}

func apply(tx *bolt.Tx, changes []Change) error {
	for _, c := range changes {
		name := []byte(nsPrefix + c.Namespace)
		if c.Drop {
			if err := tx.DeleteBucket(name); err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
				return err
			}
		}
		if len(c.Puts) == 0 && len(c.Deletes) == 0 && len(c.IndexPuts) == 0 && len(c.IndexDrops) == 0 {
			continue
		}
		ns, err := tx.CreateBucketIfNotExists(name)
		if err != nil {
			return err
		}
		docs, err := ns.CreateBucketIfNotExists(docsBucket)
		if err != nil {
			return err
		}
		idx, err := ns.CreateBucketIfNotExists(idxBucket)
		if err != nil {
			return err
		}
		docs.FillPercent = 0.9 // mostly appended in _id order
		for _, k := range c.Deletes {
			if err := docs.Delete(k); err != nil {
				return err
			}
		}
		for _, d := range c.Puts {
			if err := docs.Put(d.Key, d.Body); err != nil {
				return err
			}
		}
		for _, name := range c.IndexDrops {
			if err := idx.Delete([]byte(name)); err != nil {
				return err
			}
		}
		for name, def := range c.IndexPuts {
			if err := idx.Put([]byte(name), def); err != nil {
				return err
			}
		}
	}
	return nil
}

// NamespaceNames lists the stored namespaces without reading documents.
func (db *DB) NamespaceNames() ([]string, error) {
	var names []string
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			if bytes.HasPrefix(name, []byte(nsPrefix)) {
				names = append(names, string(name[len(nsPrefix):]))
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("durable: list namespaces of %s: %w", db.path, err)
	}
	return names, nil
}

// Namespace is one namespace as stored.
type Namespace struct {
	Name    string
	Indexes map[string][]byte
	Docs    [][]byte // bodies in _id-key order
}

// View calls fn with every namespace, inside one read transaction. The
// byte slices point into the memory-mapped file: they are valid only
// until fn returns, and must not be modified. Start-up uses this to decode
// straight from the file without copying every document first.
func (db *DB) View(fn func(Namespace) error) error {
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			if !bytes.HasPrefix(name, []byte(nsPrefix)) {
				return nil
			}
			ns := Namespace{Name: string(name[len(nsPrefix):]), Indexes: map[string][]byte{}}
			if idx := b.Bucket(idxBucket); idx != nil {
				if err := idx.ForEach(func(k, v []byte) error {
					ns.Indexes[string(k)] = v
					return nil
				}); err != nil {
					return err
				}
			}
			if docs := b.Bucket(docsBucket); docs != nil {
				if err := docs.ForEach(func(_, v []byte) error {
					ns.Docs = append(ns.Docs, v)
					return nil
				}); err != nil {
					return err
				}
			}
			return fn(ns)
		})
	})
	if err != nil {
		return fmt.Errorf("durable: load %s: %w", db.path, err)
	}
	return nil
}

// Load reads every namespace. The byte slices are copies, safe to keep.
func (db *DB) Load() ([]Namespace, error) {
	var out []Namespace
	err := db.View(func(ns Namespace) error {
		for k, v := range ns.Indexes {
			ns.Indexes[k] = bytes.Clone(v)
		}
		for i, d := range ns.Docs {
			ns.Docs[i] = bytes.Clone(d)
		}
		out = append(out, ns)
		return nil
	})
	return out, err
}

// Snapshot calls fn inside one read transaction (one committed state,
// while commits continue) with the snapshot's size and a function writing
// exactly that many bytes.
func (db *DB) Snapshot(fn func(size int64, write func(io.Writer) (int64, error)) error) error {
	return db.bolt.View(func(tx *bolt.Tx) error {
		return fn(tx.Size(), tx.WriteTo)
	})
}

// Backup writes a consistent snapshot of the whole file to w.
func (db *DB) Backup(w io.Writer) (int64, error) {
	var n int64
	err := db.Snapshot(func(_ int64, write func(io.Writer) (int64, error)) error {
		var err error
		n, err = write(w)
		return err
	})
	return n, err
}

// Restore copies the backup at src to dst, which must not exist yet, after
// checking that src is a Loan Desk database.
func Restore(src, dst string) error {
	if _, err := os.Stat(dst); err == nil {
		return fmt.Errorf("durable: restore: %s already exists: restore only into an empty DATA_DIR", dst)
	}
	if err := checkFile(src); err != nil {
		return fmt.Errorf("durable: restore: %s is not a Loan Desk backup: %w", src, err)
	}
	check, err := bolt.Open(src, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("durable: restore: %s is not a Loan Desk backup: %w", src, err)
	}
	err = check.View(func(tx *bolt.Tx) error {
		if !isOurFormat(tx) {
			return fmt.Errorf("durable: restore: %s is not a Loan Desk backup (format)", src)
		}
		return nil
	})
	_ = check.Close()
	if err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := dst + ".restoring"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		_ = os.Remove(tmp)
		return err
	}
	if err := out.Sync(); err != nil {
		_ = out.Close()
		_ = os.Remove(tmp)
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

// DocKey is the storage key of a document with this _id: the value's BSON
// type byte and value bytes, so ids of different types never collide.
func DocKey(id any) ([]byte, error) {
	t, data, err := bson.MarshalValue(id)
	if err != nil {
		return nil, fmt.Errorf("durable: encode _id: %w", err)
	}
	return append([]byte{byte(t)}, data...), nil
}
