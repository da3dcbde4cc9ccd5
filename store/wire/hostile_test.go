package wire_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"net"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
	"go.mongodb.org/mongo-driver/x/mongo/driver/wiremessage"

	"loandesk/store/wire"
)

// Hostile input: each bad message gets an error reply or a closed
// connection for its client only; the server keeps serving everyone
// else, and nothing stored changes.

// seedKept stores the documents the hostile tests must leave alone.
func seedKept(t testing.TB, db *mongo.Database) {
	t.Helper()
	var docs []any
	for i := range 10 {
		docs = append(docs, bson.M{"_id": i, "v": "kept"})
	}
	if _, err := db.Collection("keep").InsertMany(context.Background(), docs); err != nil {
		t.Fatal(err)
	}
}

// stored is every stored document of the database "loandesk", in order:
// what must not change.
func stored(t testing.TB, b *testBundle) string {
	t.Helper()
	ctx := context.Background()
	names, err := b.db.ListCollectionNames(ctx, bson.M{})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	for _, n := range names {
		cur, err := b.db.Collection(n).Find(ctx, bson.M{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
		if err != nil {
			t.Fatal(err)
		}
		var docs []bson.Raw
		if err := cur.All(ctx, &docs); err != nil {
			t.Fatal(err)
		}
		out.WriteString(n)
		for _, d := range docs {
			out.Write(d)
		}
	}
	return out.String()
}

// nested is a document nested depth levels deep: {a: {a: {...}}}.
func nested(depth int) []byte {
	out := make([]byte, 0, 5+8*depth)
	for i := range depth {
		out = binary.LittleEndian.AppendUint32(out, uint32(5+8*(depth-i)))
		out = append(out, 0x03, 'a', 0)
	}
	out = append(out, 5, 0, 0, 0, 0)
	return append(out, make([]byte, depth)...)
}

// header frames a message of the given length and opcode around body
// (the length need not be true).
func header(length int32, op wiremessage.OpCode, body []byte) []byte {
	dst := wiremessage.AppendHeader(nil, length, 7, 0, op)
	return append(dst, body...)
}

// hostileMessages are the bad inputs, by name, with whether the server
// must answer (true) or may only close.
func hostileMessages(t testing.TB) map[string][]byte {
	ping := marshal(t, bson.D{{Key: "ping", Value: 1}, {Key: "$db", Value: "admin"}})
	msgBody := append([]byte{0, 0, 0, 0, 0}, ping...) // flags, section 0, the document
	// A body whose embedded document claims more bytes than it has.
	badInner := marshal(t, bson.D{{Key: "insert", Value: "keep"}, {Key: "documents", Value: bson.A{bson.D{{Key: "_id", Value: 99}}}}, {Key: "$db", Value: "loandesk"}})
	badInner = append([]byte(nil), badInner...)
	i := bytes.Index(badInner, []byte("documents\x00")) + len("documents\x00")
	binary.LittleEndian.PutUint32(badInner[i:], 4000)
	deep := bsoncore.NewDocumentBuilder().
		AppendString("insert", "keep").
		AppendArray("documents", bsoncore.NewArrayBuilder().AppendDocument(nested(100_000)).Build()).
		AppendString("$db", "loandesk").Build()
	badSeq := append([]byte{0, 0, 0, 0, 1}, []byte{0xff, 0xff, 0, 0, 'd', 0}...)
	return map[string][]byte{
		"truncated":            header(200, wiremessage.OpMsg, msgBody)[:40],
		"lengthUnderHeader":    header(8, wiremessage.OpMsg, nil),
		"lengthNegative":       header(-5, wiremessage.OpMsg, nil),
		"lengthOverContent":    header(int32(16+len(msgBody)+40), wiremessage.OpMsg, append(append([]byte(nil), msgBody...), bytes.Repeat([]byte{0x42}, 40)...)),
		"lengthUnderContent":   header(int32(16+len(msgBody)-10), wiremessage.OpMsg, msgBody),
		"unknownOpcode":        header(int32(16+len(msgBody)), 9999, msgBody),
		"opCompressed":         header(int32(16+len(msgBody)), wiremessage.OpCompressed, msgBody),
		"length100MB":          header(100<<20, wiremessage.OpMsg, msgBody),
		"invalidBSON":          opMsg(7, badInner),
		"invalidBSONTopLength": header(int32(16+5+9), wiremessage.OpMsg, []byte{0, 0, 0, 0, 0, 9, 0, 0, 0, 0x02, 'x', 0, 0, 0}),
		"deeplyNested":         opMsg(7, deep),
		"badDocumentSequence":  header(int32(16+len(badSeq)), wiremessage.OpMsg, badSeq),
		"checksumTooShort":     header(16+6, wiremessage.OpMsg, []byte{1, 0, 0, 0, 0, 0}),
		"noBody":               header(16+4, wiremessage.OpMsg, []byte{0, 0, 0, 0}),
		"emptyCommand":         opMsg(7, []byte{5, 0, 0, 0, 0}),
		"opQueryGarbage":       header(16+8, wiremessage.OpQuery, []byte{0, 0, 0, 0, 'a', 'b', 'c', 'd'}),
	}
}

// send writes msg on a new connection, half-closes it and reads what
// comes back until the server closes: the replies and whether the server
// closed the connection itself.
func send(t testing.TB, addr string, msg []byte) []bsoncore.Document {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(testWait))
	if _, err := c.Write(msg); err != nil {
		return nil // closed before reading it all: allowed
	}
	_ = c.(*net.TCPConn).CloseWrite()
	var replies []bsoncore.Document
	for {
		doc, err := readReply(c)
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatalf("the server neither answered nor closed within %s", testWait)
			}
			return replies
		}
		replies = append(replies, doc)
	}
}

