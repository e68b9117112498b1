// Package kip is Kernel Inducing Points (Nguyen, Chen & Lee, "Dataset Meta-Learning from
// Kernel Ridge-Regression", ICLR 2021; Nguyen et al., "Dataset Distillation with Infinitely
// Wide Convolutional Networks", NeurIPS 2021): a small support set (x_s, y_s) is learned so
// that kernel ridge regression on it, with the closed-form kernel of an infinitely wide
// network (package ntk), predicts the labels of the real training images:
//
//	L = ½·mean((K_ts (K_ss + λ·tr(K_ss)/n·I)⁻¹ y_s − y_t)²),  λ = 10⁻⁶,
//
// minimised with Adam (lr 0.04) on the support images, and on the labels with
// learn_labels=true. Each iteration draws a fresh class-balanced target batch (x_t, y_t)
// from the training set. The objective and its exact gradient come from an Engine: the
// kernels are a compiled gomlx graph in float64, the solve is done on the host (Cholesky),
// and the gradient with respect to the images is the kernel graph's vector–Jacobian product
// with the closed-form adjoints of the solve (see Engine).
//
// # Labels
//
// Labels are one-hot vectors centred as in the reference: y = onehot − 1/K (K classes), so
// each label vector sums to zero. With learn_labels=true the support labels are learned too;
// the returned dataset still carries the class of each image (its initial label), which is
// what the usual evaluation (training networks with hard labels) uses; the learned label
// vectors are available through the "result" param.
//
// # Preprocessing and the returned images
//
// With zca=true (the default) every image is mapped to the KIP-style ZCA space
// (augment.KIPZCA fitted on the training set: per-image centring and L2 normalisation, then
// whitening with reg = 0.1·tr(C)/d), and the kernel sees those features. The condensed
// images are returned, by default (output=pixels), in the normalised pixel space of the
// training set so that any evaluation that feeds raw test images (dcbench.Evaluate) is
// consistent: the whitening is inverted (x W⁻¹) and each image is scaled by the mean
// per-image L2 norm of the centred training images (the layer normalisation is not
// invertible: the per-image mean and norm of a learned image are undefined). With
// output=zca the images are returned in the ZCA space, as the reference evaluates them; the
// test images must then go through the same transform (Result.Transform).
//
// With zca=false the kernel sees the normalised pixels and the images are returned as
// learned.
package kip

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gomlx/gomlx/backends"

	"github.com/dcbench/dcbench/datasets"
	"github.com/dcbench/dcbench/dcbench/augment"
	"github.com/dcbench/dcbench/dcbench/method"
	"github.com/dcbench/dcbench/dcbench/ntk"
)

// Request params of KIP.
const (
	// ParamIterations is the number of Adam steps (DefaultIterations).
	ParamIterations = "iterations"
	// ParamLR is the Adam learning rate of the images (DefaultLR).
	ParamLR = "lr_img"
	// ParamLRLabels is the Adam learning rate of the labels (DefaultLR).
	ParamLRLabels = "lr_label"
	// ParamTargetBatch is the number of target images per iteration, split evenly over
	// the classes (DefaultTargetBatch; capped by the class sizes).
	ParamTargetBatch = "target_batch"
	// ParamReg is λ (DefaultReg).
	ParamReg = "reg"
	// ParamKernel is "ntk" (default) or "nngp".
	ParamKernel = "kernel"
	// ParamDepth, ParamWStd and ParamBStd set the fully-connected network (ntk.DefaultFC).
	ParamDepth = "depth"
	// ParamWStd is the weight standard deviation of the network.
	ParamWStd = "w_std"
	// ParamBStd is the bias standard deviation of the network.
	ParamBStd = "b_std"
	// ParamLearnLabels turns label learning on (false by default).
	ParamLearnLabels = "learn_labels"
	// ParamZCA turns the KIP ZCA preprocessing on (true by default).
	ParamZCA = "zca"
	// ParamZCAStrength is the relative ZCA regularisation (augment.DefaultKIPZCAStrength).
	ParamZCAStrength = "zca_strength"
	// ParamInit is "real" (default: the images the Random condenser picks for the same
	// seed) or "noise" (Gaussian, with the RMS of the target features).
	ParamInit = "init"
	// ParamOutput is "pixels" (default) or "zca" (see the package doc).
	ParamOutput = "output"
	// ParamResult is a *Result that receives the learned support set and the loss history.
	ParamResult = "result"
)

// Defaults of the reference (the KIP colab and paper).
const (
	DefaultIterations  = 1000
	DefaultLR          = 0.04
	DefaultTargetBatch = 5000
)

// Output spaces of the returned images (param "output").
const (
	OutputPixels = "pixels"
	OutputZCA    = "zca"
)

