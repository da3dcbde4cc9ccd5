package wire

import (
	"context"
	"errors"
	"strconv"

	"github.com/256dpi/lungo/bsonkit"
	"github.com/256dpi/lungo/mongokit"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"

	"loandesk/store/embedded"
)

// refuse returns NotImplemented when c sets any of the options keys the
// engine does not have.
func (c *command) refuse(keys ...string) *cmdError {
	for _, k := range keys {
		if v := c.lookup(k); v.Type != 0 && v.Type != bsontype.Null && !(v.Type == bsontype.Boolean && !v.Boolean()) {
			return errorf(codeNotImplemented, "%s: option %s is not supported by loandesk db", c.name, k)
		}
	}
	return nil
}

func (s *Server) cmdFind(ctx context.Context, c *command) (bson.D, error) {
	ns, e := c.collection()
	if e != nil {
		return nil, e
	}
	if e := c.refuse("collation", "min", "max", "returnKey", "showRecordId", "tailable", "awaitData", "allowPartialResults"); e != nil {
		return nil, e
	}
	var q embedded.Query
	if q.Filter, e = c.doc("filter"); e != nil {
		return nil, e
	}
	if q.Sort, e = c.doc("sort"); e != nil {
		return nil, e
	}
	proj, e := c.doc("projection")
	if e != nil {
		return nil, e
	}
	skip, e := c.integer("skip", 0)
	if e != nil {
		return nil, e
	}
	limit, e := c.integer("limit", 0)
	if e != nil {
		return nil, e
	}
	batchSize, e := c.integer("batchSize", 0)
	if e != nil {
		return nil, e
	}
	if skip < 0 || limit < 0 || batchSize < 0 {
		return nil, errorf(codeBadValue, "skip, limit and batchSize must not be negative")
	}
	q.Skip, q.Limit = int(skip), int(limit)
	docs, _, err := s.engine.Find(ctx, ns, q, proj)
	if err != nil {
		return nil, s.engineError(ns, err)
	}
	single := c.boolean("singleBatch", false)
	if limit > 0 && (batchSize == 0 || batchSize >= limit) {
		batchSize = limit
	}
	return s.cursorReply(ns, docs, int(batchSize), single)
}

func (s *Server) cmdCount(ctx context.Context, c *command) (bson.D, error) {
	ns, e := c.collection()
	if e != nil {
		return nil, e
	}
	filter, e := c.doc("query")
	if e != nil {
		return nil, e
	}
	skip, e := c.integer("skip", 0)
	if e != nil {
		return nil, e
	}
	limit, e := c.integer("limit", 0)
	if e != nil {
		return nil, e
	}
	n, err := s.engine.CountRemembered(ctx, ns, filter)
	if err != nil {
		return nil, s.engineError(ns, err)
	}
	return bson.D{{Key: "n", Value: int32(window(n, skip, limit))}}, nil
}

// window is how many of n documents a skip and a limit (0 or negative:
// none) leave.
func window(n int, skip, limit int64) int {
	n = max(0, n-int(skip))
	if limit < 0 {
		limit = -limit
	}
	if limit > 0 {
		n = min(n, int(limit))
	}
	return n
}

func (s *Server) cmdDistinct(ctx context.Context, c *command) (bson.D, error) {
	ns, e := c.collection()
	if e != nil {
		return nil, e
	}
	key, ok := c.lookup("key").StringValueOK()
	if !ok {
		return nil, errorf(codeTypeMismatch, "distinct needs a key")
	}
	filter, e := c.doc("query")
	if e != nil {
		return nil, e
	}
	docs, _, err := s.engine.Find(ctx, ns, embedded.Query{Filter: filter}, nil)
	if err != nil {
		return nil, s.engineError(ns, err)
	}
	return bson.D{{Key: "values", Value: mongokit.Distinct(docs, key)}}, nil
}

// writeErrors collects a write command's per-statement errors.
type writeErrors bson.A

