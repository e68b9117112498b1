package nn

import (
	"fmt"
	"strings"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
)

// Poolings lists the pooling names accepted by Pool.
var Poolings = []string{"avgpooling", "maxpooling", "none"}

// windows crops NHWC x to multiples of k (floor, as PyTorch) and reshapes it to
// [N, H/k, k, W/k, k, C].
func windows(x *Node, k int) *Node {
	if x.Rank() != 4 {
		panic(fmt.Sprintf("nn: pooling wants NHWC input, got %s", x.Shape()))
	}
	d := x.Shape().Dimensions
	h, w := d[1]/k*k, d[2]/k*k
	if h == 0 || w == 0 {
		panic(fmt.Sprintf("nn: pooling window %d larger than feature map %dx%d", k, d[1], d[2]))
	}
	if h != d[1] {
		x = CropAxis(x, 1, 0, h)
	}
	if w != d[2] {
		x = CropAxis(x, 2, 0, w)
	}
	return Reshape(x, d[0], h/k, k, w/k, k, d[3])
}

// AvgPool2D is k×k average pooling with stride k (PyTorch AvgPool2d(k, k)), as a reshape and a
// mean: 2.5x faster than gomlx's MeanPool on simplego and differentiable to any order.
func AvgPool2D(x *Node, k int) *Node {
	return ReduceMean(windows(x, k), 2, 4)
}

// MaxPool2D is k×k max pooling with stride k. The gradient goes to the maximal element (split
// evenly between ties); it is built from a mask so that it has derivatives of every order on
// every backend (gomlx's ReduceMax gradient uses Sign, which has none, and simplego has no
// max-pool gradient).
func MaxPool2D(x *Node, k int) *Node {
	win := windows(x, k)
	m := StopGradient(ReduceAndKeep(win, ReduceMax, 2, 4))
	mask := ConvertDType(Equal(win, BroadcastToShape(m, win.Shape())), x.DType())
	mask = Div(mask, ReduceAndKeep(mask, ReduceSum, 2, 4))
	return ReduceSum(Mul(win, StopGradient(mask)), 2, 4)
}

// GlobalAvgPool averages NHWC x over height and width, giving [N, C].
func GlobalAvgPool(x *Node) *Node { return ReduceMean(x, 1, 2) }

// Pool applies the pooling called name (avgpooling, maxpooling or none) with a 2×2 window.
func Pool(name string, x *Node) (*Node, error) {
	switch strings.ToLower(name) {
	case "avgpooling", "avg", "avgpool":
		return AvgPool2D(x, 2), nil
	case "maxpooling", "max", "maxpool":
		return MaxPool2D(x, 2), nil
	case "none", "":
		return x, nil
	}
	return nil, fmt.Errorf("unknown pooling %q (valid: %s)", name, strings.Join(Poolings, ", "))
}
