package store

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/256dpi/lungo"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// onDisk returns, per namespace, the documents the durable file holds,
// as canonical extended JSON sorted by _id.
func onDisk(t *testing.T, s *Store) map[string][]string {
	t.Helper()
	stored, err := newLungoStore(s.durable).Load()
	if err != nil {
		t.Fatal(err)
	}
	return catalogDocs(t, stored)
}

func catalogDocs(t *testing.T, c *lungo.Catalog) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for h, ns := range c.Namespaces {
		if h == lungo.Oplog {
			continue
		}
		var docs []string
		for _, d := range ns.Documents.List {
			b, err := bson.MarshalExtJSON(d, true, false)
			if err != nil {
				t.Fatal(err)
			}
			docs = append(docs, string(b))
		}
		slices.Sort(docs)
		out[h.String()] = docs
	}
	return out
}

// TestLungoStore_MatchesEngineStepByStep runs random writes through the
// engine and after each one compares the file with the engine's memory.
func TestLungoStore_MatchesEngineStepByStep(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	coll := b.store.db.Collection("diff")
	other := b.store.db.Collection("other")
	if _, err := coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "u", Value: 1}}, Options: options.Index().SetUnique(true)}); err != nil {
		t.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	for step := range 400 {
		id := rnd.IntN(40)
		var err error
		switch op := rnd.IntN(8); op {
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
		}
		if err != nil && !isDuplicateKey(err) {
			t.Fatalf("step %d: %v", step, err)
		}
		want := catalogDocs(t, b.store.engine.Catalog())
		got := onDisk(t, b.store)
		for ns, docs := range want {
			if len(docs) == 0 && got[ns] == nil {
				continue
			}
			if !slices.Equal(docs, got[ns]) {
				t.Fatalf("step %d: %s differs\nmemory %v\ndisk   %v", step, ns, docs, got[ns])
			}
		}
		for ns := range got {
			if _, ok := want[ns]; !ok && len(got[ns]) > 0 {
				t.Fatalf("step %d: %s on disk but not in memory", step, ns)
			}
		}
	}
}

// The crash test's child: a write storm that prints every acknowledged
// write, until it is killed. Round r, iteration i writes batch "r-i" of
// three documents, updates one of them to version 2 and, when i%3 == 0,
// deletes "r-i-0".
func TestMain(m *testing.M) {
	if dir := os.Getenv("LOANDESK_CRASH_CHILD"); dir != "" {
		crashChild(dir, os.Getenv("LOANDESK_CRASH_ROUND"))
		return
	}
	os.Exit(m.Run())
}

func crashChild(dir, round string) {
	ctx := context.Background()
	fail := func(what string, err error) {
		fmt.Printf("error %s: %v\n", what, err)
		os.Exit(2)
	}
	st, err := Open(ctx, Config{DataDir: dir})
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

// TestLungoStore_SurvivesSIGKILL kills a writing child process mid-storm,
// several times, and checks after each restart that every acknowledged
// write is there, no batch is half-applied, and the unique index holds.
func TestLungoStore_SurvivesSIGKILL(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	version := map[string]int{} // acknowledged documents → acknowledged version
	deleted := map[string]bool{}
	for round := range 4 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "LOANDESK_CRASH_CHILD="+dir, fmt.Sprintf("LOANDESK_CRASH_ROUND=%d", round))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Let it write for a while, then kill it mid-storm; then read every
		// line it printed (each one is an acknowledged write).
		killAfter := time.Duration(200+150*round) * time.Millisecond
		timer := time.AfterFunc(killAfter, func() { _ = cmd.Process.Signal(syscall.SIGKILL) })
		var last string
		acks := 0
		lines := bufio.NewScanner(stdout)
		for lines.Scan() {
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
		timer.Stop()
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

		st, err := Open(context.Background(), Config{DataDir: dir})
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
		_ = st.Close(context.Background())
		if err != nil {
			t.Fatal(err)
		}

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
		for batch, n := range perBatch {
			if _, acked := version[batch+"-0"]; !acked && n != 3 {
				t.Errorf("round %d: unacknowledged batch %s is half-applied (%d of 3)", round, batch, n)
			}
		}
		t.Logf("round %d: killed after %s, %d acknowledged writes so far, %d lost; %d documents after restart", round, killAfter, acks, lost, len(docs))
	}
}
