package wire

import (
	"context"
	"errors"
	"runtime/debug"
	"strings"
	"time"

	"github.com/256dpi/lungo/bsonkit"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"

	"loandesk/store/bsondoc"
)

// command is one parsed command: its name (the body's first key), the
// database it runs in ($db), the body and the OP_MSG document sequences.
type command struct {
	name string
	db   string
	body bsoncore.Document
	seqs map[string][]bsoncore.Document
	dec  *bsondoc.Decoder
}

// arg is the value of the command's first element (usually the
// collection's name).
func (c *command) arg() bsoncore.Value { return c.body.Index(0).Value() }

// collection is the namespace the command names: "db.coll".
func (c *command) collection() (string, *cmdError) {
	name, ok := c.arg().StringValueOK()
	if !ok || name == "" {
		return "", errorf(codeInvalidOptions, "%s needs a collection name", c.name)
	}
	if strings.ContainsRune(name, 0) || strings.HasPrefix(name, "$") {
		return "", errorf(codeInvalidOptions, "invalid collection name %q", name)
	}
	return c.db + "." + name, nil
}

// lookup returns a field of the body (zero Value when missing).
func (c *command) lookup(key string) bsoncore.Value {
	v, err := c.body.LookupErr(key)
	if err != nil {
		return bsoncore.Value{}
	}
	return v
}

// doc decodes the body's field key as a document for the engine; nil
// when missing or null.
func (c *command) doc(key string) (bsonkit.Doc, *cmdError) {
	return c.docValue(key, c.lookup(key))
}

func (c *command) docValue(what string, v bsoncore.Value) (bsonkit.Doc, *cmdError) {
	switch v.Type {
	case 0, bsontype.Null, bsontype.Undefined:
		return nil, nil
	case bsontype.EmbeddedDocument:
		d, err := c.dec.Decode(v.Data)
		if err != nil {
			return nil, errorf(codeInvalidBSON, "%s: %v", what, err)
		}
		return d, nil
	}
	return nil, errorf(codeTypeMismatch, "%s must be a document, not %s", what, v.Type)
}

// list returns the documents of an array field, or of the document
// sequence of that name.
func (c *command) list(key string) ([]bsoncore.Document, *cmdError) {
	if docs, ok := c.seqs[key]; ok {
		return docs, nil
	}
	v := c.lookup(key)
	if v.Type == 0 {
		return nil, nil
	}
	arr, ok := v.ArrayOK()
	if !ok {
		return nil, errorf(codeTypeMismatch, "%s must be an array", key)
	}
	vals, err := arr.Values()
	if err != nil {
		return nil, errorf(codeInvalidBSON, "%s: %v", key, err)
	}
	out := make([]bsoncore.Document, len(vals))
	for i, v := range vals {
		d, ok := v.DocumentOK()
		if !ok {
			return nil, errorf(codeTypeMismatch, "%s.%d must be a document", key, i)
		}
		out[i] = d
	}
	return out, nil
}

// integer reads a numeric field (def when missing).
func (c *command) integer(key string, def int64) (int64, *cmdError) {
	return integerValue(key, c.lookup(key), def)
}

func integerValue(what string, v bsoncore.Value, def int64) (int64, *cmdError) {
	switch v.Type {
	case 0, bsontype.Null:
		return def, nil
	case bsontype.Int32, bsontype.Int64, bsontype.Double:
		n, ok := v.AsInt64OK()
		if !ok {
			return 0, errorf(codeTypeMismatch, "%s must be a number", what)
		}
		return n, nil
	}
	return 0, errorf(codeTypeMismatch, "%s must be a number, not %s", what, v.Type)
}

// boolean reads a flag (def when missing); numbers count as MongoDB
// counts them.
func (c *command) boolean(key string, def bool) bool {
	return truthy(c.lookup(key), def)
}

func truthy(v bsoncore.Value, def bool) bool {
	switch v.Type {
	case 0, bsontype.Null:
		return def
	case bsontype.Boolean:
		return v.Boolean()
	case bsontype.Int32, bsontype.Int64, bsontype.Double:
		n, _ := v.AsInt64OK()
		return n != 0 || v.Type == bsontype.Double && v.Double() != 0
	}
	return true
}

// handler runs a command and returns the reply's fields (ok is added).
type handler func(s *Server, ctx context.Context, c *command) (bson.D, error)

