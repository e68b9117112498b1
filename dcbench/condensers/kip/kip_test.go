package kip

import (
	stdctx "context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/backends"

	"github.com/dcbench/dcbench/datasets"
	"github.com/dcbench/dcbench/dcbench/internal/testkit"
	"github.com/dcbench/dcbench/dcbench/method"
	"github.com/dcbench/dcbench/dcbench/ntk"
)

var backend backends.Backend

func TestMain(m *testing.M) { testkit.Main(m, &backend) }

// newTestEngine makes an Engine on the test backend, finalized when the test ends.
func newTestEngine(t *testing.T, cfg Config) *Engine {
	t.Helper()
	e, err := NewEngine(backend, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Finalize)
	return e
}

func randBatch(seed uint64, n, d, c int) Batch {
	r := rand.New(rand.NewPCG(seed, 7))
	b := Batch{X: make([]float64, n*d), Y: make([]float64, n*c), N: n}
	for i := range b.X {
		b.X[i] = r.NormFloat64()
	}
	for i := range n {
		for j := range c {
			b.Y[i*c+j] = -1 / float64(c)
		}
		b.Y[i*c+r.IntN(c)] += 1
	}
	return b
}

// solveDense solves A x = b by Gaussian elimination with partial pivoting (A n×n, b n×c).
func solveDense(a []float64, b []float64, n, c int) []float64 {
	a = append([]float64(nil), a...)
	b = append([]float64(nil), b...)
	for col := range n {
		p := col
		for r := col + 1; r < n; r++ {
			if math.Abs(a[r*n+col]) > math.Abs(a[p*n+col]) {
				p = r
			}
		}
		for j := range n {
			a[col*n+j], a[p*n+j] = a[p*n+j], a[col*n+j]
		}
		for j := range c {
			b[col*c+j], b[p*c+j] = b[p*c+j], b[col*c+j]
		}
		for r := col + 1; r < n; r++ {
			f := a[r*n+col] / a[col*n+col]
			for j := col; j < n; j++ {
				a[r*n+j] -= f * a[col*n+j]
			}
			for j := range c {
				b[r*c+j] -= f * b[col*c+j]
			}
		}
	}
	x := make([]float64, n*c)
	for r := n - 1; r >= 0; r-- {
		for j := range c {
			s := b[r*c+j]
			for k := r + 1; k < n; k++ {
				s -= a[r*n+k] * x[k*c+j]
			}
			x[r*c+j] = s / a[r*n+r]
		}
	}
	return x
}

// directLoss computes the KIP loss with the float64 reference kernels and a direct solve.
func directLoss(t *testing.T, cfg Config, s, tg Batch) float64 {
	t.Helper()
	nngpSS, ntkSS, err := cfg.Kernel.Reference(s.X, s.N, s.X, s.N, cfg.Dim)
	if err != nil {
		t.Fatal(err)
	}
	nngpTS, ntkTS, _ := cfg.Kernel.Reference(tg.X, tg.N, s.X, s.N, cfg.Dim)
	kss, kts := ntkSS, ntkTS
	if cfg.Kind == ntk.NNGP {
		kss, kts = nngpSS, nngpTS
	}
	n, c := s.N, cfg.Classes
	var tr float64
	for i := range n {
		tr += kss[i*n+i]
	}
	a := append([]float64(nil), kss...)
	for i := range n {
		a[i*n+i] += cfg.Reg * tr / float64(n)
	}
	alpha := solveDense(a, s.Y, n, c)
	var loss float64
	for i := range tg.N {
		for j := range c {
			var p float64
			for k := range n {
				p += kts[i*n+k] * alpha[k*c+j]
			}
			loss += (p - tg.Y[i*c+j]) * (p - tg.Y[i*c+j])
		}
	}
	return 0.5 * loss / float64(tg.N*c)
}

var engineCases = []struct {
	name string
	cfg  Config
}{
	{"ntk-depth1", Config{Kernel: ntk.DefaultFC(), Kind: ntk.NTK, Reg: DefaultReg, Dim: 5, Classes: 3}},
	{"nngp-depth2", Config{Kernel: ntk.FC{Depth: 2, WStd: 1.2, BStd: 0.3}, Kind: ntk.NNGP, Reg: 1e-3, Dim: 5, Classes: 3}},
	{"ntk-bigreg", Config{Kernel: ntk.DefaultFC(), Kind: ntk.NTK, Reg: 0.5, Dim: 5, Classes: 2}},
}

// TestLossMatchesDirect compares Engine.Loss with a direct float64 computation.
func TestLossMatchesDirect(t *testing.T) {
	for _, c := range engineCases {
		t.Run(c.name, func(t *testing.T) {
			e := newTestEngine(t, c.cfg)
			s, tg := randBatch(1, 4, c.cfg.Dim, c.cfg.Classes), randBatch(2, 7, c.cfg.Dim, c.cfg.Classes)
			got, err := e.Loss(s, tg)
			if err != nil {
				t.Fatal(err)
			}
			want := directLoss(t, c.cfg, s, tg)
			if math.Abs(got.Loss-want) > 1e-6*want {
				t.Errorf("loss %v, want %v", got.Loss, want)
			}
		})
	}
}

