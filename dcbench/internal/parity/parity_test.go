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

func TestLayouts(t *testing.T) {
	// x[n, c, h, w] = 1000n + 100c + 10h + w, N=2, C=3, H=2, W=4.
	nchw := Array{Shape: []int{2, 3, 2, 4}}
	for n := 0; n < 2; n++ {
		for c := 0; c < 3; c++ {
			for h := 0; h < 2; h++ {
				for w := 0; w < 4; w++ {
					nchw.Data = append(nchw.Data, float64(1000*n+100*c+10*h+w))
				}
			}
		}
	}
	nhwc := NCHWToNHWC(nchw)
	// nhwc[1, 1, 2, 0] = 1000 + 0 + 10 + 2.
	if got := nhwc.Data[((1*2+1)*4+2)*3+0]; got != 1012 {
		t.Errorf("NCHWToNHWC: got %v at [1,1,2,0], want 1012", got)
	}
	if back := NHWCToNCHW(nhwc); MaxRelErr(back.Data, nchw.Data) != 0 {
		t.Error("NHWCToNCHW is not the inverse of NCHWToNHWC")
	}
	// Kernel [O=2, I=3, kh=2, kw=4]: hwio[i, j, ii, oo] = oihw[oo, ii, i, j].
	hwio := OIHWToHWIO(nchw)
	if got := hwio.Data[((1*4+3)*3+2)*2+1]; got != 1000+200+10+3 {
		t.Errorf("OIHWToHWIO: got %v, want 1213", got)
	}
	lin := LinearCHWToDenseHWC(Array{Shape: []int{2, 24}, Data: nchw.Data}, 3, 2, 4)
	// dense[(h*W+w)*C+c, o] = lin[o, (c*H+h)*W+w].
	if got := lin.Data[((1*4+2)*3+1)*2+1]; got != 1000+100+10+2 {
		t.Errorf("LinearCHWToDenseHWC: got %v, want 1112", got)
	}
}
