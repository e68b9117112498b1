package models

import (
	"fmt"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/dcbench/dcbench/dcbench/internal/parity"
)

func tensorOf(a parity.Array) *tensors.Tensor {
	return tensors.FromFlatDataAndDimensions(append([]float64(nil), a.Data...), a.Shape...)
}

func tensorData(t *tensors.Tensor) []float64 {
	out := make([]float64, t.Size())
	tensors.ConstFlatData(t, func(flat []float64) { copy(out, flat) })
	return out
}

// convNetFromFixture returns a float64 context holding the case's ConvNet weights in
// dcbench's layouts, and the NHWC input.
func convNetFromFixture(t *testing.T, c *parity.Case) (*context.Context, *tensors.Tensor, int, int) {
	t.Helper()
	depth, width := c.Int(t, "depth"), c.Int(t, "width")
	ctx := context.New().Checked(false)
	ctx.SetParams(map[string]any{
		ParamConvNetDepth: depth, ParamConvNetWidth: width, ParamConvNetNorm: c.String(t, "norm"),
		ParamConvNetActivation: c.String(t, "act"), ParamConvNetPooling: c.String(t, "pooling"),
	})
	for d := 0; d < depth; d++ {
		scope := ctx.In(fmt.Sprintf("conv%d", d))
		scope.VariableWithValue("weights", tensorOf(parity.OIHWToHWIO(c.Array(t, fmt.Sprintf("conv%d.weight", d)))))
		scope.VariableWithValue("biases", tensorOf(c.Array(t, fmt.Sprintf("conv%d.bias", d))))
		if c.String(t, "norm") != "none" {
			ns := ctx.In(fmt.Sprintf("norm%d", d))
			gain, offset := c.Array(t, fmt.Sprintf("norm%d.weight", d)), c.Array(t, fmt.Sprintf("norm%d.bias", d))
			if len(gain.Shape) == 3 { // layernorm's [C, H, W] affine, ours [H, W, C]
				chw := func(a parity.Array) parity.Array {
					b := parity.NCHWToNHWC(parity.Array{Shape: append([]int{1}, a.Shape...), Data: a.Data})
					return parity.Array{Shape: b.Shape[1:], Data: b.Data}
				}
				gain, offset = chw(gain), chw(offset)
			}
			ns.VariableWithValue("gain", tensorOf(gain))
			ns.VariableWithValue("offset", tensorOf(offset))
		}
	}
	side := 32 // 28x28 MNIST is padded to 32 by the first conv
	if c.String(t, "pooling") != "none" {
		side >>= depth
	}
	cls := ctx.In("classifier")
	cls.VariableWithValue("weights", tensorOf(parity.LinearCHWToDenseHWC(c.Array(t, "classifier.weight"), width, side, side)))
	cls.VariableWithValue("biases", tensorOf(c.Array(t, "classifier.bias")))
	return ctx, tensorOf(parity.NCHWToNHWC(c.Array(t, "x"))), side, width
}

// TestConvNetParity checks the logits and embed of models.ConvNet against the reference
// DatasetCondensation ConvNet in float64 (fixture convnet, tools/parity/gen_models.py), in
// training mode (batchnorm on batch statistics), and batchnorm's running statistics.
func TestConvNetParity(t *testing.T) {
	const tol = 1e-9
	fx := parity.Load(t, "convnet")
	for i := range fx.Cases {
		c := &fx.Cases[i]
		t.Run(c.Name, func(t *testing.T) {
			ctx, x, side, width := convNetFromFixture(t, c)
			k := c.Int(t, "classes")
			training := true
			run := func(fn func(ctx *context.Context, x *Node) *Node) []float64 {
				exec, err := context.NewExec(backend, ctx, func(ctx *context.Context, x *Node) *Node {
					ctx.SetTraining(x.Graph(), training)
					return fn(ctx, x)
				})
				if err != nil {
					t.Fatal(err)
				}
				out, err := exec.Exec(x)
				if err != nil {
					t.Fatal(err)
				}
				return tensorData(out[0])
			}
			logits := run(func(ctx *context.Context, x *Node) *Node { return ConvNet(ctx, x, k) })
			embed := run(ConvNetEmbed)
			want := c.Array(t, "logits")
			parity.Close(t, "logits", logits, want.Data, tol)
			t.Logf("logits max rel err %.3g, embed %.3g", parity.MaxRelErr(logits, want.Data),
				parity.MaxRelErr(embed, parity.FlatCHWToHWC(c.Array(t, "embed"), width, side, side).Data))
			parity.Close(t, "embed", embed, parity.FlatCHWToHWC(c.Array(t, "embed"), width, side, side).Data, tol)
			if c.String(t, "norm") == "batchnorm" {
				for d := 0; d < c.Int(t, "depth"); d++ {
					for _, v := range []string{"running_mean", "running_var"} {
						got := ctx.GetVariableByScopeAndName(fmt.Sprintf("/norm%d", d), v)
						if got == nil {
							t.Fatalf("no variable norm%d/%s", d, v)
						}
						parity.Close(t, fmt.Sprintf("norm%d.%s", d, v), tensorData(got.MustValue()),
							c.Array(t, fmt.Sprintf("norm%d.%s", d, v)).Data, tol)
					}
				}
			}
			// Evaluation mode, after the two training passes (batchnorm: running statistics).
			training = false
			eval := run(func(ctx *context.Context, x *Node) *Node { return ConvNet(ctx, x, k) })
			parity.Close(t, "logits in evaluation mode", eval, c.Array(t, "logits_eval").Data, tol)
		})
	}
}

// TestConvNetDefaultSetting checks DefaultConvNet against the reference's
// get_default_convnet_setting (fixture convnet_default), which get_network uses for "ConvNet".
func TestConvNetDefaultSetting(t *testing.T) {
	c := &parity.Load(t, "convnet_default").Cases[0]
	want := ConvNetConfig{Width: c.Int(t, "width"), Depth: c.Int(t, "depth"), Norm: c.String(t, "norm"),
		Activation: c.String(t, "act"), Pool: c.String(t, "pooling")}
	if DefaultConvNet != want {
		t.Errorf("DefaultConvNet = %+v, reference %+v", DefaultConvNet, want)
	}
	m, err := Get("convnet")
	if err != nil {
		t.Fatal(err)
	}
	if got := ConvNetConfigFrom(m.Scope(context.New())); got != want {
		t.Errorf("registry convnet = %+v, reference %+v", got, want)
	}
}