// TestGradientFiniteDifferences checks ∂L/∂x_s and ∂L/∂y_s (including the trace term of the
// regulariser) against central finite differences of the loss.
func TestGradientFiniteDifferences(t *testing.T) {
	for _, c := range engineCases {
		t.Run(c.name, func(t *testing.T) {
			e := newTestEngine(t, c.cfg)
			s, tg := randBatch(3, 4, c.cfg.Dim, c.cfg.Classes), randBatch(4, 6, c.cfg.Dim, c.cfg.Classes)
			res, err := e.LossGrad(s, tg)
			if err != nil {
				t.Fatal(err)
			}
			loss := func(s Batch) float64 {
				r, err := e.Loss(s, tg)
				if err != nil {
					t.Fatal(err)
				}
				return r.Loss
			}
			check := func(what string, vals, grad []float64) {
				const h = 1e-5
				var scale float64
				for _, g := range grad {
					scale = max(scale, math.Abs(g))
				}
				for i := range vals {
					v := vals[i]
					vals[i] = v + h
					fp := loss(s)
					vals[i] = v - h
					fm := loss(s)
					vals[i] = v
					fd := (fp - fm) / (2 * h)
					if math.Abs(fd-grad[i]) > 1e-5*scale {
						t.Errorf("%s[%d]: gradient %.8g, finite difference %.8g", what, i, grad[i], fd)
					}
				}
			}
			check("x_s", s.X, res.GradX)
			check("y_s", s.Y, res.GradY)
		})
	}
}

// TestKernelRegressionInterpolates: with λ → 0 the support set predicts its own labels.
func TestKernelRegressionInterpolates(t *testing.T) {
	cfg := Config{Kernel: ntk.DefaultFC(), Kind: ntk.NTK, Reg: 0, Dim: 6, Classes: 3}
	e := newTestEngine(t, cfg)
	s := randBatch(5, 5, cfg.Dim, cfg.Classes)
	pred, err := e.Predict(s, s.X, s.N)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range pred {
		if math.Abs(p-s.Y[i]) > 1e-8 {
			t.Fatalf("prediction %d: %v, want %v", i, p, s.Y[i])
		}
	}
	kq, err := e.Kernel(s.X[:2*cfg.Dim], 2, s.X, s.N)
	if err != nil {
		t.Fatal(err)
	}
	_, want, _ := cfg.Kernel.Reference(s.X[:2*cfg.Dim], 2, s.X, s.N, cfg.Dim)
	for i := range want {
		if math.Abs(kq[i]-want[i]) > 1e-7*max(1, math.Abs(want[i])) {
			t.Fatalf("Kernel entry %d: %v, want %v", i, kq[i], want[i])
		}
	}
	r, err := e.Loss(s, s)
	if err != nil || r.Loss > 1e-15 || r.Accuracy != 1 {
		t.Errorf("self loss %+v, err %v: want 0 and accuracy 1", r, err)
	}
}

// toyData is two classes of 4x4x1 images: noise plus a class-specific pattern.
func toyData(perClass int) *datasets.Dataset {
	const h, w = 4, 4
	r := rand.New(rand.NewPCG(11, 12))
	d := &datasets.Dataset{Name: "toy", Split: "train", H: h, W: w, C: 1, Classes: []string{"a", "b"},
		Mean: []float32{0}, Std: []float32{1}, Normalized: true}
	for c := range 2 {
		for range perClass {
			for p := range h * w {
				v := r.NormFloat64()
				if (p%2 == 0) == (c == 0) {
					v += 1.5
				}
				d.Images = append(d.Images, float32(v))
			}
			d.Labels = append(d.Labels, int32(c))
			d.N++
		}
	}
	return d
}

func request(d *datasets.Dataset, ipc int, params map[string]any) method.Request {
	return method.Request{Context: stdctx.Background(), Train: d, IPC: ipc, Seed: 5, Backend: backend,
		Params: params, Progress: func(int, int, string) {}}
}

