package store

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/256dpi/lungo"
	"github.com/256dpi/lungo/bsonkit"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"loandesk/store/durable"
)

// catalogState renders a catalog's namespaces, documents (canonical
// extended JSON, sorted) and index definitions as comparable strings.
func catalogState(t *testing.T, c *lungo.Catalog) map[string]string {
	t.Helper()
	out := map[string]string{}
	for h, ns := range c.Namespaces {
		if h == lungo.Oplog {
			continue
		}
		var lines []string
		for _, d := range ns.Documents.List {
			b, err := bson.MarshalExtJSON(d, true, false)
			if err != nil {
				t.Fatal(err)
			}
			lines = append(lines, "doc "+string(b))
		}
		for name, idx := range ns.Indexes {
			cfg := idx.Config()
			key, _ := bson.MarshalExtJSON(cfg.Key, true, false)
			lines = append(lines, fmt.Sprintf("index %s %s unique=%v expiry=%s", name, key, cfg.Unique, cfg.Expiry))
		}
		slices.Sort(lines)
		out[h.String()] = strings.Join(lines, "\n")
	}
	return out
}

// TestLungoStore_MatchesEngineStepByStep runs random writes through the
// engine and after each one compares what a fresh Load reads from the file
// with the engine's memory: documents and index definitions. Now and then
// it plants a write the engine never accepted and forgets what it stored,
// as after an ambiguous failed commit, so resynchronisation is checked too.
func TestLungoStore_MatchesEngineStepByStep(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := durable.Open(filepath.Join(t.TempDir(), "diff.db"), durable.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ls := newLungoStore(db)
	client, engine, err := lungo.Open(ctx, lungo.Options{Store: ls, MinOplogAge: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer engine.Close()
	database := client.Database("t")
	coll := database.Collection("diff")
	other := database.Collection("other")
	if _, err := coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "u", Value: 1}}, Options: options.Index().SetUnique(true)}); err != nil {
		t.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	resyncs := 0
	for step := range 400 {
		if rnd.IntN(25) == 0 {
			// A commit that landed on disk although Store reported an error
			// (so the engine dropped it): the next commit must undo it.
			ghost := bson.D{{Key: "_id", Value: "ghost"}}
			key, _ := durable.DocKey("ghost")
			body, _ := bson.Marshal(ghost)
			if err := db.CommitSerial([]durable.Change{
				{Namespace: "t.diff", Puts: []durable.Doc{{Key: key, Body: body}}},
				{Namespace: "t.ghost", Puts: []durable.Doc{{Key: key, Body: body}}},
			}); err != nil {
				t.Fatal(err)
			}
			ls.last = nil
			if _, err := other.InsertOne(ctx, bson.M{"_id": fmt.Sprintf("trigger-%d", step)}); err != nil {
				t.Fatal(err)
			}
			resyncs++
		}
		id := rnd.IntN(40)
		var err error
		switch op := rnd.IntN(9); op {
		case 0, 1:
			_, err = coll.InsertOne(ctx, bson.M{"_id": id, "u": rnd.IntN(60), "v": 1})
		case 2:
			docs := []any{bson.M{"_id": 100 + rnd.IntN(30)}, bson.M{"_id": 100 + rnd.IntN(30)}}
			_, err = coll.InsertMany(ctx, docs)
		case 3:
			_, err = coll.UpdateOne(ctx, bson.M{"_id": id}, bson.M{"$inc": bson.M{"v": 1}, "$set": bson.M{"s": strconv.Itoa(step)}})
		case 4:
			_, err = coll.ReplaceOne(ctx, bson.M{"_id": id}, bson.M{"r": step}, options.Replace().SetUpsert(true))
		case 5:
			_, err = coll.DeleteOne(ctx, bson.M{"_id": id})
		case 6:
			_, err = coll.DeleteMany(ctx, bson.M{"v": bson.M{"$gt": 3}})
		case 7:
			_, err = other.UpdateOne(ctx, bson.M{"_id": id}, bson.M{"$set": bson.M{"x": step}}, options.Update().SetUpsert(true))
			if rnd.IntN(20) == 0 {
				err = other.Drop(ctx)
			}
		case 8:
			if rnd.IntN(2) == 0 {
				_, err = other.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "x", Value: -1}}})
			} else {
				_, err = other.Indexes().DropOne(ctx, "x_-1")
			}
		}
		if err != nil && !refusedAsExpected(err) {
			t.Fatalf("step %d: %v", step, err)
		}
		onDisk, err := newLungoStore(db).Load()
		if err != nil {
			t.Fatalf("step %d: load: %v", step, err)
		}
		want, got := catalogState(t, engine.Catalog()), catalogState(t, onDisk)
		for ns, w := range want {
			if w == "" && got[ns] == "" {
				continue // an empty namespace need not exist on disk
			}
			if w != got[ns] {
				t.Fatalf("step %d: %s differs\nmemory:\n%s\ndisk:\n%s", step, ns, w, got[ns])
			}
		}
		for ns, g := range got {
			if _, ok := want[ns]; !ok && g != "" {
				t.Fatalf("step %d: %s on disk but not in memory:\n%s", step, ns, g)
			}
		}
	}
	if resyncs == 0 {
		t.Fatal("the resynchronisation path never ran")
	}
}

