package models

import (
	"math"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// This file holds small helpers shared by the model zoo (ResNet, ViT, LeNet, AlexNet, VGG).

// flatten reshapes [N, ...] to [N, F]. The zoo's classifiers read F from the actual feature
// map, so a network whose reference hard-codes the flatten size for 32x32 (LeNet, AlexNet,
// VGG) also builds for other image sizes.
func flatten(x *Node) *Node { return Reshape(x, x.Shape().Dimensions[0], -1) }

// dropout zeroes each element of x with probability rate and scales the others by
// 1/(1-rate) while ctx.IsTraining, as PyTorch's nn.Dropout; otherwise it returns x. The mask
// comes from ctx.RandomUniform and carries no gradient, so every derivative order is defined.
func dropout(ctx *context.Context, x *Node, rate float64) *Node {
	g := x.Graph()
	if rate <= 0 || !ctx.IsTraining(g) {
		return x
	}
	if rate >= 1 {
		return ZerosLike(x)
	}
	u := ctx.RandomUniform(g, x.Shape())
	keep := ConvertDType(GreaterOrEqual(u, Scalar(g, x.DType(), rate)), x.DType())
	return Mul(x, StopGradient(MulScalar(keep, 1/(1-rate))))
}

// gelu is the exact GELU, x·Φ(x) = x/2·(1 + erf(x/√2)), PyTorch's nn.GELU default (nn's
// "gelu" activation is the tanh approximation). Erf's gradient is 2/√π·exp(-x²), so all
// derivative orders exist.
func gelu(x *Node) *Node {
	return Mul(MulScalar(x, 0.5), AddScalar(Erf(MulScalar(x, 1/math.Sqrt2)), 1))
}

// stableSoftmax is the softmax over the last axis, shifted by a max that carries no gradient
// (ReduceMax's gradient has no higher orders on every backend).
func stableSoftmax(x *Node) *Node {
	last := x.Rank() - 1
	e := Exp(Sub(x, StopGradient(ReduceAndKeep(x, ReduceMax, last))))
	return Div(e, ReduceAndKeep(e, ReduceSum, last))
}
