package store

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"loandesk/model"

	"go.mongodb.org/mongo-driver/bson/primitive"
)

type testBundle struct {
	store *Store
	dir   string
}

// setup opens a fresh embedded database in a temporary directory.
func setup(t *testing.T) *testBundle {
	t.Helper()
	dir := t.TempDir()
	st, err := Open(context.Background(), Config{DataDir: dir})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = st.Close(context.Background()) })
	return &testBundle{store: st, dir: dir}
}

func TestStore_Open(t *testing.T) {
	t.Parallel()

	t.Run("SecondProcessGetsDatabaseInUse", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, err := Open(context.Background(), Config{DataDir: b.dir})
		if err == nil || !strings.Contains(err.Error(), "database in use") {
			t.Fatalf("second open: got %v, want a 'database in use' error", err)
		}
	})

	t.Run("ReopensAfterCloseWithDataKept", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := context.Background()
		if _, err := b.store.UserCreate(ctx, UserCreateParams{Email: "a@example.com", Name: "A", Role: "admin"}); err != nil {
			t.Fatal(err)
		}
		if err := b.store.Close(ctx); err != nil {
			t.Fatal(err)
		}
		st, err := Open(ctx, Config{DataDir: b.dir})
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		defer st.Close(ctx)
		if _, err := st.UserByEmail(ctx, "A@example.com"); err != nil {
			t.Fatalf("user after reopen: %v", err)
		}
	})

	t.Run("UnreachableMongoFailsFast", func(t *testing.T) {
		t.Parallel()
		start := time.Now()
		_, err := Open(context.Background(), Config{MongoURI: "mongodb://user:secret@127.0.0.1:1/loandesk", ConnectTimeout: 300 * time.Millisecond})
		if err == nil {
			t.Fatal("open against a closed port succeeded")
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("error leaks the password: %v", err)
		}
		if !strings.Contains(err.Error(), "did not answer") {
			t.Errorf("error does not say what went wrong: %v", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("took %s to fail", d)
		}
	})

	t.Run("InvalidMongoURIIsRefused", func(t *testing.T) {
		t.Parallel()
		_, err := Open(context.Background(), Config{MongoURI: "not-a-uri"})
		if err == nil || !strings.Contains(err.Error(), "MONGO_URI") {
			t.Fatalf("got %v, want an error naming MONGO_URI", err)
		}
	})
}

func TestStore_Ping(t *testing.T) {
	t.Parallel()

	t.Run("AnswersWhileOpen", func(t *testing.T) {
		t.Parallel()
		if err := setup(t).store.Ping(context.Background()); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("FailsAfterClose", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_ = b.store.Close(context.Background())
		if err := b.store.Ping(context.Background()); err == nil {
			t.Fatal("ping of a closed database succeeded")
		}
	})
}

func TestStore_User(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("EmailIsUniqueIgnoringCase", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		if _, err := b.store.UserCreate(ctx, UserCreateParams{Email: "Asha@Example.com", Name: "Asha", Role: "viewer"}); err != nil {
			t.Fatal(err)
		}
		_, err := b.store.UserCreate(ctx, UserCreateParams{Email: " asha@example.COM ", Name: "Other", Role: "admin"})
		if !errors.Is(err, ErrDuplicate) {
			t.Fatalf("second create: got %v, want ErrDuplicate", err)
		}
		n, _ := b.store.UserCount(ctx)
		if n != 1 {
			t.Fatalf("users = %d, want 1", n)
		}
	})

	t.Run("ReturnsErrNotFoundWhenMissing", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		if _, err := b.store.UserGet(ctx, primitive.NewObjectID()); !errors.Is(err, ErrNotFound) {
			t.Fatalf("get: got %v, want ErrNotFound", err)
		}
		if _, err := b.store.UserByEmail(ctx, "nobody@example.com"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("by email: got %v, want ErrNotFound", err)
		}
		if err := b.store.UserUpdateAccess(ctx, primitive.NewObjectID(), "admin", nil); !errors.Is(err, ErrNotFound) {
			t.Fatalf("update: got %v, want ErrNotFound", err)
		}
	})

	t.Run("ConcurrentCreatesOfOneEmailLeaveOneUser", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		var wg sync.WaitGroup
		var mu sync.Mutex
		created, dup := 0, 0
		for range 20 {
			wg.Go(func() {
				_, err := b.store.UserCreate(ctx, UserCreateParams{Email: "race@example.com", Name: "R", Role: "viewer"})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					created++
				case errors.Is(err, ErrDuplicate):
					dup++
				default:
					t.Errorf("create: %v", err)
				}
			})
		}
		wg.Wait()
		if created != 1 || dup != 19 {
			t.Fatalf("created %d, duplicates %d; want 1 and 19", created, dup)
		}
	})
}

