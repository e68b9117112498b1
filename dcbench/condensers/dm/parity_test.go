package dm

import (
	"fmt"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/dcbench/dcbench/dcbench/augment"
	"github.com/dcbench/dcbench/dcbench/internal/parity"
	"github.com/dcbench/dcbench/dcbench/models"
)

// replayDraw returns class cl's recorded DSA draw (arrays draw.<cl>.<Field>, one value each)
// as a batch-1 augment.Params; fields the draw lacks (ops that did not run) get identity values.
func replayDraw(t *testing.T, g *Graph, c *parity.Case, dsa *augment.DSA, cl int) *augment.Params {
	t.Helper()
	field := func(name string, identity float64) *Node {
		if a, ok := c.Arrays[fmt.Sprintf("draw.%d.%s", cl, name)]; ok {
			return Const(g, []float64{a.Data[0]})
		}
		return Const(g, []float64{identity})
	}
	ops := dsa.Ops()
	op := ops[int(c.Array(t, fmt.Sprintf("draw.%d.op_index", cl)).Data[0])]
	return augment.ParamsFromFields(Const(g, int32(op)), field)
}

// TestParityLoss checks Loss (LossWith) and its gradient w.r.t. the synthetic images against
// DatasetCondensation/main_DM.py's loop body on a given ConvNet (tools/parity/gen_dm.py), in
// float64, without augmentation and with DSA (the reference's recorded siamese draw of each
// class replayed on augment.DSA).
func TestParityLoss(t *testing.T) {
	f := parity.Load(t, "dm")
	for _, c := range f.Cases {
		t.Run(c.Name, func(t *testing.T) {
			k, ipc := c.Int(t, "classes"), c.Int(t, "ipc")
			realA, synA := c.Array(t, "real"), c.Array(t, "syn")
			ch, h, w := synA.Shape[1], synA.Shape[2], synA.Shape[3]
			ctx := context.New()
			ctx.SetParam(models.ParamConvNetWidth, c.Int(t, "width"))
			ctx.SetParam(models.ParamConvNetDepth, c.Int(t, "depth"))
			ctx.SetParam(models.ParamConvNetNorm, c.String(t, "norm"))
			ctx.SetParam(models.ParamConvNetPooling, c.String(t, "pooling"))
			if n := parity.SetConvNetFeatures(t, ctx, &c, "net."); n != c.Int(t, "depth") {
				t.Fatalf("%d conv blocks in the fixture, depth %d", n, c.Int(t, "depth"))
			}
			joint := c.String(t, "norm") == "batchnorm"
			var dsa *augment.DSA
			if strategy := c.String(t, "dsa"); strategy != "" {
				cfg := augment.DefaultConfig()
				cfg.Strategy = strategy
				var err error
				if dsa, err = augment.NewDSA(cfg); err != nil {
					t.Fatal(err)
				}
			}
			exec := context.MustNewExec(backend, ctx.Checked(false), func(ctx *context.Context, in []*Node) []*Node {
				real, parts := in[0], in[1:] // the classes' images as inputs: Slice's gradient needs Pad
				ctx.SetTraining(real.Graph(), true)
				embed := func(x *Node) *Node { return models.ConvNetEmbed(ctx, x) }
				var aug Augmenter
				if dsa != nil { // the reference's draw of each class, shared by its real and synthetic batch
					aug = func(cl int, r, s *Node) (*Node, *Node) {
						p := replayDraw(t, real.Graph(), &c, dsa, cl)
						return dsa.Apply(p, r), dsa.Apply(p, s)
					}
				}
				loss := LossWith(embed, aug, real, parts, joint)
				return append([]*Node{loss}, Gradient(loss, parts...)...)
			})
			syn := parity.NCHWToNHWC(synA).Data
			size := h * w * ch
			in := []any{tensors.FromFlatDataAndDimensions(parity.NCHWToNHWC(realA).Data, realA.Shape[0], h, w, ch)}
			for i := 0; i < k; i++ {
				in = append(in, tensors.FromFlatDataAndDimensions(syn[i*ipc*size:(i+1)*ipc*size], ipc, h, w, ch))
			}
			out := exec.MustExec(in...)
			loss := []float64{tensors.ToScalar[float64](out[0])}
			var g []float64
			for _, o := range out[1:] {
				g = append(g, tensors.MustCopyFlatData[float64](o)...)
			}
			grad := parity.NHWCToNCHW(parity.Array{Shape: []int{synA.Shape[0], h, w, ch}, Data: g}).Data
			parity.Close(t, "loss", loss, c.Array(t, "loss").Data, 1e-9)
			parity.Close(t, "grad syn", grad, c.Array(t, "grad_syn").Data, 1e-9)
			t.Logf("loss max rel err %.2g, grad %.2g", parity.MaxRelErr(loss, c.Array(t, "loss").Data),
				parity.MaxRelErr(grad, c.Array(t, "grad_syn").Data))
		})
	}
}
