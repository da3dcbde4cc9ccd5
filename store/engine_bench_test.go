package store_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/256dpi/lungo"
	"github.com/256dpi/lungo/bsonkit"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo/options"

	"loandesk/model"
	"loandesk/seed"
	"loandesk/store"
	"loandesk/store/durable"
)

// BenchmarkEmbedded measures lungo's engine persisted by our durable
// store beside lungo's own FileStore, in one run, at 10k and 100k seeded
// loan documents (about 0.8 KB of BSON each) with the loan indexes the
// application creates on lungo:
//
//	go test -run '^$' -bench Embedded -timeout 30m ./store/
//
// lungo's MemoryStore (no persistence) runs beside them as the ceiling.
// Sub-benchmarks per size and store:
//   - startup: a fresh process opens the data and loads the catalog;
//     reports load-ms, anonymous resident memory (rss-anon-MB) and its
//     ratio to the raw BSON size (rss/bson);
//   - update: one versioned UpdateOne per commit, acknowledged only once
//     durable (commits/s);
//   - find_id: FindOne by _id (p50/p99 latency);
//   - list: one list page, {status} sorted by {createdAt:-1, _id:-1},
//     limit 25;
//   - find_id_during_writes: find_id while 4 goroutines commit updates
//     non-stop: how long the store's sync stalls readers.
func BenchmarkEmbedded(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		data := loanDataset(b, n)
		// "memory" is lungo's MemoryStore: no persistence, the ceiling.
		for _, kind := range []string{"durable", "filestore", "memory"} {
			b.Run(fmt.Sprintf("docs=%dk/store=%s", n/1000, kind), func(b *testing.B) {
				dir := b.TempDir()
				writeDataset(b, kind, dir, data)
				if kind != "memory" {
					b.Run("startup", func(b *testing.B) { benchStartup(b, kind, dir, data) })
				}

				st, closeStore := openBenchStore(b, kind, dir)
				defer closeStore()
				client, engine, err := lungo.Open(context.Background(), engineOptions(st))
				if err != nil {
					b.Fatal(err)
				}
				defer engine.Close()
				w := &loanWriter{
					coll:     client.Database(store.DefaultDatabase).Collection("loans"),
					ids:      data.ids,
					versions: make([]int64, len(data.ids)),
				}
				b.Run("update", func(b *testing.B) {
					for i := 0; b.Loop(); i++ {
						w.update(b, data.order[i%len(data.ids)])
					}
					b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
				})
				b.Run("find_id", func(b *testing.B) { benchFindID(b, w) })
				b.Run("list", func(b *testing.B) {
					for b.Loop() {
						w.listPage(b)
					}
				})
				b.Run("find_id_during_writes", func(b *testing.B) {
					const writers = 4
					var stop atomic.Bool
					var commits atomic.Int64
					var wg sync.WaitGroup
					for g := range writers {
						wg.Go(func() {
							// Writer g owns the ids ≡ g (mod writers), so
							// versions never race.
							for i := g; !stop.Load(); i = (i + writers) % len(data.ids) {
								w.update(b, data.order[i])
								commits.Add(1)
							}
						})
					}
					start := time.Now()
					benchFindID(b, w)
					stop.Store(true)
					wg.Wait()
					b.ReportMetric(float64(commits.Load())/time.Since(start).Seconds(), "commits/s")
				})
			})
		}
	}
}

// dataset is n seeded loans, encoded. It keeps no decoded documents, so
// the garbage collector has little extra to scan while engines run.
type dataset struct {
	raw      [][]byte
	ids      []primitive.ObjectID
	rawBytes int64
	// order is a random permutation of the ids' positions: lungo scans
	// for an update's target and stops at the first match, so updating in
	// insertion order would flatter whichever store keeps that order.
	order []int
}

var (
	datasetsMu sync.Mutex
	datasets   = map[int]*dataset{}
)

