package embedded

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/256dpi/lungo/bsonkit"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// toDoc converts a filter, update, sort or projection given in any form
// the driver accepts (bson.M, bson.D, a struct, nil) to a document, as
// bsonkit.Transform does (bson.Marshal, then bson.Unmarshal into bson.D),
// but for the shapes the store builds (maps and documents of strings,
// numbers, dates, ObjectIDs, booleans, nulls and arrays of these) without
// the BSON bytes in between: that round trip was 7 % of a list request.
// Anything else goes the driver's way. A map's keys come out sorted (the
// driver's order is the map's, which Go randomises).
func toDoc(v any) (bsonkit.Doc, error) {
	if v == nil {
		return &bson.D{}, nil
	}
	if d, ok := quickDoc(v); ok {
		return &d, nil
	}
	return bsonkit.Transform(v)
}

// quickDoc converts a document-shaped value, or reports that it cannot.
func quickDoc(v any) (bson.D, bool) {
	switch x := v.(type) {
	case bson.D:
		if x == nil {
			return nil, false
		}
		out := make(bson.D, len(x))
		for i, e := range x {
			val, ok := quickValue(e.Value)
			if !ok {
				return nil, false
			}
			out[i] = bson.E{Key: e.Key, Value: val}
		}
		return out, true
	case *bson.D:
		if x == nil {
			return nil, false
		}
		return quickDoc(*x)
	case bson.M:
		if x == nil {
			return nil, false
		}
		out := make(bson.D, 0, len(x))
		for k, e := range x {
			val, ok := quickValue(e)
			if !ok {
				return nil, false
			}
			out = append(out, bson.E{Key: k, Value: val})
		}
		slices.SortFunc(out, func(a, b bson.E) int { return cmp.Compare(a.Key, b.Key) })
		return out, true
	}
	return nil, false
}

// quickValue converts one value to the type bson.Unmarshal gives it
// inside a bson.D (Go int: int32 when it fits, as the driver encodes it;
// time.Time: a date in milliseconds).
func quickValue(v any) (any, bool) {
	switch x := v.(type) {
	case nil, string, bool, int32, int64, float64, primitive.ObjectID, primitive.DateTime:
		return x, true
	case int:
		if x >= math.MinInt32 && x <= math.MaxInt32 {
			return int32(x), true
		}
		return int64(x), true
	case time.Time:
		return primitive.NewDateTimeFromTime(x), true
	case bson.D:
		if x == nil {
			return nil, true // the driver writes a nil slice or map as null
		}
		return quickDoc(x)
	case bson.M:
		if x == nil {
			return nil, true
		}
		return quickDoc(x)
	case *bson.D:
		return quickDoc(x)
	case bson.A:
		return quickArray(x)
	case []any:
		return quickArray(x)
	case []string:
		if x == nil {
			return nil, true
		}
		out := make(bson.A, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out, true
	}
	return nil, false
}

func quickArray(x []any) (any, bool) {
	if x == nil {
		return nil, true
	}
	out := make(bson.A, len(x))
	for i, item := range x {
		val, ok := quickValue(item)
		if !ok {
			return nil, false
		}
		out[i] = val
	}
	return out, true
}
