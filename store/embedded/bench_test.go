package embedded_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/256dpi/lungo/bsonkit"
	"github.com/256dpi/lungo/mongokit"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"loandesk/model"
	"loandesk/seed"
	"loandesk/store"
	"loandesk/store/durable"
	"loandesk/store/embedded"
)

const loansNS = "loandesk.loans"

type benchDB struct {
	engine *embedded.Engine
	file   *durable.DB
	path   string
	ids    []primitive.ObjectID
	loans  []model.Loan
}

// openLoans loads n seeded loans through Insert in batches of 1,000.
func openLoans(b testing.TB, n int) benchDB {
	path := filepath.Join(b.TempDir(), "bench.db")
	db, err := durable.Open(path, durable.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	e, err := embedded.Open(db)
	if err != nil {
		b.Fatal(err)
	}
	for _, m := range store.IndexModels("loans") {
		cfg := mongokit.IndexConfig{Key: conv(b, m.Keys)}
		if m.Options != nil && m.Options.Unique != nil {
			cfg.Unique = *m.Options.Unique
		}
		// Partial as the app makes it: the unique intake key holds only
		// for loans filed with one (without it every seeded loan's
		// missing key is the same null).
		if m.Options != nil && m.Options.PartialFilterExpression != nil {
			cfg.Partial = conv(b, m.Options.PartialFilterExpression)
		}
		if _, err := e.CreateIndex(loansNS, "", cfg); err != nil {
			b.Fatal(err)
		}
	}
	g := seed.NewGenerator(1, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	out := benchDB{engine: e, file: db, path: path}
	start := time.Now()
	for i := 0; i < n; i += 1000 {
		batch := make([]bsonkit.Doc, 0, 1000)
		for j := i; j < min(i+1000, n); j++ {
			l := g.Loan(int64(j + 1))
			l.ID = primitive.NewObjectIDFromTimestamp(l.CreatedAt)
			l.SearchKeys = store.LoanSearchKeys(l)
			out.ids = append(out.ids, l.ID)
			out.loans = append(out.loans, l)
			batch = append(batch, conv(b, l))
		}
		if _, err := e.Insert(context.Background(), loansNS, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("loaded %d loans in %s", n, time.Since(start).Round(time.Millisecond))
	return out
}

func conv(b testing.TB, v any) bsonkit.Doc {
	d, err := bsonkit.Transform(v)
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// BenchmarkEngine measures the indexed engine at 10k and 100k seeded
// loans, one goroutine and 16:
//
//	go test -run '^$' -bench Engine -benchtime 2s ./store/embedded/
func BenchmarkEngine(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("docs=%dk", n/1000), func(b *testing.B) {
			db := openLoans(b, n)
			ctx := context.Background()
			listSort := conv(b, bson.D{{Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}})
			search := func(r *rand.Rand, typed func([]string) []string) error {
				l := db.loans[r.IntN(n)]
				q := typed(store.SearchTokens(l.Applicant.Name))
				filter := conv(b, store.LoanFilter{Search: q}.Query())
				docs, _, err := db.engine.Find(ctx, loansNS, embedded.Query{Filter: filter, Sort: listSort, Limit: 25}, nil)
				if err == nil && len(docs) == 0 {
					err = fmt.Errorf("no match for %v", q)
				}
				return err
			}
			ops := map[string]func(r *rand.Rand) error{
				"find_id": func(r *rand.Rand) error {
					docs, _, err := db.engine.Find(ctx, loansNS, embedded.Query{Filter: conv(b, bson.D{{Key: "_id", Value: db.ids[r.IntN(n)]}}), Limit: 1}, nil)
					if err == nil && len(docs) != 1 {
						err = fmt.Errorf("found %d", len(docs))
					}
					return err
				},
				"list_page": func(r *rand.Rand) error {
					st := model.LoanStatuses[r.IntN(len(model.LoanStatuses))]
					docs, _, err := db.engine.Find(ctx, loansNS, embedded.Query{Filter: conv(b, bson.D{{Key: "status", Value: st}}), Sort: listSort, Limit: 25}, nil)
					if err == nil && len(docs) != 25 {
						err = fmt.Errorf("page of %d", len(docs))
					}
					return err
				},
				"tab_bar": func(r *rand.Rand) error {
					for _, st := range model.LoanStatuses {
						if _, _, err := db.engine.Count(ctx, loansNS, conv(b, bson.D{{Key: "status", Value: st}})); err != nil {
							return err
						}
					}
					return nil
				},
				// A search as the list asks it (store.LoanFilter): every
				// word typed is a prefix of one of the loan's search keys.
				// The name in full, and its words' first three letters.
				"search": func(r *rand.Rand) error {
					return search(r, func(words []string) []string { return words })
				},
				"search_prefix": func(r *rand.Rand) error {
					return search(r, func(words []string) []string {
						for i, w := range words {
							words[i] = w[:min(3, len(w))]
						}
						return words
					})
				},
			}
			for _, name := range []string{"find_id", "list_page", "tab_bar", "search", "search_prefix"} {
				op := ops[name]
				for _, g := range []int{1, 16} {
					b.Run(fmt.Sprintf("%s/g=%d", name, g), func(b *testing.B) {
						b.SetParallelism(max(1, g/2)) // GOMAXPROCS is 2 here
						if g == 1 {
							r := rand.New(rand.NewPCG(1, 2))
							for b.Loop() {
								if err := op(r); err != nil {
									b.Fatal(err)
								}
							}
						} else {
							var seq atomic.Uint64
							b.RunParallel(func(pb *testing.PB) {
								r := rand.New(rand.NewPCG(seq.Add(1), 2))
								for pb.Next() {
									if err := op(r); err != nil {
										b.Error(err)
										return
									}
								}
							})
						}
						b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
					})
				}
			}
			for _, g := range []int{1, 16} {
				b.Run(fmt.Sprintf("update/g=%d", g), func(b *testing.B) {
					versions := make([]atomic.Int64, n)
					var seq atomic.Uint64
					b.SetParallelism(max(1, g/2))
					b.RunParallel(func(pb *testing.PB) {
						r := rand.New(rand.NewPCG(seq.Add(1), 3))
						for pb.Next() {
							i := r.IntN(n)
							v := versions[i].Load() + 1
							spec := embedded.UpdateSpec{
								Filter: conv(b, bson.D{{Key: "_id", Value: db.ids[i]}, {Key: "version", Value: v}}),
								Update: conv(b, bson.D{{Key: "$set", Value: bson.D{{Key: "updatedAt", Value: time.Now()}}}, {Key: "$inc", Value: bson.D{{Key: "version", Value: int64(1)}}}}),
							}
							res, err := db.engine.Update(ctx, loansNS, spec)
							if err != nil {
								b.Error(err)
								return
							}
							if res.Modified == 1 {
								versions[i].Add(1)
							}
						}
					})
					b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
				})
			}
		})
	}
}

// BenchmarkEngineStartup reopens 10k and 100k seeded loans in a fresh
// process, which reports how long the load took and its anonymous
// resident memory once garbage is collected:
//
//	go test -run '^$' -bench EngineStartup -benchtime 3x ./store/embedded/
func BenchmarkEngineStartup(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("docs=%dk", n/1000), func(b *testing.B) {
			db := openLoans(b, n)
			var raw int64
			for _, l := range db.loans {
				body, _ := bson.Marshal(l)
				raw += int64(len(body))
			}
			path := db.path
			db.engine.Close()
			_ = db.file.Close()
			var loadMS, anonMB float64
			for b.Loop() {
				cmd := exec.Command(os.Args[0], "-test.run=^$")
				cmd.Env = append(os.Environ(), "LOANDESK_LOAD_CHILD="+path)
				out, err := cmd.CombinedOutput()
				if err != nil {
					b.Fatalf("%v: %s", err, out)
				}
				var count int
				var micros, anonKB int64
				if _, err := fmt.Sscanf(string(out), "loaded %d in %dus anon %dkB", &count, &micros, &anonKB); err != nil || count != n {
					b.Fatalf("child said %q (%v)", out, err)
				}
				loadMS += float64(micros) / 1000
				anonMB += float64(anonKB) / 1024
			}
			b.ReportMetric(loadMS/float64(b.N), "load-ms")
			b.ReportMetric(anonMB/float64(b.N), "rss-anon-MB")
			b.ReportMetric(anonMB/float64(b.N)*1024*1024/float64(raw), "rss/bson")
		})
	}
}

func TestMain(m *testing.M) {
	if path := os.Getenv("LOANDESK_LOAD_CHILD"); path != "" {
		loadChild(path)
		return
	}
	os.Exit(m.Run())
}

// loadChild opens the engine on path and prints the load time and the
// process's anonymous resident memory after a full collection. For
// diagnosis, LOANDESK_LOAD_CPUPROFILE and LOANDESK_LOAD_HEAPPROFILE name
// profile files to write, and LOANDESK_LOAD_MEMSTATS prints the heap's
// figures; e.g. LOANDESK_LOAD_CHILD=DATA_DIR/loandesk.db ./embedded.test.
func loadChild(path string) {
	if out := os.Getenv("LOANDESK_LOAD_CPUPROFILE"); out != "" {
		if f, err := os.Create(out); err == nil {
			_ = pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	start := time.Now()
	db, err := durable.Open(path, durable.Options{})
	if err != nil {
		fmt.Println(err)
		os.Exit(2)
	}
	e, err := embedded.Open(db)
	if err != nil {
		fmt.Println(err)
		os.Exit(2)
	}
	took := time.Since(start)
	n, _, _ := e.Count(context.Background(), loansNS, nil)
	runtime.GC()
	debug.FreeOSMemory()
	var anon int64
	if status, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(status), "\n") {
			if v, ok := strings.CutPrefix(line, "RssAnon:"); ok {
				anon, _ = strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			}
		}
	}
	if os.Getenv("LOANDESK_LOAD_MEMSTATS") != "" {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		fmt.Fprintf(os.Stderr, "heapAlloc %dMB heapInuse %dMB heapIdle %dMB released %dMB sys %dMB\n", ms.HeapAlloc>>20, ms.HeapInuse>>20, ms.HeapIdle>>20, ms.HeapReleased>>20, ms.Sys>>20)
	}
	if out := os.Getenv("LOANDESK_LOAD_HEAPPROFILE"); out != "" {
		if f, err := os.Create(out); err == nil {
			_ = pprof.WriteHeapProfile(f)
			_ = f.Close()
		}
	}
	fmt.Printf("loaded %d in %dus anon %dkB\n", n, took.Microseconds(), anon)
	runtime.KeepAlive(e)
}

// BenchmarkEngineClaim claims jobs one at a time from 10,000 pending,
// as a job runner does (FindOneAndUpdate on {status, due}), each claim
// durable:
//
//	go test -run '^$' -bench EngineClaim -benchtime 2000x ./store/embedded/
func BenchmarkEngineClaim(b *testing.B) {
	db, err := durable.Open(filepath.Join(b.TempDir(), "claim.db"), durable.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	e, err := embedded.Open(db)
	if err != nil {
		b.Fatal(err)
	}
	const ns = "loandesk.events"
	if _, err := e.CreateIndex(ns, "", mongokit.IndexConfig{Key: conv(b, bson.D{{Key: "status", Value: int32(1)}, {Key: "due", Value: int32(1)}})}); err != nil {
		b.Fatal(err)
	}
	const pending = 10_000
	add := func(n int) {
		batch := make([]bsonkit.Doc, n)
		for i := range batch {
			batch[i] = conv(b, bson.D{{Key: "status", Value: "pending"}, {Key: "due", Value: time.Now().Add(time.Duration(i) * time.Millisecond)}, {Key: "type", Value: "ocr"}})
		}
		if _, err := e.Insert(context.Background(), ns, batch); err != nil {
			b.Fatal(err)
		}
	}
	add(pending)
	spec := embedded.UpdateSpec{
		Filter: conv(b, bson.D{{Key: "status", Value: "pending"}}),
		Sort:   conv(b, bson.D{{Key: "due", Value: int32(1)}}),
		Update: conv(b, bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: "running"}}}}),
	}
	claimed := 0
	for b.Loop() {
		res, err := e.Update(context.Background(), ns, spec)
		if err != nil || res.Modified != 1 {
			b.Fatalf("claim: %+v %v", res, err)
		}
		if claimed++; claimed%(pending/2) == 0 {
			b.StopTimer()
			add(pending / 2) // keep about 10k pending
			b.StartTimer()
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "claims/s")
}
