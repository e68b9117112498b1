package ntk

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestEmpiricalWideNetwork compares the depth-1 kernels with those of a wide finite network
// f(x) = (W/√n)·v·relu((W/√d)·U·x + B·b) + B·c in the NTK parameterisation, with all
// parameters N(0, 1): its NTK Σ_θ ∂f(x)/∂θ·∂f(x')/∂θ and the NNGP part that is averaged over
// the output weights, (W²/n)·Σ_j relu(h_j(x))·relu(h_j(x')) + B², converge to the
// infinite-width kernels as n grows (error O(1/√n)).
func TestEmpiricalWideNetwork(t *testing.T) {
	const d, width = 4, 200000
	k := FC{Depth: 1, WStd: math.Sqrt2, BStd: 0.3}
	xs := [][]float64{{1, -0.5, 0.3, 2}, {0.2, 0.1, -1, 0.5}, {-1, 1, 1, -1}}
	r := rand.New(rand.NewPCG(21, 22))
	u := make([]float64, width*d)
	b := make([]float64, width)
	v := make([]float64, width)
	for i := range u {
		u[i] = r.NormFloat64()
	}
	for j := range width {
		b[j], v[j] = r.NormFloat64(), r.NormFloat64()
	}
	w2, b2 := k.WStd*k.WStd, k.BStd*k.BStd
	hidden := func(x []float64) []float64 {
		h := make([]float64, width)
		for j := range width {
			var s float64
			for f := range d {
				s += u[j*d+f] * x[f]
			}
			h[j] = k.WStd/math.Sqrt(d)*s + k.BStd*b[j]
		}
		return h
	}
	hs := make([][]float64, len(xs))
	for i, x := range xs {
		hs[i] = hidden(x)
	}
	for i := range xs {
		for j := range xs {
			var dot float64
			for f := range d {
				dot += xs[i][f] * xs[j][f]
			}
			var rr, dd float64 // Σ relu·relu, Σ v²·relu'·relu'
			for q := range width {
				hi, hj := hs[i][q], hs[j][q]
				if hi > 0 && hj > 0 {
					rr += hi * hj
					dd += v[q] * v[q]
				}
			}
			nngp := w2*rr/width + b2
			// ∂/∂v, ∂/∂c, ∂/∂U, ∂/∂b:
			ntk := nngp + w2*w2/width*dd*dot/d + w2*b2/width*dd
			wantS, wantT, err := k.Reference(xs[i], 1, xs[j], 1, d)
			if err != nil {
				t.Fatal(err)
			}
			if e := math.Abs(nngp-wantS[0]) / wantS[0]; e > 0.02 {
				t.Errorf("NNGP(%d,%d): empirical %.4f, infinite width %.4f", i, j, nngp, wantS[0])
			}
			if e := math.Abs(ntk-wantT[0]) / wantT[0]; e > 0.02 {
				t.Errorf("NTK(%d,%d): empirical %.4f, infinite width %.4f", i, j, ntk, wantT[0])
			}
		}
	}
}