func loanDataset(b *testing.B, n int) *dataset {
	datasetsMu.Lock()
	defer datasetsMu.Unlock()
	if d, ok := datasets[n]; ok {
		return d
	}
	g := seed.NewGenerator(1, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	d := &dataset{}
	for i := range n {
		l := g.Loan(int64(i + 1))
		l.ID = primitive.NewObjectIDFromTimestamp(l.CreatedAt)
		l.SearchKeys = store.LoanSearchKeys(l)
		raw, err := bson.Marshal(l)
		if err != nil {
			b.Fatal(err)
		}
		d.raw = append(d.raw, raw)
		d.ids = append(d.ids, l.ID)
		d.rawBytes += int64(len(raw))
	}
	d.order = rand.New(rand.NewPCG(2, 3)).Perm(n)
	datasets[n] = d
	return d
}

// writeDataset stores the dataset in dir with one commit: the catalog is
// built directly, because lungo's InsertMany is quadratic.
func writeDataset(b *testing.B, kind, dir string, data *dataset) {
	docs := make(bsonkit.List, len(data.raw))
	for i, raw := range data.raw {
		var d bson.D
		if err := bson.Unmarshal(raw, &d); err != nil {
			b.Fatal(err)
		}
		docs[i] = &d
	}
	// The loan indexes the application creates on lungo's engine.
	indexes, err := store.LungoIndexDefs("loans")
	if err != nil {
		b.Fatal(err)
	}
	file := lungo.File{Namespaces: map[string]lungo.FileNamespace{
		store.DefaultDatabase + ".loans": {Documents: docs, Indexes: indexes},
	}}
	catalog, err := file.BuildCatalog()
	if err != nil {
		b.Fatal(err)
	}
	st, closeStore := openBenchStore(b, kind, dir)
	defer closeStore()
	if err := st.Store(catalog); err != nil {
		b.Fatal(err)
	}
}

func openBenchStore(tb testing.TB, kind, dir string) (lungo.Store, func()) {
	st, closeStore, err := openStore(kind, dir)
	if err != nil {
		tb.Fatal(err)
	}
	return st, closeStore
}

func openStore(kind, dir string) (lungo.Store, func(), error) {
	switch kind {
	case "durable":
		db, err := durable.Open(filepath.Join(dir, store.DataFile), durable.Options{})
		if err != nil {
			return nil, nil, err
		}
		return store.NewLungoStore(db), func() { _ = db.Close() }, nil
	case "filestore":
		return lungo.NewFileStore(filepath.Join(dir, "loandesk.bson"), 0o600), func() {}, nil
	case "memory":
		memoryStoresMu.Lock()
		defer memoryStoresMu.Unlock()
		if memoryStores[dir] == nil {
			memoryStores[dir] = lungo.NewMemoryStore()
		}
		return memoryStores[dir], func() {}, nil
	}
	return nil, nil, fmt.Errorf("unknown store %q", kind)
}

// memoryStores keeps each in-memory dataset between writeDataset and the
// engine that reads it.
var (
	memoryStoresMu sync.Mutex
	memoryStores   = map[string]*lungo.MemoryStore{}
)

// engineOptions are the embedded default's engine settings (store.Open).
func engineOptions(st lungo.Store) lungo.Options {
	return lungo.Options{Store: st, MinOplogAge: time.Second, ExpireInterval: time.Hour}
}

// loanWriter updates loans the way the app does: filtered by version.
type loanWriter struct {
	coll     lungo.ICollection
	ids      []primitive.ObjectID
	versions []int64 // current version - 1, per id
}

func (w *loanWriter) update(b *testing.B, i int) {
	filter := bson.D{{Key: "_id", Value: w.ids[i]}, {Key: "version", Value: w.versions[i] + 1}}
	status := model.LoanStatuses[rand.IntN(len(model.LoanStatuses))]
	change := bson.D{
		{Key: "$set", Value: bson.D{{Key: "status", Value: status}, {Key: "updatedAt", Value: time.Now()}, {Key: "updatedBy", Value: "bench"}}},
		{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}},
	}
	res, err := w.coll.UpdateOne(context.Background(), filter, change)
	if err != nil {
		b.Error(err)
		return
	}
	if res.ModifiedCount != 1 {
		b.Errorf("update of %s matched %d documents", w.ids[i].Hex(), res.MatchedCount)
		return
	}
	w.versions[i]++
}

