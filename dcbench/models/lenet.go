package models

import (
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/dcbench/dcbench/dcbench/nn"
)

// LeNetEmbed is the feature extractor of the reference LeNet (DC networks.py): conv 5x5 (6,
// padding 2 for 1-channel images, 0 otherwise, bias) → ReLU → max-pool 2, conv 5x5 (16) →
// ReLU → max-pool 2, flatten, Linear → 120 → ReLU, Linear 120 → 84 → ReLU. The features are
// the 84 activations; Classifier (the reference's fc_3, 84 → classes) makes the logits.
//
// The first linear layer reads its input size from the feature map: 16·5·5 = 400 for 32x32
// and for 28x28 (padded to 32) as the reference, 16·13·13 = 2,704 for 64x64 (where the
// reference's fixed Linear(400, 120) would fail).
//
// Parameters for 32x32x3 and 10 classes: (3·6·25+6) + (6·16·25+16) + (400·120+120) +
// (120·84+84) + (84·10+10) = 456 + 2,416 + 48,120 + 10,164 + 850 = 62,006.
func LeNetEmbed(ctx *context.Context, images *Node) *Node {
	pad := 0
	if images.Shape().Dimensions[3] == 1 {
		pad = 2
	}
	x := nn.Conv2D(ctx.In("conv1"), images, nn.ConvConfig{Out: 6, Kernel: 5, Padding: pad, Bias: true})
	x = nn.MaxPool2D(nn.Relu(x), 2)
	x = nn.Conv2D(ctx.In("conv2"), x, nn.ConvConfig{Out: 16, Kernel: 5, Bias: true})
	x = flatten(nn.MaxPool2D(nn.Relu(x), 2))
	x = nn.Relu(nn.Dense(ctx.In("fc1"), x, 120, true))
	return nn.Relu(nn.Dense(ctx.In("fc2"), x, 84, true))
}

func init() {
	Register(&Model{Name: "lenet", Embed: LeNetEmbed,
		Description: "LeNet of the reference: 2×[conv5x5 6/16, ReLU, max-pool 2], linear 120, 84, classes"})
}