// TestLossDecreases runs KIP on the toy problem and checks that the target loss falls, with
// and without ZCA and label learning, and that a seed repeats exactly.
func TestLossDecreases(t *testing.T) {
	cases := []struct {
		name   string
		params map[string]any
	}{
		{"zca", map[string]any{}},
		{"pixels-labels", map[string]any{ParamZCA: false, ParamLearnLabels: true}},
		{"noise-nngp", map[string]any{ParamInit: "noise", ParamKernel: "nngp", ParamZCA: "false"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := toyData(30)
			run := func() (*datasets.Dataset, *Result) {
				res := &Result{}
				p := map[string]any{ParamIterations: 40, ParamTargetBatch: 20, ParamResult: res, ParamLR: 0.02}
				for k, v := range c.params {
					p[k] = v
				}
				set, err := KIP{}.Condense(request(d, 2, p))
				if err != nil {
					t.Fatal(err)
				}
				return set, res
			}
			set, res := run()
			if set.N != 4 || set.Labels[0] != 0 || set.Labels[3] != 1 || len(set.Images) != 4*16 {
				t.Fatalf("bad set: N %d labels %v", set.N, set.Labels)
			}
			first := mean(res.Losses[:5])
			last := mean(res.Losses[len(res.Losses)-5:])
			if !(last < 0.8*first) {
				t.Errorf("loss did not fall: first iterations %.5f, last %.5f", first, last)
			}
			set2, _ := run()
			for i := range set.Images {
				if set.Images[i] != set2.Images[i] {
					t.Fatalf("same seed, different image value %d: %v and %v", i, set.Images[i], set2.Images[i])
				}
			}
		})
	}
}

func mean(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// TestOutputSpaces: output=zca returns the learned support features; output=pixels maps
// them back (its ZCA features have the same direction per image).
func TestOutputSpaces(t *testing.T) {
	d := toyData(20)
	res := &Result{}
	set, err := KIP{}.Condense(request(d, 2, map[string]any{ParamIterations: 3, ParamTargetBatch: 10, ParamResult: res, ParamOutput: OutputZCA}))
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range set.Images {
		if v != float32(res.Support.X[i]) {
			t.Fatalf("output=zca image value %d: %v, want %v", i, v, res.Support.X[i])
		}
	}
	px, err := KIP{}.Condense(request(d, 2, map[string]any{ParamIterations: 3, ParamTargetBatch: 10}))
	if err != nil {
		t.Fatal(err)
	}
	back := append([]float32(nil), px.Images...)
	if err := res.Transform.Linear().Apply(back, px.N); err != nil {
		t.Fatal(err)
	}
	// back = scale·z: the ratio must be one constant.
	ratio := float64(back[0]) / res.Support.X[0]
	for i, v := range back {
		if math.Abs(float64(v)-ratio*res.Support.X[i]) > 1e-3*math.Abs(ratio) {
			t.Fatalf("pixels output does not map back to the support features at %d: %v vs %v·%v", i, v, ratio, res.Support.X[i])
		}
	}
	acc, err := func() (float64, error) {
		e, err := res.Engine(backend)
		if err != nil {
			return 0, err
		}
		defer e.Finalize()
		return res.KernelAccuracy(e, d, 7)
	}()
	if err != nil || acc < 0.6 {
		t.Errorf("kernel accuracy on the training set %v (err %v), want ≥ 0.6", acc, err)
	}
}

// TestBadParams checks that bad settings are rejected with an error naming the problem.
func TestBadParams(t *testing.T) {
	d := toyData(5)
	cases := []struct {
		params map[string]any
		ipc    int
		want   string
	}{
		{map[string]any{ParamIterations: -1}, 1, ParamIterations},
		{map[string]any{ParamLR: 0}, 1, ParamLR},
		{map[string]any{ParamLR: "fast"}, 1, ParamLR},
		{map[string]any{ParamTargetBatch: 1}, 1, ParamTargetBatch},
		{map[string]any{ParamReg: -1.0}, 1, ParamReg},
		{map[string]any{ParamKernel: "rbf"}, 1, ParamKernel},
		{map[string]any{ParamDepth: -2}, 1, "depth"},
		{map[string]any{ParamWStd: 0}, 1, ParamWStd},
		{map[string]any{ParamLearnLabels: "maybe"}, 1, ParamLearnLabels},
		{map[string]any{ParamZCA: 3}, 1, ParamZCA},
		{map[string]any{ParamInit: "kcenter"}, 1, ParamInit},
		{map[string]any{ParamOutput: "jpeg"}, 1, ParamOutput},
		{map[string]any{ParamOutput: OutputZCA, ParamZCA: false}, 1, "zca"},
		{map[string]any{ParamResult: 3}, 1, ParamResult},
		{nil, 6, "IPC"},
		{nil, 0, "images per class"},
	}
	for _, c := range cases {
		_, err := KIP{}.Condense(request(d, c.ipc, c.params))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("params %v ipc %d: error %v, want one naming %q", c.params, c.ipc, err, c.want)
		}
	}
	if _, err := NewEngine(backend, Config{Kernel: ntk.DefaultFC(), Kind: ntk.NTK, Dim: 0, Classes: 2}); err == nil {
		t.Error("NewEngine with Dim 0: no error")
	}
	e := newTestEngine(t, engineCases[0].cfg)
	if _, err := e.Loss(Batch{X: []float64{1}, Y: []float64{1}, N: 1}, randBatch(1, 2, 5, 3)); err == nil {
		t.Error("Loss with a malformed support batch: no error")
	}
}
