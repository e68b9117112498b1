package nn

import (
	"fmt"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// ConvConfig describes a 2D convolution: a square kernel, symmetric zero padding and a
// stride of 1 or 2.
type ConvConfig struct {
	Out     int  // output channels
	Kernel  int  // kernel size (square)
	Padding int  // zero padding on each side
	Stride  int  // 1 or 2; 0 means 1
	Bias    bool // add a per-channel bias
}

// Conv2D applies a convolution (cross-correlation, as PyTorch's nn.Conv2d) to NHWC x, with
// the kernel [k, k, in, out] in variable "weights" and the bias in "biases" of the current
// scope, both initialised as PyTorch's default.
//
// It is computed as Im2Col (the k² shifted copies of x, zero-filled at the borders, side by
// side in the channel axis) times the kernel as a [k·k·in, out] matrix: only ops whose
// gradients are correct to any order on every backend, unlike gomlx's ConvGeneral (see the
// package doc).
func Conv2D(ctx *context.Context, x *Node, cfg ConvConfig) *Node {
	if x.Rank() != 4 {
		panic(fmt.Sprintf("nn.Conv2D: want NHWC input, got shape %s", x.Shape()))
	}
	in := x.Shape().Dimensions[3]
	k := cfg.Kernel
	bound := FanInBound(in * k * k)
	w := ctx.WithInitializer(UniformInit(ctx, bound)).
		VariableWithShape("weights", shapes.Make(x.DType(), k, k, in, cfg.Out)).ValueGraph(x.Graph())
	var b *Node
	if cfg.Bias {
		b = ctx.WithInitializer(UniformInit(ctx, bound)).
			VariableWithShape("biases", shapes.Make(x.DType(), cfg.Out)).ValueGraph(x.Graph())
	}
	return ConvWith(x, w, b, cfg.Padding, cfg.Stride)
}

// ConvWith is the convolution of Conv2D with explicit weights w [k, k, in, out] and optional
// bias b [out] (nil for none). Output size per spatial axis is
// floor((n + 2·padding − k)/stride) + 1.
func ConvWith(x, w, b *Node, padding, stride int) *Node {
	if stride == 0 {
		stride = 1
	}
	if stride != 1 && stride != 2 {
		panic(fmt.Sprintf("nn.ConvWith: stride %d not supported (1 or 2)", stride))
	}
	k := w.Shape().Dimensions[0]
	in, out := w.Shape().Dimensions[2], w.Shape().Dimensions[3]
	if x.Shape().Dimensions[3] != in {
		panic(fmt.Sprintf("nn.ConvWith: input has %d channels, kernel expects %d", x.Shape().Dimensions[3], in))
	}
	if stride == 1 && 2*padding == k-1 {
		y := sameConv(x, w, padding)
		if b != nil {
			y = Add(y, ExpandLeftToRank(b, 4))
		}
		return y
	}
	h, wd := x.Shape().Dimensions[1], x.Shape().Dimensions[2]
	// Stride-1 output size: n + 2p - k + 1. Shifts keep the input size, so grow the input
	// first when the output is larger, and crop afterwards when it is smaller.
	grow := max(0, 2*padding-k+1)
	if grow > 0 {
		lo := grow / 2
		x = ZeroPadAxis(ZeroPadAxis(x, 1, lo, grow-lo), 2, lo, grow-lo)
		padding -= lo
	}
	oh := (h+grow+2*padding-k)/stride + 1
	ow := (wd+grow+2*padding-k)/stride + 1
	if h+grow+2*padding-k < 0 || wd+grow+2*padding-k < 0 {
		panic(fmt.Sprintf("nn.ConvWith: input %dx%d too small for kernel %d with padding %d", h, wd, k, padding))
	}
	cols := Im2Col(x, k, padding)
	if stride == 2 {
		cols = Subsample2(Subsample2(cols, 1), 2)
	}
	y := MatMulLast(cols, Reshape(w, k*k*in, out))
	if oh < y.Shape().Dimensions[1] {
		y = CropAxis(y, 1, 0, oh)
	}
	if ow < y.Shape().Dimensions[2] {
		y = CropAxis(y, 2, 0, ow)
	}
	if b != nil {
		y = Add(y, ExpandLeftToRank(b, 4))
	}
	return y
}

// flipConvChannels: sameConv computes its input gradient as a flipped-kernel convolution
// only when the input channels are a multiple of it (simplego's 64-wide blocks). A variable
// so that the tests can exercise both paths.
var flipConvChannels = 64

// sameConv is the stride-1 convolution whose output has the input's size (2·p = k−1), the
// case of every ConvNet layer, with its own gradients:
//
//   - dx is the convolution of the arriving gradient v with the kernel flipped in space and
//     with in/out channels swapped: Im2Col(v) times a matrix, the cost of the forward pass
//     (when in is a multiple of flipConvChannels; otherwise as below). Differentiating
//     through the matrix product and Im2Col instead gives the k²-times larger patch
//     gradient [N, H, W, k²·in] folded back by Col2Im (k² strided slices, shifts and adds),
//     which costs several Im2Cols on simplego.
//   - dw is Im2Col(x)ᵀ·v, reusing the forward pass's patches.
//
// Both are built from ops with gradients of every order (this function, Im2Col, matMulTN,
// Gather), so derivatives of every order stay correct.
func sameConv(x, w *Node, p int) *Node {
	k := w.Shape().Dimensions[0]
	in, out := w.Shape().Dimensions[2], w.Shape().Dimensions[3]
	cols := Im2Col(x, k, p)
	link := func(zero *Node, sw []*Node) *Node { // the zero goes into the (small) kernel
		w2 := Add(Reshape(sw[1], k*k*in, out), ConvertDType(zero, w.DType()))
		return DotGeneral(StopGradient(cols), []int{3}, nil, w2, []int{0}, nil)
	}
	return withLinkedVJP([]*Node{x, w}, link, func(v *Node, i int) *Node {
		if i == 0 {
			if in%flipConvChannels != 0 {
				// Few input channels (the first layer): the flipped convolution's product
				// would have in output columns, which simplego pads to its 64-wide blocks;
				// the patch gradient folded back by Col2Im is cheaper there.
				return Col2Im(MatMulLast(v, Transpose(Reshape(w, k*k*in, out), 0, 1)), k, p, in)
			}
			return sameConv(v, flipKernel(w), k-1-p)
		}
		d := cols.Shape().Dimensions
		rows := d[0] * d[1] * d[2]
		return Reshape(matMulTN(Reshape(cols, rows, k*k*in), Reshape(v, rows, out)), k, k, in, out)
	})
}

// flipKernel turns a kernel w [k, k, in, out] into the kernel of the adjoint convolution,
// [k, k, out, in] with out[a, b, o, c] = w[k−1−a, k−1−b, c, o]. The spatial flip is a Gather
// of the k² taps in reverse order (gradient: ScatterSum, whose gradient is Gather again).
func flipKernel(w *Node) *Node {
	d := w.Shape().Dimensions
	k, in, out := d[0], d[2], d[3]
	idx := make([][]int32, k*k)
	for t := range idx {
		idx[t] = []int32{int32(k*k - 1 - t)}
	}
	flipped := Gather(Reshape(w, k*k, in*out), Const(w.Graph(), idx))
	return TransposeAllDims(Reshape(flipped, k, k, in, out), 0, 1, 3, 2)
}
