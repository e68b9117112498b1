package models

import (
	"fmt"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/dcbench/dcbench/dcbench/internal/catch"
)

// Probe builds the model once on a single zero image of the given size and returns the
// logits shape and the number of trainable parameters (batch-norm running statistics are
// not counted, as in PyTorch's parameters()). Graph-building panics come back as errors.
func Probe(backend backends.Backend, m *Model, h, w, c, numClasses int) (logits shapes.Shape, params int, err error) {
	err = catch.Run(func() {
		ctx := context.New()
		exec := context.MustNewExec(backend, ctx, func(ctx *context.Context, x *Node) *Node {
			return m.Logits(ctx, x, numClasses)
		})
		defer exec.Finalize()
		out := exec.MustExec(tensors.FromShape(shapes.Make(dtypes.Float32, 2, h, w, c)))[0]
		logits = out.Shape()
		for v := range ctx.IterVariables() {
			if v.Trainable && v.Shape().DType.IsFloat() {
				params += v.Shape().Size()
			}
		}
	})
	if err != nil {
		err = fmt.Errorf("model %s on %dx%dx%d: %w", m.Name, h, w, c, err)
	}
	return
}
