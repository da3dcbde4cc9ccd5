package web

import (
	"net/http"
	"net/http/pprof"
)

// ProfileHandler serves the Go runtime's profiles (net/http/pprof: CPU,
// heap, allocations, goroutines, mutex and block contention, execution
// trace) under /debug/pprof/, for `go tool pprof` while the app is under
// load. It is never part of the app's router: main serves it only on
// PPROF_ADDR, which must be a loopback address, so profiles (which show
// request data in memory) never reach the network.
func ProfileHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}
