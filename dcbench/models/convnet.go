package models

import (
	"fmt"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/dcbench/dcbench/dcbench/nn"
)

// Context parameters of ConvNet, with the reference defaults.
const (
	// ParamConvNetWidth is the number of channels of every convolution (default 128).
	ParamConvNetWidth = "convnet_width"
	// ParamConvNetDepth is the number of conv blocks, 1 to 4 (default 3; 4 for 64x64 TinyImageNet).
	ParamConvNetDepth = "convnet_depth"
	// ParamConvNetNorm is the normalisation: instancenorm (default), batchnorm, layernorm, groupnorm, none.
	ParamConvNetNorm = "convnet_norm"
	// ParamConvNetActivation is the activation: relu (default), sigmoid, leakyrelu, swish.
	ParamConvNetActivation = "convnet_activation"
	// ParamConvNetPooling is the pooling: avgpooling (default), maxpooling, none.
	ParamConvNetPooling = "convnet_pooling"
)

// ConvNetConfig is the architecture of a ConvNet, read from context params by
// ConvNetConfigFrom.
type ConvNetConfig struct {
	Width, Depth           int
	Norm, Activation, Pool string
}

// DefaultConvNet is the reference ConvNet-3: width 128, depth 3, instance norm, ReLU,
// average pooling.
var DefaultConvNet = ConvNetConfig{Width: 128, Depth: 3, Norm: "instancenorm", Activation: "relu", Pool: "avgpooling"}

// ConvNetConfigFrom reads the ConvNet params of ctx, with DefaultConvNet for those unset.
func ConvNetConfigFrom(ctx *context.Context) ConvNetConfig {
	c := DefaultConvNet
	c.Width = context.GetParamOr(ctx, ParamConvNetWidth, c.Width)
	c.Depth = context.GetParamOr(ctx, ParamConvNetDepth, c.Depth)
	c.Norm = context.GetParamOr(ctx, ParamConvNetNorm, c.Norm)
	c.Activation = context.GetParamOr(ctx, ParamConvNetActivation, c.Activation)
	c.Pool = context.GetParamOr(ctx, ParamConvNetPooling, c.Pool)
	return c
}

// ConvNetEmbed is the feature extractor of the reference ConvNet: Depth blocks of
// [conv 3x3 (Width channels, padding 1; padding 3 in the first block for 1-channel images,
// as the reference) → norm → activation → 2x2 pooling], flattened to [N, F]. DM and
// K-Center use these features.
func ConvNetEmbed(ctx *context.Context, images *Node) *Node {
	cfg := ConvNetConfigFrom(ctx)
	if cfg.Depth < 1 || cfg.Depth > 6 {
		panic(fmt.Sprintf("models.ConvNet: depth %d out of range 1..6", cfg.Depth))
	}
	x := images
	channels := x.Shape().Dimensions[3]
	for d := 0; d < cfg.Depth; d++ {
		pad := 1
		if d == 0 && channels == 1 {
			pad = 3
		}
		x = nn.Conv2D(ctx.Inf("conv%d", d), x, nn.ConvConfig{Out: cfg.Width, Kernel: 3, Padding: pad, Stride: 1, Bias: true})
		x = must(nn.Normalize(ctx.Inf("norm%d", d), cfg.Norm, x))
		x = must(nn.Activate(cfg.Activation, x))
		x = must(nn.Pool(cfg.Pool, x))
	}
	return Reshape(x, x.Shape().Dimensions[0], -1)
}

// Classifier is the linear layer from features to class logits, in scope "classifier".
func Classifier(ctx *context.Context, features *Node, numClasses int) *Node {
	return nn.Dense(ctx.In("classifier"), features, numClasses, true)
}

// ConvNet returns the logits of the reference ConvNet (320,010 parameters for CIFAR-10).
func ConvNet(ctx *context.Context, images *Node, numClasses int) *Node {
	return Classifier(ctx, ConvNetEmbed(ctx, images), numClasses)
}

func must(x *Node, err error) *Node {
	if err != nil {
		panic(err)
	}
	return x
}
