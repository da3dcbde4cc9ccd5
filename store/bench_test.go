package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/256dpi/lungo"
	"go.mongodb.org/mongo-driver/bson"

	"loandesk/store/durable"
)

// BenchmarkEmbeddedUpdate measures single-document update commits on the
// embedded engine with 10,000 ~1 KB documents, persisted by our durable
// store and by lungo's FileStore, in one run:
//
//	go test -run '^$' -bench EmbeddedUpdate -benchtime 200x ./store/
func BenchmarkEmbeddedUpdate(b *testing.B) {
	const docs = 10_000
	stores := map[string]func(dir string) (lungo.Store, func()){
		"durable": func(dir string) (lungo.Store, func()) {
			db, err := durable.Open(filepath.Join(dir, "bench.db"), durable.Options{})
			if err != nil {
				b.Fatal(err)
			}
			return newLungoStore(db), func() { _ = db.Close() }
		},
		"filestore": func(dir string) (lungo.Store, func()) {
			return lungo.NewFileStore(filepath.Join(dir, "bench.bson"), 0o600), func() {}
		},
	}
	for _, name := range []string{"durable", "filestore"} {
		b.Run(fmt.Sprintf("%s/%dk", name, docs/1000), func(b *testing.B) {
			ctx := context.Background()
			st, closeStore := stores[name](b.TempDir())
			defer closeStore()
			client, engine, err := lungo.Open(ctx, lungo.Options{Store: st, MinOplogAge: 1})
			if err != nil {
				b.Fatal(err)
			}
			defer engine.Close()
			coll := client.Database("bench").Collection("loans")
			pad := make([]byte, 900)
			for i := 0; i < docs; i += 1000 {
				batch := make([]any, 0, 1000)
				for j := i; j < i+1000; j++ {
					batch = append(batch, bson.M{"_id": j, "v": 1, "pad": pad})
				}
				if _, err := coll.InsertMany(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if _, err := coll.UpdateOne(ctx, bson.M{"_id": i % docs}, bson.M{"$inc": bson.M{"v": 1}}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
		})
	}
}
