package nn

import (
	"fmt"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
)

// The tests below cover sameConv's own gradients (the stride-1, same-size convolution): the
// kernel gradient and the second derivatives through the input gradient, against finite
// differences, for several kernel sizes, with the input gradient computed both ways
// (flipped-kernel convolution, and patch gradient folded back by Col2Im).

// bothInputGradients runs test with each input-gradient formulation of sameConv.
func bothInputGradients(t *testing.T, test func(t *testing.T)) {
	saved := flipConvChannels
	defer func() { flipConvChannels = saved }()
	for _, ch := range []int{1, 1 << 20} {
		flipConvChannels = ch
		name := "flipped"
		if ch > 1 {
			name = "col2im"
		}
		t.Run(name, test)
	}
}

func TestSameConvKernelGradient(t *testing.T) { bothInputGradients(t, testSameConvKernelGradient) }

func TestSameConvSecondOrder(t *testing.T) { bothInputGradients(t, testSameConvSecondOrder) }

func testSameConvKernelGradient(t *testing.T) {
	for _, k := range []int{1, 3, 5} {
		name := fmt.Sprintf("k%d", k)
		t.Run(name, func(t *testing.T) {
			f := func(w *Node) *Node {
				x := Reshape(Const(w.Graph(), randSlice(13, 2*5*4*3)), 2, 5, 4, 3)
				return weighted(ConvWith(x, w, nil, (k-1)/2, 1))
			}
			fdCheck(t, name, []int{k, k, 3, 2}, f, 24, 1e-6)
		})
	}
}

// TestSameConvSecondOrder checks d/dx ‖∂L/∂x‖² and d/dw ‖∂L/∂x‖² (the input gradient is the
// flipped-kernel convolution) and d/dw ‖∂L/∂w‖².
func testSameConvSecondOrder(t *testing.T) {
	xOf := func(g *Graph) *Node { return Reshape(Const(g, randSlice(13, 2*4*5*2)), 2, 4, 5, 2) }
	wOf := func(g *Graph) *Node { return Reshape(Const(g, randSlice(5, 3*3*2*3)), 3, 3, 2, 3) }
	loss := func(x, w *Node) *Node {
		h := ConvWith(x, w, nil, 1, 1)
		return weighted(Tanh(ConvWith(Relu(h), Reshape(Const(x.Graph(), randSlice(17, 3*3*3*2)), 3, 3, 3, 2), nil, 1, 1)))
	}
	sq := func(v *Node) *Node { return ReduceAllSum(Mul(v, v)) }
	t.Run("dx|dLdx|", func(t *testing.T) {
		fdCheck(t, "dx", []int{2, 4, 5, 2}, func(x *Node) *Node {
			return sq(Gradient(loss(x, wOf(x.Graph())), x)[0])
		}, 16, 1e-5)
	})
	t.Run("dw|dLdx|", func(t *testing.T) {
		fdCheck(t, "dw", []int{3, 3, 2, 3}, func(w *Node) *Node {
			x := xOf(w.Graph())
			return sq(Gradient(loss(x, w), x)[0])
		}, 16, 1e-5)
	})
	t.Run("dw|dLdw|", func(t *testing.T) {
		fdCheck(t, "dw2", []int{3, 3, 2, 3}, func(w *Node) *Node {
			return sq(Gradient(loss(xOf(w.Graph()), w), w)[0])
		}, 16, 1e-5)
	})
}
