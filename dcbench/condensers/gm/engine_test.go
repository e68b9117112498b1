package gm

import (
	"fmt"
	"math"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/dcbench/dcbench/datasets"
	"github.com/dcbench/dcbench/dcbench/augment"
	"github.com/dcbench/dcbench/dcbench/condensers/synth"
	"github.com/dcbench/dcbench/dcbench/method"
)

// testConfig reads the Config of toyRequest(d, ipc, 7, extra).
func testConfig(t *testing.T, d *datasets.Dataset, ipc int, dsa bool, extra map[string]any) (method.Request, Config) {
	t.Helper()
	req := toyRequest(d, ipc, 7, extra)
	cfg, err := ConfigFrom(req, dsa)
	if err != nil {
		t.Fatal(err)
	}
	return req, cfg
}

// newTestMatcher builds the matching network of the toy params in float64, in a context of
// its own.
func newTestMatcher(t *testing.T, d *datasets.Dataset, dsa bool, extra map[string]any) (*matcher, *context.Context) {
	t.Helper()
	_, cfg := testConfig(t, d, 1, dsa, extra)
	m, err := newMatcher(cfg, d.NumClasses())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.New().Checked(false)
	for k, v := range cfg.ModelParams {
		ctx.SetParam(k, v)
	}
	if err := ctx.SetRNGStateFromSeed(7); err != nil {
		t.Fatal(err)
	}
	if err := m.materialize(backend, ctx, dtypes.Float64, d.H, d.W, d.C); err != nil {
		t.Fatal(err)
	}
	return m, ctx
}

// newTestEngine builds the (float32) engine of the toy params on a synth set.
func newTestEngine(t *testing.T, d *datasets.Dataset, ipc int, dsa bool, extra map[string]any) *engine {
	t.Helper()
	req, cfg := testConfig(t, d, ipc, dsa, extra)
	set, err := synth.New(req, synth.Options{Method: "test", Iterations: 1, LR: DefaultLRImg, Momentum: DefaultMomentumImg})
	if err != nil {
		t.Fatal(err)
	}
	e, err := newEngine(backend, set, cfg, req.Seed, cfg.BatchReal)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.close)
	return e
}

// fdResult summarises a finite-difference check.
type fdResult struct {
	coords          int
	maxAbs, maxRel  float64 // largest |autodiff − FD| and the same relative to max(|FD|, 1e-3)
	gradNorm, value float64
}

