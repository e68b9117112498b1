package kcenter

import (
	"strings"
	"testing"
)

// fakeRecorder keeps what K-Center reports (package synth cannot be imported here: it
// imports this package).
type fakeRecorder struct {
	begun int
	iters []int
	secs  []float64
	loss  []float64
}

func (f *fakeRecorder) Begin() { f.begun++ }
func (f *fakeRecorder) Observe(iter int, seconds, loss float64) {
	f.iters = append(f.iters, iter)
	f.secs = append(f.secs, seconds)
	f.loss = append(f.loss, loss)
}

func TestSelectRecordsStats(t *testing.T) {
	d := toyData(3, 6, 8, 1)
	rec := &fakeRecorder{}
	if _, err := Select(request(d, 2, 1, map[string]any{"features": "raw", ParamStats: rec})); err != nil {
		t.Fatal(err)
	}
	if rec.begun != 1 || len(rec.iters) != 3 {
		t.Fatalf("Begin called %d times, %d records; want 1 and one per class (3)", rec.begun, len(rec.iters))
	}
	for i := range rec.iters {
		if rec.iters[i] != i+1 || rec.secs[i] < 0 || rec.loss[i] <= 0 {
			t.Errorf("record %d: iter %d, %g s, inertia %g", i, rec.iters[i], rec.secs[i], rec.loss[i])
		}
	}
	_, err := Select(request(d, 2, 1, map[string]any{"features": "raw", ParamStats: "yes"}))
	if err == nil || !strings.Contains(err.Error(), "param stats") {
		t.Errorf("a stats param of the wrong type: %v", err)
	}
}
