package herding

import (
	stdctx "context"
	"math"
	"testing"

	"github.com/dcbench/dcbench/datasets"
	"github.com/dcbench/dcbench/dcbench/condensers/synth"
	"github.com/dcbench/dcbench/dcbench/method"
)

func TestMeanGap(t *testing.T) {
	// Rows (0,0), (2,0), (4,6): mean (2,2).
	x := []float32{0, 0, 2, 0, 4, 6}
	for _, c := range []struct {
		picks []int
		want  float64
	}{
		{nil, 0},
		{[]int{1}, 4},        // (2,0): gap (0,2)
		{[]int{0, 2}, 1},     // (2,3): gap (0,-1)
		{[]int{0, 1, 2}, 0},  // the mean itself
		{[]int{2}, 4 + 16.0}, // (4,6): gap (-2,-4)
	} {
		if got := MeanGap(x, 3, 2, c.picks); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("MeanGap(%v) = %g, want %g", c.picks, got, c.want)
		}
	}
}

func TestCondenseRecordsStats(t *testing.T) {
	d := &datasets.Dataset{Name: "toy", Split: "train", N: 8, H: 1, W: 1, C: 2, Classes: []string{"a", "b"},
		Mean: []float32{0, 0}, Std: []float32{1, 1}, Normalized: true}
	for i := 0; i < d.N; i++ {
		d.Labels = append(d.Labels, int32(i%2))
		d.Images = append(d.Images, float32(i), float32(i*i%5))
	}
	stats := &synth.Stats{}
	req := method.Request{Context: stdctx.Background(), Train: d, IPC: 2, Seed: 1, Backend: backend,
		Params: map[string]any{"features": "raw", "stats": stats}, Progress: func(int, int, string) {}}
	if _, err := (Herding{}).Condense(req); err != nil {
		t.Fatal(err)
	}
	recs := stats.Records()
	if len(recs) != 2 {
		t.Fatalf("%d records, want one per class (2)", len(recs))
	}
	for i, r := range recs {
		if r.Iter != i+1 || r.Seconds < 0 || r.PeakBytes <= 0 || r.Loss < 0 {
			t.Errorf("record %+v", r)
		}
	}
}
