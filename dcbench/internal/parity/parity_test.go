package parity

import (
	"math"
	"testing"
)

func TestMaxRelErr(t *testing.T) {
	for _, tc := range []struct {
		name      string
		got, want []float64
		err       float64
	}{
		{"equal", []float64{1, -2, 3}, []float64{1, -2, 3}, 0},
		{"relative to the largest", []float64{1, 0.1 + 1e-3}, []float64{1, 0.1}, 1e-3},
		{"length", []float64{1}, []float64{1, 2}, math.Inf(1)},
		{"nan", []float64{math.NaN()}, []float64{1}, math.Inf(1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if e := MaxRelErr(tc.got, tc.want); math.Abs(e-tc.err) > 1e-12 && !(math.IsInf(e, 1) && math.IsInf(tc.err, 1)) {
				t.Errorf("MaxRelErr = %g, want %g", e, tc.err)
			}
		})
	}
}

// TestFixturesParse reads every committed fixture: each must name its reference, hold cases,
// and have arrays whose data matches their shapes.
func TestFixturesParse(t *testing.T) {
	names := Names()
	if len(names) == 0 {
		t.Fatal("no fixtures embedded")
	}
	for _, n := range names {
		f, err := Read(n)
		if err != nil {
			t.Error(err)
			continue
		}
		if f.Generator == "" {
			t.Errorf("fixture %s names no generator", n)
		}
	}
	if _, err := Read("no-such-fixture"); err == nil {
		t.Error("Read of a missing fixture gave no error")
	}
}
