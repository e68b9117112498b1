package train

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/dcbench/dcbench/datasets"
	"github.com/dcbench/dcbench/dcbench/internal/parity"
	"github.com/dcbench/dcbench/dcbench/models"
)

// parityNet is the reference ConvNet of the evaltrain fixture: width 8, depth 2 (depth 1 for
// the schedule cases), avgpooling, relu, 32x32x3.
func parityTrainer(t *testing.T, c *parity.Case, epochs, batch, depth int) *Trainer {
	t.Helper()
	norm := "instancenorm"
	if _, ok := c.Params["norm"]; ok {
		norm = c.String(t, "norm")
	}
	classes := 3
	if depth == 1 {
		classes = 2
	}
	opt := "sgd"
	if o, ok := c.Params["optimizer"].(string); ok {
		opt = o
	}
	cfg := Config{Model: "convnet", Epochs: epochs, BatchSize: batch, DType: dtypes.Float64, Optimizer: opt,
		ModelParams: map[string]any{models.ParamConvNetWidth: 8, models.ParamConvNetDepth: depth,
			models.ParamConvNetNorm: norm}}
	tr, err := New(backend, cfg, classes, 32, 32, 3, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.Finalize)
	if _, ok := c.Arrays["init.conv0.weight"]; ok {
		setWeights(t, tr.Context().In(modelScope).In("convnet"), c, "init.", depth, norm, 8, 32>>depth)
	}
	return tr
}

func setWeights(t *testing.T, ctx *context.Context, c *parity.Case, prefix string, depth int, norm string, width, side int) {
	t.Helper()
	ten := func(a parity.Array) *tensors.Tensor {
		return tensors.FromFlatDataAndDimensions(append([]float64(nil), a.Data...), a.Shape...)
	}
	for d := 0; d < depth; d++ {
		s := ctx.In(fmt.Sprintf("conv%d", d))
		s.VariableWithValue("weights", ten(parity.OIHWToHWIO(c.Array(t, fmt.Sprintf("%sconv%d.weight", prefix, d)))))
		s.VariableWithValue("biases", ten(c.Array(t, fmt.Sprintf("%sconv%d.bias", prefix, d))))
		if norm != "none" {
			n := ctx.In(fmt.Sprintf("norm%d", d))
			n.VariableWithValue("gain", ten(c.Array(t, fmt.Sprintf("%snorm%d.weight", prefix, d))))
			n.VariableWithValue("offset", ten(c.Array(t, fmt.Sprintf("%snorm%d.bias", prefix, d))))
		}
	}
	cls := ctx.In("classifier")
	cls.VariableWithValue("weights", ten(parity.LinearCHWToDenseHWC(c.Array(t, prefix+"classifier.weight"), width, side, side)))
	cls.VariableWithValue("biases", ten(c.Array(t, prefix+"classifier.bias")))
}

// compareWeights checks every network variable of tr against the case's "final." arrays.
func compareWeights(t *testing.T, tr *Trainer, c *parity.Case, depth, side int, tol float64) {
	t.Helper()
	worst, worstNoise := 0.0, 0.0
	// With Adam, a conv bias followed by a norm layer has an analytically zero gradient: its
	// updates are rounding noise divided by (|noise| + 1e-8), which differs between any two
	// implementations. Those biases (and batchnorm's running mean, which carries them) stay
	// within ~1e-9 of their start in both; they are compared at 1e-7.
	noisy := func(scope, name string) bool {
		return tr.Config().Optimizer == "adam" && c.Params["norm"] != "none" &&
			(strings.HasPrefix(scope, "conv") && name == "biases" || name == "running_mean")
	}
	check := func(scope, name string, want parity.Array) {
		v := tr.Context().GetVariableByScopeAndName("/"+modelScope+"/convnet/"+scope, name)
		if v == nil {
			t.Fatalf("no variable %s/%s", scope, name)
		}
		got := tensors.MustCopyFlatData[float64](v.MustValue())
		e := parity.MaxRelErr(got, want.Data)
		if noisy(scope, name) {
			worstNoise = max(worstNoise, e)
			parity.Close(t, scope+"/"+name, got, want.Data, 1e-7)
			return
		}
		worst = max(worst, e)
		parity.Close(t, scope+"/"+name, got, want.Data, tol)
	}
	for d := 0; d < depth; d++ {
		check(fmt.Sprintf("conv%d", d), "weights", parity.OIHWToHWIO(c.Array(t, fmt.Sprintf("final.conv%d.weight", d))))
		check(fmt.Sprintf("conv%d", d), "biases", c.Array(t, fmt.Sprintf("final.conv%d.bias", d)))
		check(fmt.Sprintf("norm%d", d), "gain", c.Array(t, fmt.Sprintf("final.norm%d.weight", d)))
		check(fmt.Sprintf("norm%d", d), "offset", c.Array(t, fmt.Sprintf("final.norm%d.bias", d)))
		if a, ok := c.Arrays[fmt.Sprintf("final.norm%d.running_mean", d)]; ok {
			check(fmt.Sprintf("norm%d", d), "running_mean", a)
			check(fmt.Sprintf("norm%d", d), "running_var", c.Array(t, fmt.Sprintf("final.norm%d.running_var", d)))
		}
	}
	check("classifier", "weights", parity.LinearCHWToDenseHWC(c.Array(t, "final.classifier.weight"), 8, side, side))
	check("classifier", "biases", c.Array(t, "final.classifier.bias"))
	t.Logf("weights after training: max rel err %.3g (Adam's zero-gradient conv biases: %.3g)", worst, worstNoise)
}

