package augment

import (
	"strings"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/dcbench/dcbench/dcbench/internal/parity"
)

// replayParams builds dcbench Params from a fixture case's recorded reference draws: per
// sample ([n]), or, for siamese cases, sample 0's draw as one shared [1] draw (the reference
// copies it to the whole batch). Parameters of ops that did not run get identity values.
func replayParams(t *testing.T, g *Graph, c *parity.Case, a *DSA, n int) *Params {
	t.Helper()
	siamese := c.Params["siamese"] == true
	field := func(name string, identity float64) *Node {
		arr, ok := c.Arrays["draw."+name]
		if !ok {
			return Const(g, []float64{identity})
		}
		if siamese {
			return Const(g, arr.Data[:1])
		}
		if len(arr.Data) != n {
			t.Fatalf("draw.%s has %d values for %d samples", name, len(arr.Data), n)
		}
		return Const(g, append([]float64(nil), arr.Data...))
	}
	ops := a.Ops()
	op := ops[0]
	if arr, ok := c.Arrays["draw.op_index"]; ok {
		op = ops[int(arr.Data[0])]
	}
	return ParamsFromFields(Const(g, int32(op)), field)
}

// drawsDiffer reports whether some recorded draw of the case differs between samples.
func drawsDiffer(c *parity.Case) bool {
	for name, a := range c.Arrays {
		if !strings.HasPrefix(name, "draw.") || name == "draw.op_index" {
			continue
		}
		for _, v := range a.Data {
			if v != a.Data[0] {
				return true
			}
		}
	}
	return false
}

// TestDSAParity replays the reference DiffAugment's recorded draws (fixtures dsa_ops and
// dsa_diffaugment, tools/parity/gen_dsa.py) on augment.DSA with the default configuration, in
// float64: the augmented images and the gradient of <out, v> w.r.t. the input, for every op
// alone and for the default strategy, per sample and siamese (one draw for the batch).
func TestDSAParity(t *testing.T) {
	const tol = 1e-9
	for _, name := range []string{"dsa_ops", "dsa_diffaugment"} {
		fx := parity.Load(t, name)
		for i := range fx.Cases {
			c := &fx.Cases[i]
			t.Run(name+"/"+c.Name, func(t *testing.T) {
				cfg := DefaultConfig()
				cfg.Strategy = c.String(t, "strategy")
				if c.String(t, "aug_mode") == "M" {
					cfg.Mode = AllOpsInTurn
				}
				a, err := NewDSA(cfg)
				if err != nil {
					t.Fatal(err)
				}
				x := parity.NCHWToNHWC(c.Array(t, "x"))
				v := parity.NCHWToNHWC(c.Array(t, "v"))
				n := x.Shape[0]
				outs := MustExecOnceN(backend, func(x, v *Node) []*Node {
					out := a.Apply(replayParams(t, x.Graph(), c, a, n), x)
					return []*Node{out, Gradient(ReduceAllSum(Mul(out, v)), x)[0]}
				}, tensors.FromFlatDataAndDimensions(x.Data, x.Shape...), tensors.FromFlatDataAndDimensions(v.Data, v.Shape...))
				got := tensors.MustCopyFlatData[float64](outs[0])
				grad := tensors.MustCopyFlatData[float64](outs[1])
				want := parity.NCHWToNHWC(c.Array(t, "out")).Data
				wantGrad := parity.NCHWToNHWC(c.Array(t, "grad_x")).Data
				t.Logf("out max rel err %.3g, grad %.3g", parity.MaxRelErr(got, want), parity.MaxRelErr(grad, wantGrad))
				parity.Close(t, "augmented images", got, want, tol)
				parity.Close(t, "gradient w.r.t. the images", grad, wantGrad, tol)
				if c.Params["siamese"] == true && drawsDiffer(c) {
					// Per batch: the reference applied sample 0's draw to every sample, so
					// replaying each sample's own (different) draw must not reproduce it.
					perSample := *c
					perSample.Params = map[string]any{"siamese": false}
					o := MustExecOnce(backend, func(x *Node) *Node {
						return a.Apply(replayParams(t, x.Graph(), &perSample, a, n), x)
					}, tensors.FromFlatDataAndDimensions(x.Data, x.Shape...))
					if e := parity.MaxRelErr(tensors.MustCopyFlatData[float64](o), want); e < 1e-3 {
						t.Errorf("siamese case: per-sample replay matches the reference too (err %.3g); the check does not discriminate", e)
					}
				}
			})
		}
	}
}
