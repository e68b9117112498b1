package gm

import (
	"fmt"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/dcbench/dcbench/dcbench/augment"
	"github.com/dcbench/dcbench/dcbench/internal/parity"
	"github.com/dcbench/dcbench/dcbench/models"
)

// parityMatcher builds the matcher of a gm fixture case with the case's weights (prefix
// "net.") in float64, and returns it with its context and the image shape.
func parityMatcher(t *testing.T, c *parity.Case) (m *matcher, ctx *context.Context, h, w, ch int) {
	t.Helper()
	k := c.Int(t, "classes")
	syn := c.Array(t, "syn")
	ch, h, w = syn.Shape[1], syn.Shape[2], syn.Shape[3]
	depth, width := c.Int(t, "depth"), c.Int(t, "width")
	m, err := newMatcher(Config{Model: "convnet"}, k)
	if err != nil {
		t.Fatal(err)
	}
	ctx = context.New()
	ctx.SetParam(models.ParamConvNetWidth, width)
	ctx.SetParam(models.ParamConvNetDepth, depth)
	ctx.SetParam(models.ParamConvNetNorm, c.String(t, "norm"))
	ctx.SetParam(models.ParamConvNetPooling, c.String(t, "pooling"))
	scope := m.model.Scope(ctx.InAbsPath(netScope))
	if n := parity.SetConvNetFeatures(t, scope, c, "net."); n != depth {
		t.Fatalf("%d conv blocks in the fixture, depth %d", n, depth)
	}
	fh, fw := h, w
	if c.String(t, "pooling") != "none" {
		fh, fw = h>>depth, w>>depth
	}
	parity.SetClassifier(t, scope, c, "net.classifier.", width, fh, fw)
	if err := m.materialize(backend, ctx.Checked(false), dtypes.Float64, h, w, ch); err != nil {
		t.Fatal(err)
	}
	return m, ctx.Checked(false), h, w, ch
}

// classInputs splits an NCHW fixture array into per-class NHWC tensors of n images each.
func classInputs(a parity.Array, k, n int) []any {
	x := parity.NCHWToNHWC(a).Data
	h, w, ch := a.Shape[2], a.Shape[3], a.Shape[1]
	size := h * w * ch
	out := make([]any, k)
	for i := range out {
		out[i] = tensors.FromFlatDataAndDimensions(x[i*n*size:(i+1)*n*size], n, h, w, ch)
	}
	return out
}

// replayDraw returns class cl's recorded DSA draw (arrays draw.<cl>.<Field>) as a batch-1
// augment.Params; fields of ops that did not run get identity values.
func replayDraw(t *testing.T, g *Graph, c *parity.Case, dsa *augment.DSA, cl int) *augment.Params {
	t.Helper()
	field := func(name string, identity float64) *Node {
		if a, ok := c.Arrays[fmt.Sprintf("draw.%d.%s", cl, name)]; ok {
			return Const(g, []float64{a.Data[0]})
		}
		return Const(g, []float64{identity})
	}
	op := dsa.Ops()[int(c.Array(t, fmt.Sprintf("draw.%d.op_index", cl)).Data[0])]
	return augment.ParamsFromFields(Const(g, int32(op)), field)
}

