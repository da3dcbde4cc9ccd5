package wire_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.mongodb.org/mongo-driver/mongo/writeconcern"

	"loandesk/store/durable"
	"loandesk/store/embedded"
	"loandesk/store/wire"
)

// childEnv names the database file a re-executed test binary serves
// (serveChild) instead of running tests.
const childEnv = "LOANDESK_WIRE_TEST_CHILD"

func TestMain(m *testing.M) {
	if file := os.Getenv(childEnv); file != "" {
		serveChild(file)
		return
	}
	os.Exit(m.Run())
}

// serveChild serves file on a free loopback port, prints the address
// and serves until killed.
func serveChild(file string) {
	db, err := durable.Open(file, durable.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	e, err := embedded.Open(db)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Println(ln.Addr().String())
	srv, err := wire.New(wire.Config{Engine: e})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	_ = srv.Serve(ln)
	os.Exit(1)
}

// TestServer_SIGKILLKeepsAcknowledgedWrites: a server process is killed
// (SIGKILL) while 8 clients insert through it; every insert it
// acknowledged is in the file when the database opens again.
func TestServer_SIGKILLKeepsAcknowledgedWrites(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "loandesk.db")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+file)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("the child printed no address: %v", err)
	}
	addr := line[:len(line)-1]

	client, err := mongo.Connect(context.Background(), options.Client().ApplyURI("mongodb://"+addr+"/loandesk").
		SetWriteConcern(writeconcern.Majority()).SetServerSelectionTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_ = client.Disconnect(ctx)
	}()
	coll := client.Database("loandesk").Collection("acks")
	var acked sync.Map
	var n atomic.Int64
	enough := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				id := fmt.Sprintf("w%d-%d", w, i)
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
				_, err := coll.InsertOne(ctx, bson.M{"_id": id, "pad": make([]byte, 512)})
				cancel()
				if err != nil {
					return
				}
				acked.Store(id, true)
				if n.Add(1) == 200 {
					close(enough)
				}
			}
		})
	}
	select {
	case <-enough:
	case <-time.After(60 * time.Second):
		t.Fatalf("only %d inserts acknowledged in 60 s", n.Load())
	}
	if err := cmd.Process.Signal(os.Kill); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	wg.Wait()

	db, err := durable.Open(file, durable.Options{})
	if err != nil {
		t.Fatalf("reopen after SIGKILL: %v", err)
	}
	defer db.Close()
	e, err := embedded.Open(db)
	if err != nil {
		t.Fatalf("load after SIGKILL: %v", err)
	}
	defer e.Close()
	docs, _, err := e.Find(context.Background(), "loandesk.acks", embedded.Query{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, d := range docs {
		for _, el := range *d {
			if el.Key == "_id" {
				have[el.Value.(string)] = true
			}
		}
	}
	missing := 0
	acked.Range(func(k, _ any) bool {
		if !have[k.(string)] {
			missing++
		}
		return true
	})
	if missing != 0 {
		t.Fatalf("%d of %d acknowledged inserts lost to SIGKILL", missing, n.Load())
	}
	t.Logf("SIGKILL after %d acknowledged inserts: all %d in the file (%d stored in all)", n.Load(), n.Load(), len(docs))
}
