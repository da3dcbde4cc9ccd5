package ocr

import "context"

// RunForTest runs a program as the reader runs its programs.
func RunForTest(ctx context.Context, name string, args ...string) (string, error) {
	pr := &proc{limits: DefaultLimits}
	return pr.run(ctx, name, args...)
}

// RunWithLimitsForTest runs a program as the reader runs its programs,
// within l.
func RunWithLimitsForTest(ctx context.Context, l Limits, name string, args ...string) (string, error) {
	pr := &proc{limits: l}
	return pr.run(ctx, name, args...)
}