func (w *writeErrors) add(i int, ce *cmdError) {
	d := bson.D{{Key: "index", Value: int32(i)}, {Key: "code", Value: ce.code}}
	if name, ok := codeNames[ce.code]; ok {
		d = append(d, bson.E{Key: "codeName", Value: name})
	}
	d = append(d, bson.E{Key: "errmsg", Value: ce.msg})
	d = append(d, ce.extra...)
	*w = append(*w, d)
}

func (w writeErrors) appendTo(fields bson.D) bson.D {
	if len(w) > 0 {
		fields = append(fields, bson.E{Key: "writeErrors", Value: bson.A(w)})
	}
	return fields
}

func (s *Server) cmdInsert(ctx context.Context, c *command) (bson.D, error) {
	ns, e := c.collection()
	if e != nil {
		return nil, e
	}
	raws, e := c.list("documents")
	if e != nil {
		return nil, e
	}
	if len(raws) == 0 || len(raws) > maxWriteBatch {
		return nil, errorf(codeInvalidOptions, "insert takes 1 to %d documents, not %d", maxWriteBatch, len(raws))
	}
	ordered := c.boolean("ordered", true)
	docs := make([]bsonkit.Doc, 0, len(raws))
	var werrs writeErrors
	var bad map[int]*cmdError
	for i, raw := range raws {
		d, err := c.dec.Decode(raw)
		var e *cmdError
		switch {
		case err != nil || len(raw) > maxBSONBytes:
			e = errorf(codeBadValue, "document %d cannot be stored (invalid, or over 16 MiB)", i)
		case storedDepth(raw) > maxStoredDepth:
			e = errInsertTooDeep
		}
		if e != nil {
			if bad == nil {
				bad = map[int]*cmdError{}
			}
			bad[i] = e
			d = nil
		}
		docs = append(docs, d)
	}
	// All at once (one commit) when nothing is wrong; otherwise one by
	// one, as MongoDB does: an ordered insert stops at the first error.
	if bad == nil {
		if _, err := s.engine.Insert(ctx, ns, docs); err == nil {
			return bson.D{{Key: "n", Value: int32(len(docs))}}, nil
		} else if !isWriteError(err) {
			return nil, s.engineError(ns, err)
		}
	}
	n := 0
	for i, d := range docs {
		if e := bad[i]; e != nil {
			werrs.add(i, e)
		} else if _, err := s.engine.Insert(ctx, ns, []bsonkit.Doc{d}); err != nil {
			if !isWriteError(err) {
				return nil, s.engineError(ns, err)
			}
			werrs.add(i, s.engineError(ns, err))
		} else {
			n++
			continue
		}
		if ordered {
			break
		}
	}
	return werrs.appendTo(bson.D{{Key: "n", Value: int32(n)}}), nil
}

