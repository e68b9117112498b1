// Package mtt is Matching Training Trajectories (Cazenavette et al., "Dataset Distillation
// by Matching Training Trajectories", CVPR 2022), registry name "mtt".
//
// Expert trajectories (package expert, "dcbench buffer") are read from the folder of param
// "buffer". Each iteration picks an expert and a start epoch t < max_start_epoch (from the
// seed and the iteration), starts a student network at the expert's parameters θ*_t, trains
// it for syn_steps SGD steps on DSA-augmented mini-batches of the synthetic images with a
// learnable learning rate, and minimises ‖θ_N − θ*_{t+M}‖² / ‖θ*_t − θ*_{t+M}‖²
// (M = expert_epochs) by back-propagating through all the student steps into the images
// and the learning rate, both updated by SGD with momentum 0.5.
//
// Two modes compute the same gradient (param "memory"):
//
//   - unrolled (default): one compiled graph holds every student step and the backward pass
//     through them; nothing goes back to the host between student steps. Memory grows with
//     syn_steps × the activations of a step.
//   - recompute: the forward student steps keep only the parameter vectors θ_i (on the
//     device); a backward loop i = N−1..0 then runs a compiled vector–Jacobian program of
//     one step (recomputing it, with Hessian-vector products) that maps the adjoint of
//     θ_{i+1} to those of θ_i, of the images and of the learning rate. Each step's DSA draw
//     comes from its own RNG state and is replayed exactly. Memory is that of one step plus
//     N+1 parameter vectors, for one extra forward-and-gradient per step (docs/mtt.md has
//     the measured memory of both modes).
//
// # ZCA
//
// With zca=true (the reference's --zca; the default where the reference table says so) the
// training set is whitened as the reference does (kornia's ZCAWhitening(eps=0.1) fitted on
// the normalised training set, expert.FitZCA, the same transform the experts of a
// "dcbench buffer --zca" buffer saw), the images are initialised from the whitened real
// images and distilled in ZCA space. The buffer must have been trained with the same
// setting (expert.Buffer.ZCA); a mismatch is an error. The condensed images are returned,
// by default (output=pixels), mapped back to the normalised pixel space of the training set
// (x W⁻¹ + m), so that any evaluation that feeds raw test images (dcbench.Evaluate) is
// consistent; the eval hook also receives them in pixel space. With output=zca they are
// returned in the ZCA space, as the reference evaluates them: the test images must then be
// whitened with the same transform (expert.FitZCA on the same training set, then
// expert.Whiten) before evaluating.
//
// Params (besides those of package synth: init, iterations, lr_img, momentum_img, eval_every,
// eval_hook, checkpoint, checkpoint_every, stats): see the Param constants. Defaults come
// from the reference table (Reference, Lookup).
package mtt

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/dcbench/dcbench/datasets"
	"github.com/dcbench/dcbench/dcbench/augment"
	"github.com/dcbench/dcbench/dcbench/condensers/synth"
	"github.com/dcbench/dcbench/dcbench/expert"
	"github.com/dcbench/dcbench/dcbench/internal/catch"
	"github.com/dcbench/dcbench/dcbench/method"
)

