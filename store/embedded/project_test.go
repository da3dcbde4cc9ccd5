package embedded

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/256dpi/lungo/bsonkit"
	"github.com/256dpi/lungo/mongokit"
	"go.mongodb.org/mongo-driver/bson"
)

// project gives what mongokit.Project gives, document for document and
// error for error, on random documents (nested documents, arrays,
// missing fields) and random projections: inclusions of top-level and
// dotted paths (through documents, arrays and scalars, with array
// positions), flags of every type, _id kept or hidden, and the forms the
// fast paths must leave to mongokit (exclusions, mixes, operators, $ in
// a path, values that are not flags, documents without an _id).
func TestProject_AgreesWithMongokit(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 8))
	flags := []any{int32(1), int64(1), 1.0, true, int32(0), false, int64(2), "1", bson.D{{Key: "$slice", Value: int32(1)}}}
	dotted := 0
	for i := range 4000 {
		proj := bson.D{}
		for range 1 + rng.IntN(3) {
			path := randomPath(rng)
			if rng.IntN(15) == 0 {
				path = []string{"_id", "_id.a", "a.a.a", "b.c"}[rng.IntN(4)]
			}
			v := flags[rng.IntN(4)] // mostly inclusions
			if rng.IntN(6) == 0 {
				v = flags[rng.IntN(len(flags))]
			}
			proj = append(proj, bson.E{Key: path, Value: v})
		}
		if rng.IntN(3) == 0 {
			proj = append(proj, bson.E{Key: "_id", Value: flags[rng.IntN(2)+4*rng.IntN(2)]})
		}
		if paths, _, ok := inclusionPaths(&proj); ok && slices.ContainsFunc(paths, func(p string) bool { return strings.Contains(p, ".") }) {
			dotted++
		}
		docs := make([]bsonkit.Doc, 3)
		for j := range docs {
			d := randomMatchDoc(rng, 2)
			if rng.IntN(20) > 0 {
				d = append(bson.D{{Key: "_id", Value: int64(j)}}, d...)
			}
			docs[j] = &d
		}
		var want []bsonkit.Doc
		var wantErr error
		for _, d := range docs {
			p, err := mongokit.Project(bsonkit.Clone(d), &proj)
			if err != nil {
				want, wantErr = nil, err
				break
			}
			want = append(want, p)
		}
		clones := make([]bsonkit.Doc, len(docs))
		for j, d := range docs {
			clones[j] = bsonkit.Clone(d)
		}
		got, err := project(clones, &proj)
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("case %d %v on %v: error %v, mongokit's %v", i, proj, deref(docs), err, wantErr)
		}
		if err == nil && !sameAsBSON(t, got, want) {
			t.Fatalf("case %d %v on %v:\n%v\nmongokit gives\n%v", i, proj, deref(docs), deref(got), deref(want))
		}
	}
	if dotted < 1000 {
		t.Errorf("only %d projections took the dotted fast path: retune the generator", dotted)
	}
}

// The signed-in user's projection (store.UserForSession) takes the
// dotted fast path.
func TestProject_SessionUserIsFast(t *testing.T) {
	proj := bson.D{{Key: "email", Value: int32(1)}, {Key: "totp.enrolledAt", Value: int32(1)}, {Key: "sessions.0a1b", Value: int32(1)}}
	paths, hide, ok := inclusionPaths(&proj)
	if !ok || hide || len(paths) != 3 {
		t.Fatalf("inclusionPaths = %v, %v, %v", paths, hide, ok)
	}
	doc := &bson.D{{Key: "_id", Value: "u1"}, {Key: "email", Value: "a@b"}, {Key: "totp", Value: bson.D{{Key: "secret", Value: "s"}, {Key: "enrolledAt", Value: int64(5)}}},
		{Key: "sessions", Value: bson.D{{Key: "0a1b", Value: int64(1)}, {Key: "ffff", Value: int64(2)}}}}
	got, ok := included(doc, paths, hide)
	want := &bson.D{{Key: "_id", Value: "u1"}, {Key: "email", Value: "a@b"}, {Key: "totp", Value: bson.D{{Key: "enrolledAt", Value: int64(5)}}},
		{Key: "sessions", Value: bson.D{{Key: "0a1b", Value: int64(1)}}}}
	if !ok || !reflect.DeepEqual(got, want) {
		t.Fatalf("included = %v, %v; want %v", got, ok, want)
	}
}

func deref(docs []bsonkit.Doc) []bson.D {
	out := make([]bson.D, len(docs))
	for i, d := range docs {
		if d != nil {
			out[i] = *d
		}
	}
	return out
}