// fixtureData is the case's images (NHWC float32: they are on a 1/64 grid, exact) and labels.
func fixtureData(t *testing.T, c *parity.Case) *datasets.Dataset {
	x := parity.NCHWToNHWC(c.Array(t, "x"))
	y := c.Array(t, "y")
	d := &datasets.Dataset{Name: "parity", Split: "train", N: x.Shape[0], H: 32, W: 32, C: 3,
		Mean: []float32{0, 0, 0}, Std: []float32{1, 1, 1}, Normalized: true}
	for _, v := range x.Data {
		if float64(float32(v)) != v {
			t.Fatalf("fixture image value %v is not exact in float32", v)
		}
		d.Images = append(d.Images, float32(v))
	}
	for _, v := range y.Data {
		d.Labels = append(d.Labels, int32(v))
	}
	return d
}

// momentumFresh reports whether every SGD momentum buffer of tr is absent or zero (a new
// optimiser, as the reference's re-created torch.optim.SGD).
func momentumFresh(tr *Trainer) bool {
	for v := range tr.Context().IterVariables() {
		if !strings.HasPrefix(v.Scope(), "/"+optimScope) || !v.HasValue() {
			continue
		}
		for _, x := range tensors.MustCopyFlatData[float64](v.MustValue()) {
			if x != 0 {
				return false
			}
		}
	}
	return true
}

// TestEvaluationTrainingParity checks evaluation training against the reference in float64
// (fixtures evaltrain and evaltrain_dcbench, tools/parity/gen_train.py): SGD steps from given weights on a given
// batch (losses and weights), evaluate_synset end to end with the recorded batch order, and
// the learning rate and optimiser re-creation at every step of the 300- and 1000-epoch
// schedules; and DC-Bench's evaluator with SGD and with Adam (lr 0.003, no weight decay, no
// decay), defaults of Config with Optimizer "adam".
func TestEvaluationTrainingParity(t *testing.T) {
	const tol = 1e-9
	var cases []parity.Case
	for _, name := range []string{"evaltrain", "evaltrain_dcbench"} {
		cases = append(cases, parity.Load(t, name).Cases...)
	}
	for i := range cases {
		c := &cases[i]
		t.Run(c.Name, func(t *testing.T) {
			switch c.String(t, "kind") {
			case "steps":
				tr := parityTrainer(t, c, 1, c.Int(t, "batch"), 2)
				d := fixtureData(t, c)
				var losses []float64
				images := parity.NCHWToNHWC(c.Array(t, "x")).Data
				for s := 0; s < c.Int(t, "steps"); s++ {
					loss, err := tr.StepFloat64(images, d.Labels)
					if err != nil {
						t.Fatal(err)
					}
					losses = append(losses, loss)
				}
				parity.Close(t, "losses", losses, c.Array(t, "losses").Data, tol)
				compareWeights(t, tr, c, 2, 8, tol)
			case "evaluate_synset", "schedule":
				depth := 2
				if c.String(t, "kind") == "schedule" {
					depth = 1
				}
				tr := parityTrainer(t, c, c.Int(t, "epochs"), c.Int(t, "batch"), depth)
				var d *datasets.Dataset
				if _, ok := c.Arrays["x"]; ok {
					d = fixtureData(t, c)
				} else {
					d = toyData(2, 32, 2, 1)
				}
				if p, ok := c.Arrays["perms"]; ok {
					pass := 0
					tr.perm = func(n int) []int {
						if p.Shape[1] != n || pass >= p.Shape[0] {
							t.Fatalf("pass %d of %d images: the fixture has %v permutations", pass, n, p.Shape)
						}
						out := make([]int, n)
						for j := range out {
							out[j] = int(p.Data[pass*n+j])
						}
						pass++
						return out
					}
				}
				var lrs, fresh []float64
				tr.beforeStep = func(lr float64) {
					lrs = append(lrs, lr)
					f := 0.0
					if momentumFresh(tr) {
						f = 1
					}
					fresh = append(fresh, f)
				}
				if err := tr.Fit(nil, d, nil); err != nil {
					t.Fatal(err)
				}
				parity.Close(t, "lr at every step", lrs, c.Array(t, "step_lr").Data, 1e-12)
				parity.Close(t, "optimizer re-created before the step", fresh, c.Array(t, "step_fresh").Data, 0)
				if _, ok := c.Arrays["final.conv0.weight"]; ok {
					compareWeights(t, tr, c, depth, 32>>depth, tol)
				}
			default:
				t.Fatalf("unknown case kind %q", c.String(t, "kind"))
			}
		})
	}
}
