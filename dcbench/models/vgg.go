package models

import (
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/dcbench/dcbench/dcbench/nn"
)

// ParamVGGNorm is the normalisation of the VGGs: "instancenorm" (default: GroupNorm(C, C,
// affine=True), the reference VGG's default) or "batchnorm" (the reference's VGG11BN); any
// name of nn.Norms is accepted.
const ParamVGGNorm = "vgg_norm"

// VGG11Layers is the reference's VGG11 configuration: output channels of the 3x3
// convolutions, with 0 for a 2x2 max-pool ('M').
var VGG11Layers = []int{64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0}

// VGGEmbed returns the feature extractor of the reference VGG (DC networks.py) for the given
// layers (see VGG11Layers): each conv 3x3 (padding 1; padding 3 for the first layer of
// 1-channel images, so 28x28 grows to 32x32; bias) → norm (ParamVGGNorm) → ReLU, each 0 a
// max-pool 2; flattened (the reference's final AvgPool2d(1, 1) is the identity). Classifier
// (the reference's Linear(512, classes)) makes the logits.
//
// The flatten size is read from the feature map: 512 for 32x32 and 28x28 (1x1 maps) as the
// reference, 512·2·2 = 2,048 for 64x64 (where the reference's Linear(512) would fail).
//
// Parameters of VGG11 for 32x32x3 and 10 classes: convolutions (3·64+64·128+128·256+
// 256·256+256·512+3·512·512)·9 + (64+128+2·256+4·512) = 9,217,728 + 2,752 = 9,220,480;
// norms 2·2,752 = 5,504; linear 512·10+10 = 5,130: 9,231,114 (instance or batch norm).
func VGGEmbed(layers []int) func(ctx *context.Context, images *Node) *Node {
	return func(ctx *context.Context, images *Node) *Node {
		norm := context.GetParamOr(ctx, ParamVGGNorm, "instancenorm")
		channels := images.Shape().Dimensions[3]
		x := images
		for i, out := range layers {
			if out == 0 {
				x = nn.MaxPool2D(x, 2)
				continue
			}
			pad := 1
			if i == 0 && channels == 1 {
				pad = 3
			}
			x = nn.Conv2D(ctx.Inf("conv%d", i), x, nn.ConvConfig{Out: out, Kernel: 3, Padding: pad, Bias: true})
			x = nn.Relu(must(nn.Normalize(ctx.Inf("norm%d", i), norm, x)))
		}
		return flatten(x)
	}
}

func init() {
	Register(&Model{Name: "vgg11", Embed: VGGEmbed(VGG11Layers),
		Description: "VGG11 of the reference: 8 conv3x3 (64-512) with instance norm and ReLU, 5 max-pools, linear"})
	Register(&Model{Name: "vgg11bn", Embed: VGGEmbed(VGG11Layers), Params: map[string]any{ParamVGGNorm: "batchnorm"},
		Description: "VGG11 with batch norm (the reference's VGG11BN)"})
}
