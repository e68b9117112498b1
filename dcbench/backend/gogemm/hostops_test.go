package gogemm

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// TestHostBroadcastAndSum compares the host BroadcastInDim and ReduceSum with simplego's
// on the patterns of a ConvNet (per-channel and per-sample-and-channel broadcasts, spatial
// sums, binary ops with implicit broadcasting) and others.
func TestHostBroadcastAndSum(t *testing.T) {
	ref, got := backendsUnderTest(t)
	cases := []struct {
		name string
		in   []int
		fn   func(x *graph.Node) *graph.Node
	}{
		{"channel to NHWC", []int{5}, func(x *graph.Node) *graph.Node {
			return graph.BroadcastToDims(graph.ExpandLeftToRank(x, 4), 2, 3, 4, 5)
		}},
		{"per sample and channel", []int{2, 1, 1, 5}, func(x *graph.Node) *graph.Node { return graph.BroadcastToDims(x, 2, 3, 4, 5) }},
		{"scalar", nil, func(x *graph.Node) *graph.Node { return graph.BroadcastToDims(x, 3, 4) }},
		{"middle axis", []int{3, 1, 4}, func(x *graph.Node) *graph.Node { return graph.BroadcastToDims(x, 3, 6, 4) }},
		{"leading axis", []int{1, 4}, func(x *graph.Node) *graph.Node { return graph.BroadcastToDims(x, 5, 4) }},
		{"sum spatial", []int{2, 3, 4, 5}, func(x *graph.Node) *graph.Node { return graph.ReduceSum(x, 1, 2) }},
		{"sum batch and spatial", []int{2, 3, 4, 5}, func(x *graph.Node) *graph.Node { return graph.ReduceSum(x, 0, 1, 2) }},
		{"sum last", []int{2, 3, 4}, func(x *graph.Node) *graph.Node { return graph.ReduceSum(x, -1) }},
		{"sum middle", []int{2, 3, 4}, func(x *graph.Node) *graph.Node { return graph.ReduceSum(x, 1) }},
		{"sum all", []int{2, 3, 4}, func(x *graph.Node) *graph.Node { return graph.ReduceAllSum(x) }},
		{"sum alternate", []int{2, 3, 4, 5, 2}, func(x *graph.Node) *graph.Node { return graph.ReduceSum(x, 0, 2, 4) }},
		{"implicit broadcast in binary ops", []int{2, 3, 4, 5}, func(x *graph.Node) *graph.Node {
			m := graph.ReduceAndKeep(x, graph.ReduceMean, 1, 2)
			return graph.Div(graph.Sub(x, m), graph.AddScalar(graph.Abs(m), 1))
		}},
		{"row gather", []int{6, 5}, func(x *graph.Node) *graph.Node {
			return graph.Gather(x, graph.Const(x.Graph(), [][]int32{{3}, {0}, {5}, {3}, {9}, {-2}}))
		}},
		{"row gather, nested indices", []int{6, 5}, func(x *graph.Node) *graph.Node {
			return graph.Gather(x, graph.Const(x.Graph(), [][][]int64{{{1}, {2}}, {{4}, {0}}}))
		}},
		{"point gather", []int{3, 4, 5}, func(x *graph.Node) *graph.Node {
			return graph.Gather(x, graph.Const(x.Graph(), [][]int32{{0, 0, 0}, {2, 3, 4}, {1, -1, 7}, {1, 2, 3}}))
		}},
		{"point gather through a reshape", []int{4, 6}, func(x *graph.Node) *graph.Node {
			return graph.Gather(graph.Reshape(graph.Mul(x, x), 2, 3, 4), graph.Const(x.Graph(), [][]int64{{1, 2, 3}, {0, 1, 2}}))
		}},
		{"concatenate rows", []int{6, 5}, func(x *graph.Node) *graph.Node {
			return graph.Concatenate([]*graph.Node{x, graph.Zeros(x.Graph(), shapes.Make(x.DType(), 1, 5)), x}, 0)
		}},
		{"concatenate inner axis", []int{2, 3, 4}, func(x *graph.Node) *graph.Node {
			return graph.Concatenate([]*graph.Node{graph.Neg(x), graph.Slice(x, graph.AxisRange(), graph.AxisRange(), graph.AxisRange(0, 1))}, -1)
		}},
		{"reshaped host values", []int{4, 6}, func(x *graph.Node) *graph.Node {
			y := graph.Reshape(graph.Mul(x, x), 2, 12) // read by the host Add through the reshape
			return graph.Add(graph.Reshape(graph.Dot(x, graph.Transpose(x, 0, 1)), 2, 8), graph.Slice(y, graph.AxisRange(), graph.AxisRange(0, 8)))
		}},
		{"reshapes of reshapes", []int{4, 6}, func(x *graph.Node) *graph.Node {
			y := graph.Reshape(graph.Reshape(graph.Mul(x, x), 2, 12), 3, 8) // read by simplego's Tanh
			return graph.Add(graph.Tanh(y), graph.Reshape(graph.Reshape(graph.Neg(x), 24), 3, 8))
		}},
		{"element-wise", []int{3, 4, 5}, func(x *graph.Node) *graph.Node {
			zeros := graph.ZerosLike(x)
			relu := graph.Where(graph.GreaterThan(x, zeros), x, zeros)
			m := graph.ReduceAndKeep(x, graph.ReduceMax, 0)
			rowScale := graph.BroadcastToDims(graph.ExpandLeftToRank(graph.Reshape(graph.Abs(graph.Sqrt(graph.Abs(m))), 4, 5), 3), 3, 4, 5)
			sel := graph.Where(graph.LessOrEqual(x, m), graph.Neg(x), graph.Min(x, rowScale))
			cmp := graph.ConvertDType(graph.Equal(graph.Max(x, m), m), x.DType())
			cmp2 := graph.ConvertDType(graph.LogicalAnd(graph.GreaterOrEqual(x, zeros), graph.NotEqual(x, m)), x.DType())
			lt := graph.ConvertDType(graph.LessThan(x, graph.Scalar(x.Graph(), x.DType(), 0.25)), x.DType())
			return graph.Add(graph.Sub(graph.Mul(relu, sel), graph.Div(cmp, graph.AddScalar(rowScale, 1))), graph.Add(cmp2, lt))
		}},
		{"where with scalar and broadcast condition", []int{3, 4}, func(x *graph.Node) *graph.Node {
			c := graph.GreaterThan(graph.ReduceAndKeep(x, graph.ReduceSum, 1), graph.ScalarZero(x.Graph(), x.DType()))
			return graph.Where(graph.BroadcastToDims(c, 3, 4), x, graph.Scalar(x.Graph(), x.DType(), 2))
		}},
		// Large enough to be split over the cores (with GOMAXPROCS > 1).
		{"large sum over axis 0", []int{6, 64, 512}, func(x *graph.Node) *graph.Node { return graph.ReduceSum(x, 0) }},
		{"large sum over axes 1, 2", []int{6, 64, 512}, func(x *graph.Node) *graph.Node { return graph.ReduceSum(x, 1, 2) }},
		{"large sum over axes 0, 2", []int{6, 64, 512}, func(x *graph.Node) *graph.Node { return graph.ReduceSum(x, 0, 2) }},
		{"large element-wise", []int{6, 64, 512}, func(x *graph.Node) *graph.Node {
			zeros := graph.ZerosLike(x)
			relu := graph.Where(graph.GreaterThan(x, zeros), x, zeros)
			return graph.Mul(graph.Sub(relu, graph.ReduceAndKeep(x, graph.ReduceMax, 1, 2)), graph.AddScalar(x, 0.5))
		}},
		{"large row gather", []int{2048, 64}, func(x *graph.Node) *graph.Node {
			idx := make([][]int32, 2100)
			for i := range idx {
				idx[i] = []int32{int32((i*7919)%2060 - 5)} // some out of range, clamped
			}
			return graph.Gather(x, graph.Const(x.Graph(), idx))
		}},
		{"large concatenate", []int{1024, 64}, func(x *graph.Node) *graph.Node {
			return graph.Concatenate([]*graph.Node{graph.Concatenate([]*graph.Node{x, graph.Neg(x)}, 1), x}, 1)
		}},
		{"mean pool gradient through ReLU", []int{2, 4, 4, 3}, func(x *graph.Node) *graph.Node {
			zeros := graph.ZerosLike(x)
			relu := graph.Where(graph.GreaterThan(x, zeros), x, zeros)
			p := graph.ReduceMean(graph.Reshape(relu, 2, 2, 2, 2, 2, 3), 2, 4)
			return graph.Gradient(graph.ReduceAllSum(graph.Mul(p, p)), x)[0]
		}},
		{"mean gradient", []int{2, 3, 4, 5}, func(x *graph.Node) *graph.Node {
			m := graph.ReduceAndKeep(x, graph.ReduceMean, 1, 2)
			y := graph.ReduceAllSum(graph.Square(graph.Sub(x, m)))
			return graph.Gradient(y, x)[0]
		}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := func() *tensors.Tensor {
				if tc.in == nil {
					return tensors.FromScalar(float32(1.5))
				}
				return randTensor[float32](uint64(i), tc.in...)
			}
			want := graph.MustExecOnce(ref, tc.fn, in())
			out := graph.MustExecOnce(got, tc.fn, in())
			tol := 1e-5
			if strings.HasPrefix(tc.name, "large sum") {
				tol = 1e-4 // sums of thousands of terms, added in another order
			}
			assertClose(t, fmt.Sprint(tc.name), want, out, tol)
		})
	}
}

