// Package gcpolicy sets the Go garbage collector for a long-running
// Loan Desk process (serve, jobs).
//
// The embedded engine keeps the whole database in the heap: 100,000
// applications are about 400 MB of small, pointer-rich objects that live
// for the life of the process. With Go's default GOGC=100 the collector
// marks all of it every time the heap doubles, and under load that
// marking was most of a request's cost: a list page at 100k loans took
// 1.1–1.4 ms with GOGC=100 and 0.23–0.53 ms with GOGC=400, measured in one
// run (BenchmarkLoanPages, README "Measured performance"). The Go GC guide
// (https://go.dev/doc/gc-guide, "Memory limit") recommends exactly this
// pair for such heaps: a higher GOGC for throughput and a memory limit so
// the heap never outgrows the machine — near the limit the collector
// simply runs more often.
//
// The memory limit comes from the container's cgroup (or the machine's
// memory when there is none), read by github.com/KimMachineGun/automemlimit:
// a small, well-kept library that knows cgroup v1 and v2 layouts, chosen
// over reading /sys/fs/cgroup ourselves.
package gcpolicy

import (
	"fmt"
	"log/slog"
	"math"
	"runtime/debug"
	"strconv"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

// DefaultGCPercent is GOGC when the environment does not set it: the heap
// may grow to 5× what is live before a collection.
const DefaultGCPercent = 400

// DefaultMemoryRatio is the share of the container's (or machine's)
// memory the Go heap may use when GOMEMLIMIT is unset; the rest is left to
// goroutine stacks, the runtime, OCR children and the page cache.
const DefaultMemoryRatio = 0.8

// Policy is what Apply set, for the start-up log.
type Policy struct {
	GCPercent       int    // GOGC in effect; -1 is off
	GCPercentFrom   string // "GOGC" (the environment) or "default"
	MemoryLimit     int64  // bytes; math.MaxInt64 is none
	MemoryLimitFrom string // "GOMEMLIMIT" (the environment), "cgroup or system memory" or "none"
}

// Check validates the settings Apply reads: GOGC a percentage or "off",
// AUTOMEMLIMIT "off" or a ratio in (0, 1]. Empty values are unset.
func Check(gogc, automemlimit string) error {
	if gogc != "" && gogc != "off" {
		if n, err := strconv.Atoi(gogc); err != nil || n < 0 {
			return fmt.Errorf("GOGC must be a percentage (like 400) or off, got %q", gogc)
		}
	}
	if automemlimit != "" && automemlimit != "off" {
		if r, err := strconv.ParseFloat(automemlimit, 64); err != nil || r <= 0 || r > 1 {
			return fmt.Errorf("AUTOMEMLIMIT must be off or a ratio above 0 and at most 1 (like 0.9), got %q", automemlimit)
		}
	}
	return nil
}

// Apply sets GOGC to DefaultGCPercent unless the environment sets GOGC
// (the runtime has already applied it), and the memory limit to
// DefaultMemoryRatio of the container's memory unless GOMEMLIMIT is set
// (AUTOMEMLIMIT=off leaves it alone; AUTOMEMLIMIT=0.9 takes that ratio
// instead, as the library reads it). getenv reads the settings. It
// returns Check's error for a value the runtime or the library would
// have ignored.
func Apply(getenv func(string) string) (Policy, error) {
	var p Policy
	if err := Check(getenv("GOGC"), getenv("AUTOMEMLIMIT")); err != nil {
		return p, err
	}
	if getenv("GOGC") != "" {
		p.GCPercentFrom = "GOGC"
		p.GCPercent = debug.SetGCPercent(-1)
		debug.SetGCPercent(p.GCPercent) // read back without changing it
	} else {
		debug.SetGCPercent(DefaultGCPercent)
		p.GCPercent, p.GCPercentFrom = DefaultGCPercent, "default"
	}
	if getenv("GOMEMLIMIT") != "" || getenv("AUTOMEMLIMIT") == "off" {
		p.MemoryLimit, p.MemoryLimitFrom = debug.SetMemoryLimit(-1), "GOMEMLIMIT"
		return p, nil
	}
	limit, err := memlimit.Set(
		memlimit.WithRatio(DefaultMemoryRatio),
		memlimit.WithProvider(memlimit.ApplyFallback(memlimit.FromCgroup, memlimit.FromSystem)),
	)
	switch {
	case err != nil || limit == math.MaxInt64:
		// No limit found: the collector runs on GOGC alone.
		p.MemoryLimit, p.MemoryLimitFrom = debug.SetMemoryLimit(-1), "none"
	default:
		p.MemoryLimit, p.MemoryLimitFrom = limit, "cgroup or system memory"
	}
	return p, nil
}

// LogAttrs describes p for the start-up log.
func (p Policy) LogAttrs() []any {
	limit := "none"
	if p.MemoryLimit != math.MaxInt64 {
		limit = fmt.Sprintf("%d MiB", p.MemoryLimit>>20)
	}
	return []any{
		slog.Int("gogc", p.GCPercent), slog.String("gogc_from", p.GCPercentFrom),
		slog.String("memory_limit", limit), slog.String("memory_limit_from", p.MemoryLimitFrom),
	}
}