// refusedAsExpected is true for the errors random operations may earn:
// a unique-index violation, or dropping an index or namespace that is gone.
func refusedAsExpected(err error) bool {
	msg := err.Error()
	return isDuplicateKey(err) || strings.Contains(msg, "missing index") || strings.Contains(msg, "missing namespace")
}

// TestMain runs a registered child (see TestChildren) instead of the
// tests when asked to.
func TestMain(m *testing.M) {
	TestChildren["crash"] = func(arg string) {
		parts := strings.Split(arg, "|")
		crashChild(parts[0], parts[1], parts[2])
	}
	if name := os.Getenv("LOANDESK_TEST_CHILD"); name != "" {
		child, ok := TestChildren[name]
		if !ok {
			fmt.Fprintf(os.Stderr, "unknown test child %q\n", name)
			os.Exit(2)
		}
		child(os.Getenv("LOANDESK_TEST_CHILD_ARG"))
		return
	}
	os.Exit(m.Run())
}

// The crash test's child: a write storm that prints every acknowledged
// write, until it is killed. Round r, iteration i writes batch "r-i" of
// three documents, updates one of them to version 2 and, when i%3 == 0,
// deletes "r-i-0".
func crashChild(dir, round, engine string) {
	ctx := context.Background()
	fail := func(what string, err error) {
		fmt.Printf("error %s: %v\n", what, err)
		os.Exit(2)
	}
	st, err := Open(ctx, Config{DataDir: dir, Engine: engine})
	if err != nil {
		fail("open", err)
	}
	coll := st.db.Collection("storm")
	if _, err := coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "email", Value: 1}}, Options: options.Index().SetUnique(true)}); err != nil {
		fail("index", err)
	}
	rnd := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	for i := 0; ; i++ {
		batch := fmt.Sprintf("%s-%d", round, i)
		var docs []any
		for j := range 3 {
			docs = append(docs, bson.M{"_id": fmt.Sprintf("%s-%d", batch, j), "batch": batch, "email": fmt.Sprintf("%s-%d@x", batch, j), "v": 1})
		}
		if _, err := coll.InsertMany(ctx, docs); err != nil {
			fail("insert", err)
		}
		fmt.Printf("ins %s\n", batch)
		target := fmt.Sprintf("%s-%d", batch, rnd.IntN(3))
		if res, err := coll.UpdateOne(ctx, bson.M{"_id": target, "v": 1}, bson.M{"$inc": bson.M{"v": 1}}); err != nil || res.ModifiedCount != 1 {
			fail("versioned update", err)
		}
		fmt.Printf("upd %s\n", target)
		if i%3 == 0 {
			if _, err := coll.DeleteOne(ctx, bson.M{"_id": batch + "-0"}); err != nil {
				fail("delete", err)
			}
			fmt.Printf("del %s-0\n", batch)
		}
		if _, err := coll.InsertOne(ctx, bson.M{"_id": "dup-" + batch, "email": batch + "-1@x"}); !isDuplicateKey(err) {
			fail("unique index", err)
		}
	}
}

