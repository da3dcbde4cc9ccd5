package gcpolicy

import (
	"math"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

// restoreGC puts the runtime's GOGC and memory limit back after a test
// that changes them.
func restoreGC(t *testing.T) {
	gogc := debug.SetGCPercent(-1)
	debug.SetGCPercent(gogc)
	limit := debug.SetMemoryLimit(-1)
	t.Cleanup(func() {
		debug.SetGCPercent(gogc)
		debug.SetMemoryLimit(limit)
	})
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestApply_DefaultsToGOGC400AndEightyPercentOfMemory(t *testing.T) {
	restoreGC(t)
	debug.SetGCPercent(100)
	debug.SetMemoryLimit(math.MaxInt64)
	p, err := Apply(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := debug.SetGCPercent(-1); got != 400 || p.GCPercent != 400 || p.GCPercentFrom != "default" {
		t.Errorf("GOGC in effect %d, policy %+v; want 400 from the default", got, p)
	}
	total, err := memlimit.ApplyFallback(memlimit.FromCgroup, memlimit.FromSystem)()
	if err != nil || total == 0 {
		t.Fatalf("no memory figure to compare with: %d, %v", total, err)
	}
	want := int64(float64(total) * 0.8)
	if got := debug.SetMemoryLimit(-1); got != want || p.MemoryLimit != want {
		t.Errorf("memory limit in effect %d, policy %d; want 80%% of %d = %d", got, p.MemoryLimit, total, want)
	}
}

func TestApply_TheEnvironmentWins(t *testing.T) {
	restoreGC(t)
	// The runtime read GOGC=150 and GOMEMLIMIT=1GiB at start; Apply must
	// leave both as they are.
	debug.SetGCPercent(150)
	debug.SetMemoryLimit(1 << 30)
	p, err := Apply(env(map[string]string{"GOGC": "150", "GOMEMLIMIT": "1GiB"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := debug.SetGCPercent(-1); got != 150 || p.GCPercent != 150 || p.GCPercentFrom != "GOGC" {
		t.Errorf("GOGC in effect %d, policy %+v; want 150 from GOGC", got, p)
	}
	if got := debug.SetMemoryLimit(-1); got != 1<<30 || p.MemoryLimit != 1<<30 || p.MemoryLimitFrom != "GOMEMLIMIT" {
		t.Errorf("memory limit in effect %d, policy %+v; want 1 GiB from GOMEMLIMIT", got, p)
	}
}

func TestApply_AutomemlimitOffSetsNoLimit(t *testing.T) {
	restoreGC(t)
	debug.SetMemoryLimit(math.MaxInt64)
	p, err := Apply(env(map[string]string{"AUTOMEMLIMIT": "off"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 || p.MemoryLimit != math.MaxInt64 {
		t.Errorf("memory limit %d (policy %d), want none", got, p.MemoryLimit)
	}
	if attrs := p.LogAttrs(); len(attrs) != 4 {
		t.Errorf("log attributes %v", attrs)
	}
}

func TestApply_RefusesAGOGCTheRuntimeIgnored(t *testing.T) {
	restoreGC(t)
	debug.SetGCPercent(100)
	for _, bad := range []string{"fast", "4x", "1e3"} {
		if _, err := Apply(env(map[string]string{"GOGC": bad})); err == nil {
			t.Errorf("GOGC=%q accepted", bad)
		}
	}
	if got := debug.SetGCPercent(-1); got != 100 {
		t.Errorf("a refused GOGC changed the collector to %d", got)
	}
}

func TestCheck_NamesTheBadSetting(t *testing.T) {
	for _, tc := range []struct {
		gogc, auto string
		bad        string
	}{
		{"", "", ""}, {"off", "off", ""}, {"0", "1", ""}, {"400", "0.9", ""},
		{"-1", "", "GOGC"}, {"4x", "", "GOGC"}, {"", "0", "AUTOMEMLIMIT"}, {"", "1.5", "AUTOMEMLIMIT"}, {"", "most", "AUTOMEMLIMIT"},
	} {
		err := Check(tc.gogc, tc.auto)
		switch {
		case tc.bad == "" && err != nil:
			t.Errorf("GOGC=%q AUTOMEMLIMIT=%q refused: %v", tc.gogc, tc.auto, err)
		case tc.bad != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.bad)):
			t.Errorf("GOGC=%q AUTOMEMLIMIT=%q: %v, want an error naming %s", tc.gogc, tc.auto, err, tc.bad)
		}
	}
}
