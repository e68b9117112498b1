package nn

import (
	"fmt"
	"strings"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// Norms lists the normalisation names accepted by Normalize.
var Norms = []string{"instancenorm", "batchnorm", "layernorm", "groupnorm", "none"}

// NormEpsilon is the variance epsilon of every normalisation, as PyTorch's default.
const NormEpsilon = 1e-5

// BatchNormMomentum is the weight of the current batch in the running statistics, as
// PyTorch's default (0.1).
const BatchNormMomentum = 0.1

// standardize returns (x - mean)/sqrt(var + eps) with mean and (biased) variance over axes.
func standardize(x *Node, axes ...int) *Node {
	centred, inv := centreAndScale(x, axes)
	return Mul(centred, inv)
}

// centreAndScale returns x − mean and 1/sqrt(var + eps), both with the statistics over axes
// (kept as axes of size 1). Multiplying by the small inverse, rather than dividing by the
// broadcast deviation, keeps the gradient's work on x-sized tensors to a few products.
// 1/sqrt is written as Div(1, Sqrt) because gomlx's Rsqrt has no gradient.
func centreAndScale(x *Node, axes []int) (centred, inv *Node) {
	mean := ReduceAndKeep(x, ReduceMean, axes...)
	centred = Sub(x, mean)
	variance := ReduceAndKeep(Mul(centred, centred), ReduceMean, axes...)
	return centred, Reciprocal(Sqrt(AddScalar(variance, NormEpsilon)))
}

// standardizeAffine is standardize followed by the context's per-channel (last axis) gain
// and offset (see normAffine).
func standardizeAffine(ctx *context.Context, x *Node, axes ...int) *Node {
	gain, offset := channelAffineParams(ctx, x)
	return normAffine(x, gain, offset, axes...)
}

// normAffine is standardize(x, axes) times gain plus offset (both [C], C the last axis),
// with the gain folded into the small inverse deviation: one product and one sum over x.
func normAffine(x, gain, offset *Node, axes ...int) *Node {
	centred, inv := centreAndScale(x, axes)
	return Add(Mul(centred, Mul(inv, ExpandLeftToRank(gain, x.Rank()))), ExpandLeftToRank(offset, x.Rank()))
}

// channelAffineParams are the per-channel "gain" (init 1) and "offset" (init 0) of x's last
// axis.
func channelAffineParams(ctx *context.Context, x *Node) (gain, offset *Node) {
	c := x.Shape().Dimensions[x.Rank()-1]
	gain = ctx.WithInitializer(ConstantInit(1)).VariableWithShape("gain", shapes.Make(x.DType(), c)).ValueGraph(x.Graph())
	offset = ctx.WithInitializer(ConstantInit(0)).VariableWithShape("offset", shapes.Make(x.DType(), c)).ValueGraph(x.Graph())
	return gain, offset
}

// channelAffine multiplies NHWC (or NC) x by a per-channel "gain" (init 1) and adds a
// per-channel "offset" (init 0).
func channelAffine(ctx *context.Context, x *Node) *Node {
	gain, offset := channelAffineParams(ctx, x)
	return Add(Mul(x, ExpandLeftToRank(gain, x.Rank())), ExpandLeftToRank(offset, x.Rank()))
}

// InstanceNorm normalises each channel of each NHWC sample over height and width, with a
// per-channel affine transform: PyTorch's GroupNorm(C, C, affine=True), the reference
// ConvNet's default "instancenorm".
func InstanceNorm(ctx *context.Context, x *Node) *Node {
	return standardizeAffine(ctx, x, 1, 2)
}

// GroupNorm normalises NHWC x per sample over groups of channels (and height and width),
// with a per-channel affine transform, as PyTorch's GroupNorm(groups, C).
func GroupNorm(ctx *context.Context, x *Node, groups int) *Node {
	d := x.Shape().Dimensions
	if d[3]%groups != 0 {
		panic(fmt.Sprintf("nn.GroupNorm: %d channels not divisible by %d groups", d[3], groups))
	}
	g := Reshape(x, d[0], d[1], d[2], groups, d[3]/groups)
	return channelAffine(ctx, Reshape(standardize(g, 1, 2, 4), d...))
}

// LayerNorm normalises each sample over all its non-batch axes, with an elementwise affine
// transform of that shape (PyTorch's LayerNorm(x.shape[1:]), the reference ConvNet's
// "layernorm").
func LayerNorm(ctx *context.Context, x *Node) *Node {
	axes := make([]int, 0, x.Rank()-1)
	for i := 1; i < x.Rank(); i++ {
		axes = append(axes, i)
	}
	y := standardize(x, axes...)
	shape := shapes.Make(x.DType(), x.Shape().Dimensions[1:]...)
	gain := ctx.WithInitializer(ConstantInit(1)).VariableWithShape("gain", shape).ValueGraph(x.Graph())
	offset := ctx.WithInitializer(ConstantInit(0)).VariableWithShape("offset", shape).ValueGraph(x.Graph())
	return Add(Mul(y, ExpandDims(gain, 0)), ExpandDims(offset, 0))
}

// LastAxisLayerNorm normalises over the last axis only, with a per-feature affine transform:
// the LayerNorm of transformers.
func LastAxisLayerNorm(ctx *context.Context, x *Node) *Node {
	return standardizeAffine(ctx, x, x.Rank()-1)
}

// BatchNorm normalises over the batch (and spatial axes) with the batch statistics while
// training (ctx.IsTraining) and with running statistics otherwise, as PyTorch's
// BatchNorm2d/1d: running mean and unbiased variance updated with momentum
// BatchNormMomentum, kept in the non-trainable variables "running_mean"/"running_var".
func BatchNorm(ctx *context.Context, x *Node) *Node {
	g := x.Graph()
	c := x.Shape().Dimensions[x.Rank()-1]
	axes := make([]int, 0, x.Rank()-1)
	count := 1
	for i := 0; i < x.Rank()-1; i++ {
		axes = append(axes, i)
		count *= x.Shape().Dimensions[i]
	}
	cs := shapes.Make(x.DType(), c)
	runMeanVar := ctx.WithInitializer(ConstantInit(0)).VariableWithShape("running_mean", cs).SetTrainable(false)
	runVarVar := ctx.WithInitializer(ConstantInit(1)).VariableWithShape("running_var", cs).SetTrainable(false)
	var y *Node
	if ctx.IsTraining(g) {
		mean := ReduceAndKeep(x, ReduceMean, axes...)
		centred := Sub(x, mean)
		variance := ReduceAndKeep(Mul(centred, centred), ReduceMean, axes...)
		y = Div(centred, Sqrt(AddScalar(variance, NormEpsilon)))
		m := StopGradient(Reshape(mean, c))
		unbiased := StopGradient(MulScalar(Reshape(variance, c), float64(count)/float64(max(count-1, 1))))
		runMeanVar.SetValueGraph(Add(MulScalar(runMeanVar.ValueGraph(g), 1-BatchNormMomentum), MulScalar(m, BatchNormMomentum)))
		runVarVar.SetValueGraph(Add(MulScalar(runVarVar.ValueGraph(g), 1-BatchNormMomentum), MulScalar(unbiased, BatchNormMomentum)))
	} else {
		mean := ExpandLeftToRank(runMeanVar.ValueGraph(g), x.Rank())
		variance := ExpandLeftToRank(runVarVar.ValueGraph(g), x.Rank())
		y = Div(Sub(x, mean), Sqrt(AddScalar(variance, NormEpsilon)))
	}
	return channelAffine(ctx, y)
}

// Normalize applies the normalisation called name (see Norms) to NHWC x; "groupnorm" uses 4
// groups, as the reference ConvNet.
func Normalize(ctx *context.Context, name string, x *Node) (*Node, error) {
	switch strings.ToLower(name) {
	case "instancenorm", "instance":
		return InstanceNorm(ctx, x), nil
	case "batchnorm", "batch":
		return BatchNorm(ctx, x), nil
	case "layernorm", "layer":
		return LayerNorm(ctx, x), nil
	case "groupnorm", "group":
		return GroupNorm(ctx, x, 4), nil
	case "none", "nonorm", "":
		return x, nil
	}
	return nil, fmt.Errorf("unknown normalisation %q (valid: %s)", name, strings.Join(Norms, ", "))
}