// TestStore_SurvivesSIGKILL kills, on each embedded engine, a writing child process mid-storm,
// several times, and checks after each restart that every acknowledged
// write is there, no batch is half-applied, and the unique index holds.
func TestStore_SurvivesSIGKILL(t *testing.T) {
	t.Parallel()
	for _, engine := range []string{EngineLungo, EngineIndexed} {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			survivesSIGKILL(t, engine)
		})
	}
}

func survivesSIGKILL(t *testing.T, engine string) {
	dir := t.TempDir()
	version := map[string]int{} // acknowledged documents → acknowledged version
	deleted := map[string]bool{}
	for round := range 4 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "LOANDESK_TEST_CHILD=crash", fmt.Sprintf("LOANDESK_TEST_CHILD_ARG=%s|%d|%s", dir, round, engine))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Let it write for a while, then kill it mid-storm; then read every
		// line it printed (each one is an acknowledged write). The kill
		// comes after a number of acknowledged writes, not a time: on a
		// busy machine a -race child acknowledged only 5 in 200 ms. It
		// keeps writing while the signal is on its way, so the kill still
		// lands between writes at a point the test does not choose.
		killAt := 20 + 15*round
		var last string
		acks := 0
		lines := bufio.NewScanner(stdout)
		for lines.Scan() {
			if acks+1 == killAt {
				_ = cmd.Process.Signal(syscall.SIGKILL)
			}
			last = lines.Text()
			f := strings.Fields(last)
			switch f[0] {
			case "ins":
				for j := range 3 {
					version[fmt.Sprintf("%s-%d", f[1], j)] = 1
				}
			case "upd":
				version[f[1]] = 2
			case "del":
				deleted[f[1]] = true
			default:
				t.Fatalf("round %d: child said %q", round, last)
			}
			acks++
		}
		_ = cmd.Wait()
		if acks < 10 {
			t.Fatalf("round %d: only %d acknowledged writes before the kill", round, acks)
		}
		// The write in flight at the kill may or may not have landed. Only
		// a delete can make an acknowledged document vanish: it follows an
		// "upd" of batch r-i with i%3 == 0, and removes r-i-0.
		var maybeDeleted string
		if f := strings.Fields(last); f[0] == "upd" {
			batch := f[1][:strings.LastIndex(f[1], "-")]
			if i, _ := strconv.Atoi(batch[strings.Index(batch, "-")+1:]); i%3 == 0 {
				maybeDeleted = batch + "-0"
			}
		}

		st, err := Open(context.Background(), Config{DataDir: dir, Engine: engine})
		if err != nil {
			t.Fatalf("round %d: reopen after SIGKILL: %v", round, err)
		}
		var docs []struct {
			ID    string `bson:"_id"`
			Batch string `bson:"batch"`
			Email string `bson:"email"`
			V     int    `bson:"v"`
		}
		cur, err := st.db.Collection("storm").Find(context.Background(), bson.M{})
		if err == nil {
			err = cur.All(context.Background(), &docs)
		}
		if err != nil {
			t.Fatal(err)
		}
		// The unique index survived the restart: it still refuses a taken email.
		if len(docs) > 0 {
			_, dupErr := st.db.Collection("storm").InsertOne(context.Background(), bson.M{"_id": "after-restart", "email": docs[0].Email})
			if !isDuplicateKey(dupErr) {
				t.Fatalf("round %d: after restart a taken email was accepted (err %v)", round, dupErr)
			}
		}
		_ = st.Close(context.Background())

		present := map[string]int{}
		perBatch := map[string]int{}
		emails := map[string]bool{}
		for _, d := range docs {
			present[d.ID] = d.V
			perBatch[d.Batch]++
			if emails[d.Email] {
				t.Fatalf("round %d: email %s twice: the unique index broke", round, d.Email)
			}
			emails[d.Email] = true
		}
		lost := 0
		for id, v := range version {
			got, ok := present[id]
			switch {
			case deleted[id] && ok:
				t.Fatalf("round %d: %s came back after its acknowledged delete", round, id)
			case !deleted[id] && !ok && id != maybeDeleted:
				lost++
				t.Errorf("round %d: acknowledged %s is missing", round, id)
			case ok && got < v:
				t.Errorf("round %d: %s has version %d, acknowledged %d", round, id, got, v)
			}
		}
		if _, ok := present[maybeDeleted]; maybeDeleted != "" && !ok {
			deleted[maybeDeleted] = true // the in-flight delete landed
		}
		for batch, n := range perBatch {
			if _, acked := version[batch+"-0"]; !acked && n != 3 {
				t.Errorf("round %d: unacknowledged batch %s is half-applied (%d of 3)", round, batch, n)
			}
		}
		t.Logf("round %d: killed at acknowledged write %d, %d acknowledged in all, %d lost; %d documents after restart", round, killAt, acks, lost, len(docs))
	}
}

