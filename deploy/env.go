// Package deploy is the contract between the loandesk binary and the
// files that deploy it (the Dockerfile, docker-compose.yml, the
// Kubernetes manifests under deploy/k8s): the environment variables the
// binary reads, its port and its probe paths. The binary reads its
// configuration through this table, and the tests in this package check
// every deployment file against it.
package deploy

// Variable is one environment variable the binary reads.
type Variable struct {
	Name string
	// Default is the value used when the variable is unset or blank
	// ("" when unset means off or none).
	Default string
	// Secret marks a credential: deployments take it from a secret
	// store (a Kubernetes Secret, an env file kept out of the
	// repository), never from committed configuration.
	Secret bool
	// Doc is one line for `loandesk help`.
	Doc string
}

// Probe paths and the default port, as the server answers them.
const (
	DefaultPort = "3001"
	// HealthPath answers 200 while the process serves (liveness).
	HealthPath = "/health"
	// ReadyPath answers 200 when the database answers (readiness).
	ReadyPath = "/ready"
	// MetricsPath serves Prometheus metrics: on METRICS_ADDR to anyone
	// who reaches it, on the app's port to admins and bearer tokens.
	MetricsPath = "/metrics"
)

// Variables lists every environment variable the binary reads, in the
// order `loandesk help` shows them.
func Variables() []Variable {
	return []Variable{
		{Name: "PORT", Default: DefaultPort, Doc: "HTTP port"},
		{Name: "HOST", Doc: "address to listen on (unset: every interface; 127.0.0.1: this machine only)"},
		{Name: "MONGO_URI", Secret: true, Doc: "MongoDB connection string; unset: the embedded database in DATA_DIR"},
		{Name: "DATA_DIR", Default: "./data", Doc: "the embedded database's directory"},
		{Name: "EMBEDDED_ENGINE", Default: "indexed", Doc: "embedded engine: indexed or lungo"},
		{Name: "DB_POOL_MAX", Doc: "MongoDB connection pool size per process (unset: the driver's 100)"},
		{Name: "ADMIN_EMAIL", Doc: "with ADMIN_PASSWORD: this admin exists with this password at start"},
		{Name: "ADMIN_PASSWORD", Secret: true, Doc: "the password of ADMIN_EMAIL"},
		{Name: "ADMIN_TOKEN", Secret: true, Doc: "an admin bearer token for the JSON API and /metrics (32-256 characters)"},
		{Name: "SESSION_LIFETIME", Default: "168h", Doc: "absolute session timeout from sign-in"},
		{Name: "SESSION_IDLE_TIMEOUT", Default: "24h", Doc: "a session unused this long ends"},
		{Name: "COOKIE_SECURE", Default: "false", Doc: "true behind HTTPS: Secure session cookie and HSTS"},
		{Name: "TRUST_PROXY", Default: "false", Doc: "true behind one proxy that appends X-Forwarded-For"},
		{Name: "TWO_FACTOR_ROLES", Default: "admin", Doc: "roles that sign in with a TOTP code too (comma-separated, or none)"},
		{Name: "DUAL_APPROVAL_ABOVE", Default: "2500000", Doc: "rupees above which an approval needs two approvers"},
		{Name: "UNDERWRITER_APPROVAL_LIMIT", Default: "2500000", Doc: "the largest amount in rupees an underwriter may approve"},
		{Name: "TIME_ZONE", Default: "Asia/Kolkata", Doc: "the lender's IANA time zone for business dates"},
		{Name: "BCRYPT_COST", Default: "12", Doc: "password hashing cost, 12-16"},
		{Name: "LOG_LEVEL", Default: "info", Doc: "debug, info, warn or error"},
		{Name: "SERVE_JOBS", Default: "auto", Doc: "run the job runner inside serve: auto (on the embedded database), true or false"},
		{Name: "JOB_WORKERS", Default: "4", Doc: "jobs one runner process works at once (1-256)"},
		{Name: "EVENT_RETENTION", Default: "168h", Doc: "how long finished events are kept"},
		{Name: "UPLOAD_MAX_BYTES", Default: "10485760", Doc: "the largest document upload in bytes"},
		{Name: "METRICS_ADDR", Doc: "also serve /metrics, unauthenticated, on this address (like 127.0.0.1:9090); unset: off"},
		{Name: "GOGC", Default: "400", Doc: "Go's garbage collector target: the heap may grow this percent over what is live before a collection (serve and jobs; Go's own default is 100)"},
		{Name: "GOMEMLIMIT", Doc: "Go's heap limit, like 3GiB (unset: 80% of the container's memory, or the machine's)"},
		{Name: "AUTOMEMLIMIT", Doc: "with GOMEMLIMIT unset: off for no heap limit, or the share of the container's memory to use (like 0.9; unset: 0.8)"},
		{Name: "PPROF_ADDR", Doc: "serve Go's profiles (/debug/pprof/) on this loopback address (like 127.0.0.1:6060), for profiling under load; unset: off"},
	}
}