// KIP is the condenser, registry name "kip".
type KIP struct{}

// Name is "kip".
func (KIP) Name() string { return "kip" }

// Result receives what KIP learned when passed as param "result".
type Result struct {
	// Config is the kernel regression that was used.
	Config Config
	// Support holds the learned inputs (in the kernel's feature space: ZCA space when
	// Transform is set) and label vectors, class-major, IPC per class.
	Support Batch
	// Transform maps normalised images to the kernel's feature space; nil without ZCA.
	Transform *augment.KIPZCA
	// Losses and Accuracies are the target-batch loss and accuracy before each iteration's
	// update.
	Losses, Accuracies []float64
}

// Features maps n normalised images (NHWC, flattened) to the kernel's feature space.
func (r *Result) Features(images []float32, n int) ([]float64, error) {
	buf := append([]float32(nil), images...)
	if r.Transform != nil {
		if err := r.Transform.Apply(buf, n); err != nil {
			return nil, err
		}
	}
	out := make([]float64, len(buf))
	for i, v := range buf {
		out[i] = float64(v)
	}
	return out, nil
}

// Engine returns a new Engine for r.Config on backend b (the caller finalises it).
func (r *Result) Engine(b backends.Backend) (*Engine, error) { return NewEngine(b, r.Config) }

// KernelAccuracy is the accuracy of kernel ridge regression on the support set for the
// (normalised) test set, as the KIP paper reports it, evaluated in chunks of chunk images.
func (r *Result) KernelAccuracy(e *Engine, test *datasets.Dataset, chunk int) (float64, error) {
	if test == nil || test.N == 0 {
		return 0, errors.New("kip: empty test set")
	}
	if test.ImageSize() != r.Config.Dim || test.NumClasses() != r.Config.Classes {
		return 0, fmt.Errorf("kip: test set has %d features and %d classes, the support %d and %d",
			test.ImageSize(), test.NumClasses(), r.Config.Dim, r.Config.Classes)
	}
	if chunk < 1 {
		chunk = 1000
	}
	d, c := r.Config.Dim, r.Config.Classes
	var correct int
	for lo := 0; lo < test.N; lo += chunk {
		hi := min(test.N, lo+chunk)
		x, err := r.Features(test.Images[lo*d:hi*d], hi-lo)
		if err != nil {
			return 0, err
		}
		pred, err := e.Predict(r.Support, x, hi-lo)
		if err != nil {
			return 0, err
		}
		for i := range hi - lo {
			if argmax(pred[i*c:(i+1)*c]) == int(test.Labels[lo+i]) {
				correct++
			}
		}
	}
	return float64(correct) / float64(test.N), nil
}

// settings are the parsed params.
type settings struct {
	cfg                Config
	iters, targetBatch int
	lr, lrLabel        float64
	learnLabels, zca   bool
	zcaStrength        float64
	init, output       string
	result             *Result
}