func TestServer_HostileInput(t *testing.T) {
	t.Parallel()
	b := setup(t, wire.Config{})
	ctx := context.Background()
	seedKept(t, b.db)
	before := stored(t, b)

	// A client in the middle of its work on its own connection.
	bystander := dial(t, b.srv.Addr)
	roundTrip(t, bystander, bson.D{{Key: "ping", Value: 1}, {Key: "$db", Value: "admin"}})

	wantCode := map[string]int32{"length100MB": 10334, "invalidBSON": 22, "deeplyNested": 22, "invalidBSONTopLength": 22, "noBody": 9, "emptyCommand": 9}
	for name, msg := range hostileMessages(t) {
		replies := send(t, b.srv.Addr, msg)
		if want, ok := wantCode[name]; ok {
			if len(replies) != 1 || code(replies[0]) != want || replies[0].Lookup("ok").Double() != 0 {
				t.Errorf("%s: replies %v, want one error with code %d", name, replies, want)
			}
		}
		for _, r := range replies {
			if r.Lookup("ok").Double() == 1 && name != "lengthOverContent" {
				t.Errorf("%s: answered ok: %v", name, r)
			}
		}
		if doc := roundTrip(t, bystander, bson.D{{Key: "ping", Value: 1}, {Key: "$db", Value: "admin"}}); doc.Lookup("ok").Double() != 1 {
			t.Fatalf("after %s the other client's ping got %v", name, doc)
		}
		t.Logf("%-22s → %d replies, then closed", name, len(replies))
	}

	t.Run("ErrorRepliesKeepTheConnection", func(t *testing.T) {
		c := dial(t, b.srv.Addr)
		for _, name := range []string{"invalidBSON", "deeplyNested"} {
			if _, err := c.Write(hostileMessages(t)[name]); err != nil {
				t.Fatal(err)
			}
			if doc, err := readReply(c); err != nil || code(doc) != 22 {
				t.Fatalf("%s: %v %v", name, doc, err)
			}
		}
		if doc := roundTrip(t, c, bson.D{{Key: "ping", Value: 1}, {Key: "$db", Value: "admin"}}); doc.Lookup("ok").Double() != 1 {
			t.Fatalf("ping on the same connection: %v", doc)
		}
	})

	if after := stored(t, b); after != before {
		t.Fatal("stored documents changed")
	}
	// A new client still connects and reads.
	if n, err := b.db.Collection("keep").CountDocuments(ctx, bson.M{}); err != nil || n != 10 {
		t.Fatalf("count after the hostile input: %d, %v", n, err)
	}
}