// handlerFor returns the command's handler.
func handlerFor(name string) (handler, bool) {
	switch name {
	case "hello", "isMaster", "ismaster":
		return (*Server).cmdHello, true
	case "ping":
		return func(*Server, context.Context, *command) (bson.D, error) { return nil, nil }, true
	case "buildInfo", "buildinfo":
		return (*Server).cmdBuildInfo, true
	case "getParameter":
		return (*Server).cmdGetParameter, true
	case "endSessions":
		return (*Server).cmdEndSessions, true
	case "whatsmyuri":
		return func(*Server, context.Context, *command) (bson.D, error) { return bson.D{{Key: "you", Value: ""}}, nil }, true
	case "connectionStatus":
		return (*Server).cmdConnectionStatus, true
	case "find":
		return (*Server).cmdFind, true
	case "getMore":
		return (*Server).cmdGetMore, true
	case "killCursors":
		return (*Server).cmdKillCursors, true
	case "insert":
		return (*Server).cmdInsert, true
	case "update":
		return (*Server).cmdUpdate, true
	case "delete":
		return (*Server).cmdDelete, true
	case "findAndModify", "findandmodify":
		return (*Server).cmdFindAndModify, true
	case "aggregate":
		return (*Server).cmdAggregate, true
	case "count":
		return (*Server).cmdCount, true
	case "distinct":
		return (*Server).cmdDistinct, true
	case "createIndexes":
		return (*Server).cmdCreateIndexes, true
	case "listIndexes":
		return (*Server).cmdListIndexes, true
	case "dropIndexes", "deleteIndexes":
		return (*Server).cmdDropIndexes, true
	case "listCollections":
		return (*Server).cmdListCollections, true
	case "listDatabases":
		return (*Server).cmdListDatabases, true
	case "create":
		return (*Server).cmdCreate, true
	case "drop":
		return (*Server).cmdDrop, true
	case "dropDatabase":
		return (*Server).cmdDropDatabase, true
	}
	return nil, false
}

// retryableWrites are the commands a txnNumber makes exactly-once.
func retryableWrite(name string) bool {
	switch name {
	case "insert", "update", "delete", "findAndModify", "findandmodify":
		return true
	}
	return false
}

// run executes one command body and returns the reply document.
func (s *Server) run(body bsoncore.Document, seqs map[string][]bsoncore.Document, auth *authState) (reply []byte) {
	start := time.Now()
	el, err := body.IndexErr(0)
	if err != nil {
		return errorDoc(errorf(codeFailedToParse, "empty command"))
	}
	c := &command{name: el.Key(), body: body, seqs: seqs, dec: bsondoc.NewDecoder()}
	db, ok := body.Lookup("$db").StringValueOK()
	if !ok || db == "" || strings.ContainsAny(db, "./\\ \"$\x00") {
		return s.finish(c, start, nil, errorf(codeInvalidOptions, "the command needs a valid $db"))
	}
	c.db = db
	switch {
	case c.name == "saslStart" || c.name == "saslContinue":
		fields, err := s.sasl(c, auth)
		return s.finish(c, start, fields, err)
	case s.scram != nil && !auth.authed && !needsNoAuth(c.name):
		return s.finish(c, start, nil, errorf(codeUnauthorized, "command %s requires authentication", c.name))
	}
	return s.runSession(c, start)
}

// execute runs c with ctx (a transaction's, or the request's).
func (s *Server) execute(ctx context.Context, c *command) (fields bson.D, err error) {
	h, ok := handlerFor(c.name)
	if !ok {
		return nil, errorf(codeCommandNotFound, "no such command: '%s'", c.name)
	}
	defer func() {
		if p := recover(); p != nil {
			s.logger.Error("wire: command panicked", "command", c.name, "panic", p, "stack", string(debug.Stack()))
			fields, err = nil, errorf(codeInternalError, "internal error running %s", c.name)
		}
	}()
	if ms, e := c.integer("maxTimeMS", 0); e == nil && ms > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(ms)*time.Millisecond)
		defer cancel()
	}
	fields, err = h(s, ctx, c)
	if errors.Is(err, context.DeadlineExceeded) {
		err = errorf(codeMaxTimeMSExpired, "operation exceeded time limit")
	}
	return fields, err
}

// finish builds the reply from a handler's outcome and counts it.
func (s *Server) finish(c *command, start time.Time, fields bson.D, err error) []byte {
	s.stats.record(c.name, time.Since(start), err != nil)
	if err != nil {
		var ce *cmdError
		if !errors.As(err, &ce) {
			ce = s.engineError(c.db, err)
		}
		return errorDoc(ce)
	}
	fields = append(fields, bson.E{Key: "ok", Value: 1.0})
	out, merr := bson.Marshal(fields)
	if merr != nil {
		return errorDoc(errorf(codeInternalError, "encode the reply: %v", merr))
	}
	return out
}

