package wire

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/xdg-go/scram"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// Authentication is SCRAM-SHA-256 (RFC 7677, what MongoDB and its
// drivers use by default) for one user, with github.com/xdg-go/scram:
// the SCRAM implementation the Go driver itself uses on the client side.
// When Config.User is set, a connection runs nothing but the handshake
// (hello/isMaster, buildInfo), ping and SCRAM itself (saslStart,
// saslContinue) until it has authenticated; anything else is refused
// with code 13 (Unauthorized). endSessions too: it ends any session by
// its id, aborting its transaction and forgetting its retryable writes'
// replies, so an unauthenticated client could make another client's
// retried write apply twice. The password is
// kept only as SCRAM's stored key and server key.

// scramIterations is the PBKDF2 iteration count (MongoDB's default for
// SCRAM-SHA-256).
const scramIterations = 15000

// newSCRAM prepares the server side of SCRAM-SHA-256 for user.
func newSCRAM(user, password string) (*scram.Server, error) {
	salt := make([]byte, 28)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	client, err := scram.SHA256.NewClient(user, password, "")
	if err != nil {
		return nil, fmt.Errorf("wire: the password cannot be used with SCRAM: %w", err)
	}
	creds := client.GetStoredCredentials(scram.KeyFactors{Salt: string(salt), Iters: scramIterations})
	return scram.SHA256.NewServer(func(name string) (scram.StoredCredentials, error) {
		if name != user {
			return scram.StoredCredentials{}, fmt.Errorf("unknown user")
		}
		return creds, nil
	})
}

// needsNoAuth are the commands an unauthenticated connection may run.
func needsNoAuth(name string) bool {
	switch name {
	case "hello", "isMaster", "ismaster", "ping", "buildInfo", "buildinfo", "saslStart", "saslContinue":
		return true
	}
	return false
}

// authState is one connection's authentication.
type authState struct {
	authed  bool
	conv    *scram.ServerConversation
	started time.Time // the first saslStart: SCRAM must end HandshakeTimeout after it
}

// sasl runs saslStart and saslContinue.
func (s *Server) sasl(c *command, st *authState) (bson.D, error) {
	if s.scram == nil {
		return nil, errorf(codeAuthenticationFailed, "authentication is not configured on this server")
	}
	if c.name == "saslStart" {
		if mech, _ := c.lookup("mechanism").StringValueOK(); mech != "SCRAM-SHA-256" {
			return nil, errorf(codeAuthenticationFailed, "mechanism %q is not supported; use SCRAM-SHA-256", mech)
		}
		st.conv = s.scram.NewConversation()
		if st.started.IsZero() {
			st.started = time.Now()
		}
	} else if st.conv == nil {
		return nil, errorf(codeAuthenticationFailed, "saslContinue without saslStart")
	}
	payload, e := saslPayload(c.lookup("payload"))
	if e != nil {
		return nil, e
	}
	out, err := st.conv.Step(payload)
	if err != nil {
		st.conv = nil
		s.logger.Warn("wire: authentication failed", "err", err)
		return nil, errorf(codeAuthenticationFailed, "Authentication failed.")
	}
	done := st.conv.Done()
	if done {
		if !st.conv.Valid() {
			st.conv = nil
			return nil, errorf(codeAuthenticationFailed, "Authentication failed.")
		}
		st.authed, st.conv = true, nil
	}
	return bson.D{
		{Key: "conversationId", Value: int32(1)},
		{Key: "done", Value: done},
		{Key: "payload", Value: primitive.Binary{Data: []byte(out)}},
	}, nil
}

// saslPayload reads a payload sent as binary or as base64 text.
func saslPayload(v bsoncore.Value) (string, *cmdError) {
	switch v.Type {
	case bsontype.Binary:
		_, data := v.Binary()
		return string(data), nil
	case bsontype.String:
		b, err := base64.StdEncoding.DecodeString(v.StringValue())
		if err != nil {
			return "", errorf(codeBadValue, "payload: %v", err)
		}
		return string(b), nil
	}
	return "", errorf(codeTypeMismatch, "payload must be binary")
}
