package synth_test

import (
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck

	"github.com/dcbench/dcbench/datasets"
	"github.com/dcbench/dcbench/dcbench/condensers/synth"
	"github.com/dcbench/dcbench/dcbench/method"
)

// A toy synthesis method: each iteration pulls every class's images towards the mean of a
// fresh real batch of the class (loss ½Σ‖x − mean(real_c)‖²). A real method puts a network
// (freshly drawn with ReinitVariables after Materialize) and DSA into the same graph.
func Example() {
	condense := func(req method.Request) (*datasets.Dataset, error) {
		s, err := synth.New(req, synth.Options{Method: "toy", Iterations: 100, LR: 0.1, Momentum: 0.5})
		if err != nil {
			return nil, err
		}
		batch := s.RealBatchSize(32)
		h, w, c := s.ImageShape()
		k := s.NumClasses()
		step, err := context.NewExec(req.Backend, s.Context(), func(ctx *context.Context, real *Node) *Node {
			g := real.Graph()
			means := ReduceMean(Reshape(real, k, batch, h, w, c), 1) // [K, H, W, C]
			syn := make([]*Node, k)
			var loss *Node
			for i := range syn {
				syn[i] = s.ClassImages(g, i)
				mean := Reshape(SliceAxis(means, 0, AxisElem(i)), 1, h, w, c)
				diff := Sub(syn[i], mean)
				l := MulScalar(ReduceAllSum(Mul(diff, diff)), 0.5)
				if loss == nil {
					loss = l
				} else {
					loss = Add(loss, l)
				}
			}
			s.Update(loss, syn) // SGD with momentum on every class's images, in the graph
			return loss
		})
		if err != nil {
			return nil, err
		}
		defer step.Finalize()
		var buf []float32
		err = s.Run(func(it int) (float64, error) {
			if buf, err = s.RealBatch(it, batch, buf); err != nil {
				return 0, err
			}
			out, err := step.Exec(tensors.FromFlatDataAndDimensions(buf, k*batch, h, w, c))
			if err != nil {
				return 0, err
			}
			return float64(tensors.ToScalar[float32](out[0])), nil
		})
		if err != nil {
			return nil, err
		}
		return s.Dataset()
	}
	_ = condense
}
