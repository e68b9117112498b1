package synth

import (
	stdctx "context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/dcbench/dcbench/datasets"
	"github.com/dcbench/dcbench/dcbench/condensers/kcenter"
	"github.com/dcbench/dcbench/dcbench/internal/testkit"
	"github.com/dcbench/dcbench/dcbench/method"
	"github.com/dcbench/dcbench/dcbench/models"
	"github.com/dcbench/dcbench/dcbench/nn"
)

var backend backends.Backend

func TestMain(m *testing.M) { testkit.Main(m, &backend) }

// toyData is testkit.ToyData.
func toyData(classes, n, s int, seed uint64) *datasets.Dataset {
	return testkit.ToyData(classes, n, s, seed)
}

func request(d *datasets.Dataset, ipc int, seed uint64, params map[string]any) method.Request {
	return testkit.Request(backend, d, ipc, seed, params)
}

func TestInit(t *testing.T) {
	d := toyData(3, 5, 4, 1)
	size := d.ImageSize()
	cases := []struct {
		init  string
		check func(t *testing.T, got *datasets.Dataset)
	}{
		{"real", func(t *testing.T, got *datasets.Dataset) {
			for k := 0; k < 3; k++ { // the images Random picks
				pick, _ := d.SampleClass(k, 2, rand.New(rand.NewPCG(7, uint64(k)+1)))
				want := d.Batch(pick, nil)
				if !slices.Equal(got.Images[k*2*size:(k+1)*2*size], want) {
					t.Errorf("class %d: not the Random selection", k)
				}
			}
		}},
		{"noise", func(t *testing.T, got *datasets.Dataset) {
			var sum, sq float64
			for _, v := range got.Images {
				sum += float64(v)
				sq += float64(v) * float64(v)
			}
			n := float64(len(got.Images))
			if m, sd := sum/n, math.Sqrt(sq/n-sum*sum/n/n); math.Abs(m) > 0.2 || math.Abs(sd-1) > 0.2 {
				t.Errorf("noise mean %.3f std %.3f, want about N(0,1)", m, sd)
			}
		}},
		{"kcenter", func(t *testing.T, got *datasets.Dataset) {
			idx, err := kcenter.Select(request(d, 2, 7, map[string]any{"features": "raw"}))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Images, d.Batch(idx, nil)) {
				t.Errorf("not the K-Center selection")
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.init, func(t *testing.T) {
			s, err := New(request(d, 2, 7, map[string]any{"init": tc.init, "features": "raw"}), Options{Method: "test", LR: 1})
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.Dataset()
			if err != nil {
				t.Fatal(err)
			}
			if got.N != 6 || !slices.Equal(got.Labels, []int32{0, 0, 1, 1, 2, 2}) || got.Validate() != nil {
				t.Fatalf("set %v labels %v: %v", got, got.Labels, got.Validate())
			}
			tc.check(t, got)
		})
	}
}

func TestBadParams(t *testing.T) {
	d := toyData(2, 3, 4, 1)
	cases := []struct {
		params map[string]any
		want   string
	}{
		{map[string]any{"init": "zeros"}, "real, kcenter, noise"},
		{map[string]any{"lr_img": -1.0}, "lr_img"},
		{map[string]any{"momentum_img": 1.0}, "momentum_img"},
		{map[string]any{"iterations": "many"}, "iterations"},
		{map[string]any{"eval_hook": func(int, *datasets.Dataset) {}}, "synth.EvalHook"},
		{map[string]any{"stats": Stats{}}, "*synth.Stats"},
		{map[string]any{"init": "kcenter", "features": "pixels"}, "embedding, raw"},
	}
	for _, tc := range cases {
		_, err := New(request(d, 1, 1, tc.params), Options{Method: "test", LR: 1})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("params %v: error %v, want one mentioning %q", tc.params, err, tc.want)
		}
	}
}

