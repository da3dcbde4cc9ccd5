package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"loandesk/model"
	"loandesk/seed"
	"loandesk/store"
)

// BenchmarkEngines runs the same loan queries on both embedded engines, in
// one run, through the store's driver interfaces (what the app calls):
// lungo's engine and the indexed one, each on its durable file with the
// app's indexes, 1 and 16 goroutines. 10k loans; 100k too with
// LOANDESK_BENCH_100K=1 (lungo then needs minutes per operation).
//
//	go test -run '^$' -bench Engines -benchtime 2s -timeout 60m ./store/
func BenchmarkEngines(b *testing.B) {
	sizes := []int{10_000}
	if os.Getenv("LOANDESK_BENCH_100K") != "" {
		sizes = append(sizes, 100_000)
	}
	for _, n := range sizes {
		for _, engine := range []string{store.EngineLungo, store.EngineIndexed} {
			b.Run(fmt.Sprintf("docs=%dk/%s", n/1000, engine), func(b *testing.B) {
				st, err := store.Open(context.Background(), store.Config{DataDir: b.TempDir(), Engine: engine})
				if err != nil {
					b.Fatal(err)
				}
				defer st.Close(context.Background())
				ctx := context.Background()
				if _, err := seed.Load(ctx, st, n, 1, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)); err != nil {
					b.Fatal(err)
				}
				coll := store.LoansCollection(st)
				var loans []model.Loan
				cur, err := coll.Find(ctx, bson.M{})
				if err == nil {
					err = cur.All(ctx, &loans)
				}
				if err != nil || len(loans) != n {
					b.Fatalf("%d loans: %v", len(loans), err)
				}
				ops := map[string]func(r *rand.Rand) error{
					"find_id": func(r *rand.Rand) error {
						return coll.FindOne(ctx, bson.M{"_id": loans[r.IntN(n)].ID}).Err()
					},
					"list_page": func(r *rand.Rand) error {
						_, err := st.LoanList(ctx, store.LoanListParams{LoanFilter: store.LoanFilter{Status: model.LoanStatuses[r.IntN(len(model.LoanStatuses))]}, Limit: 25})
						return err
					},
					"tab_bar": func(r *rand.Rand) error {
						_, err := st.LoanCountByStatus(ctx, store.LoanFilter{})
						return err
					},
					"search": func(r *rand.Rand) error {
						_, err := st.LoanList(ctx, store.LoanListParams{LoanFilter: store.LoanFilter{Search: store.SearchTokens(loans[r.IntN(n)].Applicant.Name)}, Limit: 25})
						return err
					},
					"update": func(r *rand.Rand) error {
						_, err := coll.UpdateOne(ctx, bson.M{"_id": loans[r.IntN(n)].ID}, bson.M{"$set": bson.M{"updatedAt": time.Now()}, "$inc": bson.M{"version": int64(1)}})
						return err
					},
				}
				for _, name := range []string{"find_id", "list_page", "tab_bar", "search", "update"} {
					for _, g := range []int{1, 16} {
						b.Run(fmt.Sprintf("%s/g=%d", name, g), func(b *testing.B) {
							var seq atomic.Uint64
							b.SetParallelism(max(1, g/2))
							b.RunParallel(func(pb *testing.PB) {
								r := rand.New(rand.NewPCG(seq.Add(1), 5))
								for pb.Next() {
									if err := ops[name](r); err != nil {
										b.Error(err)
										return
									}
								}
							})
							b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
						})
					}
				}
			})
		}
	}
}