// ok reports whether a reply document says ok: 1.
func replyOK(reply []byte) bool {
	v, err := bsoncore.Document(reply).LookupErr("ok")
	if err != nil {
		return false
	}
	switch v.Type {
	case bsontype.Double:
		return v.Double() == 1
	case bsontype.Int32, bsontype.Int64:
		return v.AsInt64() == 1
	}
	return false
}

func isHandshake(name string) bool {
	return name == "hello" || name == "isMaster" || name == "ismaster"
}

func (s *Server) hello(query bsoncore.Document) []byte {
	c := &command{name: "hello", body: query}
	fields, _ := s.cmdHello(context.Background(), c)
	return s.finish(c, time.Now(), fields, nil)
}

// startedAt is reported by hello as the member's election (a
// constant per process).
var startedAt = primitive.NewObjectID()

func (s *Server) cmdHello(_ context.Context, c *command) (bson.D, error) {
	addr := s.Addr()
	now := time.Now()
	var mechs bson.D
	if s.scram != nil && c.lookup("saslSupportedMechs").Type != 0 {
		mechs = bson.D{{Key: "saslSupportedMechs", Value: bson.A{"SCRAM-SHA-256"}}}
	}
	out := bson.D{
		{Key: "helloOk", Value: true},
		{Key: "isWritablePrimary", Value: true},
		{Key: "ismaster", Value: true},
		{Key: "secondary", Value: false},
		{Key: "setName", Value: s.cfg.SetName},
		{Key: "setVersion", Value: int32(1)},
		{Key: "electionId", Value: startedAt},
		{Key: "hosts", Value: bson.A{addr}},
		{Key: "primary", Value: addr},
		{Key: "me", Value: addr},
		{Key: "maxBsonObjectSize", Value: int32(maxBSONBytes)},
		{Key: "maxMessageSizeBytes", Value: int32(s.cfg.MaxMessageBytes)},
		{Key: "maxWriteBatchSize", Value: int32(maxWriteBatch)},
		{Key: "localTime", Value: primitive.NewDateTimeFromTime(now)},
		{Key: "logicalSessionTimeoutMinutes", Value: int32(s.cfg.SessionTimeout / time.Minute)},
		{Key: "connectionId", Value: int32(1)},
		{Key: "minWireVersion", Value: int32(0)},
		{Key: "maxWireVersion", Value: int32(21)},
		{Key: "readOnly", Value: false},
	}
	return append(out, mechs...), nil
}

func (s *Server) cmdBuildInfo(context.Context, *command) (bson.D, error) {
	return bson.D{
		{Key: "version", Value: "7.0.0"},
		{Key: "gitVersion", Value: "loandesk-db"},
		{Key: "versionArray", Value: bson.A{int32(7), int32(0), int32(0), int32(0)}},
		{Key: "bits", Value: int32(64)},
		{Key: "maxBsonObjectSize", Value: int32(maxBSONBytes)},
		{Key: "storageEngines", Value: bson.A{"loandesk-embedded"}},
	}, nil
}

// cmdGetParameter answers the parameters a driver or tool asks about.
func (s *Server) cmdGetParameter(_ context.Context, c *command) (bson.D, error) {
	known := bson.D{
		{Key: "featureCompatibilityVersion", Value: bson.D{{Key: "version", Value: "7.0"}}},
		{Key: "transactionLifetimeLimitSeconds", Value: int32(s.cfg.TransactionLifetime / time.Second)},
		{Key: "maxBSONDepth", Value: int32(maxDepth)},
	}
	all := c.arg().Type == bsontype.String && c.arg().StringValue() == "*" ||
		c.arg().Type == bsontype.EmbeddedDocument && truthy(c.arg().Document().Lookup("allParameters"), false)
	var out bson.D
	for _, e := range known {
		if all || c.lookup(e.Key).Type != 0 {
			out = append(out, e)
		}
	}
	return out, nil
}

func (s *Server) cmdConnectionStatus(context.Context, *command) (bson.D, error) {
	return bson.D{{Key: "authInfo", Value: bson.D{{Key: "authenticatedUsers", Value: bson.A{}}, {Key: "authenticatedUserRoles", Value: bson.A{}}}}}, nil
}

func (s *Server) cmdEndSessions(_ context.Context, c *command) (bson.D, error) {
	arr, ok := c.arg().ArrayOK()
	if !ok {
		return nil, errorf(codeTypeMismatch, "endSessions takes an array of session ids")
	}
	vals, _ := arr.Values()
	for _, v := range vals {
		if d, ok := v.DocumentOK(); ok {
			if key, ok := sessionKey(d); ok {
				s.sessions.end(key)
			}
		}
	}
	return nil, nil
}