// classGradFunc returns a function that evaluates the class-cl matching distance and its
// gradient with respect to the synthetic images syn (nSyn images) against the fixed real
// batch, on m's current network in ctx, computing in dtype. aug, if not nil, transforms both
// batches first.
func classGradFunc(t *testing.T, m *matcher, ctx *context.Context, dtype dtypes.DType, cl int, real []float64,
	nReal, nSyn, h, w, c int, aug func(real, syn *Node) (*Node, *Node)) func(syn []float64) (float64, []float64) {
	t.Helper()
	exec, err := context.NewExec(backend, ctx, func(ctx *context.Context, real, syn *Node) []*Node {
		ctx.SetTraining(real.Graph(), true)
		real, syn = ConvertDType(real, dtype), ConvertDType(syn, dtype)
		r, s := real, syn
		if aug != nil {
			r, s = aug(r, s)
		}
		d := m.classDistance(ctx, r, s, cl, paramNodes(real.Graph(), m.matchVars))
		return []*Node{ConvertDType(d, dtypes.Float64), ConvertDType(Gradient(d, syn)[0], dtypes.Float64)}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(exec.Finalize)
	realT := tensors.FromFlatDataAndDimensions(real, nReal, h, w, c)
	return func(x []float64) (float64, []float64) {
		out, err := exec.Exec(realT, tensors.FromFlatDataAndDimensions(x, nSyn, h, w, c))
		if err != nil {
			t.Fatal(err)
		}
		return out[0].Value().(float64), tensors.MustCopyFlatData[float64](out[1])
	}
}

// checkMatchGradient compares the gradient of the class-cl matching distance with respect
// to the synthetic images (a derivative of gradients, through the whole network) with central
// finite differences at every coordinate. aug, if not nil, transforms the real and synthetic
// batches before the network (a fixed DSA draw).
func checkMatchGradient(t *testing.T, m *matcher, ctx *context.Context, d *datasets.Dataset, cl int, real, syn []float64,
	nReal, nSyn int, aug func(real, syn *Node) (*Node, *Node)) fdResult {
	t.Helper()
	eval := classGradFunc(t, m, ctx, dtypes.Float64, cl, real, nReal, nSyn, d.H, d.W, d.C, aug)
	value, grad := eval(syn)
	res := fdResult{coords: len(syn), value: value}
	const eps = 1e-6
	for i := range syn {
		xp := append([]float64(nil), syn...)
		xm := append([]float64(nil), syn...)
		xp[i] += eps
		xm[i] -= eps
		fp, _ := eval(xp)
		fm, _ := eval(xm)
		fd := (fp - fm) / (2 * eps)
		diff := math.Abs(fd - grad[i])
		res.maxAbs = max(res.maxAbs, diff)
		res.maxRel = max(res.maxRel, diff/max(math.Abs(fd), 1e-3))
		res.gradNorm += grad[i] * grad[i]
		if diff > 1e-6*(1+math.Abs(fd)) {
			t.Errorf("d dist/d syn[%d] = %.10g by autodiff, %.10g by finite differences", i, grad[i], fd)
		}
	}
	res.gradNorm = math.Sqrt(res.gradNorm)
	if res.gradNorm == 0 {
		t.Errorf("gradient is identically zero: the check proves nothing")
	}
	return res
}

// TestMatchGradientFiniteDifferences is the core correctness proof of DC: the gradient of the
// matching distance (a function of ∂L/∂θ on the synthetic images) with respect to the
// synthetic images, through convolution, normalisation, activation, pooling and the linear
// classifier, agrees with central finite differences in float64.
func TestMatchGradientFiniteDifferences(t *testing.T) {
	cases := []struct {
		name    string
		h, w, c int
		params  map[string]any
	}{
		{"depth1 instancenorm avgpool 6x6x1", 6, 6, 1, nil},
		{"depth2 instancenorm avgpool 6x6x3", 6, 6, 3, map[string]any{"convnet_depth": 2}},
		{"depth1 no-norm maxpool 6x6x1", 6, 6, 1, map[string]any{"convnet_norm": "none", "convnet_pooling": "maxpooling"}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := toyDataset(2, 3, tc.h, tc.w, tc.c, uint64(10+i))
			m, ctx := newTestMatcher(t, d, false, tc.params)
			real := toF64(d.Batch(d.ClassIndices(1), nil))
			syn := randValues(uint64(20+i), 2*d.ImageSize())
			r := checkMatchGradient(t, m, ctx, d, 1, real, syn, 3, 2, nil)
			t.Logf("%d coords, distance %.6f, |grad| %.4g, max |autodiff-FD| %.3g, max rel %.3g",
				r.coords, r.value, r.gradNorm, r.maxAbs, r.maxRel)
		})
	}
}

// TestDSAMatchGradientFiniteDifferences checks the DSA variant: a fixed siamese draw
// (applied to both batches) in front of the network, with every op of the default strategy
// applied in turn, and with single geometric ops as the default mode applies them.
func TestDSAMatchGradientFiniteDifferences(t *testing.T) {
	vals := augment.ParamValues{Brightness: 0.1, Saturation: 1.3, Contrast: 0.8, CropX: 1, CropY: -1,
		CutoutX: 1, CutoutY: 4, Flip: true, ScaleX: 1.1, ScaleY: 0.9, Rotate: 0.2}
	cases := []struct {
		name string
		mode augment.Mode
		op   augment.Op
	}{
		{"all ops in turn", augment.AllOpsInTurn, augment.OpColor},
		{"rotate", augment.OneOpPerCall, augment.OpRotate},
		{"scale", augment.OneOpPerCall, augment.OpScale},
	}
	d := toyDataset(2, 3, 6, 6, 1, 30)
	m, ctx := newTestMatcher(t, d, true, nil)
	real := toF64(d.Batch(d.ClassIndices(0), nil))
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := augment.DefaultConfig()
			cfg.Mode = tc.mode
			dsa, err := augment.NewDSA(cfg)
			if err != nil {
				t.Fatal(err)
			}
			v := vals
			v.Op = tc.op
			aug := func(real, syn *Node) (*Node, *Node) {
				p := v.Const(real.Graph())
				return dsa.Apply(p, real), dsa.Apply(p, syn)
			}
			syn := randValues(uint64(40+i), 2*d.ImageSize())
			r := checkMatchGradient(t, m, ctx, d, 0, real, syn, 3, 2, aug)
			t.Logf("%d coords, distance %.6f, |grad| %.4g, max |autodiff-FD| %.3g, max rel %.3g",
				r.coords, r.value, r.gradNorm, r.maxAbs, r.maxRel)
		})
	}
}

