package wire

import (
	"context"

	"github.com/256dpi/lungo/bsonkit"
	"github.com/256dpi/lungo/mongokit"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"

	"loandesk/store/embedded"
)

// The engine has no aggregation framework. aggregate serves the
// pipelines drivers build for counting (CountDocuments sends
// [{$match}, {$skip}, {$limit}, {$group: {_id: 1, n: {$sum: 1}}}]) and
// simple reads: $match, $sort, $skip, $limit, $project, $count, and a
// $group of all documents into one whose fields are {$sum: <number>}.
// Any other stage is refused with MongoDB's unrecognised-stage error.

type stage struct {
	name string
	arg  bsoncore.Value
}

func (s *Server) cmdAggregate(ctx context.Context, c *command) (bson.D, error) {
	if c.arg().Type != bsontype.String {
		return nil, errorf(codeNotImplemented, "aggregate on a database is not supported by loandesk db")
	}
	ns, e := c.collection()
	if e != nil {
		return nil, e
	}
	if e := c.refuse("collation", "explain"); e != nil {
		return nil, e
	}
	arr, ok := c.lookup("pipeline").ArrayOK()
	if !ok {
		return nil, errorf(codeTypeMismatch, "aggregate needs a pipeline array")
	}
	vals, _ := arr.Values()
	stages := make([]stage, len(vals))
	for i, v := range vals {
		d, ok := v.DocumentOK()
		if !ok {
			return nil, errorf(codeTypeMismatch, "each pipeline stage is a document")
		}
		els, _ := d.Elements()
		if len(els) != 1 {
			return nil, errorf(codeFailedToParse, "a pipeline stage has exactly one field")
		}
		stages[i] = stage{els[0].Key(), els[0].Value()}
	}
	batchSize := int64(0)
	if cur, ok := c.lookup("cursor").DocumentOK(); ok {
		var e *cmdError
		if batchSize, e = integerValue("cursor.batchSize", cur.Lookup("batchSize"), 0); e != nil {
			return nil, e
		}
	}
	if n, ok, e := s.countPipeline(ctx, c, ns, stages); e != nil {
		return nil, e
	} else if ok {
		var docs []bsonkit.Doc
		if n.Value != nil {
			docs = []bsonkit.Doc{n.Value}
		}
		return s.cursorReply(ns, docs, 0, false)
	}
	docs, e := s.pipeline(ctx, c, ns, stages)
	if e != nil {
		return nil, e
	}
	return s.cursorReply(ns, docs, int(batchSize), false)
}

type countResult struct{ Value bsonkit.Doc }

// countPipeline serves [$match?, $skip?, $limit?, $group-count] from the
// engine's counts without reading the documents.
func (s *Server) countPipeline(ctx context.Context, c *command, ns string, stages []stage) (countResult, bool, *cmdError) {
	var filter bsonkit.Doc
	var skip, limit int64
	i := 0
	if i < len(stages) && stages[i].name == "$match" {
		var e *cmdError
		if filter, e = c.docValue("$match", stages[i].arg); e != nil {
			return countResult{}, false, e
		}
		i++
	}
	if i < len(stages) && stages[i].name == "$skip" {
		var e *cmdError
		if skip, e = integerValue("$skip", stages[i].arg, 0); e != nil {
			return countResult{}, false, e
		}
		i++
	}
	if i < len(stages) && stages[i].name == "$limit" {
		var e *cmdError
		if limit, e = integerValue("$limit", stages[i].arg, 0); e != nil {
			return countResult{}, false, e
		}
		i++
	}
	if i != len(stages)-1 {
		return countResult{}, false, nil
	}
	group, isCount := groupCount(c, stages[i])
	if !isCount {
		return countResult{}, false, nil
	}
	n, err := s.engine.CountRemembered(ctx, ns, filter)
	if err != nil {
		return countResult{}, false, s.engineError(ns, err)
	}
	n = window(n, skip, limit)
	if n == 0 {
		return countResult{}, true, nil
	}
	return countResult{group(n)}, true, nil
}