// TestChangedDocs checks the in-step diff against a plain set difference
// over random edits, including reorderings lungo itself never makes.
func TestChangedDocs(t *testing.T) {
	t.Parallel()
	rnd := rand.New(rand.NewPCG(5, 6))
	newDoc := func(i int) bsonkit.Doc { return &bson.D{{Key: "_id", Value: i}} }
	next := 0
	var list bsonkit.List
	for range 20 {
		list = append(list, newDoc(next))
		next++
	}
	for round := range 500 {
		old := bsonkit.NewSet(list)
		cur := bsonkit.NewSet(slices.Clone(list))
		for range rnd.IntN(4) + 1 {
			switch op := rnd.IntN(4); {
			case op == 0 || len(cur.List) == 0:
				cur.Add(newDoc(next))
				next++
			case op == 1:
				cur.Replace(cur.List[rnd.IntN(len(cur.List))], newDoc(next))
				next++
			case op == 2:
				cur.Remove(cur.List[rnd.IntN(len(cur.List))])
			default:
				shuffled := slices.Clone(cur.List)
				rnd.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
				cur = bsonkit.NewSet(shuffled)
			}
		}
		puts, deletes := changedDocs(old, cur)
		var wantPuts, wantDeletes bsonkit.List
		for _, d := range cur.List {
			if _, ok := old.Index[d]; !ok {
				wantPuts = append(wantPuts, d)
			}
		}
		for _, d := range old.List {
			if _, ok := cur.Index[d]; !ok {
				wantDeletes = append(wantDeletes, d)
			}
		}
		if !sameDocs(puts, wantPuts) || !sameDocs(deletes, wantDeletes) {
			t.Fatalf("round %d: puts %v deletes %v, want %v and %v", round, puts, deletes, wantPuts, wantDeletes)
		}
		list = cur.List
	}
}

// sameDocs compares two lists as sets of pointers.
func sameDocs(a, b bsonkit.List) bool {
	if len(a) != len(b) {
		return false
	}
	in := map[bsonkit.Doc]bool{}
	for _, d := range a {
		in[d] = true
	}
	for _, d := range b {
		if !in[d] {
			return false
		}
	}
	return true
}

// A namespace emptied or filled in one commit: every document of the
// old set deleted, or every one of the new set put.
func TestChangedDocs_EmptySides(t *testing.T) {
	t.Parallel()
	a, b := bsonkit.Doc(&bson.D{{Key: "_id", Value: 1}}), bsonkit.Doc(&bson.D{{Key: "_id", Value: 2}})
	full, empty := bsonkit.NewSet(bsonkit.List{a, b}), bsonkit.NewSet(nil)
	if puts, deletes := changedDocs(full, empty); len(puts) != 0 || !sameDocs(deletes, bsonkit.List{a, b}) {
		t.Errorf("emptied: puts %v, deletes %v; want none and both", puts, deletes)
	}
	if puts, deletes := changedDocs(empty, full); !sameDocs(puts, bsonkit.List{a, b}) || len(deletes) != 0 {
		t.Errorf("filled: puts %v, deletes %v; want both and none", puts, deletes)
	}
}
