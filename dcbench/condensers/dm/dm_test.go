package dm

import (
	stdctx "context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/dcbench/dcbench/datasets"
	"github.com/dcbench/dcbench/dcbench/augment"
	"github.com/dcbench/dcbench/dcbench/condensers/synth"
	"github.com/dcbench/dcbench/dcbench/internal/testkit"
	"github.com/dcbench/dcbench/dcbench/method"
	"github.com/dcbench/dcbench/dcbench/nn"
)

var backend backends.Backend

func TestMain(m *testing.M) { testkit.Main(m, &backend) }

func randSlice(r *rand.Rand, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(r.NormFloat64())
	}
	return out
}

// Sizes of the loss tests: 2 classes, 3 real and 2 synthetic images per class of 4x4x2.
const (
	tK, tB, tIPC, tS, tC = 2, 3, 2, 4, 2
	tSize                = tS * tS * tC
)

// lossAndGrads evaluates Loss on the given images with embed and returns the loss and the
// gradients for the synthetic images of each class.
func lossAndGrads(t *testing.T, embed func(x *Node) *Node, dsa *augment.DSA, joint bool, real []float32, syn [][]float32) (float64, [][]float32) {
	ctx := context.New()
	if err := ctx.SetRNGStateFromSeed(3); err != nil {
		t.Fatal(err)
	}
	exec, err := context.NewExec(backend, ctx, func(ctx *context.Context, real, s0, s1 *Node) []*Node {
		loss := Loss(ctx, embed, dsa, real, []*Node{s0, s1}, joint)
		return append([]*Node{loss}, Gradient(loss, s0, s1)...)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer exec.Finalize()
	out, err := exec.Exec(tensors.FromFlatDataAndDimensions(real, tK*tB, tS, tS, tC),
		tensors.FromFlatDataAndDimensions(syn[0], tIPC, tS, tS, tC), tensors.FromFlatDataAndDimensions(syn[1], tIPC, tS, tS, tC))
	if err != nil {
		t.Fatal(err)
	}
	return float64(tensors.ToScalar[float32](out[0])),
		[][]float32{tensors.MustCopyFlatData[float32](out[1]), tensors.MustCopyFlatData[float32](out[2])}
}

func flatten(x *Node) *Node { return Reshape(x, x.Shape().Dimensions[0], -1) }

// TestLossByHand checks the loss and its gradient with the identity embedding (flattened
// pixels): L = Σ_k ‖r̄_k − s̄_k‖², ∂L/∂s_{k,i} = −2(r̄_k − s̄_k)/IPC.
func TestLossByHand(t *testing.T) {
	for _, joint := range []bool{false, true} {
		t.Run(fmt.Sprintf("joint=%v", joint), func(t *testing.T) { testLossByHand(t, joint) })
	}
}

func testLossByHand(t *testing.T, joint bool) {
	r := rand.New(rand.NewPCG(1, 1))
	real := randSlice(r, tK*tB*tSize)
	syn := [][]float32{randSlice(r, tIPC*tSize), randSlice(r, tIPC*tSize)}
	loss, grads := lossAndGrads(t, flatten, nil, joint, real, syn)
	var want float64
	for k := 0; k < tK; k++ {
		for p := 0; p < tSize; p++ {
			var rm, sm float64
			for b := 0; b < tB; b++ {
				rm += float64(real[(k*tB+b)*tSize+p]) / tB
			}
			for i := 0; i < tIPC; i++ {
				sm += float64(syn[k][i*tSize+p]) / tIPC
			}
			want += (rm - sm) * (rm - sm)
			for i := 0; i < tIPC; i++ {
				g := -2 * (rm - sm) / tIPC
				if got := float64(grads[k][i*tSize+p]); math.Abs(got-g) > 1e-5 {
					t.Fatalf("gradient class %d image %d pixel %d: %v, want %v", k, i, p, got, g)
				}
			}
		}
	}
	if math.Abs(loss-want) > 1e-4*want {
		t.Errorf("loss %v, want %v", loss, want)
	}
}

// TestLossGradientFD checks the image gradient of the loss through a nonlinear embedding and
// DSA (a fixed draw: same seed every evaluation) against central finite differences.
func TestLossGradientFD(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	wFlat := randSlice(r, tSize*5)
	embed := func(x *Node) *Node {
		w := Const(x.Graph(), tensors.FromFlatDataAndDimensions(wFlat, tSize, 5))
		return Tanh(nn.MatMulLast(flatten(x), MulScalar(w, 0.3)))
	}
	cfg := augment.DefaultConfig()
	cfg.Strategy = "color_scale" // smooth ops, so finite differences are meaningful
	dsa, err := augment.NewDSA(cfg)
	if err != nil {
		t.Fatal(err)
	}
	real := randSlice(r, tK*tB*tSize)
	syn := [][]float32{randSlice(r, tIPC*tSize), randSlice(r, tIPC*tSize)}
	_, grads := lossAndGrads(t, embed, dsa, false, real, syn)
	const eps = 1e-2
	for _, probe := range []struct{ k, i int }{{0, 0}, {0, 17}, {1, 5}, {1, 63}} {
		plus := [][]float32{slices.Clone(syn[0]), slices.Clone(syn[1])}
		minus := [][]float32{slices.Clone(syn[0]), slices.Clone(syn[1])}
		plus[probe.k][probe.i] += eps
		minus[probe.k][probe.i] -= eps
		lp, _ := lossAndGrads(t, embed, dsa, false, real, plus)
		lm, _ := lossAndGrads(t, embed, dsa, false, real, minus)
		fd := (lp - lm) / (2 * eps)
		got := float64(grads[probe.k][probe.i])
		if math.Abs(fd-got) > 2e-3+0.02*math.Abs(fd) {
			t.Errorf("class %d value %d: gradient %.6f, finite differences %.6f", probe.k, probe.i, got, fd)
		}
	}
}

// TestLossSiamese: with the real images of each class equal to its synthetic ones, the loss
// is zero under DSA only if both get the same transformation.
func TestLossSiamese(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	syn := [][]float32{randSlice(r, tIPC*tSize), randSlice(r, tIPC*tSize)}
	dsa, err := augment.NewDSA(augment.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	// B = 3 real images per class: the two synthetic ones and their mean (so the means agree).
	real := make([]float32, 0, tK*tB*tSize)
	for k := 0; k < tK; k++ {
		real = append(real, syn[k]...)
		for p := 0; p < tSize; p++ {
			real = append(real, (syn[k][p]+syn[k][tSize+p])/2)
		}
	}
	for _, joint := range []bool{false, true} {
		loss, _ := lossAndGrads(t, flatten, dsa, joint, real, syn)
		if loss > 1e-8 {
			t.Errorf("joint=%v: loss %v for matching sets under siamese DSA, want 0", joint, loss)
		}
	}
}

// toyData is testkit.ToyData.
func toyData(classes, n, s int, seed uint64) *datasets.Dataset {
	return testkit.ToyData(classes, n, s, seed)
}

func TestCondense(t *testing.T) {
	d := toyData(3, 5, 8, 1)
	run := func(seed uint64, params map[string]any) (*datasets.Dataset, *synth.Stats) {
		stats := &synth.Stats{}
		p := map[string]any{"iterations": 3, "batch_real": 4, "model": "convnetd1", "stats": stats}
		for k, v := range params {
			p[k] = v
		}
		req := method.Request{Context: stdctx.Background(), Train: d, IPC: 2, Seed: seed, Backend: backend,
			Params: p, Progress: func(int, int, string) {}}
		set, err := DM{}.Condense(req)
		if err != nil {
			t.Fatal(err)
		}
		return set, stats
	}
	a, stats := run(1, nil)
	b, _ := run(1, nil)
	c, _ := run(2, nil)
	if a.N != 6 || a.Validate() != nil || !slices.Equal(a.Labels, []int32{0, 0, 1, 1, 2, 2}) {
		t.Fatalf("set %v: %v", a, a.Validate())
	}
	if !slices.Equal(a.Images, b.Images) {
		t.Errorf("same seed, different sets")
	}
	if slices.Equal(a.Images, c.Images) {
		t.Errorf("different seeds, same set")
	}
	recs := stats.Records()
	if len(recs) != 3 {
		t.Fatalf("%d records, want 3", len(recs))
	}
	for _, r := range recs {
		if !(r.Loss > 0) {
			t.Errorf("iteration %d: loss %v", r.Iter, r.Loss)
		}
	}
	t.Logf("losses %v, %v", recs[0].Loss, recs[2].Loss)
	// The images moved from the real initialisation.
	z, _ := run(1, map[string]any{"iterations": 0})
	if slices.Equal(a.Images, z.Images) {
		t.Errorf("3 iterations left the images unchanged")
	}
}

// TestResume: a run stopped after 2 iterations and resumed to 4 from its checkpoint ends
// with the set of an uninterrupted 4-iteration run (the networks, DSA draws and real batches
// of iterations 3 and 4 are the same).
func TestResume(t *testing.T) {
	d := toyData(2, 4, 8, 3)
	ck := t.TempDir() + "/dm.ck"
	run := func(iters int, ckpt string) *datasets.Dataset {
		p := map[string]any{"iterations": iters, "batch_real": 3, "model": "convnetd1"}
		if ckpt != "" {
			p["checkpoint"] = ckpt
		}
		req := method.Request{Context: stdctx.Background(), Train: d, IPC: 1, Seed: 5, Backend: backend,
			Params: p, Progress: func(int, int, string) {}}
		set, err := DM{}.Condense(req)
		if err != nil {
			t.Fatal(err)
		}
		return set
	}
	want := run(4, "")
	run(2, ck)
	got := run(4, ck)
	if !slices.Equal(got.Images, want.Images) {
		t.Errorf("resumed run differs from the uninterrupted one")
	}
}

func TestBadParams(t *testing.T) {
	d := toyData(2, 3, 4, 1)
	for _, p := range []map[string]any{
		{"dsa_strategy": "color_blur"},
		{"model": "resnet9000"},
		{"batch_real": 0},
		{"init": "gauss"},
	} {
		req := method.Request{Context: stdctx.Background(), Train: d, IPC: 1, Seed: 1, Backend: backend,
			Params: p, Progress: func(int, int, string) {}}
		if _, err := (DM{}).Condense(req); err == nil {
			t.Errorf("params %v accepted", p)
		}
	}
}

func TestDefaultLR(t *testing.T) {
	for _, tc := range []struct {
		name string
		ipc  int
		want float64
	}{{"cifar10", 10, 1}, {"cifar10", 100, 10}, {"cifar100", 100, 1}, {"mnist", 500, 1}} {
		if got := DefaultLR(tc.name, tc.ipc); got != tc.want {
			t.Errorf("DefaultLR(%s, %d) = %v, want %v", tc.name, tc.ipc, got, tc.want)
		}
	}
}
