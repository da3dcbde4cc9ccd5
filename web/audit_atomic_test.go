package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"loandesk/auth"
	"loandesk/store"
)

// The audit log holds exactly the account changes that took effect, over
// HTTP: refused changes (oneself, a bad role, the last admin when two
// admins deactivate each other at once) leave no entry, and each change
// that took effect has one. The store's side (an entry that cannot be
// written undoes its change) is TestAudited_ActionAndEntryAreOneChange.
func TestAudit_EntriesAreExactlyTheChangesMade(t *testing.T) {
	t.Parallel()
	f := newLifecycleFixture(t)
	ctx := context.Background()
	me, admin2 := f.userPath(t, "admin@example.com"), f.userPath(t, "admin2@example.com")
	uw := f.userPath(t, "uw@example.com")

	for _, tc := range []struct {
		path string
		form url.Values
		want int
	}{
		{me + "/active", url.Values{"active": {"false"}}, http.StatusForbidden},
		{me + "/role", url.Values{"role": {"viewer"}}, http.StatusForbidden},
		{uw + "/role", url.Values{"role": {"owner"}}, http.StatusUnprocessableEntity},
		{uw + "/active", url.Values{"active": {"maybe"}}, http.StatusUnprocessableEntity},
		{me + "/password", nil, http.StatusForbidden},
	} {
		if res := postForm(t, f.admin, f.url, tc.path, tc.form); res.status != tc.want {
			t.Errorf("%s: status %d, want %d", tc.path, res.status, tc.want)
		}
	}
	if es := changes(t, f.testBundle); len(es) != 0 {
		t.Fatalf("refused changes left entries: %+v", es)
	}

	// Rounds of two admins deactivating each other at once: one wins
	// (its entry), the other is refused as the last admin or signed out
	// (no entry).
	const rounds = 4
	admins := [2]*http.Client{f.admin, f.admin2}
	for round := range rounds {
		var wg sync.WaitGroup
		start := make(chan struct{})
		var answers [2]string
		for i, path := range []string{admin2, me} {
			wg.Go(func() {
				<-start
				res := postForm(t, admins[i], f.url, path+"/active", url.Values{"active": {"false"}})
				answers[i] = fmt.Sprintf("%d %s %.300s", res.status, res.header.Get("Location"), res.body)
			})
		}
		close(start)
		wg.Wait()
		var off []store.User
		for _, email := range []string{"admin@example.com", "admin2@example.com"} {
			if u := f.user(t, email); u.Deactivated {
				off = append(off, u)
			}
		}
		if len(off) != 1 {
			t.Fatalf("round %d: %d admins deactivated, want 1; answers:\n%s\n%s", round+1, len(off), answers[0], answers[1])
		}
		es := changes(t, f.testBundle)
		if len(es) != round+1 || es[0].Action != "user.deactivated" || es[0].Target != off[0].Email || es[0].Actor == off[0].Email {
			t.Fatalf("round %d: entries %+v, want %d, the newest the deactivation of %s", round+1, es, round+1, off[0].Email)
		}
		// Back to two admins, outside the app (no entry), both signed in.
		on := true
		if _, err := f.store.UserChangeAccess(ctx, off[0].ID, store.UserAccessChange{Active: &on}, off[0].CreatedAt); err != nil {
			t.Fatal(err)
		}
		for i, email := range []string{"admin@example.com", "admin2@example.com"} {
			admins[i] = newClient(t)
			mustLogin(t, admins[i], f.url, email)
		}
	}

	// A role change that took effect: its entry says from what to what.
	if res := postForm(t, admins[0], f.url, uw+"/role", url.Values{"role": {auth.RoleViewer}}); res.status != http.StatusSeeOther {
		t.Fatalf("role change: status %d", res.status)
	}
	if es := changes(t, f.testBundle); len(es) != rounds+1 || es[0].Action != "user.role_changed" || es[0].Detail != "role underwriter → viewer" {
		t.Fatalf("entries %+v, want the role change newest", es)
	}
}

// changes are the audit entries other than sign-ins, newest first.
func changes(t *testing.T, b *testBundle) []store.AuditEntry {
	t.Helper()
	es, err := b.store.AuditList(context.Background(), store.AuditListParams{})
	if err != nil {
		t.Fatal(err)
	}
	var out []store.AuditEntry
	for _, e := range es {
		if e.Action != "account.signed_in" {
			out = append(out, e)
		}
	}
	return out
}
