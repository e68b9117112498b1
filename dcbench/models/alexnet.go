package models

import (
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/dcbench/dcbench/dcbench/nn"
)

// ParamAlexNetNorm is the normalisation after each AlexNet convolution: "none" (default, the
// reference's AlexNet) or "batchnorm" (its AlexNetBN); any name of nn.Norms is accepted.
const ParamAlexNetNorm = "alexnet_norm"

// AlexNetEmbed is the feature extractor of the reference's small AlexNet (DC networks.py):
// conv 5x5 (128, padding 4 for 1-channel images, 2 otherwise) → [norm] → ReLU → max-pool 2,
// conv 5x5 (192, padding 2) → [norm] → ReLU → max-pool 2, conv 3x3 (256) → [norm] → ReLU,
// conv 3x3 (192) → [norm] → ReLU, conv 3x3 (192) → [norm] → ReLU → max-pool 2, flattened.
// All convolutions have a bias; the norm is read from ParamAlexNetNorm. Classifier (the
// reference's fc) makes the logits.
//
// The flatten size is read from the feature map: 192·4·4 = 3,072 for 32x32 and for 28x28
// (padded to 32) as the reference; 192·8·8 = 12,288 for 64x64, where the reference's fixed
// Linear(3072, classes) would fail.
//
// Parameters for 32x32x3 and 10 classes: (3·128·25+128) + (128·192·25+192) +
// (192·256·9+256) + (256·192·9+192) + (192·192·9+192) + (3,072·10+10) = 9,728 + 614,592 +
// 442,624 + 442,560 + 331,968 + 30,730 = 1,872,202; AlexNetBN adds 2·(128+192+256+192+192) =
// 1,920 for 1,874,122.
func AlexNetEmbed(ctx *context.Context, images *Node) *Node {
	norm := context.GetParamOr(ctx, ParamAlexNetNorm, "none")
	pad := 2
	if images.Shape().Dimensions[3] == 1 {
		pad = 4
	}
	layers := []struct {
		out, kernel, padding int
		pool                 bool
	}{
		{128, 5, pad, true},
		{192, 5, 2, true},
		{256, 3, 1, false},
		{192, 3, 1, false},
		{192, 3, 1, true},
	}
	x := images
	for i, l := range layers {
		x = nn.Conv2D(ctx.Inf("conv%d", i), x, nn.ConvConfig{Out: l.out, Kernel: l.kernel, Padding: l.padding, Bias: true})
		x = nn.Relu(must(nn.Normalize(ctx.Inf("norm%d", i), norm, x)))
		if l.pool {
			x = nn.MaxPool2D(x, 2)
		}
	}
	return flatten(x)
}

func init() {
	Register(&Model{Name: "alexnet", Embed: AlexNetEmbed,
		Description: "AlexNet of the reference (32x32): conv5x5 128, 192, conv3x3 256, 192, 192, ReLU, 3 max-pools, linear"})
	Register(&Model{Name: "alexnetbn", Embed: AlexNetEmbed, Params: map[string]any{ParamAlexNetNorm: "batchnorm"},
		Description: "AlexNet with batch norm after each convolution (the reference's AlexNetBN)"})
}
