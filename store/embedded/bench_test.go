package embedded_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/256dpi/lungo/bsonkit"
	"github.com/256dpi/lungo/mongokit"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"loandesk/seed"
	"loandesk/store"
	"loandesk/store/durable"
	"loandesk/store/embedded"
)

const loansNS = "loandesk.loans"

// loanIndexes are the application's loan indexes (store/indexes.go).
var loanIndexes = []bson.D{
	{{Key: "humanId", Value: int32(1)}},
	{{Key: "createdAt", Value: int32(-1)}, {Key: "_id", Value: int32(-1)}},
	{{Key: "status", Value: int32(1)}, {Key: "createdAt", Value: int32(-1)}, {Key: "_id", Value: int32(-1)}},
	{{Key: "searchKeys", Value: int32(1)}},
}

type benchDB struct {
	engine *embedded.Engine
	ids    []primitive.ObjectID
	loans  []store.Loan
}

// openLoans loads n seeded loans through Insert in batches of 1,000.
func openLoans(b *testing.B, n int) benchDB {
	db, err := durable.Open(filepath.Join(b.TempDir(), "bench.db"), durable.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	e, err := embedded.Open(db)
	if err != nil {
		b.Fatal(err)
	}
	for i, key := range loanIndexes {
		cfg := mongokit.IndexConfig{Key: conv(b, key), Unique: i == 0}
		if _, err := e.CreateIndex(loansNS, "", cfg); err != nil {
			b.Fatal(err)
		}
	}
	g := seed.NewGenerator(1, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	out := benchDB{engine: e}
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
		if _, err := e.Insert(loansNS, batch); err != nil {
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
			ops := map[string]func(r *rand.Rand) error{
				"find_id": func(r *rand.Rand) error {
					docs, _, err := db.engine.Find(ctx, loansNS, embedded.Query{Filter: conv(b, bson.D{{Key: "_id", Value: db.ids[r.IntN(n)]}}), Limit: 1}, nil)
					if err == nil && len(docs) != 1 {
						err = fmt.Errorf("found %d", len(docs))
					}
					return err
				},
				"list_page": func(r *rand.Rand) error {
					st := store.LoanStatuses[r.IntN(len(store.LoanStatuses))]
					docs, _, err := db.engine.Find(ctx, loansNS, embedded.Query{Filter: conv(b, bson.D{{Key: "status", Value: st}}), Sort: listSort, Limit: 25}, nil)
					if err == nil && len(docs) != 25 {
						err = fmt.Errorf("page of %d", len(docs))
					}
					return err
				},
				"tab_bar": func(r *rand.Rand) error {
					for _, st := range store.LoanStatuses {
						if _, _, err := db.engine.Count(ctx, loansNS, conv(b, bson.D{{Key: "status", Value: st}})); err != nil {
							return err
						}
					}
					return nil
				},
				"search": func(r *rand.Rand) error {
					l := db.loans[r.IntN(n)]
					q := store.SearchTokens(l.Applicant.Name)
					docs, _, err := db.engine.Find(ctx, loansNS, embedded.Query{Filter: conv(b, bson.D{{Key: "searchKeys", Value: bson.D{{Key: "$all", Value: q}}}}), Sort: listSort, Limit: 25}, nil)
					if err == nil && len(docs) == 0 {
						err = fmt.Errorf("no match for %v", q)
					}
					return err
				},
			}
			for _, name := range []string{"find_id", "list_page", "tab_bar", "search"} {
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
