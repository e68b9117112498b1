package gogemm

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// compiled runs fn once on gogemm (the test backend) and returns the result with every
// executable compiled meanwhile.
func compiled(t *testing.T, be backends.Backend, fn func(x *graph.Node) *graph.Node, x *tensors.Tensor) (*tensors.Tensor, []*Executable) {
	t.Helper()
	var mu sync.Mutex
	var exes []*Executable
	onCompile = func(e *Executable) { mu.Lock(); exes = append(exes, e); mu.Unlock() }
	defer func() { onCompile = nil }()
	return graph.MustExecOnce(be, fn, x), exes
}

// hostOps lists the host ops of the executables in the order they run.
func hostOps(exes []*Executable) []*call {
	var out []*call
	for _, e := range exes {
		for _, s := range e.segs {
			out = append(out, s.hosts...)
		}
	}
	return out
}

// chains describes the fused host ops that walk at least size elements (the tests run
// every op on the host, the small ones on per-channel values too): the number of ops in
// each, "r" appended for a reduction, e.g. "5r".
func chains(exes []*Executable, size int) []string {
	var out []string
	for _, h := range hostOps(exes) {
		if f, ok := h.host.(*fusedSpec); ok {
			n := 1
			for _, d := range f.dims {
				n *= d
			}
			if n < size {
				continue
			}
			s := fmt.Sprint(len(f.prog))
			if f.reduce != nil {
				s += "r"
			}
			out = append(out, s)
		}
	}
	return out
}

func relu(x *graph.Node) *graph.Node {
	zeros := graph.ZerosLike(x)
	return graph.Where(graph.GreaterThan(x, zeros), x, zeros)
}

// instanceNorm is the shape of dcbench/nn's: (x − mean)·(gain/σ) + offset over axes 1, 2.
func instanceNorm(x *graph.Node) *graph.Node {
	m := graph.ReduceAndKeep(x, graph.ReduceMean, 1, 2)
	c := graph.Sub(x, m)
	v := graph.ReduceAndKeep(graph.Mul(c, c), graph.ReduceMean, 1, 2)
	c4 := x.Shape().Dimensions[3]
	gain := graph.ExpandLeftToRank(graph.AddScalar(graph.Iota(x.Graph(), shapes.Make(x.DType(), c4), 0), 1), 4)
	offset := graph.ExpandLeftToRank(graph.MulScalar(graph.Iota(x.Graph(), shapes.Make(x.DType(), c4), 0), 0.1), 4)
	inv := graph.Div(gain, graph.Sqrt(graph.AddScalar(v, 1e-5)))
	return graph.Add(graph.Mul(c, inv), offset)
}

// TestFusedChains compares fused element-wise host ops with simplego and checks which ops
// are fused: chains ending in a written value or in a sum, values computed in several
// groups, bool values inside a chain, short rows (blocks of rows per chunk), long rows
// (several chunks per row), operands re-read along split axes, and values that must be
// written because something else reads them.
func TestFusedChains(t *testing.T) {
	ref, got := backendsUnderTest(t)
	cases := []struct {
		name   string
		in     []int
		fn     func(x *graph.Node) *graph.Node
		chains []string // the fused host ops, in order
	}{
		{"add then max", []int{4, 5}, func(x *graph.Node) *graph.Node {
			return graph.Max(graph.AddScalar(x, 0.25), graph.ZerosLike(x))
		}, []string{"2"}},
		// The mean is a sum of x (a chain of none: a plain ReduceSum); x − mean is computed
		// again in the variance's sum and in the output chain, never written.
		{"instance norm, ReLU", []int{2, 6, 6, 8}, func(x *graph.Node) *graph.Node { return relu(instanceNorm(x)) },
			[]string{"2r", "5"}},
		// The ReLU and the pool's sum in one pass, walked in the pool's split shape.
		{"instance norm, ReLU, mean pool", []int{2, 6, 6, 8}, func(x *graph.Node) *graph.Node {
			return graph.ReduceMean(graph.Reshape(relu(instanceNorm(x)), 2, 3, 2, 3, 2, 8), 2, 4)
		}, []string{"2r", "5r"}},
		// The comparison is read by simplego (the conversion for the tanh) too: it is
		// written (a chain of one) and read by the Where, computed with the Add.
		{"comparison read elsewhere", []int{3, 70}, func(x *graph.Node) *graph.Node {
			c := graph.GreaterThan(x, graph.ZerosLike(x))
			return graph.Add(graph.Where(c, x, graph.ZerosLike(x)), graph.Tanh(graph.ConvertDType(c, x.DType())))
		}, []string{"1", "2"}},
		// A ReLU mask read again much later (the backward pass): it is written, not
		// recomputed there from x, which would keep the four times larger x alive instead.
		{"mask read much later", []int{4, 300}, func(x *graph.Node) *graph.Node {
			c := graph.GreaterThan(x, graph.ZerosLike(x))
			early := graph.Where(c, x, graph.ZerosLike(x))
			s := graph.ReduceAllSum(early)
			for i := 0; i < 2*fuseWindow; i++ {
				s = graph.Tanh(graph.AddScalar(s, 0.5))
			}
			late := graph.Where(c, graph.BroadcastToDims(s, 4, 300), graph.ZerosLike(x))
			return graph.Add(late, graph.Scalar(x.Graph(), x.DType(), 1))
		}, []string{"1", "1r", "2"}},
		{"short rows with a per-channel operand", []int{4, 40, 3}, func(x *graph.Node) *graph.Node {
			ch := graph.ExpandLeftToRank(graph.AddScalar(graph.Iota(x.Graph(), shapes.Make(x.DType(), 3), 0), 1), 3)
			return graph.Sub(graph.Mul(x, ch), graph.Div(ch, graph.AddScalar(graph.Abs(x), 1)))
		}, []string{"5"}},
		{"long rows", []int{2, 9000}, func(x *graph.Node) *graph.Node {
			return graph.ReduceSum(graph.Mul(graph.AddScalar(x, 1), x), 1)
		}, []string{"2r"}},
		{"sum over the leading axis", []int{5, 3, 700}, func(x *graph.Node) *graph.Node {
			return graph.ReduceSum(graph.Abs(graph.Sub(x, graph.ReduceAndKeep(x, graph.ReduceMax, 0))), 0)
		}, []string{"2r"}},
		{"mean pool gradient through ReLU", []int{2, 4, 4, 3}, func(x *graph.Node) *graph.Node {
			p := graph.ReduceMean(graph.Reshape(relu(x), 2, 2, 2, 2, 2, 3), 2, 4)
			return graph.Gradient(graph.ReduceAllSum(graph.Mul(p, p)), x)[0]
		}, nil},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := graph.MustExecOnce(ref, tc.fn, randTensor[float32](uint64(i), tc.in...))
			out, exes := compiled(t, got, tc.fn, randTensor[float32](uint64(i), tc.in...))
			assertClose(t, tc.name, want, out, 1e-5)
			size := 1
			for _, d := range tc.in {
				size *= d
			}
			if c := chains(exes, size); tc.chains != nil && !slices.Equal(c, tc.chains) {
				t.Errorf("fused host ops %v, want %v", c, tc.chains)
			}
		})
	}
}

