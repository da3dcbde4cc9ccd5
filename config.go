package main

import (
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"loandesk/application"
	"loandesk/auth"
	"loandesk/gcpolicy"
	"loandesk/money"
	"loandesk/store"
	"loandesk/web"
)

// config is everything read from the environment (12-factor). Every
// variable read here is listed in deploy.Variables (TestConfigTable).
type config struct {
	Host          string
	Port          string
	MongoURI      string
	DataDir       string
	Engine        string
	PoolMax       uint64
	AdminEmail    string
	AdminPassword string
	AdminToken    string
	LogLevel      slog.Level
	Web           web.Config
	// ServeJobs runs the job runner inside serve: "auto" (the default)
	// does on the embedded engine, where no other process can reach the
	// database; on MongoDB run `loandesk jobs` instead.
	ServeJobs      string
	JobWorkers     int
	EventRetention time.Duration
	// MetricsAddr, when set, serves /metrics without authentication on
	// its own listener (keep it on a private interface or port).
	MetricsAddr string
	// PprofAddr, when set, serves the runtime's profiles on a loopback
	// address (profiles show request data held in memory).
	PprofAddr string
	// GC holds the garbage collector's settings (GOGC, GOMEMLIMIT,
	// AUTOMEMLIMIT) for gcpolicy.Apply.
	GC map[string]string
}

// DefaultTimeZone is the lender's zone unless TIME_ZONE says otherwise:
// business dates (an applicant's age, "today") are its calendar dates.
const DefaultTimeZone = "Asia/Kolkata"