// TestParityMatch checks the per-class matching distance (classDistance: cross-entropy
// gradients on real and synthetic batches, MatchDistance) and the gradient of their sum
// w.r.t. the synthetic images against DatasetCondensation/main.py with utils.py:match_loss
// ('ours') on given ConvNets (tools/parity/gen_gm.py), in float64, without augmentation and
// with DSA (each class's recorded siamese draw replayed on both batches, as matchGraph does
// with augment.DSA.Siamese).
func TestParityMatch(t *testing.T) {
	f := parity.Load(t, "gm")
	for _, c := range f.Cases {
		t.Run(c.Name, func(t *testing.T) {
			k, b, ipc := c.Int(t, "classes"), c.Int(t, "batch_real"), c.Int(t, "ipc")
			m, ctx, h, w, ch := parityMatcher(t, &c)
			var dsa *augment.DSA
			if strategy := c.String(t, "dsa"); strategy != "" {
				cfg := augment.DefaultConfig()
				cfg.Strategy = strategy
				var err error
				if dsa, err = augment.NewDSA(cfg); err != nil {
					t.Fatal(err)
				}
			}
			exec := context.MustNewExec(backend, ctx, func(ctx *context.Context, in []*Node) []*Node {
				g := in[0].Graph()
				ctx.SetTraining(g, true)
				params := paramNodes(g, m.matchVars)
				dists := make([]*Node, k)
				var total *Node
				for cl := 0; cl < k; cl++ {
					r, s := in[cl], in[k+cl]
					if dsa != nil { // the reference's draw of the class, shared by both batches
						p := replayDraw(t, g, &c, dsa, cl)
						r, s = dsa.Apply(p, r), dsa.Apply(p, s)
					}
					dists[cl] = m.classDistance(ctx, r, s, cl, params)
					if total == nil {
						total = dists[cl]
					} else {
						total = Add(total, dists[cl])
					}
				}
				return append([]*Node{Stack(dists, 0)}, Gradient(total, in[k:]...)...)
			})
			in := append(classInputs(c.Array(t, "real"), k, b), classInputs(c.Array(t, "syn"), k, ipc)...)
			out := exec.MustExec(in...)
			dists := tensors.MustCopyFlatData[float64](out[0])
			var g []float64
			for _, o := range out[1:] {
				g = append(g, tensors.MustCopyFlatData[float64](o)...)
			}
			grad := parity.NHWCToNCHW(parity.Array{Shape: []int{k * ipc, h, w, ch}, Data: g}).Data
			var loss float64
			for _, d := range dists {
				loss += d
			}
			parity.Close(t, "class distances", dists, c.Array(t, "class_dist").Data, 1e-9)
			parity.Close(t, "loss", []float64{loss}, c.Array(t, "loss").Data, 1e-9)
			parity.Close(t, "grad syn", grad, c.Array(t, "grad_syn").Data, 1e-9)
			t.Logf("class distances max rel err %.2g, loss %.2g, grad %.2g",
				parity.MaxRelErr(dists, c.Array(t, "class_dist").Data),
				parity.MaxRelErr([]float64{loss}, c.Array(t, "loss").Data),
				parity.MaxRelErr(grad, c.Array(t, "grad_syn").Data))
		})
	}
}

// TestParityInnerStep checks one inner-loop update of the network (sgdStep at the reference's
// lr_net, no momentum) on all synthetic images of a gm fixture case: the loss before the step
// and every weight after it, against main.py's optimizer_net step (tools/parity/gen_gm.py).
func TestParityInnerStep(t *testing.T) {
	f := parity.Load(t, "gm")
	for _, c := range f.Cases {
		t.Run(c.Name, func(t *testing.T) {
			k, ipc := c.Int(t, "classes"), c.Int(t, "ipc")
			m, ctx, h, w, ch := parityMatcher(t, &c)
			labels := make([]int32, k*ipc)
			for i := range labels {
				labels[i] = int32(i / ipc)
			}
			exec := context.MustNewExec(backend, ctx, func(ctx *context.Context, x, lab *Node) *Node {
				ctx.SetTraining(x.Graph(), true)
				return m.sgdStep(ctx, x, lab, c.Float(t, "lr_net"))
			})
			syn := c.Array(t, "syn")
			out := exec.MustExec(tensors.FromFlatDataAndDimensions(parity.NCHWToNHWC(syn).Data, k*ipc, h, w, ch), labels)
			parity.Close(t, "inner loss", []float64{tensors.ToScalar[float64](out[0])}, c.Array(t, "inner_loss").Data, 1e-9)

			// The reference's weights after the step, in dcbench's layout, in a second context.
			want := context.New()
			wantScope := m.model.Scope(want.InAbsPath(netScope))
			parity.SetConvNetFeatures(t, wantScope, &c, "after.")
			fh, fw := h, w
			if c.String(t, "pooling") != "none" {
				fh, fw = h>>c.Int(t, "depth"), w>>c.Int(t, "depth")
			}
			parity.SetClassifier(t, wantScope, &c, "after.classifier.", c.Int(t, "width"), fh, fw)
			worst := 0.0
			for _, v := range m.netVars {
				wv := want.GetVariableByScopeAndName(v.Scope(), v.Name())
				if wv == nil {
					t.Fatalf("no reference value for %s", v.ScopeAndName())
				}
				got := tensors.MustCopyFlatData[float64](v.MustValue())
				ref := tensors.MustCopyFlatData[float64](wv.MustValue())
				parity.Close(t, v.ScopeAndName(), got, ref, 1e-9)
				worst = max(worst, parity.MaxRelErr(got, ref))
			}
			t.Logf("%d tensors after the step: max rel err %.2g", len(m.netVars), worst)
		})
	}
}
