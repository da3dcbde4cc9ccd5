package wire_test

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
	"go.mongodb.org/mongo-driver/x/mongo/driver/wiremessage"

	"loandesk/store/wire"
	"loandesk/store/wire/wiretest"
)

type testBundle struct {
	srv    *wiretest.Server
	client *mongo.Client
	db     *mongo.Database
}

// setup starts a server over a fresh database and connects the official
// driver to it.
func setup(t testing.TB, cfg wire.Config) *testBundle {
	t.Helper()
	srv := wiretest.Start(t, cfg)
	client, err := mongo.Connect(context.Background(), options.Client().ApplyURI(srv.URI).SetServerSelectionTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second) // the server may be gone
		defer cancel()
		_ = client.Disconnect(ctx)
	})
	return &testBundle{srv: srv, client: client, db: client.Database("loandesk")}
}

// dial opens a raw TCP connection to the server.
func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(testWait))
	return c
}

func marshal(t testing.TB, v any) bsoncore.Document {
	t.Helper()
	b, err := bson.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// opMsg frames body as an OP_MSG with request id reqID.
func opMsg(reqID int32, body []byte) []byte {
	idx, dst := wiremessage.AppendHeaderStart(nil, reqID, 0, wiremessage.OpMsg)
	dst = wiremessage.AppendMsgFlags(dst, 0)
	dst = wiremessage.AppendMsgSectionType(dst, wiremessage.SingleDocument)
	dst = append(dst, body...)
	return bsoncore.UpdateLength(dst, idx, int32(len(dst[idx:])))
}

// readReply reads one reply and returns its document.
func readReply(c net.Conn) (bsoncore.Document, error) {
	var hdr [16]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return nil, err
	}
	n := int(binary.LittleEndian.Uint32(hdr[:]))
	if n < 16 || n > 64<<20 {
		return nil, errors.New("bad reply length")
	}
	msg := make([]byte, n)
	copy(msg, hdr[:])
	if _, err := io.ReadFull(c, msg[16:]); err != nil {
		return nil, err
	}
	_, _, _, op, rem, _ := wiremessage.ReadHeader(msg)
	switch op {
	case wiremessage.OpMsg:
		_, rem, _ = wiremessage.ReadMsgFlags(rem)
		_, rem, _ = wiremessage.ReadMsgSectionType(rem)
		doc, _, ok := wiremessage.ReadMsgSectionSingleDocument(rem)
		if !ok {
			return nil, errors.New("bad OP_MSG reply")
		}
		return doc, nil
	case wiremessage.OpReply:
		_, rem, _ = wiremessage.ReadReplyFlags(rem)
		_, rem, _ = wiremessage.ReadReplyCursorID(rem)
		_, rem, _ = wiremessage.ReadReplyStartingFrom(rem)
		_, rem, _ = wiremessage.ReadReplyNumberReturned(rem)
		doc, _, ok := wiremessage.ReadReplyDocument(rem)
		if !ok {
			return nil, errors.New("bad OP_REPLY")
		}
		return doc, nil
	}
	return nil, errors.New("unexpected reply opcode")
}

// roundTrip sends a command body on c and returns the reply.
func roundTrip(t *testing.T, c net.Conn, body any) bsoncore.Document {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(testWait))
	if _, err := c.Write(opMsg(1, marshal(t, body))); err != nil {
		t.Fatal(err)
	}
	doc, err := readReply(c)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// closed reports whether the server closed c (a read gets EOF or a
// reset before the deadline).
func closed(c net.Conn) bool {
	_ = c.SetReadDeadline(time.Now().Add(testWait))
	var b [1]byte
	_, err := c.Read(b[:])
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

func code(doc bsoncore.Document) int32 {
	v, err := doc.LookupErr("code")
	if err != nil {
		return 0
	}
	n, _ := v.AsInt64OK()
	return int32(n)
}

// opQuery frames an OP_QUERY of query on ns.
func opQuery(reqID int32, ns string, query []byte) []byte {
	idx, dst := wiremessage.AppendHeaderStart(nil, reqID, 0, wiremessage.OpQuery)
	dst = wiremessage.AppendQueryFlags(dst, 0)
	dst = wiremessage.AppendQueryFullCollectionName(dst, ns)
	dst = wiremessage.AppendQueryNumberToSkip(dst, 0)
	dst = wiremessage.AppendQueryNumberToReturn(dst, -1)
	dst = append(dst, query...)
	return bsoncore.UpdateLength(dst, idx, int32(len(dst[idx:])))
}

// testWait bounds every wait on the server: generous, because these
// machines are shared and a loaded one answers late, not wrongly.
const testWait = 60 * time.Second