func readSettings(req method.Request) (s settings, err error) {
	d := req.Train
	if d == nil || d.N == 0 {
		return s, errors.New("kip: empty training set")
	}
	if s.iters, err = req.Int(ParamIterations, DefaultIterations); err != nil {
		return
	}
	if s.iters < 0 {
		return s, fmt.Errorf("param %s: want ≥ 0, got %d", ParamIterations, s.iters)
	}
	if s.targetBatch, err = req.Int(ParamTargetBatch, DefaultTargetBatch); err != nil {
		return
	}
	if s.targetBatch < d.NumClasses() {
		return s, fmt.Errorf("param %s: want ≥ the number of classes (%d), got %d", ParamTargetBatch, d.NumClasses(), s.targetBatch)
	}
	floats := []struct {
		key string
		dst *float64
		def float64
		ok  func(float64) bool
		msg string
	}{
		{ParamLR, &s.lr, DefaultLR, func(x float64) bool { return x > 0 }, "> 0"},
		{ParamLRLabels, &s.lrLabel, DefaultLR, func(x float64) bool { return x > 0 }, "> 0"},
		{ParamReg, &s.cfg.Reg, DefaultReg, func(x float64) bool { return x >= 0 }, "≥ 0"},
		{ParamWStd, &s.cfg.Kernel.WStd, ntk.DefaultFC().WStd, func(x float64) bool { return x > 0 }, "> 0"},
		{ParamBStd, &s.cfg.Kernel.BStd, ntk.DefaultFC().BStd, func(x float64) bool { return x >= 0 }, "≥ 0"},
		{ParamZCAStrength, &s.zcaStrength, augment.DefaultKIPZCAStrength, func(x float64) bool { return x > 0 }, "> 0"},
	}
	for _, f := range floats {
		if *f.dst, err = req.Float(f.key, f.def); err != nil {
			return
		}
		if !f.ok(*f.dst) || math.IsInf(*f.dst, 0) {
			return s, fmt.Errorf("param %s: want a finite number %s, got %v", f.key, f.msg, *f.dst)
		}
	}
	if s.cfg.Kernel.Depth, err = req.Int(ParamDepth, ntk.DefaultFC().Depth); err != nil {
		return
	}
	kind, err := req.String(ParamKernel, string(ntk.NTK))
	if err != nil {
		return
	}
	if s.cfg.Kind, err = ntk.ParseKind(kind); err != nil {
		return s, fmt.Errorf("param %s: %w", ParamKernel, err)
	}
	if s.learnLabels, err = req.Bool(ParamLearnLabels, false); err != nil {
		return
	}
	if s.zca, err = req.Bool(ParamZCA, true); err != nil {
		return
	}
	if s.init, err = req.String(ParamInit, "real"); err != nil {
		return
	}
	if s.init != "real" && s.init != "noise" {
		return s, fmt.Errorf("param %s: want real or noise, got %q", ParamInit, s.init)
	}
	if s.output, err = req.String(ParamOutput, OutputPixels); err != nil {
		return
	}
	if s.output != OutputPixels && s.output != OutputZCA {
		return s, fmt.Errorf("param %s: want %s or %s, got %q", ParamOutput, OutputPixels, OutputZCA, s.output)
	}
	if s.output == OutputZCA && !s.zca {
		return s, fmt.Errorf("param %s=%s needs zca=true", ParamOutput, OutputZCA)
	}
	if v, ok := req.Params[ParamResult]; ok && v != nil {
		if s.result, ok = v.(*Result); !ok {
			return s, fmt.Errorf("param %s: want a *kip.Result, got %T", ParamResult, v)
		}
	}
	s.cfg.Dim, s.cfg.Classes = d.ImageSize(), d.NumClasses()
	if err = s.cfg.Validate(); err != nil {
		return
	}
	if req.IPC < 1 {
		return s, fmt.Errorf("kip: images per class must be ≥ 1, got %d", req.IPC)
	}
	for k, n := range d.ClassCounts() {
		if n < req.IPC {
			return s, fmt.Errorf("kip: class %d (%s) has %d images, fewer than IPC %d", k, d.Classes[k], n, req.IPC)
		}
	}
	return s, nil
}

