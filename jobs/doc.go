// Package jobs is the second entry point of Loan Desk: the job runner that
// claims events from the store's queue, runs their handlers (OCR, scoring)
// and completes or retries them. Like the web layer it talks only to the
// store.
//
// A Runner has a number of workers; each claims the oldest available
// event (store.Claim: atomic, under a lease), runs its handler while
// extending the lease, and records the outcome: done, retried later with
// backoff, or dead once its attempts are spent. A runner that dies leaves
// leases that run out, and another runner claims those events again, so
// handlers must be idempotent. `go run . jobs` runs runners alone (for a
// MongoDB deployment); `serve` runs one in-process on the embedded engine.
//
// Time comes from a clock (Runner.Now, Sweeper.Now; the wall clock when
// nil), the same one the store has: tests move a clock.Manual to run out
// a lease, make a retry due or age a document, instead of sleeping. What
// tests wait for, they wait on as a signal (a worker went idle, finished
// an event, extended a lease; a sweep ended): see testSignals.
package jobs
