package models

import (
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/dcbench/dcbench/dcbench/nn"
)

// randomImages returns n fixed pseudo-random NHWC images with values in [-1, 1).
func randomImages(seed uint64, n, h, w, c int) *tensors.Tensor {
	r := rand.New(rand.NewPCG(seed, 7))
	data := make([]float32, n*h*w*c)
	for i := range data {
		data[i] = float32(2*r.Float64() - 1)
	}
	return tensors.FromFlatDataAndDimensions(data, n, h, w, c)
}

// sgdLosses trains m with plain SGD (learning rate lr) on the fixed batch (images, labels)
// for steps steps, in training mode, and returns the loss before each step and after the
// last one (steps+1 values). The step graph computes the cross-entropy, its gradient with
// respect to every trainable variable, and the update v ← v − lr·∂loss/∂v.
func sgdLosses(t *testing.T, m *Model, images, labels *tensors.Tensor, numClasses, steps int, lr float64) []float64 {
	t.Helper()
	ctx := context.New()
	if err := ctx.SetRNGStateFromSeed(42); err != nil {
		t.Fatal(err)
	}
	exec, err := context.NewExec(backend, ctx, func(ctx *context.Context, x, y *Node) *Node {
		g := x.Graph()
		ctx.SetTraining(g, true)
		loss := nn.CrossEntropy(m.Logits(ctx, x, numClasses), y)
		var vars []*context.Variable
		var values []*Node
		for v := range ctx.IterVariables() {
			if v.Trainable && v.DType().IsFloat() && v.InUseByGraph(g) {
				vars = append(vars, v)
				values = append(values, v.ValueGraph(g))
			}
		}
		grads := Gradient(loss, values...)
		for i, v := range vars {
			v.SetValueGraph(Sub(values[i], MulScalar(grads[i], lr)))
		}
		return loss
	})
	if err != nil {
		t.Fatal(err)
	}
	defer exec.Finalize()
	losses := make([]float64, 0, steps+1)
	for i := 0; i <= steps; i++ {
		out, err := exec.Exec(images, labels)
		if err != nil {
			t.Fatal(err)
		}
		losses = append(losses, float64(tensors.ToScalar[float32](out[0])))
	}
	return losses
}

var _ = dtypes.Float32
