package nn

import (
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// Dense is a fully connected layer on the last axis of x: x·W + b, with W of shape
// [in, out] in variable "weights" and b in "biases" of the current scope, initialised as
// PyTorch's nn.Linear.
func Dense(ctx *context.Context, x *Node, out int, bias bool) *Node {
	in := x.Shape().Dimensions[x.Rank()-1]
	bound := FanInBound(in)
	w := ctx.WithInitializer(UniformInit(ctx, bound)).
		VariableWithShape("weights", shapes.Make(x.DType(), in, out)).ValueGraph(x.Graph())
	y := MatMulLast(x, w)
	if bias {
		b := ctx.WithInitializer(UniformInit(ctx, bound)).
			VariableWithShape("biases", shapes.Make(x.DType(), out)).ValueGraph(x.Graph())
		y = Add(y, ExpandLeftToRank(b, y.Rank()))
	}
	return y
}
