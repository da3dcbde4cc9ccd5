package embedded

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/256dpi/lungo"
	"github.com/256dpi/lungo/bsonkit"
	"github.com/256dpi/lungo/mongokit"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"loandesk/store/durable"
)

// The differential test runs the same random operations against this
// engine and lungo's (the oracle) and compares them after every step:
// results, error classes and the whole collection. Documents are
// awkward on purpose: missing fields, null, arrays, int32/int64/float64
// mixes, nested documents, many equal sort keys.

const ns = "t.c"

type pair struct {
	seed  uint64
	t     testing.TB
	db    *durable.DB
	ours  *Engine
	lungo lungo.IClient
	coll  lungo.ICollection
	rnd   *rand.Rand
	steps int
}

func newPair(t testing.TB, seed uint64) *pair {
	db, err := durable.Open(filepath.Join(t.TempDir(), "d.db"), durable.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	ours, err := Open(db)
	if err != nil {
		t.Fatal(err)
	}
	client, engine, err := lungo.Open(context.Background(), lungo.Options{Store: lungo.NewMemoryStore(), MinOplogAge: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(engine.Close)
	return &pair{seed: seed, t: t, db: db, ours: ours, lungo: client, coll: client.Database("t").Collection("c"), rnd: rand.New(rand.NewPCG(seed, seed*7+1))}
}

// value draws an awkward value for a field.
func (p *pair) value(depth int) any {
	switch p.rnd.IntN(12) {
	case 0:
		return nil
	case 1:
		return int32(p.rnd.IntN(4))
	case 2:
		return int64(p.rnd.IntN(4))
	case 3:
		return float64(p.rnd.IntN(4))
	case 4:
		return 1.5
	case 5, 6:
		return []string{"a", "b", "c", "d"}[p.rnd.IntN(4)]
	case 7:
		if depth > 0 {
			return "x"
		}
		return bson.A{p.value(1), p.value(1)}
	case 8:
		if depth > 0 {
			return true
		}
		return bson.D{{Key: "x", Value: p.value(1)}}
	case 9:
		return bson.A{}
	case 10:
		if depth > 0 {
			return int32(2)
		}
		return bson.A{bson.D{{Key: "x", Value: p.value(1)}}, bson.D{{Key: "x", Value: p.value(1)}}} // a path through an array
	}
	return false
}

var fields = []string{"a", "b", "c"}

func (p *pair) doc() bson.D {
	d := bson.D{{Key: "_id", Value: p.id()}}
	for _, f := range fields {
		if p.rnd.IntN(4) > 0 { // a quarter of fields are missing
			d = append(d, bson.E{Key: f, Value: p.value(0)})
		}
	}
	return d
}

func (p *pair) id() any {
	if p.rnd.IntN(3) == 0 {
		return fmt.Sprintf("s%d", p.rnd.IntN(20))
	}
	return int64(p.rnd.IntN(40))
}

func (p *pair) field() string {
	if p.rnd.IntN(6) == 0 {
		return "a.x"
	}
	return fields[p.rnd.IntN(len(fields))]
}

// elemRange is {$elemMatch: {a range}}, as a prefix search asks.
func (p *pair) elemRange() bson.D {
	r := bson.D{{Key: []string{"$gt", "$gte"}[p.rnd.IntN(2)], Value: p.value(1)}}
	if p.rnd.IntN(3) > 0 {
		r = append(r, bson.E{Key: []string{"$lt", "$lte"}[p.rnd.IntN(2)], Value: p.value(1)})
	}
	return bson.D{{Key: "$elemMatch", Value: r}}
}

func (p *pair) filter() bson.D {
	switch p.rnd.IntN(13) {
	case 0:
		return bson.D{}
	case 11:
		return bson.D{{Key: p.field(), Value: p.elemRange()}}
	case 12:
		f := p.field()
		var clauses bson.A
		for range 1 + p.rnd.IntN(3) {
			clauses = append(clauses, bson.D{{Key: f, Value: p.elemRange()}})
		}
		return bson.D{{Key: "$and", Value: clauses}}
	case 9:
		lo, hi := []string{"$gt", "$gte"}[p.rnd.IntN(2)], []string{"$lt", "$lte"}[p.rnd.IntN(2)]
		return bson.D{{Key: p.field(), Value: bson.D{{Key: lo, Value: p.value(1)}, {Key: hi, Value: p.value(1)}}}}
	case 8:
		return bson.D{{Key: p.field(), Value: bson.D{{Key: "$all", Value: bson.A{p.value(1), p.value(1)}}}}}
	case 1:
		return bson.D{{Key: p.field(), Value: bson.D{{Key: "$gt", Value: p.value(1)}}}}
	case 2:
		return bson.D{{Key: p.field(), Value: bson.D{{Key: "$in", Value: bson.A{p.value(1), p.value(1)}}}}}
	case 3:
		return bson.D{{Key: p.field(), Value: bson.D{{Key: "$exists", Value: p.rnd.IntN(2) == 0}}}}
	case 4:
		return bson.D{{Key: p.field(), Value: p.value(0)}, {Key: p.field(), Value: p.value(1)}}
	case 5:
		return bson.D{{Key: "_id", Value: p.id()}}
	}
	return bson.D{{Key: p.field(), Value: p.value(0)}}
}

func (p *pair) sort() bson.D {
	var s bson.D
	for range p.rnd.IntN(3) {
		s = append(s, bson.E{Key: p.field(), Value: int32(1 - 2*p.rnd.IntN(2))})
	}
	// _id last: a total order, so results compare exactly.
	return append(s, bson.E{Key: "_id", Value: int32(1 - 2*p.rnd.IntN(2))})
}

func (p *pair) update() bson.D {
	f := p.field()
	switch p.rnd.IntN(5) {
	case 0:
		return bson.D{{Key: "$inc", Value: bson.D{{Key: f, Value: int32(1)}}}}
	case 1:
		return bson.D{{Key: "$unset", Value: bson.D{{Key: f, Value: ""}}}}
	case 2:
		return bson.D{{Key: "$push", Value: bson.D{{Key: "arr", Value: p.value(1)}}}}
	}
	return bson.D{{Key: "$set", Value: bson.D{{Key: f, Value: p.value(0)}}}}
}

func conv(t testing.TB, v any) bsonkit.Doc {
	d, err := bsonkit.Convert(v)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// errClass reduces an error to what must agree between the engines.
func errClass(err error) string {
	switch {
	case err == nil:
		return "ok"
	case isDup(err):
		return "duplicate"
	}
	return "error"
}

func isDup(err error) bool {
	var dk *DuplicateKeyError
	return errors.As(err, &dk) || strings.Contains(err.Error(), "duplicate")
}

func canon(t testing.TB, docs []bsonkit.Doc) []string {
	out := make([]string, len(docs))
	for i, d := range docs {
		b, err := bson.MarshalExtJSON(d, true, false)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = string(b)
	}
	return out
}

func (p *pair) lungoFind(filter, sort bson.D, skip, limit int) ([]bsonkit.Doc, error) {
	opts := options.Find().SetSort(sort)
	if skip > 0 {
		opts.SetSkip(int64(skip))
	}
	if limit > 0 {
		opts.SetLimit(int64(limit))
	}
	cur, err := p.coll.Find(context.Background(), filter, opts)
	if err != nil {
		return nil, err
	}
	var docs []bson.D
	if err := cur.All(context.Background(), &docs); err != nil {
		return nil, err
	}
	out := make([]bsonkit.Doc, len(docs))
	for i := range docs {
		out[i] = &docs[i]
	}
	return out, nil
}

// step runs one random operation on both engines and compares.
func (p *pair) step() {
	t, ctx := p.t, context.Background()
	p.steps++
	where := func(op string, args ...any) string {
		return fmt.Sprintf("seed %d step %d %s %v", p.seed, p.steps, op, args)
	}
	switch op := p.rnd.IntN(11); op {
	case 10:
		p.transaction()
	case 0, 1:
		d := p.doc()
		_, errL := p.coll.InsertOne(ctx, d)
		_, errO := p.ours.Insert(ctx, ns, []bsonkit.Doc{conv(t, d)})
		if errClass(errL) != errClass(errO) {
			t.Fatalf("%s: lungo %v, ours %v", where("insert", d), errL, errO)
		}
	case 2:
		filter, update, upsert := p.filter(), p.update(), p.rnd.IntN(3) == 0
		resL, errL := p.coll.UpdateMany(ctx, filter, update, options.Update().SetUpsert(upsert))
		resO, errO := p.ours.Update(ctx, ns, UpdateSpec{Filter: conv(t, filter), Update: conv(t, update), Multi: true, Upsert: upsert})
		if errClass(errL) != errClass(errO) {
			t.Fatalf("%s: lungo %v, ours %v", where("updateMany", filter, update, upsert), errL, errO)
		}
		if errL == nil && (int(resL.MatchedCount) != resO.Matched || int(resL.ModifiedCount) != resO.Modified || (resL.UpsertedID == nil) != (resO.UpsertedID == nil)) {
			t.Fatalf("%s: lungo %+v, ours %+v", where("updateMany", filter, update, upsert), resL, resO)
		}
	case 3:
		filter, update := bson.D{{Key: "_id", Value: p.id()}}, p.update()
		_, errL := p.coll.UpdateOne(ctx, filter, update)
		_, errO := p.ours.Update(ctx, ns, UpdateSpec{Filter: conv(t, filter), Update: conv(t, update)})
		if errClass(errL) != errClass(errO) {
			t.Fatalf("%s: lungo %v, ours %v", where("updateOne", filter, update), errL, errO)
		}
	case 4:
		filter, sort, update := p.filter(), p.sort(), p.update()
		var before bson.D
		errL := p.coll.FindOneAndUpdate(ctx, filter, update, options.FindOneAndUpdate().SetSort(sort)).Decode(&before)
		if errors.Is(errL, mongo.ErrNoDocuments) {
			errL = nil
		}
		resO, errO := p.ours.Update(ctx, ns, UpdateSpec{Filter: conv(t, filter), Update: conv(t, update), Sort: conv(t, sort)})
		if errClass(errL) != errClass(errO) {
			t.Fatalf("%s: lungo %v, ours %v", where("findOneAndUpdate", filter, sort, update), errL, errO)
		}
		if errL == nil {
			got := ""
			if resO.Before != nil {
				got = canon(t, []bsonkit.Doc{resO.Before})[0]
			}
			want := ""
			if before != nil {
				want = canon(t, []bsonkit.Doc{&before})[0]
			}
			if maskOIDs([]string{got})[0] != maskOIDs([]string{want})[0] {
				t.Fatalf("%s: claimed lungo %s, ours %s", where("findOneAndUpdate", filter, sort, update), want, got)
			}
		}
	case 5:
		filter := p.filter()
		resL, errL := p.coll.DeleteMany(ctx, filter)
		gone, errO := p.ours.Delete(ctx, ns, conv(t, filter), nil, true)
		if errClass(errL) != errClass(errO) || errL == nil && int(resL.DeletedCount) != len(gone) {
			t.Fatalf("%s: lungo %v %v, ours %d %v", where("deleteMany", filter), resL, errL, len(gone), errO)
		}
	case 6:
		keys := bson.D{{Key: p.field(), Value: int32(1 - 2*p.rnd.IntN(2))}}
		if p.rnd.IntN(2) == 0 {
			keys = append(keys, bson.E{Key: fields[p.rnd.IntN(3)], Value: int32(1)})
		}
		if p.rnd.IntN(3) == 0 { // like the app's list indexes: _id last, left to the document
			keys = append(keys, bson.E{Key: "_id", Value: int32(1 - 2*p.rnd.IntN(2))})
		}
		unique := p.rnd.IntN(4) == 0
		_, errL := p.coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: keys, Options: options.Index().SetUnique(unique)})
		cfg := mongokit.IndexConfig{Key: conv(t, keys), Unique: unique}
		_, errO := p.ours.CreateIndex(ns, "", cfg)
		if errClass(errL) != errClass(errO) {
			t.Fatalf("%s: lungo %v, ours %v", where("createIndex", keys, unique), errL, errO)
		}
	default:
		filter, sort := p.filter(), p.sort()
		skip, limit := p.rnd.IntN(3), p.rnd.IntN(5)
		want, errL := p.lungoFind(filter, sort, skip, limit)
		got, plan, errO := p.ours.Find(ctx, ns, Query{Filter: conv(t, filter), Sort: conv(t, sort), Skip: skip, Limit: limit}, nil)
		if errClass(errL) != errClass(errO) {
			t.Fatalf("%s: lungo %v, ours %v", where("find", filter, sort), errL, errO)
		}
		if w, g := maskOIDs(canon(t, want)), maskOIDs(canon(t, got)); !slices.Equal(w, g) {
			t.Fatalf("%s skip %d limit %d (plan %+v):\nlungo %v\nours  %v", where("find", filter, sort), skip, limit, plan, w, g)
		}
		nL, errL := p.coll.CountDocuments(ctx, filter)
		nO, _, errO := p.ours.Count(ctx, ns, conv(t, filter))
		if errClass(errL) != errClass(errO) || int(nL) != nO {
			t.Fatalf("%s: lungo %d %v, ours %d %v", where("count", filter), nL, errL, nO, errO)
		}
	}
	if p.steps%20 == 0 {
		// Reload from disk now and then: start-up must rebuild the same
		// documents and indexes (queries after it compare again).
		p.ours.Close()
		ours, err := Open(p.db)
		if err != nil {
			t.Fatalf("seed %d step %d: reopen: %v", p.seed, p.steps, err)
		}
		p.ours = ours
	}
	p.compareAll()
}

// transaction runs two or three inserts or updates in a transaction on
// each engine, then commits or aborts both (aborting if an operation
// failed).
func (p *pair) transaction() {
	t, ctx := p.t, context.Background()
	n, commit := 2+p.rnd.IntN(2), p.rnd.IntN(3) > 0
	type op struct {
		doc            bson.D
		filter, update bson.D
	}
	var ops []op
	for range n {
		if p.rnd.IntN(2) == 0 {
			ops = append(ops, op{doc: p.doc()})
		} else {
			ops = append(ops, op{filter: p.filter(), update: p.update()})
		}
	}
	run := func(client lungo.IClient, apply func(sc context.Context, o op) error) (string, error) {
		var classes []string
		err := client.UseSession(ctx, func(sc lungo.ISessionContext) error {
			if err := sc.StartTransaction(); err != nil {
				return err
			}
			ok := true
			for _, o := range ops {
				err := apply(sc, o)
				classes = append(classes, errClass(err))
				ok = ok && err == nil
			}
			if commit && ok {
				return sc.CommitTransaction(sc)
			}
			return sc.AbortTransaction(sc)
		})
		return strings.Join(classes, ","), err
	}
	gotL, errL := run(p.lungo, func(sc context.Context, o op) error {
		if o.doc != nil {
			_, err := p.coll.InsertOne(sc, o.doc)
			return err
		}
		_, err := p.coll.UpdateMany(sc, o.filter, o.update)
		return err
	})
	gotO, errO := run(NewClient(p.ours), func(sc context.Context, o op) error {
		if o.doc != nil {
			_, err := p.ours.Insert(sc, ns, []bsonkit.Doc{conv(t, o.doc)})
			return err
		}
		_, err := p.ours.Update(sc, ns, UpdateSpec{Filter: conv(t, o.filter), Update: conv(t, o.update), Multi: true})
		return err
	})
	if gotL != gotO || errClass(errL) != errClass(errO) {
		t.Fatalf("seed %d step %d transaction (commit %v) %v: lungo %s %v, ours %s %v", p.seed, p.steps, commit, ops, gotL, errL, gotO, errO)
	}
}

// compareAll checks both engines hold the same documents.
func (p *pair) compareAll() {
	want, err := p.lungoFind(bson.D{}, bson.D{{Key: "_id", Value: 1}}, 0, 0)
	if err != nil {
		p.t.Fatal(err)
	}
	got, _, err := p.ours.Find(context.Background(), ns, Query{Sort: conv(p.t, bson.D{{Key: "_id", Value: 1}})}, nil)
	if err != nil {
		p.t.Fatal(err)
	}
	// Upserts generate different ObjectIDs on each side: compare without them.
	w, g := withoutOIDs(canon(p.t, want)), withoutOIDs(canon(p.t, got))
	if !slices.Equal(w, g) {
		p.t.Fatalf("after step %d the collections differ:\nlungo %v\nours  %v", p.steps, w, g)
	}
}

var oid = regexp.MustCompile(`\{"\$oid":"[0-9a-f]{24}"\}`)

// maskOIDs hides generated ObjectIDs, keeping the order.
func maskOIDs(docs []string) []string {
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i] = oid.ReplaceAllString(d, `"OID"`)
	}
	return out
}

// withoutOIDs hides generated ObjectIDs and compares as a set.
func withoutOIDs(docs []string) []string {
	out := maskOIDs(docs)
	slices.Sort(out)
	return out
}

func TestDifferential(t *testing.T) {
	t.Parallel()
	sequences, steps := 60, 80
	if testing.Short() {
		sequences = 10
	}
	// Each sequence is a parallel subtest: the package's other tests run
	// between them, so this one (a minute under -race on a loaded
	// machine) is not the package's tail.
	for seed := range uint64(sequences) {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			t.Parallel()
			p := newPair(t, seed)
			for range steps {
				p.step()
			}
		})
	}
	t.Cleanup(func() { // after every sequence
		if !t.Failed() {
			t.Logf("%d sequences × %d steps agreed with lungo", sequences, steps)
		}
	})
}

// FuzzDifferential lets the fuzzer pick the seeds: go test -fuzz
// FuzzDifferential ./store/embedded/
func FuzzDifferential(f *testing.F) {
	for seed := range uint64(5) {
		f.Add(seed, uint8(40))
	}
	f.Fuzz(func(t *testing.T, seed uint64, steps uint8) {
		p := newPair(t, seed)
		for range int(steps) {
			p.step()
		}
	})
}