func (w *loanWriter) listPage(b *testing.B) {
	opts := options.Find().SetSort(bson.D{{Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}}).SetLimit(25)
	cur, err := w.coll.Find(context.Background(), bson.D{{Key: "status", Value: model.StatusSubmitted}}, opts)
	if err != nil {
		b.Fatal(err)
	}
	var page []model.Loan
	if err := cur.All(context.Background(), &page); err != nil {
		b.Fatal(err)
	}
	if len(page) != 25 {
		b.Fatalf("list page has %d loans, want 25", len(page))
	}
}

// benchFindID reads random loans by _id and reports latency percentiles.
func benchFindID(b *testing.B, w *loanWriter) {
	var lat []time.Duration
	for b.Loop() {
		id := w.ids[rand.IntN(len(w.ids))]
		start := time.Now()
		var l model.Loan
		if err := w.coll.FindOne(context.Background(), bson.D{{Key: "_id", Value: id}}).Decode(&l); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds()), "max-µs")
}

// benchStartup loads the data in a fresh process per iteration, so the
// memory figure is the loaded catalog's alone.
func benchStartup(b *testing.B, kind, dir string, data *dataset) {
	var loadMicros, anonKB int64
	for b.Loop() {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "LOANDESK_TEST_CHILD=load", "LOANDESK_TEST_CHILD_ARG="+kind+"|"+dir)
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("load child: %v\n%s", err, out)
		}
		var count, micros, anon, file int64
		if _, err := fmt.Sscanf(lastLine(out), "loaded %d in %dus anon %dkB file %dkB", &count, &micros, &anon, &file); err != nil {
			b.Fatalf("load child said %q: %v", out, err)
		}
		if count != int64(len(data.ids)) {
			b.Fatalf("load child found %d loans, want %d", count, len(data.ids))
		}
		loadMicros += micros
		anonKB += anon
	}
	n := float64(b.N)
	b.ReportMetric(float64(loadMicros)/n/1000, "load-ms")
	b.ReportMetric(float64(anonKB)/n/1024, "rss-anon-MB")
	b.ReportMetric(float64(anonKB)/n*1024/float64(data.rawBytes), "rss/bson")
	b.ReportMetric(float64(data.rawBytes)/float64(len(data.ids)), "bson-B/doc")
}

func lastLine(out []byte) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1]
}

func init() { store.TestChildren["load"] = loadChild }

// loadChild opens a store, loads the engine and prints the load time and
// the process's resident memory once garbage is collected.
func loadChild(arg string) {
	kind, dir, _ := strings.Cut(arg, "|")
	start := time.Now()
	st, closeStore, err := openStore(kind, dir)
	if err != nil {
		fmt.Println(err)
		os.Exit(2)
	}
	client, engine, err := lungo.Open(context.Background(), engineOptions(st))
	if err != nil {
		fmt.Println(err)
		os.Exit(2)
	}
	loaded := time.Since(start)
	count, err := client.Database(store.DefaultDatabase).Collection("loans").EstimatedDocumentCount(context.Background())
	if err != nil {
		fmt.Println(err)
		os.Exit(2)
	}
	runtime.GC()
	debug.FreeOSMemory()
	anon, file := residentKB()
	fmt.Printf("loaded %d in %dus anon %dkB file %dkB\n", count, loaded.Microseconds(), anon, file)
	engine.Close()
	closeStore()
}

// residentKB reads the process's anonymous and file-backed resident
// memory from /proc/self/status.
func residentKB() (anon, file int64) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1, -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, _ := strings.Cut(sc.Text(), ":")
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 10, 64)
		switch key {
		case "RssAnon":
			anon = kb
		case "RssFile":
			file = kb
		}
	}
	return anon, file
}