// pullStep compiles an iteration that pulls every class's images towards fresh N(0,1) noise
// drawn from the context's generator: loss ½Σ‖x − z‖², so the update depends on the RNG state.
func pullStep(t *testing.T, s *Set) StepFunc {
	exec, err := context.NewExec(backend, s.Context(), func(ctx *context.Context, g *Graph) *Node {
		syn := make([]*Node, s.NumClasses())
		var loss *Node
		for k := range syn {
			syn[k] = s.ClassImages(g, k)
			diff := Sub(syn[k], ctx.RandomNormal(g, syn[k].Shape()))
			l := MulScalar(ReduceAllSum(Mul(diff, diff)), 0.5)
			if loss == nil {
				loss = l
			} else {
				loss = Add(loss, l)
			}
		}
		s.Update(loss, syn)
		return loss
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(exec.Finalize)
	return func(int) (float64, error) {
		out, err := exec.Exec()
		if err != nil {
			return 0, err
		}
		return float64(tensors.ToScalar[float32](out[0])), nil
	}
}

func TestUpdateIsSGDWithMomentum(t *testing.T) {
	d := toyData(2, 3, 2, 1)
	s, err := New(request(d, 1, 1, map[string]any{"iterations": 2}), Options{Method: "test", LR: 0.1, Momentum: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	x0, _ := s.Dataset()
	// loss ½‖x‖²: gradient x.
	exec := context.MustNewExec(backend, s.Context(), func(ctx *context.Context, g *Graph) *Node {
		syn := []*Node{s.ClassImages(g, 0), s.ClassImages(g, 1)}
		loss := MulScalar(Add(ReduceAllSum(Mul(syn[0], syn[0])), ReduceAllSum(Mul(syn[1], syn[1]))), 0.5)
		s.Update(loss, syn)
		return loss
	})
	defer exec.Finalize()
	exec.MustExec()
	exec.MustExec()
	got, _ := s.Dataset()
	for i, x := range x0.Images {
		b1 := float64(x)
		x1 := float64(x) - 0.1*b1
		b2 := 0.5*b1 + x1
		x2 := x1 - 0.1*b2
		if math.Abs(float64(got.Images[i])-x2) > 1e-5 {
			t.Fatalf("value %d: got %v, want %v", i, got.Images[i], x2)
		}
	}
}

func TestRunHooksStatsAndResume(t *testing.T) {
	d := toyData(2, 3, 4, 1)
	dir := t.TempDir()
	ck := filepath.Join(dir, "run.ck")
	params := func(iters int, extra map[string]any) map[string]any {
		p := map[string]any{"iterations": iters, "checkpoint": ck, "checkpoint_every": 2}
		for k, v := range extra {
			p[k] = v
		}
		return p
	}
	opts := Options{Method: "test", LR: 0.1, Momentum: 0.5}

	// Uninterrupted reference run of 6 iterations, with hooks and stats.
	var hooked []int
	stats := &Stats{}
	ref, err := New(request(d, 2, 3, map[string]any{"iterations": 6, "eval_every": 4, "stats": stats,
		"eval_hook": EvalHook(func(it int, set *datasets.Dataset) {
			hooked = append(hooked, it)
			if set.N != 4 || !set.Normalized {
				t.Errorf("hook got %v", set)
			}
		})}), opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := ref.Run(pullStep(t, ref)); err != nil {
		t.Fatal(err)
	}
	want, _ := ref.Dataset()
	if !slices.Equal(hooked, []int{0, 4, 6}) {
		t.Errorf("eval hook at %v, want [0 4 6]", hooked)
	}
	sum := stats.Summary()
	if sum.Iterations != 6 || len(stats.Records()) != 6 || sum.PeakBytes <= 0 || sum.MeanSeconds <= 0 {
		t.Errorf("stats %+v", sum)
	}
	t.Logf("stats: %+v", sum)

	// Three iterations, saved; then a run of six resumes from the checkpoint.
	first, err := New(request(d, 2, 3, params(3, nil)), opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Run(pullStep(t, first)); err != nil {
		t.Fatal(err)
	}
	firstSeconds := first.Seconds()
	req2 := request(d, 2, 3, params(6, nil))
	resumedAt, resumedSeconds := -1, -1.0
	req2.Resumed = func(it int, sec float64) { resumedAt, resumedSeconds = it, sec }
	second, err := New(req2, opts)
	if err != nil {
		t.Fatal(err)
	}
	if second.Done() != 3 {
		t.Fatalf("resumed at %d, want 3", second.Done())
	}
	// The checkpoint carries the first run's time: reported to the caller and counted on.
	if resumedAt != 3 || !(resumedSeconds > 0 && resumedSeconds <= firstSeconds) {
		t.Errorf("Resumed(%d, %g), want (3, the first run's seconds, at most %g)", resumedAt, resumedSeconds, firstSeconds)
	}
	if sec := second.Seconds(); sec < resumedSeconds {
		t.Errorf("resumed run's Seconds %g, less than the first run's %g", sec, resumedSeconds)
	}
	var steps []int
	step := pullStep(t, second)
	if err := second.Run(func(it int) (float64, error) { steps = append(steps, it); return step(it) }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(steps, []int{4, 5, 6}) {
		t.Errorf("resumed run made iterations %v, want [4 5 6]", steps)
	}
	got, _ := second.Dataset()
	if !slices.Equal(got.Images, want.Images) {
		t.Errorf("resumed run differs from the uninterrupted one")
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*.tmp*")); len(m) > 0 {
		t.Errorf("temporary files left: %v", m)
	}

	// A different setting refuses the checkpoint; so does one with fewer iterations.
	if _, err := New(request(d, 2, 4, params(6, nil)), opts); err == nil || !strings.Contains(err.Error(), "seed") {
		t.Errorf("checkpoint of seed 3 resumed with seed 4: %v", err)
	}
	if _, err := New(request(d, 2, 3, params(6, map[string]any{"lr_img": 0.2})), opts); err == nil || !strings.Contains(err.Error(), "lr_img") {
		t.Errorf("checkpoint resumed with another lr: %v", err)
	}
	if _, err := New(request(d, 2, 3, params(5, nil)), opts); err == nil {
		t.Errorf("checkpoint at 6 resumed for 5 iterations")
	}
}

func TestCancelSavesCheckpoint(t *testing.T) {
	d := toyData(2, 3, 4, 1)
	ck := filepath.Join(t.TempDir(), "c.ck")
	ctx, cancel := stdctx.WithCancel(stdctx.Background())
	req := request(d, 1, 1, map[string]any{"iterations": 10, "checkpoint": ck, "checkpoint_every": 100})
	req.Context = ctx
	s, err := New(req, Options{Method: "test", LR: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	step := pullStep(t, s)
	err = s.Run(func(it int) (float64, error) {
		if it == 2 {
			cancel()
		}
		return step(it)
	})
	if err != stdctx.Canceled {
		t.Fatalf("Run returned %v, want context.Canceled", err)
	}
	r, err := New(request(d, 1, 1, map[string]any{"iterations": 10, "checkpoint": ck}), Options{Method: "test", LR: 0.1})
	if err != nil || r.Done() != 2 {
		t.Fatalf("after cancel at 2: resumed at %d, %v", r.Done(), err)
	}
}

func TestReinitVariables(t *testing.T) {
	m, err := models.Get("convnet")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.New().Checked(false)
	ctx.SetParam(models.ParamConvNetWidth, 4)
	ctx.SetParam(models.ParamConvNetDepth, 1)
	if err := ctx.SetRNGStateFromSeed(5); err != nil {
		t.Fatal(err)
	}
	net := ctx.In("net")
	embed := func(ctx *context.Context, x *Node) *Node { return m.Features(ctx, x) }
	rngState := func() []uint64 {
		v := ctx.GetVariableByScopeAndName(context.RootScope, context.RNGStateVariableName)
		return tensors.MustCopyFlatData[uint64](v.MustValue())
	}
	before := rngState()
	if err := Materialize(backend, net, embed, 1, 4, 4, 3); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(before, rngState()) {
		t.Errorf("Materialize changed the random number generator's state")
	}
	var weights, gain *context.Variable
	for v := range ctx.IterVariables() {
		switch v.Name() {
		case "weights":
			weights = v
		case "gain":
			gain = v
		}
	}
	if weights == nil || gain == nil {
		t.Fatal("network variables not created")
	}
	exec := context.MustNewExec(backend, ctx, func(ctx *context.Context, g *Graph) []*Node {
		n, err := ReinitVariables(ctx.In("net"), g)
		if err != nil {
			panic(err)
		}
		if n != 4 { // conv weights, biases, norm gain, offset
			panic(fmt.Sprintf("redrew %d variables, want 4", n))
		}
		return []*Node{weights.ValueGraph(g), gain.ValueGraph(g)}
	})
	defer exec.Finalize()
	a := exec.MustExec()
	b := exec.MustExec()
	wa, wb := tensors.MustCopyFlatData[float32](a[0]), tensors.MustCopyFlatData[float32](b[0])
	if slices.Equal(wa, wb) {
		t.Errorf("two executions drew the same weights")
	}
	bound := nn.FanInBound(3 * 3 * 3)
	var maxAbs float64
	for _, v := range append(wa, wb...) {
		maxAbs = max(maxAbs, math.Abs(float64(v)))
	}
	if maxAbs > bound || maxAbs < 0.8*bound {
		t.Errorf("weights within ±%.3f, want U(±%.3f) (PyTorch's default)", maxAbs, bound)
	}
	if g := tensors.MustCopyFlatData[float32](a[1]); !slices.Equal(g, []float32{1, 1, 1, 1}) {
		t.Errorf("norm gain redrawn as %v, want ones", g)
	}
	if _, err := ReinitVariables(ctx.In("nothing"), NewGraph(backend, "x")); err == nil {
		t.Errorf("no error for a scope without variables")
	}
}

func TestRealBatch(t *testing.T) {
	d := toyData(3, 4, 2, 1)
	s, err := New(request(d, 1, 9, nil), Options{Method: "test", LR: 1})
	if err != nil {
		t.Fatal(err)
	}
	if n := s.RealBatchSize(10); n != 4 {
		t.Errorf("RealBatchSize(10) = %d, want the class size 4", n)
	}
	a, _ := s.RealBatch(3, 2, nil)
	b, _ := s.RealBatch(3, 2, nil)
	c, _ := s.RealBatch(4, 2, nil)
	if !slices.Equal(a, b) || slices.Equal(a, c) {
		t.Errorf("RealBatch not a function of the iteration")
	}
	size := d.ImageSize()
	for i := 0; i < 6; i++ { // class k's images have mean about k
		var m float64
		for _, v := range a[i*size : (i+1)*size] {
			m += float64(v)
		}
		if k := i / 2; math.Abs(m/float64(size)-float64(k)) > 1.5 {
			t.Errorf("image %d of the batch has mean %.2f, not of class %d", i, m/float64(size), k)
		}
	}
}
