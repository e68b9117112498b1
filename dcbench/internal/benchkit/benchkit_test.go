package benchkit

import "testing"

// TestCPUSecondsGrows burns some CPU and checks that the counter moves forward.
func TestCPUSecondsGrows(t *testing.T) {
	before := CPUSeconds()
	x := 0.0
	for i := 0; i < 50_000_000; i++ {
		x += float64(i%7) * 1e-9
	}
	after := CPUSeconds()
	if !(after > before) || x == 0 {
		t.Fatalf("CPU seconds went from %v to %v", before, after)
	}
}
