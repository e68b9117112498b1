package dm

import (
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/dcbench/dcbench/dcbench/internal/parity"
	"github.com/dcbench/dcbench/dcbench/models"
)

// TestParityLoss checks Loss and its gradient w.r.t. the synthetic images against
// DatasetCondensation/main_DM.py's loop body on a given ConvNet (tools/parity/gen_dm.py), in
// float64, without augmentation.
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
			exec := context.MustNewExec(backend, ctx.Checked(false), func(ctx *context.Context, in []*Node) []*Node {
				real, parts := in[0], in[1:] // the classes' images as inputs: Slice's gradient needs Pad
				ctx.SetTraining(real.Graph(), true)
				embed := func(x *Node) *Node { return models.ConvNetEmbed(ctx, x) }
				loss := Loss(ctx, embed, nil, real, parts, joint)
				return append([]*Node{loss}, Gradient(loss, parts...)...)
			})
			syn := parity.ImagesToNHWC(synA)
			size := h * w * ch
			in := []any{tensors.FromFlatDataAndDimensions(parity.ImagesToNHWC(realA), realA.Shape[0], h, w, ch)}
			for i := 0; i < k; i++ {
				in = append(in, tensors.FromFlatDataAndDimensions(syn[i*ipc*size:(i+1)*ipc*size], ipc, h, w, ch))
			}
			out := exec.MustExec(in...)
			loss := []float64{tensors.ToScalar[float64](out[0])}
			var g []float64
			for _, o := range out[1:] {
				g = append(g, tensors.MustCopyFlatData[float64](o)...)
			}
			grad := parity.ImagesToNCHW(g, synA.Shape[0], h, w, ch)
			parity.Close(t, "loss", loss, c.Array(t, "loss").Data, 1e-9)
			parity.Close(t, "grad syn", grad, c.Array(t, "grad_syn").Data, 1e-9)
			t.Logf("loss max rel err %.2g, grad %.2g", parity.MaxRelErr(loss, c.Array(t, "loss").Data),
				parity.MaxRelErr(grad, c.Array(t, "grad_syn").Data))
		})
	}
}