// Condense learns the support set.
func (KIP) Condense(req method.Request) (*datasets.Dataset, error) {
	st, err := readSettings(req)
	if err != nil {
		return nil, err
	}
	if req.Backend == nil {
		return nil, errors.New("kip: nil backend")
	}
	if req.Progress == nil {
		req.Progress = func(int, int, string) {}
	}
	if req.Context == nil {
		req.Context = context.Background()
	}
	d := req.Train
	k, dim, ipc := d.NumClasses(), d.ImageSize(), req.IPC
	if !d.Normalized {
		return nil, errors.New("kip: the training set must be normalised")
	}
	// The kernel's feature space: ZCA'd (float32, all training images) or the pixels.
	feats := d.Images
	var zca *augment.KIPZCA
	if st.zca {
		req.Progress(0, st.iters, "fitting ZCA")
		if zca, err = augment.FitZCAKIP(d.Images, d.N, dim, st.zcaStrength); err != nil {
			return nil, fmt.Errorf("kip: ZCA: %w", err)
		}
		feats = append([]float32(nil), d.Images...)
		if err = zca.Apply(feats, d.N); err != nil {
			return nil, fmt.Errorf("kip: ZCA: %w", err)
		}
	}
	row := func(i int) []float32 { return feats[i*dim : (i+1)*dim] }
	label := func(c int, dst []float64) {
		for j := range dst {
			dst[j] = -1 / float64(k)
		}
		dst[c] += 1
	}
	// Support set, class-major.
	n := k * ipc
	sup := Batch{X: make([]float64, n*dim), Y: make([]float64, n*k), N: n}
	var rms float64
	if st.init == "noise" {
		for _, v := range feats {
			rms += float64(v) * float64(v)
		}
		rms = math.Sqrt(rms / float64(len(feats)))
	}
	for c := range k {
		rng := rand.New(rand.NewPCG(req.Seed, uint64(c)+1)) // as the Random condenser
		var pick []int
		if st.init == "real" {
			if pick, err = d.SampleClass(c, ipc, rng); err != nil {
				return nil, err
			}
		}
		for i := range ipc {
			j := c*ipc + i
			x := sup.X[j*dim : (j+1)*dim]
			if pick != nil {
				for f, v := range row(pick[i]) {
					x[f] = float64(v)
				}
			} else {
				for f := range x {
					x[f] = rms * rng.NormFloat64()
				}
			}
			label(c, sup.Y[j*k:(j+1)*k])
		}
	}
	eng, err := NewEngine(req.Backend, st.cfg)
	if err != nil {
		return nil, err
	}
	defer eng.Finalize()
	// Target batches: ⌊target_batch/K⌋ images per class (capped by the class size).
	per := st.targetBatch / k
	counts := d.ClassCounts()
	m := 0
	for _, cnt := range counts {
		m += min(per, cnt)
	}
	tgt := Batch{X: make([]float64, m*dim), Y: make([]float64, m*k), N: m}
	advX, advY := newAdam(len(sup.X), st.lr), newAdam(len(sup.Y), st.lrLabel)
	var losses, accs []float64
	for it := range st.iters {
		if err := req.Context.Err(); err != nil {
			return nil, err
		}
		rng := rand.New(rand.NewPCG(req.Seed^0x6b6970, uint64(it))) // "kip"
		j := 0
		for c := range k {
			pick, err := d.SampleClass(c, min(per, counts[c]), rng)
			if err != nil {
				return nil, err
			}
			for _, idx := range pick {
				for f, v := range row(idx) {
					tgt.X[j*dim+f] = float64(v)
				}
				label(c, tgt.Y[j*k:(j+1)*k])
				j++
			}
		}
		res, err := eng.LossGrad(sup, tgt)
		if err != nil {
			return nil, fmt.Errorf("kip: iteration %d: %w", it, err)
		}
		losses, accs = append(losses, res.Loss), append(accs, res.Accuracy)
		advX.step(sup.X, res.GradX)
		if st.learnLabels {
			advY.step(sup.Y, res.GradY)
		}
		req.Progress(it+1, st.iters, fmt.Sprintf("iteration %d/%d, loss %.5f, target accuracy %.3f", it+1, st.iters, res.Loss, res.Accuracy))
	}
	if st.result != nil {
		*st.result = Result{Config: st.cfg, Support: Batch{X: append([]float64(nil), sup.X...),
			Y: append([]float64(nil), sup.Y...), N: n}, Transform: zca, Losses: losses, Accuracies: accs}
	}
	// The returned images.
	out := &datasets.Dataset{Name: d.Name, Split: "synthetic", N: n, H: d.H, W: d.W, C: d.C,
		Classes: append([]string(nil), d.Classes...), Mean: append([]float32(nil), d.Mean...),
		Std: append([]float32(nil), d.Std...), Normalized: true, Images: make([]float32, n*dim), Labels: make([]int32, n)}
	for i, v := range sup.X {
		out.Images[i] = float32(v)
	}
	for i := range n {
		out.Labels[i] = int32(i / ipc)
	}
	if st.zca && st.output == OutputPixels {
		if err := zca.Inverse(out.Images, n); err != nil {
			return nil, err
		}
		scale := meanCentredNorm(d)
		for i := range out.Images {
			out.Images[i] *= float32(scale)
		}
	}
	return out, nil
}

// meanCentredNorm is the mean over the images of the L2 norm of the image minus its mean.
func meanCentredNorm(d *datasets.Dataset) float64 {
	dim := d.ImageSize()
	var total float64
	for i := range d.N {
		im := d.Images[i*dim : (i+1)*dim]
		var mu, ss float64
		for _, v := range im {
			mu += float64(v)
		}
		mu /= float64(dim)
		for _, v := range im {
			ss += (float64(v) - mu) * (float64(v) - mu)
		}
		total += math.Sqrt(ss)
	}
	return total / float64(d.N)
}

// adam is the Adam optimiser of jax.example_libraries.optimizers (β₁ 0.9, β₂ 0.999, ε 10⁻⁸).
type adam struct {
	lr   float64
	m, v []float64
	t    int
}

func newAdam(n int, lr float64) *adam {
	return &adam{lr: lr, m: make([]float64, n), v: make([]float64, n)}
}

func (a *adam) step(x, g []float64) {
	const b1, b2, eps = 0.9, 0.999, 1e-8
	a.t++
	c1, c2 := 1-math.Pow(b1, float64(a.t)), 1-math.Pow(b2, float64(a.t))
	for i := range x {
		a.m[i] = b1*a.m[i] + (1-b1)*g[i]
		a.v[i] = b2*a.v[i] + (1-b2)*g[i]*g[i]
		x[i] -= a.lr * (a.m[i] / c1) / (math.Sqrt(a.v[i]/c2) + eps)
	}
}

// MarshalJSON writes null, so that a set whose Params hold a *Result can still be saved.
func (*Result) MarshalJSON() ([]byte, error) { return []byte("null"), nil }
