package wire

import (
	"slices"
	"sync"
	"time"
)

// CommandStats counts one command's calls.
type CommandStats struct {
	Name   string
	Calls  int64
	Errors int64         // answered with ok: 0
	Total  time.Duration // summed latency, from parsed to answered
	Max    time.Duration
}

type statsTable struct {
	mu sync.Mutex
	m  map[string]*CommandStats
}

func (t *statsTable) record(name string, d time.Duration, failed bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[string]*CommandStats{}
	}
	st, ok := t.m[name]
	if !ok {
		if len(t.m) >= 200 {
			name = "(other)" // unknown command names must not grow the table
			if st, ok = t.m[name]; !ok {
				st = &CommandStats{Name: name}
				t.m[name] = st
			}
		} else {
			st = &CommandStats{Name: name}
			t.m[name] = st
		}
	}
	st.Calls++
	if failed {
		st.Errors++
	}
	st.Total += d
	st.Max = max(st.Max, d)
}

// Stats lists the commands served so far, by name, with their counts
// and latencies.
func (s *Server) Stats() []CommandStats {
	s.stats.mu.Lock()
	defer s.stats.mu.Unlock()
	out := make([]CommandStats, 0, len(s.stats.m))
	for _, st := range s.stats.m {
		out = append(out, *st)
	}
	slices.SortFunc(out, func(a, b CommandStats) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	return out
}

// OpenConnections is how many client connections are open.
func (s *Server) OpenConnections() int { return int(s.open.Load()) }

// InFlight is how many commands are running now (read, not yet
// answered).
func (s *Server) InFlight() int { return int(s.inFlight.Load()) }

// BufferedBytes is how many bytes of messages the server holds now:
// those being received (counted in full from their header) and those
// being run. Config.MaxBufferedBytes bounds it, apart from messages of
// up to PreAuthMessageBytes.
func (s *Server) BufferedBytes() int64 { return s.buffered.Load() }

// Evictions is how many unauthenticated connections have been closed to
// admit new ones at the connection limit.
func (s *Server) Evictions() int64 { return s.evictions.Load() }
