package wire

import (
	"strings"

	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// Stored documents nest at most maxStoredDepth levels, as on MongoDB
// (BSONDepth::getMaxDepthForUserStorage): the document is the first
// level, each non-empty embedded document or array one more; empty ones
// do not count. Commands may nest deeper (maxDepth: a filter or an
// update wraps the document it carries), writes are refused with code 15
// (Overflow) and MongoDB's messages. Every document here has been
// through validate, so the recursion is bounded by maxDepth.
const maxStoredDepth = 100

var (
	errInsertTooDeep = errorf(codeOverflow, "cannot insert document because it exceeds %d levels of nesting", maxStoredDepth)
	errUpdateTooDeep = errorf(codeOverflow, "Document exceeds maximum nesting depth of %d", maxStoredDepth)
)

// storedDepth is how many levels doc has (1 for a flat document).
func storedDepth(doc bsoncore.Document) int {
	deepest := 0
	els, _ := doc.Elements()
	for _, el := range els {
		deepest = max(deepest, valueDepth(el.Value()))
	}
	return 1 + deepest
}

// valueDepth is how many levels v adds where it is stored: 0 for a
// scalar or an empty document or array.
func valueDepth(v bsoncore.Value) int {
	switch v.Type {
	case bsontype.EmbeddedDocument, bsontype.Array:
		if len(v.Data) <= 5 {
			return 0
		}
		return storedDepth(v.Data)
	}
	return 0
}

// pathLevels is how many levels a dotted path makes (a.b.c: 3; a
// positional $ or an index is the array's element, one level too).
func pathLevels(path string) int { return strings.Count(path, ".") + 1 }

// updateDepth is how deep an update (operators) can make a document: the
// path each value is written at plus the value's own levels. $rename
// moves a subtree whose depth is unknown here: its destination path is
// counted, not what it carries.
func updateDepth(update bsoncore.Document) int {
	deepest := 0
	ops, _ := update.Elements()
	for _, op := range ops {
		fields, ok := op.Value().DocumentOK()
		if !ok {
			continue
		}
		els, _ := fields.Elements()
		for _, el := range els {
			k, v := pathLevels(el.Key()), el.Value()
			d := k
			switch op.Key() {
			case "$set", "$setOnInsert", "$min", "$max":
				d = k + valueDepth(v)
			case "$push", "$addToSet":
				if each, ok := v.DocumentOK(); ok && each.Lookup("$each").Type == bsontype.Array {
					d = k + valueDepth(each.Lookup("$each"))
				} else {
					d = k + 1 + valueDepth(v)
				}
			}
			deepest = max(deepest, d)
		}
	}
	return deepest
}

// upsertDepth is how deep the equality fields of an upsert's filter
// make the document it inserts.
func upsertDepth(filter bsoncore.Document) int {
	deepest := 0
	els, _ := filter.Elements()
	for _, el := range els {
		if strings.HasPrefix(el.Key(), "$") {
			continue
		}
		v := el.Value()
		if d, ok := v.DocumentOK(); ok {
			if first, err := d.IndexErr(0); err == nil && strings.HasPrefix(first.Key(), "$") {
				continue // {$gt: …}: not stored
			}
		}
		deepest = max(deepest, pathLevels(el.Key())+valueDepth(v))
	}
	return deepest
}
