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