// loadConfig reads and checks the environment; a bad value is an error
// naming the variable, never a silent default.
func loadConfig(getenv func(string) string) (config, error) {
	c := config{
		Host:          getenv("HOST"),
		Port:          orDefault(getenv("PORT"), "3001"),
		MongoURI:      strings.TrimSpace(getenv("MONGO_URI")),
		DataDir:       orDefault(getenv("DATA_DIR"), "./data"),
		Engine:        orDefault(getenv("EMBEDDED_ENGINE"), store.EngineIndexed),
		AdminEmail:    strings.TrimSpace(getenv("ADMIN_EMAIL")),
		AdminPassword: getenv("ADMIN_PASSWORD"),
		AdminToken:    strings.TrimSpace(getenv("ADMIN_TOKEN")),
		Web:           web.DefaultConfig(),
		ServeJobs:     strings.ToLower(orDefault(getenv("SERVE_JOBS"), "auto")),
		JobWorkers:    4,
	}
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }

	if p, err := strconv.Atoi(c.Port); err != nil || p < 0 || p > 65535 {
		fail("PORT must be a port number, got %q", c.Port)
	}
	if c.Engine != store.EngineIndexed && c.Engine != store.EngineLungo {
		fail("EMBEDDED_ENGINE must be %s or %s, got %q", store.EngineIndexed, store.EngineLungo, c.Engine)
	}
	if v := getenv("DB_POOL_MAX"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n == 0 {
			fail("DB_POOL_MAX must be a positive integer, got %q", v)
		}
		c.PoolMax = n
	}
	if err := c.LogLevel.UnmarshalText([]byte(orDefault(getenv("LOG_LEVEL"), "info"))); err != nil {
		fail("LOG_LEVEL must be debug, info, warn or error, got %q", getenv("LOG_LEVEL"))
	}
	if (c.AdminEmail == "") != (c.AdminPassword == "") {
		fail("set both ADMIN_EMAIL and ADMIN_PASSWORD, or neither")
	}
	if c.AdminPassword != "" {
		if err := auth.ValidatePassword(c.AdminPassword); err != nil {
			fail("ADMIN_PASSWORD: %v", err)
		}
	}
	if t := c.AdminToken; t != "" && (len(t) < 32 || len(t) > 256 || strings.ContainsFunc(t, func(r rune) bool { return r <= ' ' || r > '~' })) {
		fail("ADMIN_TOKEN must be 32 to 256 printable ASCII characters without spaces (try: openssl rand -hex 32)")
	}
	durations := []struct {
		name string
		dst  *time.Duration
	}{
		{"SESSION_LIFETIME", &c.Web.SessionLifetime},
		{"SESSION_IDLE_TIMEOUT", &c.Web.SessionIdleTimeout},
	}
	for _, d := range durations {
		if v := getenv(d.name); v != "" {
			dur, err := time.ParseDuration(v)
			if err != nil || dur < time.Minute {
				fail("%s must be a duration of at least 1m (like 12h), got %q", d.name, v)
				continue
			}
			*d.dst = dur
		}
	}
	switch c.ServeJobs {
	case "auto", "true", "false":
	default:
		fail("SERVE_JOBS must be auto, true or false, got %q", c.ServeJobs)
	}
	if v := getenv("JOB_WORKERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 256 {
			fail("JOB_WORKERS must be between 1 and 256, got %q", v)
		}
		c.JobWorkers = n
	}
	if v := getenv("EVENT_RETENTION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute {
			fail("EVENT_RETENTION must be a duration of at least 1m (like 168h), got %q", v)
		}
		c.EventRetention = d
	}
	if v := getenv("UPLOAD_MAX_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1024 || n > 1<<30 {
			fail("UPLOAD_MAX_BYTES must be between 1024 and 1073741824, got %q", v)
		}
		c.Web.UploadMaxBytes = n
	}
	if v := getenv("BCRYPT_COST"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < auth.MinCost || n > 16 {
			fail("BCRYPT_COST must be between %d and 16, got %q", auth.MinCost, v)
		}
		c.Web.BcryptCost = n
	}
	if v := getenv("UNDERWRITER_APPROVAL_LIMIT"); v != "" {
		paise, err := money.ParseRupees(v)
		if err != nil || paise == 0 {
			fail("UNDERWRITER_APPROVAL_LIMIT must be an amount in rupees (like 2500000), got %q", v)
		}
		c.Web.Policy.UnderwriterApprovalLimit = paise
	}
	if v := getenv("DUAL_APPROVAL_ABOVE"); v != "" {
		paise, err := money.ParseRupees(v)
		if err != nil {
			fail("DUAL_APPROVAL_ABOVE must be an amount in rupees (like 2500000), got %q", v)
		}
		c.Web.Policy.DualApprovalAbove = paise
	}
	zoneName := orDefault(getenv("TIME_ZONE"), DefaultTimeZone)
	if zone, err := time.LoadLocation(zoneName); err != nil || zoneName == "Local" {
		fail("TIME_ZONE must be an IANA time zone name (like Asia/Kolkata), got %q", zoneName)
	} else {
		c.Web.Zone = zone
	}
	if c.MetricsAddr = strings.TrimSpace(getenv("METRICS_ADDR")); c.MetricsAddr != "" {
		if _, port, err := net.SplitHostPort(c.MetricsAddr); err != nil || port == "" {
			fail("METRICS_ADDR must be host:port or :port (like 127.0.0.1:9090), got %q", c.MetricsAddr)
		}
	}
	c.GC = map[string]string{}
	for _, name := range []string{"GOGC", "GOMEMLIMIT", "AUTOMEMLIMIT"} {
		c.GC[name] = strings.TrimSpace(getenv(name))
	}
	if err := gcpolicy.Check(c.GC["GOGC"], c.GC["AUTOMEMLIMIT"]); err != nil {
		fail("%v", err)
	}
	if c.PprofAddr = strings.TrimSpace(getenv("PPROF_ADDR")); c.PprofAddr != "" {
		host, port, err := net.SplitHostPort(c.PprofAddr)
		ip := net.ParseIP(host)
		if err != nil || port == "" || (host != "localhost" && (ip == nil || !ip.IsLoopback())) {
			fail("PPROF_ADDR must be a loopback host:port (like 127.0.0.1:6060), got %q", c.PprofAddr)
		}
	}
	c.Web.SecureCookies = isTrue(getenv("COOKIE_SECURE"))
	c.Web.TrustProxy = isTrue(getenv("TRUST_PROXY"))
	if v := strings.TrimSpace(getenv("TWO_FACTOR_ROLES")); v != "" {
		roles, err := parseTwoFactorRoles(v)
		if err != nil {
			fail("%v", err)
		}
		c.Web.TwoFactorRoles = roles
	}
	if len(errs) > 0 {
		return config{}, fmt.Errorf("configuration: %s", strings.Join(errs, "; "))
	}
	return c, nil
}

// Store is the database part of the configuration.
func (c config) Store(logger *slog.Logger) store.Config {
	return store.Config{MongoURI: c.MongoURI, DataDir: c.DataDir, Engine: c.Engine, PoolMax: c.PoolMax, EventRetention: c.EventRetention, Logger: logger}
}

// LoanService is the loan service over st, as configured: what the job
// runner uses (web.New builds the server's from the same settings).
func (c config) LoanService(st *store.Store) *application.Service {
	return &application.Service{Loans: st, Intake: st, Ledger: st, Staff: st, Policy: c.Web.Policy, Zone: c.Web.Zone}
}

func orDefault(v, def string) string {
	if strings.TrimSpace(v) == "" {
		return def
	}
	return v
}

func isTrue(v string) bool {
	b, _ := strconv.ParseBool(v)
	return b
}

// parseTwoFactorRoles reads TWO_FACTOR_ROLES: a comma-separated list of
// roles that must sign in with a second factor, or "none".
func parseTwoFactorRoles(v string) ([]string, error) {
	if strings.EqualFold(v, "none") {
		return []string{}, nil
	}
	var roles []string
	for r := range strings.SplitSeq(v, ",") {
		r = strings.ToLower(strings.TrimSpace(r))
		if !auth.ValidRole(r) {
			return nil, fmt.Errorf("TWO_FACTOR_ROLES must be roles separated by commas (%s) or none, got %q", strings.Join(auth.Roles, ", "), v)
		}
		roles = append(roles, r)
	}
	return roles, nil
}
