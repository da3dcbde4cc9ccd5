package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// QueueSnapshot is the job queue as a scrape reads it.
type QueueSnapshot struct {
	// Counts is events per type, then per status.
	Counts map[string]map[string]int64
	// OldestPending is, per type, the seconds the longest-waiting due
	// pending event has waited (0 or absent: none waits).
	OldestPending map[string]float64
	// Workers is how many job runners sent a heartbeat lately.
	Workers int
}

// QueueCollector reads the queue from the database at each scrape: the
// numbers are the shared queue's, the same from every instance (graph
// them with max, not sum).
type QueueCollector struct {
	read    func(ctx context.Context) (QueueSnapshot, error)
	timeout time.Duration

	events, oldest, workers, up *prometheus.Desc
}

// NewQueueCollector collects what read returns, giving it timeout.
func NewQueueCollector(read func(ctx context.Context) (QueueSnapshot, error), timeout time.Duration) *QueueCollector {
	return &QueueCollector{
		read: read, timeout: timeout,
		events: prometheus.NewDesc(Namespace+"_queue_events", "Events in the job queue, by type and status (pending is the queue depth).",
			[]string{"type", "status"}, nil),
		oldest: prometheus.NewDesc(Namespace+"_queue_oldest_pending_seconds", "How long the longest-waiting due pending event of a type has waited (0: none waits).",
			[]string{"type"}, nil),
		workers: prometheus.NewDesc(Namespace+"_queue_workers", "Job runners that sent a heartbeat within the last 30 s.", nil, nil),
		up:      prometheus.NewDesc(Namespace+"_queue_up", "1 if the queue could be read from the database at this scrape, else 0.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *QueueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.events
	ch <- c.oldest
	ch <- c.workers
	ch <- c.up
}

// Collect implements prometheus.Collector. A failed read reports
// loandesk_queue_up 0 and nothing else, so the rest of the scrape works.
func (c *QueueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	snap, err := c.read(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	for typ, byStatus := range snap.Counts {
		for status, n := range byStatus {
			ch <- prometheus.MustNewConstMetric(c.events, prometheus.GaugeValue, float64(n), typ, status)
		}
		ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, snap.OldestPending[typ], typ)
	}
	ch <- prometheus.MustNewConstMetric(c.workers, prometheus.GaugeValue, float64(snap.Workers))
}