// isWriteError tells a statement's failure (reported in writeErrors)
// from the engine's (the command fails).
func isWriteError(err error) bool {
	return !errors.Is(err, embedded.ErrClosed) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// updateSpec reads one update statement ({q, u, upsert, multi,
// arrayFilters}) or findAndModify's equivalent.
func (c *command) updateSpec(what string, q, u bsoncore.Value, upsert, multi bool, arrayFilters bsoncore.Value) (embedded.UpdateSpec, *cmdError) {
	spec := embedded.UpdateSpec{Upsert: upsert, Multi: multi}
	var e *cmdError
	if spec.Filter, e = c.docValue(what+".q", q); e != nil {
		return spec, e
	}
	switch u.Type {
	case bsontype.Array:
		return spec, errorf(codeNotImplemented, "update pipelines are not supported by loandesk db")
	case bsontype.EmbeddedDocument:
	default:
		return spec, errorf(codeFailedToParse, "%s: the update must be a document", what)
	}
	doc, e := c.docValue(what+".u", u)
	if e != nil {
		return spec, e
	}
	if f, ok := q.DocumentOK(); ok && upsert && upsertDepth(f) > maxStoredDepth {
		return spec, errUpdateTooDeep
	}
	operators := 0
	for _, el := range *doc {
		if len(el.Key) > 0 && el.Key[0] == '$' {
			operators++
		}
	}
	switch {
	case operators == 0:
		if multi {
			return spec, errorf(codeFailedToParse, "multi update is not supported for replacement-style update")
		}
		if storedDepth(u.Data) > maxStoredDepth {
			return spec, errUpdateTooDeep
		}
		spec.Replacement = doc
	case operators == len(*doc):
		if updateDepth(u.Data) > maxStoredDepth {
			return spec, errUpdateTooDeep
		}
		spec.Update = doc
	default:
		return spec, errorf(codeFailedToParse, "%s: the update mixes operators and fields", what)
	}
	if arrayFilters.Type != 0 && arrayFilters.Type != bsontype.Null {
		arr, ok := arrayFilters.ArrayOK()
		if !ok {
			return spec, errorf(codeTypeMismatch, "arrayFilters must be an array")
		}
		vals, _ := arr.Values()
		for i, v := range vals {
			d, e := c.docValue("arrayFilters."+strconv.Itoa(i), v)
			if e != nil || d == nil {
				return spec, cmpOr(e, errorf(codeTypeMismatch, "arrayFilters hold documents"))
			}
			spec.ArrayFilters = append(spec.ArrayFilters, d)
		}
	}
	return spec, nil
}

func cmpOr(a, b *cmdError) *cmdError {
	if a != nil {
		return a
	}
	return b
}

func (s *Server) cmdUpdate(ctx context.Context, c *command) (bson.D, error) {
	ns, e := c.collection()
	if e != nil {
		return nil, e
	}
	stmts, e := c.list("updates")
	if e != nil {
		return nil, e
	}
	if len(stmts) == 0 || len(stmts) > maxWriteBatch {
		return nil, errorf(codeInvalidOptions, "update takes 1 to %d statements, not %d", maxWriteBatch, len(stmts))
	}
	ordered := c.boolean("ordered", true)
	var werrs writeErrors
	var n, modified int
	upserted := bson.A{}
	for i, st := range stmts {
		if v := st.Lookup("collation"); v.Type != 0 {
			werrs.add(i, errorf(codeNotImplemented, "collation is not supported by loandesk db"))
			if ordered {
				break
			}
			continue
		}
		spec, e := c.updateSpec("updates."+strconv.Itoa(i), st.Lookup("q"), st.Lookup("u"), truthy(st.Lookup("upsert"), false), truthy(st.Lookup("multi"), false), st.Lookup("arrayFilters"))
		var res embedded.UpdateResult
		var err error
		if e == nil {
			res, err = s.engine.Update(ctx, ns, spec)
			if err != nil && !isWriteError(err) {
				return nil, s.engineError(ns, err)
			}
		}
		if e != nil || err != nil {
			if e == nil { // (not cmpOr: engineError(nil) would run and panic)
				e = s.engineError(ns, err)
			}
			werrs.add(i, e)
			if ordered {
				break
			}
			continue
		}
		n += res.Matched
		modified += res.Modified
		if res.UpsertedID != nil {
			n++
			upserted = append(upserted, bson.D{{Key: "index", Value: int32(i)}, {Key: "_id", Value: res.UpsertedID}})
		}
	}
	fields := bson.D{{Key: "n", Value: int32(n)}, {Key: "nModified", Value: int32(modified)}}
	if len(upserted) > 0 {
		fields = append(fields, bson.E{Key: "upserted", Value: upserted})
	}
	return werrs.appendTo(fields), nil
}

func (s *Server) cmdDelete(ctx context.Context, c *command) (bson.D, error) {
	ns, e := c.collection()
	if e != nil {
		return nil, e
	}
	stmts, e := c.list("deletes")
	if e != nil {
		return nil, e
	}
	if len(stmts) == 0 || len(stmts) > maxWriteBatch {
		return nil, errorf(codeInvalidOptions, "delete takes 1 to %d statements, not %d", maxWriteBatch, len(stmts))
	}
	ordered := c.boolean("ordered", true)
	var werrs writeErrors
	n := 0
	for i, st := range stmts {
		filter, e := c.docValue("deletes."+strconv.Itoa(i)+".q", st.Lookup("q"))
		if e == nil && st.Lookup("collation").Type != 0 {
			e = errorf(codeNotImplemented, "collation is not supported by loandesk db")
		}
		limit, le := integerValue("limit", st.Lookup("limit"), 0)
		if e == nil && le != nil {
			e = le
		}
		if e == nil && limit != 0 && limit != 1 {
			e = errorf(codeFailedToParse, "the limit of a delete must be 0 or 1")
		}
		var gone []bsonkit.Doc
		var err error
		if e == nil {
			gone, err = s.engine.Delete(ctx, ns, filter, nil, limit == 0)
			if err != nil && !isWriteError(err) {
				return nil, s.engineError(ns, err)
			}
		}
		if e != nil || err != nil {
			if e == nil { // (not cmpOr: engineError(nil) would run and panic)
				e = s.engineError(ns, err)
			}
			werrs.add(i, e)
			if ordered {
				break
			}
			continue
		}
		n += len(gone)
	}
	return werrs.appendTo(bson.D{{Key: "n", Value: int32(n)}}), nil
}

func (s *Server) cmdFindAndModify(ctx context.Context, c *command) (bson.D, error) {
	ns, e := c.collection()
	if e != nil {
		return nil, e
	}
	if e := c.refuse("collation"); e != nil {
		return nil, e
	}
	filter, e := c.doc("query")
	if e != nil {
		return nil, e
	}
	sort, e := c.doc("sort")
	if e != nil {
		return nil, e
	}
	fields, e := c.doc("fields")
	if e != nil {
		return nil, e
	}
	remove := c.boolean("remove", false)
	update := c.lookup("update")
	if remove == (update.Type != 0) {
		return nil, errorf(codeFailedToParse, "findAndModify needs either remove or update")
	}
	var value bsonkit.Doc
	lastError := bson.D{}
	if remove {
		if c.boolean("upsert", false) || c.boolean("new", false) {
			return nil, errorf(codeFailedToParse, "remove cannot be combined with upsert or new")
		}
		gone, err := s.engine.Delete(ctx, ns, filter, sort, false)
		if err != nil {
			return nil, s.engineError(ns, err)
		}
		if len(gone) > 0 {
			value = gone[0]
		}
		lastError = bson.D{{Key: "n", Value: int32(len(gone))}}
	} else {
		spec, e := c.updateSpec("findAndModify", c.lookup("query"), update, c.boolean("upsert", false), false, c.lookup("arrayFilters"))
		if e != nil {
			return nil, e
		}
		spec.Sort = sort
		res, err := s.engine.Update(ctx, ns, spec)
		if err != nil {
			return nil, s.engineError(ns, err)
		}
		value = res.Before
		if c.boolean("new", false) {
			value = res.After
		}
		n := res.Matched
		if res.UpsertedID != nil {
			n = 1
		}
		lastError = bson.D{{Key: "n", Value: int32(n)}, {Key: "updatedExisting", Value: res.Matched > 0}}
		if res.UpsertedID != nil {
			lastError = append(lastError, bson.E{Key: "upserted", Value: res.UpsertedID})
		}
	}
	out := bson.D{{Key: "lastErrorObject", Value: lastError}}
	if value == nil {
		return append(out, bson.E{Key: "value", Value: nil}), nil
	}
	if fields != nil && len(*fields) > 0 {
		p, err := mongokit.Project(value, fields)
		if err != nil {
			return nil, errorf(codeBadValue, "projection: %v", err)
		}
		value = p
	}
	return append(out, bson.E{Key: "value", Value: *value}), nil
}
