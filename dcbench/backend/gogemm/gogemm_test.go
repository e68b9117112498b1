package gogemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// backendsUnderTest returns simplego (the reference) and gogemm with every float product,
// broadcast and sum on the host (min_flops=0, min_host_elements=0).
func backendsUnderTest(t *testing.T) (ref, got backends.Backend) {
	t.Helper()
	ref, err := simplego.New("ops_sequential")
	if err != nil {
		t.Fatal(err)
	}
	got, err = New("ops_sequential,min_flops=0,min_host_elements=0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ref.Finalize(); got.Finalize() })
	return ref, got
}

func randTensor[T float32 | float64](seed uint64, dims ...int) *tensors.Tensor {
	r := rand.New(rand.NewPCG(seed, 7))
	n := 1
	for _, d := range dims {
		n *= d
	}
	flat := make([]T, n)
	for i := range flat {
		flat[i] = T(2*r.Float64() - 1)
	}
	return tensors.FromFlatDataAndDimensions(flat, dims...)
}

// values returns x's elements as float64.
func values(x *tensors.Tensor) []float64 {
	var out []float64
	switch x.DType() {
	case dtypes.Float32:
		tensors.MustConstFlatData(x, func(f []float32) {
			for _, v := range f {
				out = append(out, float64(v))
			}
		})
	case dtypes.Float64:
		tensors.MustConstFlatData(x, func(f []float64) { out = append(out, f...) })
	}
	return out
}

func assertClose(t *testing.T, what string, want, got *tensors.Tensor, tol float64) {
	t.Helper()
	if !want.Shape().Equal(got.Shape()) {
		t.Fatalf("%s: shape %s, want %s", what, got.Shape(), want.Shape())
	}
	w, g := values(want), values(got)
	for i := range w {
		if w[i] == g[i] || (math.IsNaN(w[i]) && math.IsNaN(g[i])) {
			continue // equal, or NaN on both (0/0)
		}
		if d := math.Abs(w[i] - g[i]); d > tol*(1+math.Abs(w[i])) || math.IsNaN(g[i]) || math.IsNaN(w[i]) {
			t.Fatalf("%s: element %d = %g, want %g (simplego)", what, i, g[i], w[i])
		}
	}
}

// TestDotGeneralLayouts compares host products with simplego's for operands used in place,
// read transposed, and permuted on the host, in float32 and float64.
func TestDotGeneralLayouts(t *testing.T) {
	ref, got := backendsUnderTest(t)
	cases := []struct {
		name       string
		lhs, rhs   []int
		lhsC, lhsB []int
		rhsC, rhsB []int
	}{
		{"matmul", []int{5, 7}, []int{7, 3}, []int{1}, nil, []int{0}, nil},
		{"lhs transposed", []int{7, 5}, []int{7, 3}, []int{0}, nil, []int{0}, nil},
		{"rhs transposed", []int{5, 7}, []int{3, 7}, []int{1}, nil, []int{1}, nil},
		{"batched", []int{2, 5, 7}, []int{2, 7, 3}, []int{2}, []int{0}, []int{1}, []int{0}},
		{"batch last", []int{5, 7, 2}, []int{7, 3, 2}, []int{1}, []int{2}, []int{0}, []int{2}},
		{"two contracting axes", []int{4, 3, 5, 2}, []int{3, 6, 2}, []int{1, 3}, nil, []int{0, 2}, nil},
		{"contracting order swapped", []int{4, 3, 2}, []int{2, 3, 6}, []int{1, 2}, nil, []int{1, 0}, nil},
		{"im2col kernel gradient", []int{2, 4, 4, 9}, []int{2, 4, 4, 8}, []int{0, 1, 2}, nil, []int{0, 1, 2}, nil},
		{"vector", []int{6}, []int{6}, []int{0}, nil, []int{0}, nil},
	}
	for _, dtype := range []string{"float32", "float64"} {
		for i, tc := range cases {
			t.Run(fmt.Sprintf("%s/%s", dtype, tc.name), func(t *testing.T) {
				inputs := func() (x, y *tensors.Tensor) { // a tensor belongs to one backend
					if dtype == "float32" {
						return randTensor[float32](uint64(i), tc.lhs...), randTensor[float32](uint64(i+100), tc.rhs...)
					}
					return randTensor[float64](uint64(i), tc.lhs...), randTensor[float64](uint64(i+100), tc.rhs...)
				}
				fn := func(x, y *graph.Node) *graph.Node {
					return graph.DotGeneral(x, tc.lhsC, tc.lhsB, y, tc.rhsC, tc.rhsB)
				}
				x, y := inputs()
				want := graph.MustExecOnce(ref, fn, x, y)
				x, y = inputs()
				out := graph.MustExecOnce(got, fn, x, y)
				assertClose(t, tc.name, want, out, 1e-5)
			})
		}
	}
}