// groupCount recognises a stage that counts every document into one
// ($count, or a $group with a constant _id and {$sum: k} fields) and
// returns how to build its document from a count.
func groupCount(c *command, st stage) (func(n int) bsonkit.Doc, bool) {
	switch st.name {
	case "$count":
		field, ok := st.arg.StringValueOK()
		if !ok || field == "" {
			return nil, false
		}
		return func(n int) bsonkit.Doc { return &bson.D{{Key: field, Value: int32(n)}} }, true
	case "$group":
		d, err := c.docValue("$group", st.arg)
		if err != nil || d == nil {
			return nil, false
		}
		id := bsonkit.Get(d, "_id")
		if id == bsonkit.Missing {
			return nil, false
		}
		if _, isDoc := id.(bson.D); isDoc {
			return nil, false
		}
		if str, isStr := id.(string); isStr && len(str) > 0 && str[0] == '$' {
			return nil, false // grouping by a field
		}
		type sum struct {
			key string
			k   any
		}
		var sums []sum
		for _, e := range *d {
			if e.Key == "_id" {
				continue
			}
			acc, ok := e.Value.(bson.D)
			if !ok || len(acc) != 1 || acc[0].Key != "$sum" {
				return nil, false
			}
			switch acc[0].Value.(type) {
			case int32, int64, float64:
			default:
				return nil, false
			}
			sums = append(sums, sum{e.Key, acc[0].Value})
		}
		return func(n int) bsonkit.Doc {
			out := bson.D{{Key: "_id", Value: id}}
			for _, s := range sums {
				out = append(out, bson.E{Key: s.key, Value: sumOf(s.k, n)})
			}
			return &out
		}, true
	}
	return nil, false
}

// sumOf is {$sum: k} over n documents, typed as MongoDB types it.
func sumOf(k any, n int) any {
	switch k := k.(type) {
	case int32:
		if v := int64(k) * int64(n); v == int64(int32(v)) {
			return int32(v)
		} else {
			return v
		}
	case int64:
		return k * int64(n)
	case float64:
		return k * float64(n)
	}
	return nil
}

// pipeline runs the other supported pipelines: a leading $match and
// $sort/$skip/$limit go to the engine as a query, the rest runs here.
func (s *Server) pipeline(ctx context.Context, c *command, ns string, stages []stage) ([]bsonkit.Doc, *cmdError) {
	var q embedded.Query
	i := 0
	if i < len(stages) && stages[i].name == "$match" {
		var e *cmdError
		if q.Filter, e = c.docValue("$match", stages[i].arg); e != nil {
			return nil, e
		}
		i++
	}
	if i < len(stages) && stages[i].name == "$sort" {
		var e *cmdError
		if q.Sort, e = c.docValue("$sort", stages[i].arg); e != nil {
			return nil, e
		}
		i++
	}
	docs, _, err := s.engine.Find(ctx, ns, q, nil)
	if err != nil {
		return nil, s.engineError(ns, err)
	}
	for _, st := range stages[i:] {
		switch st.name {
		case "$match":
			f, e := c.docValue("$match", st.arg)
			if e != nil {
				return nil, e
			}
			out, err := mongokit.Filter(docs, f, 0)
			if err != nil {
				return nil, errorf(codeBadValue, "$match: %v", err)
			}
			docs = out
		case "$sort":
			sd, e := c.docValue("$sort", st.arg)
			if e != nil {
				return nil, e
			}
			out, err := mongokit.Sort(docs, sd)
			if err != nil {
				return nil, errorf(codeBadValue, "$sort: %v", err)
			}
			docs = out
		case "$skip":
			n, e := integerValue("$skip", st.arg, 0)
			if e != nil || n < 0 {
				return nil, cmpOr(e, errorf(codeBadValue, "$skip must not be negative"))
			}
			docs = docs[min(int(n), len(docs)):]
		case "$limit":
			n, e := integerValue("$limit", st.arg, 0)
			if e != nil || n <= 0 {
				return nil, cmpOr(e, errorf(codeBadValue, "$limit must be positive"))
			}
			docs = docs[:min(int(n), len(docs))]
		case "$project":
			p, e := c.docValue("$project", st.arg)
			if e != nil {
				return nil, e
			}
			out, err := mongokit.ProjectList(docs, p)
			if err != nil {
				return nil, errorf(codeBadValue, "$project: %v", err)
			}
			docs = out
		default:
			group, ok := groupCount(c, st)
			if !ok {
				return nil, errorf(codeUnrecognizedStage, "pipeline stage %s (or this form of it) is not supported by loandesk db", st.name)
			}
			if len(docs) == 0 {
				docs = nil
			} else {
				docs = []bsonkit.Doc{group(len(docs))}
			}
		}
	}
	return docs, nil
}
