package models

import (
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/dcbench/dcbench/dcbench/nn"
)

// ParamMLPWidth is the width of the MLP's two hidden layers (default 128, as the reference).
const ParamMLPWidth = "mlp_width"

// MLPEmbed flattens the images and applies two hidden layers (Linear → ReLU, width 128).
func MLPEmbed(ctx *context.Context, images *Node) *Node {
	width := context.GetParamOr(ctx, ParamMLPWidth, 128)
	x := Reshape(images, images.Shape().Dimensions[0], -1)
	x = nn.Relu(nn.Dense(ctx.In("fc1"), x, width, true))
	return nn.Relu(nn.Dense(ctx.In("fc2"), x, width, true))
}

// MLP returns the logits of the reference MLP: input → 128 → 128 → classes, ReLU.
func MLP(ctx *context.Context, images *Node, numClasses int) *Node {
	return Classifier(ctx, MLPEmbed(ctx, images), numClasses)
}