// TestSplitStrides checks the strides of a value walked in a shape that splits its axes.
func TestSplitStrides(t *testing.T) {
	cases := []struct {
		dims, strides, split, want []int
		ok                         bool
	}{
		{[]int{4, 6, 6, 8}, []int{288, 48, 8, 1}, []int{4, 3, 2, 3, 2, 8}, []int{288, 96, 48, 16, 8, 1}, true},
		{[]int{4, 6, 6, 8}, []int{0, 0, 0, 1}, []int{4, 3, 2, 3, 2, 8}, []int{0, 0, 0, 0, 0, 1}, true},
		{[]int{4, 6}, []int{6, 1}, []int{1, 4, 6, 1}, []int{0, 6, 1, 0}, true},
		{[]int{6}, []int{1}, []int{4, 3}, nil, false}, // not a split: 12 elements for 6
		{[]int{4, 6}, []int{6, 1}, []int{8, 3}, nil, false},
	}
	for _, tc := range cases {
		got, ok := splitStrides(tc.dims, tc.strides, tc.split)
		if ok != tc.ok || ok && !slices.Equal(got, tc.want) && !zeroSizeOneEqual(got, tc.want, tc.split) {
			t.Errorf("splitStrides(%v, %v, %v) = %v, %v; want %v, %v", tc.dims, tc.strides, tc.split, got, ok, tc.want, tc.ok)
		}
	}
}

// zeroSizeOneEqual compares strides, ignoring axes of size 1 (never stepped along).
func zeroSizeOneEqual(a, b, dims []int) bool {
	for i := range dims {
		if dims[i] != 1 && a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestProgramOrder checks that independent chains built one after the other run one after
// the other, each one's host ops before the next one's (so that each one's values are freed
// before the next one's are made), and gives simplego's results.
func TestProgramOrder(t *testing.T) {
	ref, got := backendsUnderTest(t)
	fn := func(x *graph.Node) *graph.Node {
		var sum *graph.Node
		for k := 0; k < 3; k++ { // three "classes", as DM and DC build them
			part := graph.Slice(x, graph.AxisElem(k))
			h := graph.Tanh(graph.Dot(graph.Reshape(part, 4, 5), graph.Transpose(graph.Reshape(part, 4, 5), 0, 1)))
			v := graph.ReduceAllSum(graph.Dot(h, h))
			if sum == nil {
				sum = v
			} else {
				sum = graph.Add(sum, v)
			}
		}
		return sum
	}
	want := graph.MustExecOnce(ref, fn, randTensor[float32](3, 3, 20))
	out, exes := compiled(t, got, fn, randTensor[float32](3, 3, 20))
	assertClose(t, "sum", want, out, 1e-5)
	var order []int // class of each product, in execution order
	for _, h := range hostOps(exes) {
		if _, ok := h.host.(*dotSpec); ok {
			order = append(order, h.outs[0].id)
		}
	}
	if len(order) != 6 || !slices.IsSorted(order) {
		t.Errorf("products ran in the order %v (node ids), want the 6 in building order", order)
	}
}
