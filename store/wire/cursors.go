package wire

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/256dpi/lungo/bsonkit"
	"go.mongodb.org/mongo-driver/bson"
)

// A cursor is the rest of a result the first batch did not hold. The
// engine reads a whole result from one snapshot, so a cursor is that
// result's remainder; getMore hands it out in batches.

type cursor struct {
	ns      string
	docs    []bsonkit.Doc
	lastUse time.Time
}

type cursorTable struct {
	mu sync.Mutex
	m  map[int64]*cursor
}

func (t *cursorTable) init() { t.m = map[int64]*cursor{} }

// add keeps docs as a cursor and returns its id.
func (t *cursorTable) add(ns string, docs []bsonkit.Doc) int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	for {
		id := rand.Int64N(1<<62) + 1
		if _, taken := t.m[id]; !taken {
			t.m[id] = &cursor{ns: ns, docs: docs, lastUse: time.Now()}
			return id
		}
	}
}

// next takes up to n documents (0: all) and at most batchBytes from the
// cursor, and reports whether it is exhausted (and gone).
func (t *cursorTable) next(id int64, ns string, n int) ([]bson.Raw, bool, *cmdError) {
	t.mu.Lock()
	c, ok := t.m[id]
	if ok && c.ns != ns {
		ok = false
	}
	if ok {
		delete(t.m, id) // no one else takes from it meanwhile
	}
	t.mu.Unlock()
	if !ok {
		return nil, true, errorf(codeCursorNotFound, "cursor id %d not found", id)
	}
	batch, rest, err := takeBatch(c.docs, n)
	if err != nil {
		return nil, true, err
	}
	if len(rest) == 0 {
		return batch, true, nil
	}
	c.docs, c.lastUse = rest, time.Now()
	t.mu.Lock()
	t.m[id] = c
	t.mu.Unlock()
	return batch, false, nil
}

func (t *cursorTable) kill(id int64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.m[id]
	delete(t.m, id)
	return ok
}

func (t *cursorTable) expire(now time.Time, idle time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for id, c := range t.m {
		if now.Sub(c.lastUse) > idle {
			delete(t.m, id)
		}
	}
}

// takeBatch encodes up to n documents (0: no count limit) within
// batchBytes (at least one).
func takeBatch(docs []bsonkit.Doc, n int) ([]bson.Raw, []bsonkit.Doc, *cmdError) {
	out := []bson.Raw{}
	size := 0
	for len(docs) > 0 && (n <= 0 || len(out) < n) {
		raw, err := bson.Marshal(docs[0])
		if err != nil {
			return nil, nil, errorf(codeInternalError, "encode a document: %v", err)
		}
		if len(out) > 0 && size+len(raw) > batchBytes {
			break
		}
		size += len(raw)
		out = append(out, raw)
		docs = docs[1:]
	}
	return out, docs, nil
}

// cursorReply answers a find, aggregate or list command: the first batch
// of docs, and a cursor for the rest unless single.
func (s *Server) cursorReply(ns string, docs []bsonkit.Doc, batchSize int, single bool) (bson.D, error) {
	if batchSize == 0 && !single {
		batchSize = 101 // MongoDB's first batch
	}
	batch, rest, err := takeBatch(docs, batchSize)
	if err != nil {
		return nil, err
	}
	var id int64
	if len(rest) > 0 && !single {
		id = s.cursors.add(ns, rest)
	}
	return bson.D{{Key: "cursor", Value: bson.D{
		{Key: "firstBatch", Value: batch},
		{Key: "id", Value: id},
		{Key: "ns", Value: ns},
	}}}, nil
}

func (s *Server) cmdGetMore(_ context.Context, c *command) (bson.D, error) {
	id, ok := c.arg().Int64OK()
	if !ok {
		return nil, errorf(codeTypeMismatch, "getMore takes a 64-bit cursor id")
	}
	coll, ok := c.lookup("collection").StringValueOK()
	if !ok {
		return nil, errorf(codeTypeMismatch, "getMore needs the collection")
	}
	ns := c.db + "." + coll
	n, e := c.integer("batchSize", 0)
	if e != nil {
		return nil, e
	}
	batch, done, e := s.cursors.next(id, ns, int(n))
	if e != nil {
		return nil, e
	}
	if done {
		id = 0
	}
	return bson.D{{Key: "cursor", Value: bson.D{
		{Key: "nextBatch", Value: batch},
		{Key: "id", Value: id},
		{Key: "ns", Value: ns},
	}}}, nil
}

func (s *Server) cmdKillCursors(_ context.Context, c *command) (bson.D, error) {
	arr, ok := c.lookup("cursors").ArrayOK()
	if !ok {
		return nil, errorf(codeTypeMismatch, "killCursors needs an array of cursor ids")
	}
	vals, _ := arr.Values()
	killed, notFound := bson.A{}, bson.A{}
	for _, v := range vals {
		id, ok := v.Int64OK()
		if !ok {
			return nil, errorf(codeTypeMismatch, "cursor ids are 64-bit integers")
		}
		if s.cursors.kill(id) {
			killed = append(killed, id)
		} else {
			notFound = append(notFound, id)
		}
	}
	return bson.D{
		{Key: "cursorsKilled", Value: killed},
		{Key: "cursorsNotFound", Value: notFound},
		{Key: "cursorsAlive", Value: bson.A{}},
		{Key: "cursorsUnknown", Value: bson.A{}},
	}, nil
}