// TestHostElementWise compares every element-wise host op with simplego for each form of
// operand: dense, a scalar, constant along the last axis (one value per row), broadcast
// along a middle axis, and a BroadcastInDim read from its source; on either side.
func TestHostElementWise(t *testing.T) {
	ref, got := backendsUnderTest(t)
	forms := []struct {
		name string
		make func(x *graph.Node) *graph.Node // from x [3, 4, 5]
	}{
		{"dense", func(x *graph.Node) *graph.Node { return graph.AddScalar(graph.Abs(x), -0.5) }},
		{"scalar", func(x *graph.Node) *graph.Node { return graph.Scalar(x.Graph(), x.DType(), 0.125) }},
		{"per row", func(x *graph.Node) *graph.Node { return graph.ReduceAndKeep(x, graph.ReduceMax, 2) }},
		{"middle axis", func(x *graph.Node) *graph.Node { return graph.ReduceAndKeep(x, graph.ReduceMin, 1) }},
		{"broadcast source", func(x *graph.Node) *graph.Node {
			return graph.BroadcastToDims(graph.ReduceAndKeep(x, graph.ReduceSum, 0), 3, 4, 5)
		}},
	}
	ops := map[string]func(a, b *graph.Node) *graph.Node{
		"Add": graph.Add, "Sub": graph.Sub, "Mul": graph.Mul, "Div": graph.Div, "Max": graph.Max, "Min": graph.Min,
		"GreaterThan":    func(a, b *graph.Node) *graph.Node { return graph.ConvertDType(graph.GreaterThan(a, b), a.DType()) },
		"GreaterOrEqual": func(a, b *graph.Node) *graph.Node { return graph.ConvertDType(graph.GreaterOrEqual(a, b), a.DType()) },
		"LessThan":       func(a, b *graph.Node) *graph.Node { return graph.ConvertDType(graph.LessThan(a, b), a.DType()) },
		"LessOrEqual":    func(a, b *graph.Node) *graph.Node { return graph.ConvertDType(graph.LessOrEqual(a, b), a.DType()) },
		"Equal":          func(a, b *graph.Node) *graph.Node { return graph.ConvertDType(graph.Equal(a, b), a.DType()) },
		"NotEqual":       func(a, b *graph.Node) *graph.Node { return graph.ConvertDType(graph.NotEqual(a, b), a.DType()) },
		"Where": func(a, b *graph.Node) *graph.Node {
			full := func(v *graph.Node) *graph.Node { // Where takes scalars or full shapes
				if v.Rank() == 0 {
					return v
				}
				return graph.BroadcastToDims(v, 3, 4, 5)
			}
			x := graph.Add(full(a), full(b))
			return graph.Where(graph.GreaterThan(x, graph.ZerosLike(x)), full(a), full(b))
		},
		"Neg, Abs, Sqrt": func(a, b *graph.Node) *graph.Node {
			s := graph.Add(a, b)
			return graph.Add(graph.Neg(s), graph.Sqrt(graph.Abs(s)))
		},
	}
	for name, op := range ops {
		for _, fa := range forms {
			for _, fb := range forms {
				if fa.name == "scalar" && fb.name == "scalar" {
					continue
				}
				t.Run(fmt.Sprintf("%s(%s, %s)", name, fa.name, fb.name), func(t *testing.T) {
					fn := func(x *graph.Node) *graph.Node {
						// Ties for the comparisons: round to quarters.
						x = graph.Div(graph.Round(graph.MulScalar(x, 4)), graph.Scalar(x.Graph(), x.DType(), 4))
						out := op(fa.make(x), fb.make(x))
						return graph.Add(out, graph.ZerosLike(x)) // always [3, 4, 5]
					}
					want := graph.MustExecOnce(ref, fn, randTensor[float32](5, 3, 4, 5))
					out := graph.MustExecOnce(got, fn, randTensor[float32](5, 3, 4, 5))
					assertClose(t, name, want, out, 1e-6)
				})
			}
		}
	}
}