// TestServer_ConnectionLimit: one connection over the limit gets a clear
// error and is closed; the others keep working.
func TestServer_ConnectionLimit(t *testing.T) {
	t.Parallel()
	b := setup(t, wire.Config{MaxConnections: 2})
	_ = b.client.Disconnect(context.Background()) // its pool would take the slots
	waitFor(t, func() bool { return b.srv.OpenConnections() == 0 })
	ping := bson.D{{Key: "ping", Value: 1}, {Key: "$db", Value: "admin"}}
	c1, c2 := dial(t, b.srv.Addr), dial(t, b.srv.Addr)
	roundTrip(t, c1, ping)
	roundTrip(t, c2, ping)
	c3 := dial(t, b.srv.Addr)
	doc := roundTrip(t, c3, ping)
	if doc.Lookup("ok").Double() != 0 || !bytes.Contains([]byte(doc.Lookup("errmsg").StringValue()), []byte("too many open connections")) {
		t.Fatalf("third connection: %v", doc)
	}
	if !closed(c3) {
		t.Fatal("the refused connection stays open")
	}
	roundTrip(t, c1, ping)
	_ = c2.Close()
	waitFor(t, func() bool { return b.srv.OpenConnections() == 1 })
	if doc := roundTrip(t, dial(t, b.srv.Addr), ping); doc.Lookup("ok").Double() != 1 {
		t.Fatalf("a connection after one closed: %v", doc)
	}
}

// waitFor polls cond until it holds or 10 s pass (connection counts
// change when the server's goroutines notice a close; there is no
// signal to wait on from outside).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s", testWait)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// FuzzServer_Message sends arbitrary bytes as one client's stream; the
// server must keep serving another client and change nothing stored.
func FuzzServer_Message(f *testing.F) {
	for _, msg := range hostileMessages(f) {
		f.Add(msg)
	}
	f.Add(opMsg(1, marshal(f, bson.D{{Key: "insert", Value: "c"}, {Key: "documents", Value: bson.A{bson.D{{Key: "x", Value: 1}}}}, {Key: "$db", Value: "fuzz"}})))
	f.Add(opMsg(1, marshal(f, bson.D{{Key: "find", Value: "c"}, {Key: "filter", Value: bson.D{{Key: "x", Value: bson.D{{Key: "$gt", Value: 0}}}}}, {Key: "$db", Value: "fuzz"}})))
	f.Add(opQuery(1, "admin.$cmd", marshal(f, bson.D{{Key: "isMaster", Value: 1}})))
	srv := setup(f, wire.Config{})
	seedKept(f, srv.db)
	before := stored(f, srv)
	f.Fuzz(func(t *testing.T, msg []byte) {
		send(t, srv.srv.Addr, msg)
		if err := srv.client.Ping(context.Background(), nil); err != nil {
			t.Fatalf("ping after the input: %v", err)
		}
		if after := stored(t, srv); after != before {
			t.Fatal("stored documents changed")
		}
	})
}

func TestNested_IsValidBSON(t *testing.T) {
	t.Parallel()
	if err := bsoncore.Document(nested(3)).Validate(); err != nil {
		t.Fatal(err)
	}
	var v bson.M
	if err := bson.Unmarshal(nested(3), &v); err != nil || v["a"].(bson.M)["a"].(bson.M)["a"] == nil {
		t.Fatalf("%v %v", v, err)
	}
}

// TestServer_OversizedMessageGetsItsReply: a client that really sends a
// 49 MB message reads the size error, not a reset.
func TestServer_OversizedMessageGetsItsReply(t *testing.T) {
	t.Parallel()
	b := setup(t, wire.Config{})
	c := dial(t, b.srv.Addr)
	msg := header(49_000_000, wiremessage.OpMsg, make([]byte, 49_000_000-16))
	writeErr := make(chan error, 1)
	go func() { _, err := c.Write(msg); writeErr <- err }()
	doc, err := readReply(c)
	if err != nil || code(doc) != 10334 || !bytes.Contains([]byte(doc.Lookup("errmsg").StringValue()), []byte("48000000")) {
		t.Fatalf("reply to a 49 MB message: %v, %v", doc, err)
	}
	<-writeErr // done or cut off: either is fine
	if n, err := b.db.Collection("keep").CountDocuments(context.Background(), bson.M{}); err != nil || n != 0 {
		t.Fatalf("the server after it: %d, %v", n, err)
	}
}
