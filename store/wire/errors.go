package wire

import (
	"errors"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"

	"loandesk/store/embedded"
)

// MongoDB's error codes used here (src/mongo/base/error_codes.yml).
const (
	codeInternalError             = 1
	codeBadValue                  = 2
	codeFailedToParse             = 9
	codeUnauthorized              = 13
	codeTypeMismatch              = 14
	codeOverflow                  = 15
	codeAuthenticationFailed      = 18
	codeInvalidBSON               = 22
	codeNamespaceNotFound         = 26
	codeIndexNotFound             = 27
	codeCursorNotFound            = 43
	codeCommandNotFound           = 59
	codeInvalidOptions            = 72
	codeIndexOptionsConflict      = 85
	codeIndexKeySpecsConflict     = 86
	codeNotImplemented            = 238
	codeNoSuchTransaction         = 251
	codeTransactionTooOld         = 225
	codeMaxTimeMSExpired          = 50
	codeExceededMemoryLimit       = 146
	codeUnsupportedOpQueryCommand = 352
	codeBSONObjectTooLarge        = 10334
	codeUnrecognizedStage         = 40324
	codeDuplicateKey              = 11000
	codeShutdownInProgress        = 91
	codeTooManyConnections        = 9001 // SocketException: what a refused connection is to a client
)

var codeNames = map[int32]string{
	codeInternalError:             "InternalError",
	codeBadValue:                  "BadValue",
	codeFailedToParse:             "FailedToParse",
	codeUnauthorized:              "Unauthorized",
	codeTypeMismatch:              "TypeMismatch",
	codeOverflow:                  "Overflow",
	codeAuthenticationFailed:      "AuthenticationFailed",
	codeInvalidBSON:               "InvalidBSON",
	codeNamespaceNotFound:         "NamespaceNotFound",
	codeIndexNotFound:             "IndexNotFound",
	codeCursorNotFound:            "CursorNotFound",
	codeCommandNotFound:           "CommandNotFound",
	codeInvalidOptions:            "InvalidOptions",
	codeIndexOptionsConflict:      "IndexOptionsConflict",
	codeIndexKeySpecsConflict:     "IndexKeySpecsConflict",
	codeNotImplemented:            "NotImplemented",
	codeNoSuchTransaction:         "NoSuchTransaction",
	codeTransactionTooOld:         "TransactionTooOld",
	codeMaxTimeMSExpired:          "MaxTimeMSExpired",
	codeExceededMemoryLimit:       "ExceededMemoryLimit",
	codeUnsupportedOpQueryCommand: "UnsupportedOpQueryCommand",
	codeBSONObjectTooLarge:        "BSONObjectTooLarge",
	codeUnrecognizedStage:         "Location40324",
	codeDuplicateKey:              "DuplicateKey",
	codeShutdownInProgress:        "ShutdownInProgress",
	codeTooManyConnections:        "SocketException",
}

// cmdError is a command's failure as MongoDB reports it: {ok: 0,
// errmsg, code, codeName} plus extra fields (a duplicate key's
// keyPattern and keyValue; a transaction error's labels).
type cmdError struct {
	code   int32
	msg    string
	extra  bson.D
	labels []string
}

func (e *cmdError) Error() string {
	return fmt.Sprintf("%s (%d): %s", codeNames[e.code], e.code, e.msg)
}

func errorf(code int32, format string, args ...any) *cmdError {
	return &cmdError{code: code, msg: fmt.Sprintf(format, args...)}
}

// appendError appends e's fields (without ok) to an open document.
func (e *cmdError) appendFields(dst []byte) []byte {
	dst = bsoncore.AppendStringElement(dst, "errmsg", e.msg)
	dst = bsoncore.AppendInt32Element(dst, "code", e.code)
	if name, ok := codeNames[e.code]; ok {
		dst = bsoncore.AppendStringElement(dst, "codeName", name)
	}
	for _, el := range e.extra {
		dst = appendValue(dst, el.Key, el.Value)
	}
	if len(e.labels) > 0 {
		idx, b := bsoncore.AppendArrayElementStart(dst, "errorLabels")
		for i, l := range e.labels {
			b = bsoncore.AppendStringElement(b, fmt.Sprint(i), l)
		}
		dst, _ = bsoncore.AppendArrayEnd(b, idx)
	}
	return dst
}

// appendValue appends any Go value the bson package marshals.
func appendValue(dst []byte, key string, v any) []byte {
	t, data, err := bson.MarshalValue(v)
	if err != nil {
		return bsoncore.AppendStringElement(dst, key, fmt.Sprint(v))
	}
	return bsoncore.AppendValueElement(dst, key, bsoncore.Value{Type: t, Data: data})
}

// engineError translates an error of the embedded engine into MongoDB's
// shape; keyPattern names the index keys by index name (for duplicate
// keys).
func (s *Server) engineError(ns string, err error) *cmdError {
	var ce *cmdError
	if errors.As(err, &ce) {
		return ce
	}
	var dk *embedded.DuplicateKeyError
	if errors.As(err, &dk) {
		return s.duplicateKey(ns, dk)
	}
	msg := err.Error()
	switch {
	case errors.Is(err, embedded.ErrNoIndex):
		return errorf(codeIndexNotFound, "index not found: %s", msg)
	case errors.Is(err, embedded.ErrClosed):
		return errorf(codeShutdownInProgress, "the database is shutting down")
	case errors.Is(err, embedded.ErrNotSupported):
		return errorf(codeNotImplemented, "%s", msg)
	case strings.Contains(msg, "_id_ index"):
		return errorf(codeInvalidOptions, "cannot drop _id index")
	case strings.Contains(msg, "exists with a different definition"):
		return errorf(codeIndexOptionsConflict, "%s", msg)
	case strings.Contains(msg, "has the same key"):
		return errorf(codeIndexKeySpecsConflict, "%s", msg)
	}
	return errorf(codeBadValue, "%s", msg)
}

// duplicateKey is error 11000 with keyPattern and keyValue, as MongoDB
// sends it.
func (s *Server) duplicateKey(ns string, dk *embedded.DuplicateKeyError) *cmdError {
	pattern := bson.D{{Key: "_id", Value: int32(1)}}
	if dk.Index != "_id_" {
		pattern = nil
		infos, _ := s.engine.Indexes(ns)
		for _, ix := range infos {
			if ix.Name == dk.Index && ix.Config.Key != nil {
				pattern = *ix.Config.Key
			}
		}
	}
	value := bson.D{}
	for i, e := range pattern {
		if i < len(dk.Key) {
			value = append(value, bson.E{Key: e.Key, Value: dk.Key[i]})
		}
	}
	return &cmdError{
		code:  codeDuplicateKey,
		msg:   fmt.Sprintf("E11000 duplicate key error collection: %s index: %s dup key: %s", ns, dk.Index, keyString(value)),
		extra: bson.D{{Key: "keyPattern", Value: pattern}, {Key: "keyValue", Value: value}},
	}
}

func keyString(d bson.D) string {
	var b strings.Builder
	b.WriteString("{ ")
	for i, e := range d {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s: %v", e.Key, e.Value)
	}
	b.WriteString(" }")
	return b.String()
}