func TestStore_LoanReserveNumbers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	const workers, each = 16, 10
	var mu sync.Mutex
	seen := map[int64]bool{}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			first, err := b.store.LoanReserveNumbers(ctx, each)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for i := first; i < first+each; i++ {
				if seen[i] {
					t.Errorf("number %d handed out twice", i)
				}
				seen[i] = true
			}
		})
	}
	wg.Wait()
	if len(seen) != workers*each {
		t.Fatalf("got %d distinct numbers, want %d", len(seen), workers*each)
	}
	for i := int64(1); i <= workers*each; i++ {
		if !seen[i] {
			t.Fatalf("number %d skipped", i)
		}
	}
}

func TestLoanSearchKeys(t *testing.T) {
	t.Parallel()
	l := model.Loan{HumanID: "LN-2026-000123", Applicant: model.Applicant{Name: "Asha Iyer", PAN: "ABCPI1234K", Email: "Asha@Mail.com", Phone: "+91 98765 43210"}}
	got := strings.Join(LoanSearchKeys(l), " ")
	want := "asha iyer ln-2026-000123 000123 123 abcpi1234k asha@mail.com 9876543210"
	if got != want {
		t.Fatalf("keys = %q\nwant   %q", got, want)
	}
}

func TestSearchTokens(t *testing.T) {
	t.Parallel()
	for q, want := range map[string]string{
		"  Asha   IYER ":          "asha iyer",
		"+91 98765-43210":         "9876543210",
		"+919876543210":           "9876543210",
		"098765 43210 a":          "098765 43210",
		"LN-2026-000123 x":        "ln-2026-000123",
		"a b c d e f g h i j k l": "",
		"aa bb cc dd ee ff gg hh": "aa bb cc dd ee ff",
		"asha asha":               "asha",
		`{"$ne": 1}`:              `{"$ne": 1}`,
	} {
		if got := strings.Join(SearchTokens(q), " "); got != want {
			t.Errorf("SearchTokens(%q) = %q, want %q", q, got, want)
		}
	}
}

func TestStore_UserListByRole(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	for email, role := range map[string]string{"b@x.com": "admin", "a@x.com": "underwriter", "c@x.com": "viewer"} {
		if _, err := b.store.UserCreate(ctx, UserCreateParams{Email: email, Name: email, Role: role, PasswordHash: []byte("hash")}); err != nil {
			t.Fatal(err)
		}
	}
	// The choices need names and emails only: no secrets, no sessions.
	admin, err := b.store.UserByEmail(ctx, "b@x.com")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.store.UserTOTPEnable(ctx, admin.ID, TOTP{Secret: "JBSWY3DPEHPK3PXP", EnrolledAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := b.store.UserSessionPut(ctx, admin, "sid-1", UserSession{AuthAt: time.Now(), IP: "10.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	users, err := b.store.UserListByRole(ctx, "admin", "underwriter")
	if err != nil || len(users) != 2 || users[0].Email != "a@x.com" || users[1].Email != "b@x.com" || users[1].Name != "b@x.com" {
		t.Fatalf("got %+v, %v; want a@ then b@", users, err)
	}
	for _, u := range users {
		if u.PasswordHash != nil || u.TOTP != nil || u.Sessions != nil {
			t.Errorf("%s listed with a password hash, second factor or sessions: %+v", u.Email, u)
		}
	}
}
