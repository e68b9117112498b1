package gm

import (
	"math"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

func randValues(seed uint64, n int) []float64 {
	r := rand.New(rand.NewPCG(seed, 5))
	v := make([]float64, n)
	for i := range v {
		v[i] = r.NormFloat64()
	}
	return v
}

// torchRows rearranges a dcbench tensor (output axis last) into the rows the reference's
// distance_wb builds from the PyTorch layout: a conv kernel [k, k, in, out] becomes PyTorch's
// [out, in, k, k] reshaped to [out, in·k·k]; a dense [in, out] becomes PyTorch's [out, in];
// a layer-norm gain [H, W, C] becomes PyTorch's [C, H, W] reshaped to [C, H·W].
func torchRows(v []float64, dims []int) [][]float64 {
	out := dims[len(dims)-1]
	rows := make([][]float64, out)
	switch len(dims) {
	case 4:
		k1, k2, in := dims[0], dims[1], dims[2]
		for o := range out {
			for i := range in { // PyTorch order: in, kh, kw
				for a := range k1 {
					for b := range k2 {
						rows[o] = append(rows[o], v[((a*k2+b)*in+i)*out+o])
					}
				}
			}
		}
	case 3:
		h, w := dims[0], dims[1]
		for o := range out {
			for a := range h {
				for b := range w {
					rows[o] = append(rows[o], v[(a*w+b)*out+o])
				}
			}
		}
	case 2:
		in := dims[0]
		for o := range out {
			for i := range in {
				rows[o] = append(rows[o], v[i*out+o])
			}
		}
	}
	return rows
}

// refDistance is distance_wb of the reference on the torch rows, in float64.
func refDistance(gr, gs []float64, dims []int) float64 {
	if len(dims) <= 1 {
		return 0
	}
	rr, rs := torchRows(gr, dims), torchRows(gs, dims)
	var dis float64
	for o := range rr {
		var dot, nr, ns float64
		for j := range rr[o] {
			dot += rr[o][j] * rs[o][j]
			nr += rr[o][j] * rr[o][j]
			ns += rs[o][j] * rs[o][j]
		}
		dis += 1 - dot/(math.Sqrt(nr)*math.Sqrt(ns)+0.000001)
	}
	return dis
}

func prod(dims []int) int {
	p := 1
	for _, d := range dims {
		p *= d
	}
	return p
}

func TestLayerDistanceMatchesReference(t *testing.T) {
	cases := []struct {
		name string
		dims []int
	}{
		{"conv 3x3x2x4", []int{3, 3, 2, 4}},
		{"conv 1x1x3x2", []int{1, 1, 3, 2}},
		{"dense 5x3", []int{5, 3}},
		{"layernorm 2x3x4", []int{2, 3, 4}},
		{"bias 4", []int{4}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			gr, gs := randValues(uint64(2*i+1), prod(tc.dims)), randValues(uint64(2*i+2), prod(tc.dims))
			want := refDistance(gr, gs, tc.dims)
			got := MustExecOnce(backend, func(a, b *Node) *Node { return MatchDistance([]*Node{a}, []*Node{b}) },
				tensors.FromFlatDataAndDimensions(gr, tc.dims...), tensors.FromFlatDataAndDimensions(gs, tc.dims...))
			if g := got.Value().(float64); math.Abs(g-want) > 1e-12 {
				t.Errorf("distance %.15g, reference %.15g", g, want)
			}
		})
	}
}

// TestLayerDistanceByHand checks small cases computed by hand, including the rule that 1-D
// tensors (biases, norm parameters) contribute nothing and the row layout of a dense weight.
func TestLayerDistanceByHand(t *testing.T) {
	const eps = 1e-6
	cases := []struct {
		name   string
		gr, gs [][]float64 // the tensors, dense [in, out] or 1-D ([1][n])
		oneD   bool
		want   float64
	}{
		// Columns are the rows of the reference: out0 = (1, 0) vs (1, 0): 1 − 1/(1+ε);
		// out1 = (0, 1) vs (1, 1): 1 − 1/(√2+ε).
		{"dense identity", [][]float64{{1, 0}, {0, 1}}, [][]float64{{1, 1}, {0, 1}}, false,
			(1 - 1/(1+eps)) + (1 - 1/(math.Sqrt2+eps))},
		// Opposite columns give 2 each (minus the ε correction); rows that agree would give 0.
		{"dense opposite", [][]float64{{1, 2}, {3, 4}}, [][]float64{{-1, -2}, {-3, -4}}, false,
			(1 + 10/(10+eps)) + (1 + 20/(20+eps))},
		// Orthogonal per column: 1 each.
		{"dense orthogonal", [][]float64{{1, 0}, {0, 1}}, [][]float64{{0, 1}, {1, 0}}, false, 2},
		// A zero synthetic column: cosine 0, contributes 1.
		{"zero column", [][]float64{{1, 2}, {3, 4}}, [][]float64{{0, 2}, {0, 4}}, false,
			1 + (1 - 20/(20+eps))},
		{"bias contributes 0", [][]float64{{1, 2, 3}}, [][]float64{{-3, 5, 0}}, true, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var gr, gs *tensors.Tensor
			if tc.oneD {
				gr, gs = tensors.FromValue(tc.gr[0]), tensors.FromValue(tc.gs[0])
			} else {
				gr, gs = tensors.FromValue(tc.gr), tensors.FromValue(tc.gs)
			}
			got := MustExecOnce(backend, func(a, b *Node) *Node { return MatchDistance([]*Node{a}, []*Node{b}) }, gr, gs)
			if g := got.Value().(float64); math.Abs(g-tc.want) > 1e-12 {
				t.Errorf("distance %.15g, want %.15g", g, tc.want)
			}
		})
	}
}

// TestMatchDistanceSumsLayers checks that MatchDistance is the sum over tensors and that a
// bias changes nothing, and that the gradient with respect to a zero row is finite.
func TestMatchDistanceSumsLayers(t *testing.T) {
	w1r, w1s := randValues(1, 12), randValues(2, 12)
	w2r, w2s := randValues(3, 6), randValues(4, 6)
	br, bs := randValues(5, 3), randValues(6, 3)
	for i := 0; i < 4; i++ { // zero the first synthetic row (output unit 0) of w1
		w1s[i*3] = 0
	}
	want := refDistance(w1r, w1s, []int{2, 2, 1, 3}) + refDistance(w2r, w2s, []int{2, 3})
	out := MustExecOnceN(backend, func(inputs []*Node) []*Node {
		gr := []*Node{Reshape(inputs[0], 2, 2, 1, 3), inputs[2], Reshape(inputs[4], 3)}
		gs := []*Node{Reshape(inputs[1], 2, 2, 1, 3), inputs[3], Reshape(inputs[5], 3)}
		d := MatchDistance(gr, gs)
		return []*Node{d, Gradient(d, inputs[1])[0]}
	}, tensors.FromFlatDataAndDimensions(w1r, 12), tensors.FromFlatDataAndDimensions(w1s, 12),
		tensors.FromFlatDataAndDimensions(w2r, 2, 3), tensors.FromFlatDataAndDimensions(w2s, 2, 3),
		tensors.FromFlatDataAndDimensions(br, 3), tensors.FromFlatDataAndDimensions(bs, 3))
	if g := out[0].Value().(float64); math.Abs(g-want) > 1e-12 {
		t.Errorf("distance %.15g, want %.15g", g, want)
	}
	for i, v := range tensors.MustCopyFlatData[float64](out[1]) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Errorf("gradient[%d] = %v", i, v)
		}
	}
}
