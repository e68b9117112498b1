package gogemm

import (
	"math"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/graph"
)

// TestGatheredProducts checks the products that gather their operand's rows themselves
// (im2col's patch matrix, never written) against simplego: the forward product
// (patches·kernel, split by output rows), the kernel gradient (patchesᵀ·v, split along the
// contracting axis and summed per core), the exact-zero read of one element, indices out of
// range (clamped) and several chunks per product; and that the Gather itself is not run.
func TestGatheredProducts(t *testing.T) {
	ref, got := backendsUnderTest(t)
	const rows, width, taps = 4700, 8, 9 // 4700·9·8 floats: several chunks of gatherChunkFloats
	idx := make([]int32, rows*taps)
	for i := range idx {
		idx[i] = int32((i*7919)%(rows+3) - 1) // a few out of range on both sides
	}
	patches := func(x *graph.Node) *graph.Node { // x [rows, width]: the table
		g := graph.Gather(x, graph.Reshape(graph.Const(x.Graph(), idx), rows*taps, 1))
		return graph.Reshape(g, rows, taps*width)
	}
	cases := []struct {
		name string
		fn   func(x *graph.Node) *graph.Node
	}{
		{"forward", func(x *graph.Node) *graph.Node {
			k := graph.Reshape(graph.Slice(graph.Reshape(x, -1), graph.AxisRange(0, taps*width*5)), taps*width, 5)
			return graph.DotGeneral(patches(x), []int{1}, nil, k, []int{0}, nil)
		}},
		{"kernel gradient and zero read", func(x *graph.Node) *graph.Node {
			p := patches(x)
			v := graph.Slice(x, graph.AxisRange(), graph.AxisRange(0, 3))
			dw := graph.DotGeneral(p, []int{0}, nil, v, []int{0}, nil) // [taps·width, 3]
			first := graph.Reshape(graph.Gather(p, graph.Const(x.Graph(), [][]int32{{2, 5}})))
			return graph.Add(dw, first)
		}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := graph.MustExecOnce(ref, tc.fn, randTensor[float32](uint64(i), rows, width))
			out, exes := compiled(t, got, tc.fn, randTensor[float32](uint64(i), rows, width))
			assertClose(t, tc.name, want, out, 1e-4)
			gathered, gathers := 0, 0
			for _, h := range hostOps(exes) {
				switch h.host.(type) {
				case *gatherDotSpec:
					gathered++
				case *rowGatherSpec:
					gathers++
				}
			}
			if gathered != 1 || gathers != 0 {
				t.Errorf("%d gathered products and %d row gathers run, want 1 and 0", gathered, gathers)
			}
		})
	}
}

// TestGatheredKernelGradientDeterministic runs the transposed gathered product (a kernel
// gradient: a sum over many chunks, split among the workers) many times on one input: every
// run must give the same bits, whatever the workers' timing. Chunks taken by whichever worker
// is free would change which partial sum a chunk joins, and so the rounding.
func TestGatheredKernelGradientDeterministic(t *testing.T) {
	_, got := backendsUnderTest(t)
	const rows, width, taps = 20000, 8, 9 // many chunks of gatherChunkFloats
	idx := make([]int32, rows*taps)
	for i := range idx {
		idx[i] = int32((i * 7919) % rows)
	}
	fn := func(x *graph.Node) *graph.Node {
		p := graph.Reshape(graph.Gather(x, graph.Reshape(graph.Const(x.Graph(), idx), rows*taps, 1)), rows, taps*width)
		v := graph.Slice(x, graph.AxisRange(), graph.AxisRange(0, 3))
		return graph.DotGeneral(p, []int{0}, nil, v, []int{0}, nil) // [taps·width, 3]
	}
	exec := graph.MustNewExec(got, fn)
	x := randTensor[float32](7, rows, width)
	first := exec.MustExec1(x).Value().([][]float32)
	for run := 1; run < 40; run++ {
		again := exec.MustExec1(x).Value().([][]float32)
		for i := range first {
			for j := range first[i] {
				if math.Float32bits(first[i][j]) != math.Float32bits(again[i][j]) {
					t.Fatalf("run %d: element [%d][%d] = %v, first run %v", run, i, j, again[i][j], first[i][j])
				}
			}
		}
	}
}
