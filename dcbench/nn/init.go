package nn

import (
	"math"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// UniformInit returns an initializer drawing from U(-bound, bound) with the context's
// random number generator, the PyTorch default for Conv2d and Linear weights and biases
// (kaiming_uniform with a=√5 gives bound = 1/√fan_in), which the reference networks use.
func UniformInit(ctx *context.Context, bound float64) context.VariableInitializer {
	return func(g *Graph, shape shapes.Shape) *Node {
		u := ctx.RandomUniform(g, shape) // [0, 1)
		return AddScalar(MulScalar(u, 2*bound), -bound)
	}
}

// FanInBound is 1/√fanIn, the PyTorch default initialisation bound.
func FanInBound(fanIn int) float64 { return 1 / math.Sqrt(float64(max(fanIn, 1))) }

// ConstantInit initialises every element to value.
func ConstantInit(value float64) context.VariableInitializer {
	return func(g *Graph, shape shapes.Shape) *Node {
		return AddScalar(Zeros(g, shape), value)
	}
}
