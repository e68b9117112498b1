package mtt

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/dcbench/dcbench/datasets"
	"github.com/dcbench/dcbench/dcbench/augment"
	"github.com/dcbench/dcbench/dcbench/condensers/synth"
	"github.com/dcbench/dcbench/dcbench/expert"
	"github.com/dcbench/dcbench/dcbench/internal/testkit"
	"github.com/dcbench/dcbench/dcbench/method"
)

var backend backends.Backend

func TestMain(m *testing.M) { testkit.Main(m, &backend) }

var tinyArch = expert.Arch{Width: 4, Depth: 1, Norm: "instancenorm", H: 8, W: 8, C: 1, Classes: 3}

// tinyData is testkit.StripedData: 30 grey 8×8 images of 3 classes.
func tinyData() *datasets.Dataset { return testkit.StripedData() }

func toF64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

// TestGradientFiniteDifferences checks the MTT loss's gradient with respect to the images
// and the learning rate against central finite differences, in float64, on a tiny ConvNet
// with 2 student steps of unequal mini-batches and DSA.
func TestGradientFiniteDifferences(t *testing.T) {
	a := tinyArch
	dsa, err := augment.NewDSA(augment.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	const n = 6
	plan := NewPlan(n, 4, 2)
	if fmt.Sprint(plan.Chunks) != "[2 4]" {
		t.Fatalf("plan %v, want chunks [2 4]", plan.Chunks)
	}
	r := rand.New(rand.NewPCG(3, 4))
	start := toF64(a.Init(7))
	target := make([]float64, len(start))
	for i := range target {
		target[i] = start[i] + 0.05*r.NormFloat64()
	}
	images := make([]float64, n*64)
	for i := range images {
		images[i] = r.NormFloat64()
	}
	labels := []int32{0, 0, 1, 1, 2, 2}
	idx := []int32{4, 1, 0, 3, 5, 2}
	rngs := []uint64{1, 2, 3, 4, 5, 6}
	layout := a.Layout()
	np := len(layout)
	var paramArgs []any
	off := 0
	for _, vec := range [][]float64{start, target} {
		off = 0
		for _, tn := range layout {
			paramArgs = append(paramArgs, tensors.FromFlatDataAndDimensions(vec[off:off+tn.Size()], tn.Dims...))
			off += tn.Size()
		}
	}
	exec := MustNewExec(backend, func(in []*Node) []*Node {
		st, tg := in[:np], in[np:2*np]
		img, lr := in[2*np], in[2*np+1]
		g := img.Graph()
		loss := Unrolled(a, dsa, plan, st, tg, img, Const(g, labels), Const(g, idx), Reshape(Const(g, rngs), 2, 3), lr)
		grads := Gradient(loss, img, lr)
		return []*Node{loss, grads[0], grads[1]}
	})
	defer exec.Finalize()
	eval := func(img []float64, lr float64) (float64, []float64, float64) {
		args := append(append([]any{}, paramArgs...), tensors.FromFlatDataAndDimensions(img, n, 8, 8, 1), tensors.FromScalar(lr))
		out := exec.MustExec(args...)
		gi, _ := tensors.CopyFlatData[float64](out[1])
		return tensors.ToScalar[float64](out[0]), gi, tensors.ToScalar[float64](out[2])
	}
	const lr0 = 0.05
	loss, gImg, gLR := eval(images, lr0)
	if !(loss > 0) || math.IsInf(loss, 0) {
		t.Fatalf("loss %v", loss)
	}
	const h = 1e-5
	check := func(name string, analytic, plus, minus float64) {
		fd := (plus - minus) / (2 * h)
		if d := math.Abs(fd - analytic); d > 1e-5+1e-4*math.Abs(fd) {
			t.Errorf("%s: analytic %.8g, finite difference %.8g", name, analytic, fd)
		}
	}
	lp, _, _ := eval(images, lr0+h)
	lm, _, _ := eval(images, lr0-h)
	check("d loss/d lr", gLR, lp, lm)
	if gLR == 0 {
		t.Error("the learning rate's gradient is zero")
	}
	nonzero := 0
	for probe := 0; probe < 12; probe++ {
		j := r.IntN(len(images))
		x := append([]float64(nil), images...)
		x[j] += h
		lp, _, _ := eval(x, lr0)
		x[j] -= 2 * h
		lm, _, _ := eval(x, lr0)
		check(fmt.Sprintf("d loss/d image[%d]", j), gImg[j], lp, lm)
		if gImg[j] != 0 {
			nonzero++
		}
	}
	if nonzero == 0 {
		t.Error("all probed image gradients are zero")
	}
}

// newSet makes a synthetic set of the tiny data at IPC 2.
func newSet(t *testing.T, params map[string]any) *synth.Set {
	t.Helper()
	req := method.Request{Context: context.Background(), Train: tinyData(), IPC: 2, Seed: 5, Backend: backend,
		Params: params, Progress: func(int, int, string) {}}
	s, err := synth.New(req, synth.Options{Method: "mtt", Iterations: 1, LR: 100, Momentum: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRecomputeMatchesUnrolled checks that both memory modes give the same loss and
// gradients (images and learning rate) for the same iteration, with DSA and unequal
// mini-batches over 3 student steps.
func TestRecomputeMatchesUnrolled(t *testing.T) {
	s := newSet(t, nil)
	dsa, _ := augment.NewDSA(augment.DefaultConfig())
	a := tinyArch
	start := a.Init(1)
	target := a.Init(2)
	var grads [2]Grads
	for m, recompute := range []bool{false, true} {
		e, err := NewEngine(backend, s, a, dsa, 3, 4, recompute)
		if err != nil {
			t.Fatal(err)
		}
		d := e.Draw(rand.New(rand.NewPCG(9, 9)))
		grads[m], err = e.Gradients(start, target, d, 0.02)
		if err != nil {
			t.Fatal(err)
		}
		e.Finalize()
	}
	u, r := grads[0], grads[1]
	close := func(a, b float64) bool { return math.Abs(a-b) <= 1e-5+2e-4*math.Max(math.Abs(a), math.Abs(b)) }
	if !close(u.Loss, r.Loss) || !close(u.LR, r.LR) {
		t.Errorf("loss %g vs %g, lr gradient %g vs %g", u.Loss, r.Loss, u.LR, r.LR)
	}
	var maxAbs, maxDiff float64
	for c := range u.Images {
		gu, _ := tensors.CopyFlatData[float32](u.Images[c])
		gr, _ := tensors.CopyFlatData[float32](r.Images[c])
		for i := range gu {
			maxAbs = math.Max(maxAbs, math.Abs(float64(gu[i])))
			maxDiff = math.Max(maxDiff, math.Abs(float64(gu[i]-gr[i])))
		}
	}
	if maxAbs == 0 || maxDiff > 1e-3*maxAbs {
		t.Errorf("image gradients: max |unrolled| %g, max |unrolled − recompute| %g", maxAbs, maxDiff)
	}
}

func tinyBuffer(t *testing.T) string { return tinyBufferZCA(t, false) }

func tinyBufferZCA(t *testing.T, zca bool) string {
	t.Helper()
	dir := t.TempDir()
	cfg := expert.Config{Model: "convnetd1", Experts: 2, Epochs: 3, LR: 0.01, Batch: 16, Seed: 1, ZCA: zca}
	if _, err := expert.Train(backend, tinyData(), dir, cfg); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestCondense runs a few iterations in both modes and checks the bad-input errors.
func TestCondense(t *testing.T) {
	dir := tinyBuffer(t)
	d := tinyData()
	base := map[string]any{ParamBuffer: dir, ParamSynSteps: 2, ParamExpertEpochs: 1, ParamMaxStartEpoch: 2,
		synth.ParamIterations: 3, synth.ParamLR: 10.0, ParamLRLR: 1e-5}
	run := func(extra map[string]any) (*datasets.Dataset, error) {
		p := map[string]any{}
		for k, v := range base {
			p[k] = v
		}
		for k, v := range extra {
			p[k] = v
		}
		return MTT{}.Condense(method.Request{Context: context.Background(), Train: d, IPC: 2, Seed: 1,
			Backend: backend, Params: p, Progress: func(int, int, string) {}})
	}
	var sets [2]*datasets.Dataset
	for i, mode := range []string{MemoryUnrolled, MemoryRecompute} {
		set, err := run(map[string]any{ParamMemory: mode})
		if err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		if set.N != 6 || len(set.Images) != 6*64 {
			t.Fatalf("%s: %d images", mode, set.N)
		}
		sets[i] = set
	}
	var diff float64
	for i := range sets[0].Images {
		diff = math.Max(diff, math.Abs(float64(sets[0].Images[i]-sets[1].Images[i])))
	}
	if diff > 1e-3 {
		t.Errorf("the two memory modes end %g apart after 3 iterations", diff)
	}
	for _, tc := range []struct {
		name  string
		extra map[string]any
		want  string
	}{
		{"no buffer", map[string]any{ParamBuffer: ""}, "required"},
		{"missing buffer", map[string]any{ParamBuffer: dir + "/nope"}, "buffer"},
		{"memory", map[string]any{ParamMemory: "cheap"}, "memory"},
		{"zca mismatch", map[string]any{ParamZCA: true}, "was trained without ZCA but zca=true"},
		{"zca value", map[string]any{ParamZCA: "maybe"}, ParamZCA},
		{"output", map[string]any{ParamOutput: "png"}, "param output"},
		{"output zca without zca", map[string]any{ParamOutput: OutputZCA}, "needs zca=true"},
		{"start too late", map[string]any{ParamMaxStartEpoch: 4}, "exceed"}, // 3 epochs: t ≤ 3, t+1 ≤ 3 needs t < 3
		{"steps", map[string]any{ParamSynSteps: 0}, ParamSynSteps},
		{"lr_lr", map[string]any{ParamLRLR: "fast"}, ParamLRLR},
	} {
		if _, err := run(tc.extra); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v (want an error mentioning %q)", tc.name, err, tc.want)
		}
	}
	// The last valid start (t = 2 of 3 epochs, target epoch 3, the trajectory's last entry)
	// is accepted, as distill.py accepts it.
	if _, err := run(map[string]any{ParamMaxStartEpoch: 3, synth.ParamIterations: 1}); err != nil {
		t.Errorf("max_start_epoch 3 with 3 expert epochs and expert_epochs 1: %v", err)
	}
	other := tinyData()
	other.Classes = append(other.Classes, "d")
	if _, err := (MTT{}).Condense(method.Request{Context: context.Background(), Train: other, IPC: 2, Seed: 1,
		Backend: backend, Params: base, Progress: func(int, int, string) {}}); err == nil || !strings.Contains(err.Error(), "classes") {
		t.Errorf("buffer of another dataset: %v", err)
	}
}

// TestCondenseZCA distils on a ZCA buffer: the images returned by default (pixel space)
// whiten to those of an output=zca run with the same seed, the eval hook sees pixel-space
// images, and a ZCA buffer with zca=false is refused.
func TestCondenseZCA(t *testing.T) {
	dir := tinyBufferZCA(t, true)
	d := tinyData()
	run := func(extra map[string]any) (*datasets.Dataset, error) {
		p := map[string]any{ParamBuffer: dir, ParamSynSteps: 2, ParamExpertEpochs: 1, ParamMaxStartEpoch: 2,
			synth.ParamIterations: 2, synth.ParamLR: 10.0, ParamLRLR: 1e-5, ParamZCA: true}
		for k, v := range extra {
			p[k] = v
		}
		return MTT{}.Condense(method.Request{Context: context.Background(), Train: d, IPC: 2, Seed: 1,
			Backend: backend, Params: p, Progress: func(int, int, string) {}})
	}
	var hooked *datasets.Dataset
	pix, err := run(map[string]any{synth.ParamEvalHook: synth.EvalHook(func(it int, set *datasets.Dataset) {
		if it == 0 {
			hooked = set
		}
	})})
	if err != nil {
		t.Fatal(err)
	}
	zs, err := run(map[string]any{ParamOutput: OutputZCA})
	if err != nil {
		t.Fatal(err)
	}
	if pix.N != 6 || zs.N != 6 || !pix.Normalized {
		t.Fatalf("%d and %d images", pix.N, zs.N)
	}
	z, err := expert.FitZCA(d)
	if err != nil {
		t.Fatal(err)
	}
	white := append([]float32(nil), pix.Images...)
	if err := z.Apply(white, pix.N); err != nil {
		t.Fatal(err)
	}
	var diff, scale, apart float64
	for i := range white {
		diff = math.Max(diff, math.Abs(float64(white[i]-zs.Images[i])))
		scale = math.Max(scale, math.Abs(float64(zs.Images[i])))
		apart = math.Max(apart, math.Abs(float64(pix.Images[i]-zs.Images[i])))
	}
	if diff > 1e-3*math.Max(1, scale) {
		t.Errorf("ZCA of the pixel-space output is %g away from the output=zca images (scale %g)", diff, scale)
	}
	if apart < 1e-2 {
		t.Errorf("output=pixels and output=zca are the same images (%g apart)", apart)
	}
	// The hook's initial set is real training images (pixel space), as init=real draws them.
	if hooked == nil {
		t.Fatal("the eval hook was not called")
	}
	size := d.ImageSize()
	for j := 0; j < hooked.N; j++ {
		im := hooked.Images[j*size : (j+1)*size]
		best := math.Inf(1)
		for i := 0; i < d.N; i++ {
			var m float64
			for p, v := range d.Images[i*size : (i+1)*size] {
				m = math.Max(m, math.Abs(float64(v-im[p])))
			}
			best = math.Min(best, m)
		}
		if best > 1e-3 {
			t.Fatalf("initial image %d seen by the hook is %g from every real image", j, best)
		}
	}
	if _, err := run(map[string]any{ParamZCA: false}); err == nil || !strings.Contains(err.Error(), "was trained with ZCA but zca=false") {
		t.Errorf("ZCA buffer with zca=false: %v", err)
	}
	// zca defaults to the table: on for CIFAR-10 IPC 1, so a plain buffer is refused, naming
	// the default.
	c10 := tinyData()
	c10.Name = "cifar10"
	_, err = MTT{}.Condense(method.Request{Context: context.Background(), Train: c10, IPC: 1, Seed: 1, Backend: backend,
		Params: map[string]any{ParamBuffer: tinyBuffer(t)}, Progress: func(int, int, string) {}})
	if err == nil || !strings.Contains(err.Error(), "without ZCA but zca=true (the reference default for cifar10 IPC 1)") {
		t.Errorf("plain buffer, CIFAR-10 IPC 1 defaults: %v", err)
	}
}

// TestResume checks that a run stopped after 2 iterations and resumed from its checkpoint
// (images, momentum, learning rate) ends where an uninterrupted 3-iteration run does.
func TestResume(t *testing.T) {
	dir := tinyBuffer(t)
	ck := t.TempDir() + "/ck"
	run := func(iters int, checkpoint string) *datasets.Dataset {
		p := map[string]any{ParamBuffer: dir, ParamSynSteps: 2, ParamExpertEpochs: 1, ParamMaxStartEpoch: 2,
			synth.ParamIterations: iters, synth.ParamLR: 10.0, ParamLRLR: 1e-3}
		if checkpoint != "" {
			p[synth.ParamCheckpoint] = checkpoint
		}
		set, err := MTT{}.Condense(method.Request{Context: context.Background(), Train: tinyData(), IPC: 2, Seed: 4,
			Backend: backend, Params: p, Progress: func(int, int, string) {}})
		if err != nil {
			t.Fatal(err)
		}
		return set
	}
	want := run(3, "")
	run(2, ck)
	got := run(3, ck)
	for i := range want.Images {
		if math.Abs(float64(want.Images[i]-got.Images[i])) > 1e-6 {
			t.Fatalf("resumed run differs at %d: %g vs %g", i, got.Images[i], want.Images[i])
		}
	}
	os.Remove(ck + ".lr.jsonl")
	if _, err := (MTT{}).Condense(method.Request{Context: context.Background(), Train: tinyData(), IPC: 2, Seed: 4,
		Backend: backend, Params: map[string]any{ParamBuffer: dir, ParamSynSteps: 2, ParamExpertEpochs: 1, ParamMaxStartEpoch: 2,
			synth.ParamIterations: 4, synth.ParamLR: 10.0, ParamLRLR: 1e-3, synth.ParamCheckpoint: ck},
		Progress: func(int, int, string) {}}); err == nil || !strings.Contains(err.Error(), "learning rate") {
		t.Errorf("resume without the learning-rate log: %v", err)
	}
}

func TestLookup(t *testing.T) {
	s, ok := Lookup("cifar100", 1)
	if !ok || s.SynSteps != 20 || s.ExpertEpochs != 3 || s.MaxStartEpoch != 20 {
		t.Errorf("cifar100 IPC 1: %+v %v", s, ok)
	}
	if _, ok := Lookup("cifar10-embedded", 10); !ok {
		t.Error("cifar10-embedded IPC 10 not found")
	}
	if s, ok := Lookup("mnist", 10); ok || s != Fallback {
		t.Errorf("mnist: %+v %v, want the fallback", s, ok)
	}
	if s, _ := Lookup("tinyimagenet", 20); s.SynSteps != 20 {
		t.Errorf("tinyimagenet IPC 20 should take the IPC 10 row, got %+v", s)
	}
}

// The student's mini-batches: 10 images in chunks of 4 give batches of 2, 4, 4, then a new
// permutation.
func ExampleNewPlan() {
	p := NewPlan(10, 4, 5)
	fmt.Println(p.Chunks, p.Total)
	// Output: [2 4 4 2 4] 16
}