// sameAsBSON compares documents as BSON (NaN equals itself there, where
// reflect.DeepEqual says it does not).
func sameAsBSON(t *testing.T, a, b []bsonkit.Doc) bool {
	t.Helper()
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, err := bson.Marshal(a[i])
		if err != nil {
			t.Fatal(err)
		}
		y, err := bson.Marshal(b[i])
		if err != nil {
			t.Fatal(err)
		}
		if string(x) != string(y) {
			return false
		}
	}
	return true
}

// The signed-in user's read, as every page makes it: the dotted fast path
// beside mongokit.Project on the same document (compare in one run).
func BenchmarkProject_SessionUser(b *testing.B) {
	proj := &bson.D{{Key: "email", Value: int32(1)}, {Key: "name", Value: int32(1)}, {Key: "role", Value: int32(1)},
		{Key: "mustChangePassword", Value: int32(1)}, {Key: "passwordChangedAt", Value: int32(1)}, {Key: "sessionsEndedAt", Value: int32(1)},
		{Key: "deactivated", Value: int32(1)}, {Key: "deactivatedAt", Value: int32(1)}, {Key: "createdAt", Value: int32(1)},
		{Key: "updatedAt", Value: int32(1)}, {Key: "totp.enrolledAt", Value: int32(1)}, {Key: "sessionsRev", Value: int32(1)},
		{Key: "sessions.0a1b2c3d", Value: int32(1)}}
	sessions := bson.D{}
	for _, id := range []string{"0a1b2c3d", "11112222", "33334444", "55556666", "77778888"} {
		sessions = append(sessions, bson.E{Key: id, Value: bson.D{{Key: "at", Value: int64(1)}, {Key: "ua", Value: "Mozilla/5.0"}}})
	}
	doc := &bson.D{{Key: "_id", Value: "u1"}, {Key: "email", Value: "uw@example.com"}, {Key: "name", Value: "Asha"}, {Key: "role", Value: "underwriter"},
		{Key: "passwordHash", Value: "$2a$12$..."}, {Key: "createdAt", Value: int64(1)}, {Key: "updatedAt", Value: int64(2)}, {Key: "sessionsRev", Value: int64(3)},
		{Key: "totp", Value: bson.D{{Key: "secret", Value: "JBSWY3DP"}, {Key: "enrolledAt", Value: int64(4)}}}, {Key: "sessions", Value: sessions}}
	b.Run("fast", func(b *testing.B) {
		for b.Loop() {
			if _, err := project([]bsonkit.Doc{doc}, proj); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("mongokit", func(b *testing.B) {
		for b.Loop() {
			if _, err := mongokit.Project(doc, proj); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// A projection never writes into a stored document: with a path inside
// another ({a: 1, "a.b": 1}) or inside the _id, mongokit puts the inner
// value into the outer one, which is the stored document's own (the same
// value, but a write that races with every reader: -race sees it), and
// with {a: 1, "a.l": {$slice: 1}} it cut the stored array. Two
// goroutines project the same stored document.
func TestProject_NeverWritesIntoTheStoredDocument(t *testing.T) {
	t.Parallel()
	for _, proj := range []bson.D{
		{{Key: "a", Value: int32(1)}, {Key: "a.b", Value: int32(1)}},
		{{Key: "a.b", Value: int32(1)}, {Key: "a", Value: int32(1)}, {Key: "a.c.d", Value: int32(1)}},
		{{Key: "_id.k", Value: int32(1)}, {Key: "a.c", Value: int32(1)}},
		{{Key: "a", Value: int32(1)}, {Key: "a.l", Value: bson.D{{Key: "$slice", Value: int32(1)}}}},
	} {
		stored := &bson.D{{Key: "_id", Value: bson.D{{Key: "k", Value: "x"}}}, {Key: "a", Value: bson.D{{Key: "b", Value: "y"},
			{Key: "c", Value: bson.D{{Key: "d", Value: int64(1)}}}, {Key: "l", Value: bson.A{int64(1), int64(2), int64(3)}}}}}
		before, err := bson.Marshal(stored)
		if err != nil {
			t.Fatal(err)
		}
		want, err := mongokit.Project(bsonkit.Clone(stored), &proj)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan []bsonkit.Doc, 2)
		for range 2 {
			go func() {
				got, err := project([]bsonkit.Doc{stored}, &proj)
				if err != nil {
					t.Error(err)
				}
				done <- got
			}()
		}
		for range 2 {
			if got := <-done; !sameAsBSON(t, got, []bsonkit.Doc{want}) {
				t.Errorf("%v: %v, mongokit gives %v", proj, deref(got), *want)
			}
		}
		if after, _ := bson.Marshal(stored); string(after) != string(before) {
			t.Errorf("%v changed the stored document", proj)
		}
	}
}
