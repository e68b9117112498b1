package gogemm

import (
	"fmt"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/graph"
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
			assertClose(t, fmt.Sprint(tc.name), want, out, 1e-5)
		})
	}
}
