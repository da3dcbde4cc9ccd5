package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"loandesk/auth"
)

// An audited action and its entry are one change, on each engine and
// through the wire server (`loandesk db`, where the driver runs real
// transactions): an accepted action always has its entry, a refused or
// failed one leaves neither its writes nor an entry, and when the entry
// cannot be written the action is undone.
func TestAudited_ActionAndEntryAreOneChange(t *testing.T) {
	t.Parallel()
	for _, target := range []string{EngineIndexed, EngineLungo, targetWire} {
		t.Run(target, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st, err := Open(ctx, targetConfig(t, target, nil))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close(ctx) })
			if len(st.Degraded()) != 0 {
				t.Fatalf("degraded: %v", st.Degraded())
			}
			admin := mustUser(t, st, "admin@example.com", auth.RoleAdmin)
			asha := mustUser(t, st, "asha@example.com", auth.RoleViewer)
			at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
			entries := func(target string) []AuditEntry {
				t.Helper()
				es, err := st.AuditList(ctx, AuditListParams{Target: target})
				if err != nil {
					t.Fatal(err)
				}
				return es
			}
			deactivate := func(u User, id primitive.ObjectID) func(ctx context.Context) (AuditEntry, error) {
				return func(ctx context.Context) (AuditEntry, error) {
					active := false
					if _, err := st.UserChangeAccess(ctx, u.ID, UserAccessChange{Active: &active}, at); err != nil {
						return AuditEntry{}, err
					}
					return AuditEntry{ID: id, At: at, Actor: "admin@example.com", Action: "user.deactivated", Target: u.Email}, nil
				}
			}

			// Refused: the last active admin stays, and nothing is recorded.
			if err := st.Audited(ctx, deactivate(admin, primitive.NilObjectID)); !errors.Is(err, ErrLastAdmin) {
				t.Fatalf("deactivating the last admin: %v, want ErrLastAdmin", err)
			}
			if es := entries(admin.Email); len(es) != 0 {
				t.Fatalf("a refused action left %d entries", len(es))
			}

			// Failed after a write: the write is undone, nothing recorded.
			boom := errors.New("failed after its first write")
			err = st.Audited(ctx, func(ctx context.Context) (AuditEntry, error) {
				if err := st.UserSetPassword(ctx, asha.ID, []byte("new hash"), true, at); err != nil {
					return AuditEntry{}, err
				}
				return AuditEntry{}, boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("a failing action: %v", err)
			}
			if got := mustGet(t, st, asha.ID); string(got.PasswordHash) != "hash" || got.MustChangePassword {
				t.Fatalf("a failed action's write stayed: %+v", got)
			}
			if es := entries(asha.Email); len(es) != 0 {
				t.Fatalf("a failed action left %d entries", len(es))
			}

			// The entry cannot be written (its id is taken): the action
			// is undone with it.
			taken := primitive.NewObjectID()
			if err := st.AuditAdd(ctx, AuditEntry{ID: taken, At: at, Actor: "system", Action: "placeholder", Target: "nobody@example.com"}); err != nil {
				t.Fatal(err)
			}
			if err := st.Audited(ctx, deactivate(asha, taken)); err == nil {
				t.Fatal("an action whose entry could not be written was reported done")
			}
			if got := mustGet(t, st, asha.ID); got.Deactivated || !got.SessionsEndedAt.IsZero() {
				t.Fatalf("the action stayed without its entry: deactivated %v, sessions ended %v", got.Deactivated, got.SessionsEndedAt)
			}
			if es := entries(asha.Email); len(es) != 0 {
				t.Fatalf("%d entries after the undone action", len(es))
			}

			// Accepted: the change and exactly one entry. The lock taken
			// inside is free at once (a second change does not wait).
			if err := st.Audited(ctx, deactivate(asha, primitive.NilObjectID)); err != nil {
				t.Fatal(err)
			}
			if got := mustGet(t, st, asha.ID); !got.Deactivated {
				t.Fatal("the accepted action did not take effect")
			}
			began := time.Now()
			if err := st.Audited(ctx, func(ctx context.Context) (AuditEntry, error) {
				role := auth.RoleAdmin
				before, err := st.UserChangeAccess(ctx, asha.ID, UserAccessChange{Role: &role}, at)
				return AuditEntry{At: at, Actor: "admin@example.com", Action: "user.role_changed", Target: asha.Email, Detail: "role " + before.Role + " → admin"}, err
			}); err != nil {
				t.Fatal(err)
			}
			if took := time.Since(began); took > 3*time.Second {
				t.Errorf("the second change waited %s for the lock", took)
			}
			es := entries(asha.Email)
			if len(es) != 2 || es[0].Action != "user.role_changed" || es[0].Detail != "role viewer → admin" || es[1].Action != "user.deactivated" {
				t.Fatalf("entries %+v, want the role change and the deactivation", es)
			}
			if locks, err := st.LockList(ctx); err != nil || len(locks) != 0 {
				t.Fatalf("locks held after the changes: %v, %v", locks, err)
			}
		})
	}
}

func mustUser(t *testing.T, st *Store, email, role string) User {
	t.Helper()
	u, err := st.UserCreate(context.Background(), UserCreateParams{Email: email, Name: "Test", Role: role, PasswordHash: []byte("hash")})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func mustGet(t *testing.T, st *Store, id primitive.ObjectID) User {
	t.Helper()
	u, err := st.UserGet(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// A staff list read by another request while an audited role change is
// being committed (it sees the role before) is not kept: the change is
// in the next list at once.
func TestAudited_StaffListReadMeanwhileIsNotKept(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := Open(ctx, Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close(ctx) })
	mustUser(t, st, "admin@example.com", auth.RoleAdmin)
	asha := mustUser(t, st, "asha@example.com", auth.RoleViewer)
	staff := func(ctx context.Context) []string {
		t.Helper()
		users, err := st.UserListByRole(ctx, auth.RoleAdmin, auth.RoleUnderwriter)
		if err != nil {
			t.Fatal(err)
		}
		var emails []string
		for _, u := range users {
			emails = append(emails, u.Email)
		}
		return emails
	}
	if err := st.Audited(ctx, func(tctx context.Context) (AuditEntry, error) {
		role := auth.RoleUnderwriter
		if _, err := st.UserChangeAccess(tctx, asha.ID, UserAccessChange{Role: &role}, time.Now()); err != nil {
			return AuditEntry{}, err
		}
		// Another request, outside the transaction, before its commit.
		if got := staff(ctx); len(got) != 1 {
			t.Errorf("staff seen outside the transaction before its commit: %q", got)
		}
		return AuditEntry{At: time.Now(), Actor: "admin@example.com", Action: "user.role_changed", Target: asha.Email}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := staff(ctx); len(got) != 2 {
		t.Fatalf("staff right after the change: %q, want both", got)
	}
}
