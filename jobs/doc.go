// Package jobs is the second entry point of Loan Desk: the job runner that
// claims events from the store's queue, runs their handlers (OCR, scoring)
// and completes or retries them. Like the web layer it talks only to the
// store.
//
// The runner and its handlers arrive with the event-queue work; until then
// this package holds nothing else, so that the layout of ARCHITECTURE.md
// is in place from the start.
package jobs
