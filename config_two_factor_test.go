package main

import (
	"slices"
	"strings"
	"testing"

	"loandesk/auth"
)

func TestConfig_TwoFactorRoles(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		value string
		want  []string
	}{
		{"", []string{auth.RoleAdmin}}, // the default
		{"none", []string{}},
		{"NONE", []string{}},
		{"admin, Underwriter", []string{auth.RoleAdmin, auth.RoleUnderwriter}},
		{"viewer", []string{auth.RoleViewer}},
	} {
		c, err := loadConfig(env(map[string]string{"TWO_FACTOR_ROLES": tc.value}))
		if err != nil || !slices.Equal(c.Web.TwoFactorRoles, tc.want) {
			t.Errorf("TWO_FACTOR_ROLES=%q: %q, %v; want %q", tc.value, c.Web.TwoFactorRoles, err, tc.want)
		}
	}
	for _, bad := range []string{"root", "admin,", "admin;underwriter"} {
		if _, err := loadConfig(env(map[string]string{"TWO_FACTOR_ROLES": bad})); err == nil || !strings.Contains(err.Error(), "TWO_FACTOR_ROLES") {
			t.Errorf("TWO_FACTOR_ROLES=%q: %v, want an error naming the variable", bad, err)
		}
	}
}