// Params of MTT.
const (
	// ParamBuffer is the folder of expert trajectories (required; see package expert).
	ParamBuffer = "buffer"
	// ParamSynSteps is N, the student steps per iteration.
	ParamSynSteps = "syn_steps"
	// ParamExpertEpochs is M, the expert epochs the student's N steps are matched to.
	ParamExpertEpochs = "expert_epochs"
	// ParamMaxStartEpoch bounds the start epoch t (drawn in [0, max_start_epoch)).
	ParamMaxStartEpoch = "max_start_epoch"
	// ParamLRLR is the learning rate of the learnable student learning rate.
	ParamLRLR = "lr_lr"
	// ParamLRTeacher is the initial student learning rate.
	ParamLRTeacher = "lr_teacher"
	// ParamLRMomentum is the momentum of the learning rate's SGD (0.5).
	ParamLRMomentum = "momentum_lr"
	// ParamBatchSyn is the synthetic mini-batch of a student step (0: all images).
	ParamBatchSyn = "batch_syn"
	// ParamDSAStrategy is the DSA strategy of the student's batches ("none" for none).
	ParamDSAStrategy = "dsa_strategy"
	// ParamMemory is the gradient mode: "unrolled" (default) or "recompute".
	ParamMemory = "memory"
	// ParamZCA turns ZCA whitening on (default: the reference table's value, Setting.ZCA;
	// false for datasets the table lacks). It must match the buffer's (expert.Setup.ZCA).
	ParamZCA = "zca"
	// ParamOutput is the space of the returned images with zca on: OutputPixels (default)
	// or OutputZCA (see the package doc).
	ParamOutput = "output"
)

// Values of param "output".
const (
	OutputPixels = "pixels"
	OutputZCA    = "zca"
)

// Gradient modes (param "memory").
const (
	MemoryUnrolled  = "unrolled"
	MemoryRecompute = "recompute"
)

// Reference defaults that are not in the per-setting table.
const (
	DefaultIterations = 5000
	DefaultMomentum   = 0.5
)

// MTT is the condenser, registry name "mtt".
type MTT struct{}

// Name is "mtt".
func (MTT) Name() string { return "mtt" }

// config is the resolved setting of a run.
type config struct {
	Setting
	momentumLR float64
	memory     string
	strategy   string
	// zcaSet says whether param zca was given (else ZCA is the table's default).
	zcaSet bool
	output string
}

func readConfig(req method.Request) (c config, err error) {
	d := req.Train
	c.Setting, _ = Lookup(d.Name, req.IPC)
	if c.SynSteps, err = req.Int(ParamSynSteps, c.SynSteps); err != nil {
		return
	}
	if c.ExpertEpochs, err = req.Int(ParamExpertEpochs, c.ExpertEpochs); err != nil {
		return
	}
	if c.MaxStartEpoch, err = req.Int(ParamMaxStartEpoch, c.MaxStartEpoch); err != nil {
		return
	}
	if c.BatchSyn, err = req.Int(ParamBatchSyn, c.BatchSyn); err != nil {
		return
	}
	if c.LRLR, err = req.Float(ParamLRLR, c.LRLR); err != nil {
		return
	}
	if c.LRTeacher, err = req.Float(ParamLRTeacher, c.LRTeacher); err != nil {
		return
	}
	if c.momentumLR, err = req.Float(ParamLRMomentum, DefaultMomentum); err != nil {
		return
	}
	if c.memory, err = req.String(ParamMemory, MemoryUnrolled); err != nil {
		return
	}
	if c.strategy, err = req.String(ParamDSAStrategy, augment.DefaultStrategy); err != nil {
		return
	}
	c.memory = strings.ToLower(strings.TrimSpace(c.memory))
	if c.ZCA, err = req.Bool(ParamZCA, c.ZCA); err != nil {
		return
	}
	c.zcaSet = req.Params[ParamZCA] != nil
	if c.output, err = req.String(ParamOutput, OutputPixels); err != nil {
		return
	}
	c.output = strings.ToLower(strings.TrimSpace(c.output))
	switch {
	case c.SynSteps < 1:
		err = fmt.Errorf("param %s: want ≥ 1, got %d", ParamSynSteps, c.SynSteps)
	case c.ExpertEpochs < 1:
		err = fmt.Errorf("param %s: want ≥ 1, got %d", ParamExpertEpochs, c.ExpertEpochs)
	case c.MaxStartEpoch < 1:
		err = fmt.Errorf("param %s: want ≥ 1, got %d", ParamMaxStartEpoch, c.MaxStartEpoch)
	case c.BatchSyn < 0:
		err = fmt.Errorf("param %s: want ≥ 0, got %d", ParamBatchSyn, c.BatchSyn)
	case !(c.LRLR > 0):
		err = fmt.Errorf("param %s: want > 0, got %g", ParamLRLR, c.LRLR)
	case !(c.LRTeacher > 0):
		err = fmt.Errorf("param %s: want > 0, got %g", ParamLRTeacher, c.LRTeacher)
	case c.momentumLR < 0 || c.momentumLR >= 1:
		err = fmt.Errorf("param %s: want in [0, 1), got %g", ParamLRMomentum, c.momentumLR)
	case c.memory != MemoryUnrolled && c.memory != MemoryRecompute:
		err = fmt.Errorf("param %s: want %s or %s, got %q", ParamMemory, MemoryUnrolled, MemoryRecompute, c.memory)
	case c.output != OutputPixels && c.output != OutputZCA:
		err = fmt.Errorf("param %s: want %s or %s, got %q", ParamOutput, OutputPixels, OutputZCA, c.output)
	case c.output == OutputZCA && !c.ZCA:
		err = fmt.Errorf("param %s=%s needs zca=true", ParamOutput, OutputZCA)
	}
	return
}