func toF64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// TestMatchingReducesLoss runs matching steps on one fixed network, with the whole class as
// the real batch (so the target gradients are fixed): the distance must go down.
func TestMatchingReducesLoss(t *testing.T) {
	for _, dsa := range []bool{false, true} {
		t.Run(fmt.Sprintf("dsa=%v", dsa), func(t *testing.T) {
			d := toyDataset(2, 4, 8, 8, 1, 50)
			e := newTestEngine(t, d, 2, dsa, map[string]any{ParamBatchReal: 4, ParamInit: "noise"})
			var first, last float64
			const steps = 30
			for s := 1; s <= steps; s++ {
				dist, err := e.matchStep(s)
				if err != nil {
					t.Fatal(err)
				}
				sum := dist[0] + dist[1]
				if s == 1 {
					first = sum
				}
				last = sum
			}
			t.Logf("matching distance %.4f → %.4f after %d steps", first, last, steps)
			if !(last < 0.8*first) {
				t.Errorf("distance %.4f → %.4f: not reduced by 20%%", first, last)
			}
		})
	}
}

// TestMatchStepUpdate checks the compiled matching step of all classes against the per-class
// gradients: with the whole class as the real batch, two steps must move the images by
// −lr·g₁ and then −lr·(m·g₁ + g₂) (PyTorch's SGD with momentum m).
func TestMatchStepUpdate(t *testing.T) {
	d := toyDataset(2, 3, 6, 6, 1, 60)
	e := newTestEngine(t, d, 2, false, map[string]any{ParamBatchReal: 3, ParamLRImg: 0.05})
	evals := make([]func([]float64) (float64, []float64), 2)
	for cl := range 2 {
		evals[cl] = classGradFunc(t, e.matcher, e.set.Context(), dtypes.Float32, cl, toF64(d.Batch(d.ClassIndices(cl), nil)),
			3, 2, d.H, d.W, d.C, nil)
	}
	size := 2 * d.ImageSize()
	x0 := mustImages(t, e)
	var g1 [][]float64
	for cl := range 2 {
		_, g := evals[cl](x0[cl*size : (cl+1)*size])
		g1 = append(g1, g)
	}
	if _, err := e.matchStep(1); err != nil {
		t.Fatal(err)
	}
	x1 := mustImages(t, e)
	if _, err := e.matchStep(2); err != nil {
		t.Fatal(err)
	}
	x2 := mustImages(t, e)
	lr, m := e.set.Config().LR, e.set.Config().Momentum
	var worst, scale float64
	for cl := range 2 {
		_, g2 := evals[cl](x1[cl*size : (cl+1)*size])
		for i := range size {
			k := cl*size + i
			step1, step2 := lr*g1[cl][i], lr*(m*g1[cl][i]+g2[i])
			worst = max(worst, math.Abs(x0[k]-step1-x1[k]), math.Abs(x1[k]-step2-x2[k]))
			scale = max(scale, math.Abs(step1), math.Abs(step2))
		}
	}
	t.Logf("largest step %.3g, largest deviation from the expected update %.3g (float32)", scale, worst)
	if scale == 0 || worst > 1e-4*scale+1e-6 {
		t.Errorf("matching step update deviates by %.3g (steps up to %.3g) from −lr·(momentum buffer)", worst, scale)
	}
}

// mustImages reads the engine's synthetic images in float64.
func mustImages(t *testing.T, e *engine) []float64 {
	t.Helper()
	d, err := e.set.Dataset()
	if err != nil {
		t.Fatal(err)
	}
	return toF64(d.Images)
}