// Condense learns the synthetic images.
func (MTT) Condense(req method.Request) (*datasets.Dataset, error) {
	d := req.Train
	if d == nil || d.N == 0 {
		return nil, errors.New("empty training set")
	}
	cfg, err := readConfig(req)
	if err != nil {
		return nil, err
	}
	dir, err := req.String(ParamBuffer, "")
	if err != nil {
		return nil, err
	}
	if dir == "" {
		return nil, fmt.Errorf("param %s: the folder of expert trajectories is required (make one with 'dcbench buffer')", ParamBuffer)
	}
	buf, err := expert.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("param %s: %w", ParamBuffer, err)
	}
	arch := buf.Arch()
	if arch.H != d.H || arch.W != d.W || arch.C != d.C || arch.Classes != d.NumClasses() {
		return nil, fmt.Errorf("param %s: the experts in %s were trained on %dx%dx%d images of %d classes, the data is %dx%dx%d with %d classes",
			ParamBuffer, dir, arch.H, arch.W, arch.C, arch.Classes, d.H, d.W, d.C, d.NumClasses())
	}
	if buf.ZCA() != cfg.ZCA {
		return nil, zcaMismatch(dir, buf.ZCA(), cfg, d.Name, req.IPC)
	}
	// The start epoch t is drawn in [0, max_start_epoch) and the target is epoch t+M of a
	// trajectory of Epochs+1 entries (epoch 0 the initialisation), as distill.py indexes
	// expert_trajectory[start_epoch+expert_epochs]: the last start needs t+M ≤ Epochs.
	if cfg.MaxStartEpoch-1+cfg.ExpertEpochs > buf.Epochs() {
		return nil, fmt.Errorf("params %s (%d) + %s (%d) exceed the %d epochs of the experts in %s (the target epoch, up to %s-1+%s, must be at most %d)",
			ParamMaxStartEpoch, cfg.MaxStartEpoch, ParamExpertEpochs, cfg.ExpertEpochs, buf.Epochs(), dir,
			ParamMaxStartEpoch, ParamExpertEpochs, buf.Epochs())
	}
	dc := augment.DefaultConfig()
	dc.Strategy = cfg.strategy
	dsa, err := augment.NewDSA(dc)
	if err != nil {
		return nil, fmt.Errorf("param %s: %w", ParamDSAStrategy, err)
	}
	// With ZCA, everything real (initial images, kcenter's features) is whitened and the
	// eval hook gets the images back in the space of the output.
	var zca *augment.ZCA
	if cfg.ZCA {
		if req.Progress != nil {
			req.Progress(0, 0, "fitting ZCA")
		}
		if zca, err = expert.FitZCA(d); err != nil {
			return nil, err
		}
		wd, err := expert.Whiten(d, zca)
		if err != nil {
			return nil, err
		}
		req.Train = wd
		if hook, ok := req.Params[synth.ParamEvalHook].(synth.EvalHook); ok && hook != nil && cfg.output == OutputPixels {
			params := make(map[string]any, len(req.Params))
			for k, v := range req.Params {
				params[k] = v
			}
			params[synth.ParamEvalHook] = synth.EvalHook(func(it int, set *datasets.Dataset) {
				if err := zca.Inverse(set.Images, set.N); err == nil {
					hook(it, set)
				}
			})
			req.Params = params
		}
	}
	s, err := synth.New(req, synth.Options{Method: "mtt", Iterations: DefaultIterations, LR: cfg.LRImg, Momentum: DefaultMomentum})
	if err != nil {
		return nil, err
	}
	e, err := NewEngine(req.Backend, s, arch, dsa, cfg.SynSteps, cfg.BatchSyn, cfg.memory == MemoryRecompute)
	if err != nil {
		return nil, err
	}
	defer e.Finalize()
	lr := &lrState{lr: cfg.LRTeacher}
	var lrFile *lrLog
	if ck := s.Config().Checkpoint; ck != "" {
		lrFile = &lrLog{path: ck + ".lr.jsonl"}
		if s.Done() > 0 {
			st, err := lrFile.at(s.Done())
			if err != nil {
				return nil, fmt.Errorf("resuming the learning rate: %w", err)
			}
			lr = st
		} else {
			os.Remove(lrFile.path)
		}
	}
	experts := buf.Experts()
	err = s.Run(func(it int) (float64, error) {
		rng := rand.New(rand.NewPCG(req.Seed^0x6d7474, uint64(it))) // "mtt"
		ex := experts[rng.IntN(len(experts))]
		t0 := rng.IntN(cfg.MaxStartEpoch)
		tr, err := buf.Trajectory(ex)
		if err != nil {
			return 0, err
		}
		start, _ := tr.Params(t0)
		target, _ := tr.Params(t0 + cfg.ExpertEpochs)
		g, err := e.Gradients(start, target, e.Draw(rng), lr.lr)
		if err != nil {
			return 0, err
		}
		if err := e.Apply(g); err != nil {
			return 0, err
		}
		lr.step(g.LR, cfg.LRLR, cfg.momentumLR)
		if lrFile != nil {
			if err := lrFile.add(it, lr); err != nil {
				return 0, err
			}
		}
		return g.Loss, nil
	})
	if err != nil {
		return nil, err
	}
	out, err := s.Dataset()
	if err != nil {
		return nil, err
	}
	if zca != nil && cfg.output == OutputPixels {
		if err := zca.Inverse(out.Images, out.N); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// zcaMismatch explains that a buffer's ZCA setting differs from the distillation's.
func zcaMismatch(dir string, bufZCA bool, cfg config, dataset string, ipc int) error {
	with := map[bool]string{true: "with", false: "without"}
	why := ""
	if !cfg.zcaSet {
		why = fmt.Sprintf(" (the reference default for %s IPC %d)", dataset, ipc)
	}
	fix := "dcbench buffer --zca"
	if !cfg.ZCA {
		fix = "dcbench buffer --zca=false"
	}
	return fmt.Errorf("param %s: buffer %s was trained %s ZCA but %s=%v%s; pass --param %s=%v or rebuild the buffer with %s",
		ParamBuffer, dir, with[bufZCA], ParamZCA, cfg.ZCA, why, ParamZCA, bufZCA, fix)
}

// lrState is the learnable student learning rate and its momentum buffer.
type lrState struct {
	It  int     `json:"iter"`
	LR  float64 `json:"lr"`
	Buf float64 `json:"momentum"`
	lr  float64
}

// step applies SGD with momentum (PyTorch's convention) to the learning rate.
func (s *lrState) step(grad, rate, momentum float64) {
	s.Buf = momentum*s.Buf + grad
	s.lr -= rate * s.Buf
}

// lrLog keeps the learning rate after every iteration next to the synth checkpoint (one
// JSON line per iteration), so a resumed run continues from the checkpoint's iteration.
type lrLog struct{ path string }

func (l *lrLog) add(it int, s *lrState) error {
	f, err := os.OpenFile(l.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	rec := lrState{It: it, LR: s.lr, Buf: s.Buf}
	b, _ := json.Marshal(rec)
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (l *lrLog) at(it int) (*lrState, error) {
	f, err := os.Open(l.path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r lrState
		if json.Unmarshal(sc.Bytes(), &r) == nil && r.It == it {
			r.lr = r.LR
			return &r, nil
		}
	}
	return nil, fmt.Errorf("%s has no record of iteration %d", l.path, it)
}

// Draw is the host-side randomness of one iteration: the mini-batch index vector and one
// DSA random-number-generator state per student step.
type Draw struct {
	// Idx holds the images of every step's mini-batch, step after step (Plan.Offsets).
	Idx []int32
	// RNGs holds one DSA random-number-generator state (3 words) per step.
	RNGs []uint64
}

// Grads are the results of one iteration's backward pass: the loss, the gradient of every
// class's images (device tensors, [IPC, H, W, C]) and that of the learning rate.
type Grads struct {
	Loss   float64
	Images []*tensors.Tensor
	LR     float64
}

// Engine holds the compiled programs of one MTT run over a synth.Set.
type Engine struct {
	s         *synth.Set
	arch      expert.Arch
	dsa       *augment.DSA
	plan      Plan
	n         int
	recompute bool
	layout    []expert.Tensor
	labels    []int32

	grad, apply      *context.Exec // unrolled; apply is shared
	fwd, final, back *context.Exec // recompute
}

// NewEngine prepares (compiled on first use) the programs of steps student steps with
// mini-batches of batchSyn (0: all images) over the images of s, in unrolled or recompute
// mode.
func NewEngine(backend backends.Backend, s *synth.Set, arch expert.Arch, dsa *augment.DSA, steps, batchSyn int, recompute bool) (*Engine, error) {
	n := s.NumClasses() * s.IPC()
	e := &Engine{s: s, arch: arch, dsa: dsa, plan: NewPlan(n, batchSyn, steps), n: n, recompute: recompute,
		layout: arch.Layout(), labels: s.Labels()}
	ctx := s.Context()
	var err error
	np := len(e.layout)
	k := s.NumClasses()
	classImages := func(g *Graph) []*Node {
		out := make([]*Node, k)
		for c := range out {
			out[c] = s.ClassImages(g, c)
		}
		return out
	}
	concat := func(xs []*Node) *Node {
		if len(xs) == 1 {
			return xs[0]
		}
		return Concatenate(xs, 0)
	}
	e.apply, err = context.NewExec(backend, ctx, func(ctx *context.Context, grads []*Node) *Node {
		s.ApplyGradients(grads[0].Graph(), grads)
		return Const(grads[0].Graph(), float32(0))
	})
	if err != nil {
		return nil, err
	}
	if !recompute {
		// in: start (np), target (np), idx, rngs, lr → out: loss, dLR, dImages (k).
		e.grad, err = context.NewExec(backend, ctx, func(ctx *context.Context, in []*Node) []*Node {
			g := in[0].Graph()
			start, target := in[:np], in[np:2*np]
			idx, rngs, lr := in[2*np], in[2*np+1], in[2*np+2]
			syn := classImages(g)
			labels := Const(g, e.labels)
			loss := Unrolled(arch, dsa, e.plan, start, target, concat(syn), labels, idx, rngs, lr)
			grads := Gradient(loss, append(append([]*Node{}, syn...), lr)...)
			return append([]*Node{loss, grads[k]}, grads[:k]...)
		})
		return e, err
	}
	// Forward step: in θ_i (np), the step's indices [chunk], its RNG state [3] and lr →
	// θ_{i+1} (np).
	e.fwd, err = context.NewExec(backend, ctx, func(ctx *context.Context, in []*Node) []*Node {
		g := in[0].Graph()
		theta := in[:np]
		sel, rng, lr := in[np], in[np+1], in[np+2]
		images := concat(classImages(g))
		at := Reshape(sel, sel.Shape().Dimensions[0], 1)
		x, y := Gather(images, at), Gather(Const(g, e.labels), at)
		out, _ := StudentStep(arch, dsa, theta, x, y, lr, rng)
		return out
	})
	if err != nil {
		return nil, err
	}
	// Final: in θ_N, start, target → loss, adjoint of θ_N.
	e.final, err = context.NewExec(backend, ctx, func(ctx *context.Context, in []*Node) []*Node {
		theta, start, target := in[:np], in[np:2*np], in[2*np:3*np]
		loss := Distance(theta, start, target)
		return append([]*Node{loss}, Gradient(loss, theta...)...)
	})
	if err != nil {
		return nil, err
	}
	// Backward step: in θ_i (np), adjoint of θ_{i+1} (np), indices, RNG state, lr, the
	// accumulated image gradients (k) and lr gradient → adjoint of θ_i (np), the updated
	// accumulators (k, 1).
	e.back, err = context.NewExec(backend, ctx, func(ctx *context.Context, in []*Node) []*Node {
		g := in[0].Graph()
		theta, adj := in[:np], in[np:2*np]
		sel, rng, lr := in[2*np], in[2*np+1], in[2*np+2]
		accImg, accLR := in[2*np+3:2*np+3+k], in[2*np+3+k]
		syn := classImages(g)
		images := concat(syn)
		at := Reshape(sel, sel.Shape().Dimensions[0], 1)
		x, y := Gather(images, at), Gather(Const(g, e.labels), at)
		next, _ := StudentStep(arch, dsa, theta, x, y, lr, rng)
		var dot *Node
		for j := range next {
			v := ReduceAllSum(Mul(next[j], StopGradient(adj[j])))
			if dot == nil {
				dot = v
			} else {
				dot = Add(dot, v)
			}
		}
		wrt := append(append(append([]*Node{}, theta...), syn...), lr)
		grads := Gradient(dot, wrt...)
		out := append([]*Node{}, grads[:np]...)
		for c := 0; c < k; c++ {
			out = append(out, Add(accImg[c], grads[np+c]))
		}
		return append(out, Add(accLR, grads[np+k]))
	})
	return e, err
}

// Finalize frees the compiled programs.
func (e *Engine) Finalize() {
	for _, x := range []*context.Exec{e.grad, e.apply, e.fwd, e.final, e.back} {
		if x != nil {
			x.Finalize()
		}
	}
}

// Plan returns the static plan of the student steps.
func (e *Engine) Plan() Plan { return e.plan }

// Draw draws one iteration's mini-batches (permutations of the synthetic images, chunked as
// the plan says) and per-step DSA RNG states from rng.
func (e *Engine) Draw(rng *rand.Rand) Draw {
	var d Draw
	var perm []int
	used := 0 // taken from the end of perm, as the reference pops its chunks
	for _, c := range e.plan.Chunks {
		if perm == nil || used >= len(perm) {
			perm, used = rng.Perm(e.n), 0
		}
		for _, v := range perm[len(perm)-used-c : len(perm)-used] {
			d.Idx = append(d.Idx, int32(v))
		}
		used += c
	}
	for range e.plan.Chunks {
		d.RNGs = append(d.RNGs, rng.Uint64(), rng.Uint64(), rng.Uint64())
	}
	return d
}

func (e *Engine) paramTensors(flat []float32) ([]*tensors.Tensor, error) {
	parts, err := e.arch.Split(flat)
	if err != nil {
		return nil, err
	}
	out := make([]*tensors.Tensor, len(parts))
	for i, p := range parts {
		out[i] = tensors.FromFlatDataAndDimensions(append([]float32(nil), p...), e.layout[i].Dims...)
	}
	return out, nil
}

func anys[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

// Gradients runs the student from start for the plan's steps with learning rate lr and the
// draws of d, and returns the loss and its gradients with respect to the images and lr.
func (e *Engine) Gradients(start, target []float32, d Draw, lr float64) (g Grads, err error) {
	st, err := e.paramTensors(start)
	if err != nil {
		return g, fmt.Errorf("start parameters: %w", err)
	}
	tg, err := e.paramTensors(target)
	if err != nil {
		return g, fmt.Errorf("target parameters: %w", err)
	}
	if len(d.Idx) != e.plan.Total || len(d.RNGs) != 3*len(e.plan.Chunks) {
		return g, fmt.Errorf("mtt: draw of %d indices and %d RNG words, want %d and %d", len(d.Idx), len(d.RNGs), e.plan.Total, 3*len(e.plan.Chunks))
	}
	lrT := tensors.FromScalar(float32(lr))
	k := e.s.NumClasses()
	err = catch.Run(func() {
		if !e.recompute {
			args := append(anys(st), anys(tg)...)
			args = append(args, tensors.FromFlatDataAndDimensions(d.Idx, len(d.Idx)),
				tensors.FromFlatDataAndDimensions(d.RNGs, len(e.plan.Chunks), 3), lrT)
			out := e.grad.MustExec(args...)
			g.Loss = float64(tensors.ToScalar[float32](out[0]))
			g.LR = float64(tensors.ToScalar[float32](out[1]))
			g.Images = out[2 : 2+k]
			return
		}
		np := len(e.layout)
		steps := len(e.plan.Chunks)
		sel := make([]*tensors.Tensor, steps)
		rngs := make([]*tensors.Tensor, steps)
		for i, c := range e.plan.Chunks {
			off := e.plan.Offsets[i]
			sel[i] = tensors.FromFlatDataAndDimensions(append([]int32(nil), d.Idx[off:off+c]...), c)
			rngs[i] = tensors.FromFlatDataAndDimensions(append([]uint64(nil), d.RNGs[3*i:3*i+3]...), RNGStateShape.Dimensions...)
		}
		thetas := make([][]*tensors.Tensor, steps+1)
		thetas[0] = st
		for i := 0; i < steps; i++ {
			args := append(anys(thetas[i]), sel[i], rngs[i], lrT)
			thetas[i+1] = e.fwd.MustExec(args...)
		}
		out := e.final.MustExec(append(append(anys(thetas[steps]), anys(st)...), anys(tg)...)...)
		g.Loss = float64(tensors.ToScalar[float32](out[0]))
		adj := out[1:]
		h, w, c := e.s.ImageShape()
		acc := make([]*tensors.Tensor, k)
		for j := range acc {
			acc[j] = tensors.FromShape(shapes.Make(dtypes.Float32, e.s.IPC(), h, w, c))
		}
		accLR := tensors.FromScalar(float32(0))
		for i := steps - 1; i >= 0; i-- {
			args := append(anys(thetas[i]), anys(adj)...)
			args = append(args, sel[i], rngs[i], lrT)
			args = append(args, anys(acc)...)
			args = append(args, accLR)
			res := e.back.MustExec(args...)
			// θ_{i+1}, the old adjoint and accumulators are no longer needed: free their
			// (device) memory now rather than at the next garbage collection.
			release(thetas[i+1])
			release(adj)
			release(acc)
			release([]*tensors.Tensor{accLR})
			adj, acc, accLR = res[:np], res[np:np+k], res[np+k]
			thetas[i+1] = nil
		}
		release(adj)
		g.Images = acc
		g.LR = float64(tensors.ToScalar[float32](accLR))
	})
	return g, err
}

// release frees the memory of tensors that are no longer used.
func release(ts []*tensors.Tensor) {
	for _, t := range ts {
		if t != nil {
			_ = t.FinalizeAll()
		}
	}
}

// Apply takes one momentum-SGD step on the images with their gradients (synth's optimiser,
// lr_img and momentum_img).
func (e *Engine) Apply(g Grads) error {
	return catch.Run(func() { e.apply.MustExec(anys(g.Images)...) })
}
