package train

import (
	stdctx "context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/dcbench/dcbench/datasets"
	"github.com/dcbench/dcbench/dcbench/augment"
	"github.com/dcbench/dcbench/dcbench/internal/catch"
	"github.com/dcbench/dcbench/dcbench/models"
	"github.com/dcbench/dcbench/dcbench/nn"
)

// modelScope and optimScope are the context scopes of the network and of the optimiser state.
const (
	modelScope = "model"
	optimScope = "optimizer"
)

// Trainer owns one freshly initialised network, its optimiser state and the compiled
// programs that train and test it.
type Trainer struct {
	cfg        Config
	backend    backends.Backend
	model      *models.Model
	ctx        *context.Context
	numClasses int
	h, w, c    int
	mean, std  []float32

	dsa  *augment.DSA
	host augment.HostAugmenter
	rng  *rand.Rand

	step, predict, embed *context.Exec
	lr                   float64
	steps                int

	// Test hooks: perm replaces the shuffling of Fit (nil: t.rng.Perm); beforeStep is called
	// before every step of Fit with the learning rate it uses.
	perm       func(n int) []int
	beforeStep func(lr float64)
}

// New builds a trainer for images of size h×w×c with numClasses classes. mean and std are
// the dataset's normalisation constants (used by host-side augmentations to work in pixel
// space).
func New(backend backends.Backend, cfg Config, numClasses, h, w, c int, mean, std []float32) (*Trainer, error) {
	cfg = cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m, err := models.Get(cfg.Model)
	if err != nil {
		return nil, err
	}
	t := &Trainer{cfg: cfg, backend: backend, model: m, numClasses: numClasses, h: h, w: w, c: c,
		mean: mean, std: std, lr: cfg.LR, rng: rand.New(rand.NewPCG(cfg.Seed, 0x7e57))}
	switch cfg.Augment {
	case augment.NameNone:
	case augment.NameDSA:
		dc := augment.DefaultConfig()
		dc.Strategy = cfg.DSAStrategy
		if t.dsa, err = augment.NewDSA(dc); err != nil {
			return nil, err
		}
	default:
		if t.host, err = augment.NewHost(cfg.Augment, mean, std, HostOptions(cfg.HostAugment, h, w)); err != nil {
			return nil, err
		}
	}
	t.ctx = context.New().Checked(false) // the train, test and embed programs share the variables
	for k, v := range cfg.ModelParams {
		t.ctx.SetParam(k, v)
	}
	if err := t.ctx.SetRNGStateFromSeed(int64(cfg.Seed)); err != nil {
		return nil, err
	}
	if err := t.compile(); err != nil {
		return nil, err
	}
	return t, nil
}

// Config returns the (defaulted) configuration.
func (t *Trainer) Config() Config { return t.cfg }

// Context returns the gomlx context holding the network's variables.
func (t *Trainer) Context() *context.Context { return t.ctx }

// Model returns the registry model being trained.
func (t *Trainer) Model() *models.Model { return t.model }

// trainableVars lists the trainable float variables of the network used by graph g.
func (t *Trainer) trainableVars(g *Graph) []*context.Variable {
	var vars []*context.Variable
	for v := range t.ctx.IterVariables() {
		if v.Trainable && v.Shape().DType.IsFloat() && v.InUseByGraph(g) &&
			strings.HasPrefix(v.Scope(), context.ScopeSeparator+modelScope) {
			vars = append(vars, v)
		}
	}
	return vars
}

func (t *Trainer) compile() error {
	var err error
	t.step, err = context.NewExec(t.backend, t.ctx, func(ctx *context.Context, images, labels, lr *Node) *Node {
		g := images.Graph()
		ctx.SetTraining(g, true)
		x := images
		if t.dsa != nil {
			x = t.dsa.Augment(ctx, x)
		}
		logits := t.model.Logits(ctx.In(modelScope), x, t.numClasses)
		loss := nn.CrossEntropy(logits, labels)
		vars := t.trainableVars(g)
		values := make([]*Node, len(vars))
		for i, v := range vars {
			values[i] = v.ValueGraph(g)
		}
		grads := Gradient(loss, values...)
		t.applyOptimizer(ctx, vars, values, grads, lr)
		return loss
	})
	if err != nil {
		return err
	}
	t.predict, err = context.NewExec(t.backend, t.ctx, func(ctx *context.Context, images, labels *Node) *Node {
		ctx.SetTraining(images.Graph(), false)
		logits := t.model.Logits(ctx.In(modelScope), images, t.numClasses)
		return nn.Accuracy(logits, labels)
	})
	if err != nil {
		return err
	}
	t.embed, err = context.NewExec(t.backend, t.ctx, func(ctx *context.Context, images *Node) *Node {
		ctx.SetTraining(images.Graph(), false)
		return t.model.Features(ctx.In(modelScope), images)
	})
	return err
}

// applyOptimizer writes the updated parameters (and optimiser state) as the new variable
// values, as PyTorch's SGD (weight decay added to the gradient, momentum buffer initialised
// with the first gradient) or Adam (L2 weight decay, bias correction, eps 1e-8).
func (t *Trainer) applyOptimizer(ctx *context.Context, vars []*context.Variable, values, grads []*Node, lr *Node) {
	g := lr.Graph()
	zero := func(name string, v *context.Variable) *context.Variable {
		return ctx.InAbsPath(context.ScopeSeparator+optimScope+v.Scope()).WithInitializer(nn.ConstantInit(0)).
			VariableWithShape(v.Name()+"#"+name, v.Shape()).SetTrainable(false)
	}
	var stepVar *context.Variable
	var corr1, corr2 *Node
	if t.cfg.Optimizer == "adam" {
		stepVar = ctx.InAbsPath(context.ScopeSeparator+optimScope).WithInitializer(nn.ConstantInit(0)).
			VariableWithShape("adam_step", shapes.Make(lr.DType())).SetTrainable(false)
		step := AddScalar(stepVar.ValueGraph(g), 1)
		stepVar.SetValueGraph(step)
		corr1 = OneMinus(Pow(Scalar(g, lr.DType(), 0.9), step))
		corr2 = OneMinus(Pow(Scalar(g, lr.DType(), 0.999), step))
	}
	for i, v := range vars {
		p, grad := values[i], grads[i]
		if grad == nil {
			continue
		}
		if t.cfg.WeightDecay != 0 {
			grad = Add(grad, MulScalar(p, t.cfg.WeightDecay))
		}
		switch t.cfg.Optimizer {
		case "adam":
			mv, vv := zero("m", v), zero("v", v)
			m := Add(MulScalar(mv.ValueGraph(g), 0.9), MulScalar(grad, 0.1))
			s := Add(MulScalar(vv.ValueGraph(g), 0.999), MulScalar(Mul(grad, grad), 0.001))
			mv.SetValueGraph(m)
			vv.SetValueGraph(s)
			update := Div(Div(m, corr1), AddScalar(Sqrt(Div(s, corr2)), 1e-8))
			v.SetValueGraph(Sub(p, Mul(lr, update)))
		default:
			if t.cfg.Momentum != 0 {
				buf := zero("momentum", v)
				b := Add(MulScalar(buf.ValueGraph(g), t.cfg.Momentum), grad)
				buf.SetValueGraph(b)
				grad = b
			}
			v.SetValueGraph(Sub(p, Mul(lr, grad)))
		}
	}
}

// resetOptimizer zeroes the optimiser state, as the reference does when it re-creates the
// optimiser at the learning-rate decay.
func (t *Trainer) resetOptimizer() error {
	for v := range t.ctx.IterVariables() {
		if strings.HasPrefix(v.Scope(), context.ScopeSeparator+optimScope) && v.HasValue() {
			if err := v.SetValue(tensors.FromShape(v.Shape())); err != nil {
				return err
			}
		}
	}
	return nil
}

// EpochFunc is called after every pass over the training set with the pass number (from 1),
// the number of passes and the mean training loss of the pass.
type EpochFunc func(epoch, total int, loss float64)

// Fit trains the network on train (normalised images) following the reference schedule:
// Epochs+1 passes of shuffled batches, the learning rate ×0.1 (and a fresh optimiser state)
// after pass Epochs/2+1 (SGD; Adam only with Config.AdamDecay). It stops with ctx's error when ctx is cancelled (checked between
// batches); ctx may be nil.
func (t *Trainer) Fit(ctx stdctx.Context, train *datasets.Dataset, onEpoch EpochFunc) error {
	if err := t.checkData(train); err != nil {
		return err
	}
	passes := t.cfg.NumPasses()
	buf := make([]float32, 0)
	for ep := 0; ep < passes; ep++ {
		var perm []int
		if t.perm != nil {
			perm = t.perm(train.N)
		} else {
			perm = t.rng.Perm(train.N)
		}
		// The pass loss is the per-image mean, each batch weighted by its size, as the
		// reference's epoch() (the last batch may be smaller).
		var lossSum float64
		var images int
		for start := 0; start < train.N; start += t.cfg.BatchSize {
			if ctx != nil && ctx.Err() != nil {
				return ctx.Err()
			}
			idx := perm[start:min(start+t.cfg.BatchSize, train.N)]
			buf = train.Batch(idx, buf[:0])
			if t.host != nil {
				if err := t.host.Apply(buf, len(idx), t.h, t.w, t.c, t.rng); err != nil {
					return err
				}
			}
			if t.beforeStep != nil {
				t.beforeStep(t.lr)
			}
			loss, err := t.Step(buf, train.Labels32(idx))
			if err != nil {
				return err
			}
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				return fmt.Errorf("training diverged at pass %d (loss %v); lower the learning rate", ep+1, loss)
			}
			lossSum += loss * float64(len(idx))
			images += len(idx)
		}
		if ep == t.cfg.DecayEpoch() && t.cfg.Decays() { // the reference: `if ep in lr_schedule`, 0-based ep
			t.lr *= 0.1
			if err := t.resetOptimizer(); err != nil {
				return err
			}
		}
		if onEpoch != nil {
			onEpoch(ep+1, passes, lossSum/float64(max(images, 1)))
		}
	}
	return nil
}

// Step runs one optimisation step on a batch (images NHWC flat, labels) at the current
// learning rate and returns the loss. With Config.DType Float64 the images are converted.
func (t *Trainer) Step(images []float32, labels []int32) (loss float64, err error) {
	return t.stepTensor(t.images(images, len(labels)), labels)
}

// StepFloat64 is Step with float64 images; it needs Config.DType Float64.
func (t *Trainer) StepFloat64(images []float64, labels []int32) (loss float64, err error) {
	if t.cfg.DType != dtypes.Float64 {
		return 0, fmt.Errorf("StepFloat64 needs Config.DType Float64, the trainer uses %s", t.cfg.DType)
	}
	return t.stepTensor(tensors.FromFlatDataAndDimensions(images, len(labels), t.h, t.w, t.c), labels)
}

func (t *Trainer) stepTensor(images *tensors.Tensor, labels []int32) (loss float64, err error) {
	n := len(labels)
	err = catch.Run(func() {
		var lr any = float32(t.lr)
		if t.cfg.DType == dtypes.Float64 {
			lr = t.lr
		}
		out := t.step.MustExec(images, tensors.FromFlatDataAndDimensions(labels, n), lr)
		loss = scalarFloat(out[0])
		t.steps++
	})
	return
}

// images makes the [n, h, w, c] input tensor of flat float32 images in the trainer's dtype.
func (t *Trainer) images(flat []float32, n int) *tensors.Tensor {
	if t.cfg.DType == dtypes.Float64 {
		f64 := make([]float64, len(flat))
		for i, v := range flat {
			f64[i] = float64(v)
		}
		return tensors.FromFlatDataAndDimensions(f64, n, t.h, t.w, t.c)
	}
	return tensors.FromFlatDataAndDimensions(flat, n, t.h, t.w, t.c)
}

// scalarFloat reads a float32 or float64 scalar tensor.
func scalarFloat(x *tensors.Tensor) float64 {
	if x.DType() == dtypes.Float64 {
		return tensors.ToScalar[float64](x)
	}
	return float64(tensors.ToScalar[float32](x))
}

// Steps is the number of optimisation steps taken so far.
func (t *Trainer) Steps() int { return t.steps }

// Accuracy returns the fraction of test images classified correctly (in [0, 1]), in batches
// of BatchSize; the last batch is padded so that one compiled program serves all batches.
func (t *Trainer) Accuracy(test *datasets.Dataset) (float64, error) {
	if err := t.checkData(test); err != nil {
		return 0, err
	}
	bs := min(t.cfg.BatchSize, test.N)
	correct := 0
	buf := make([]float32, 0, bs*test.ImageSize())
	err := catch.Run(func() {
		for start := 0; start < test.N; start += bs {
			end := min(start+bs, test.N)
			idx := make([]int, end-start)
			for i := range idx {
				idx[i] = start + i
			}
			buf = test.Batch(idx, buf[:0])
			labels := test.Labels32(idx)
			for len(labels) < bs { // pad: zero images with label -1 never count as correct
				labels = append(labels, -1)
				buf = append(buf, make([]float32, test.ImageSize())...)
			}
			out := t.predict.MustExec(t.images(buf, bs),
				tensors.FromFlatDataAndDimensions(labels, bs))
			correct += int(tensors.ToScalar[int32](out[0]))
		}
	})
	if err != nil {
		return 0, err
	}
	return float64(correct) / float64(test.N), nil
}

// Features returns the network's features (before the classifier) of all images of d, in
// evaluation mode, as a flat [N, dim] slice.
func (t *Trainer) Features(d *datasets.Dataset) (feats []float32, dim int, err error) {
	if err := t.checkData(d); err != nil {
		return nil, 0, err
	}
	bs := min(t.cfg.BatchSize, d.N)
	buf := make([]float32, 0, bs*d.ImageSize())
	err = catch.Run(func() {
		for start := 0; start < d.N; start += bs {
			end := min(start+bs, d.N)
			idx := make([]int, bs)
			for i := range idx {
				idx[i] = min(start+i, d.N-1) // pad by repeating the last image
			}
			buf = d.Batch(idx, buf[:0])
			out := t.embed.MustExec(t.images(buf, bs))[0]
			dim = out.Shape().Dimensions[1]
			var flat []float32
			if out.DType() == dtypes.Float64 {
				for _, v := range tensors.MustCopyFlatData[float64](out) {
					flat = append(flat, float32(v))
				}
			} else {
				flat = tensors.MustCopyFlatData[float32](out)
			}
			feats = append(feats, flat[:(end-start)*dim]...)
		}
	})
	return feats, dim, err
}

func (t *Trainer) checkData(d *datasets.Dataset) error {
	if d == nil || d.N == 0 {
		return fmt.Errorf("empty dataset")
	}
	if d.H != t.h || d.W != t.w || d.C != t.c {
		return fmt.Errorf("dataset %s/%s has images %dx%dx%d, the model was built for %dx%dx%d",
			d.Name, d.Split, d.H, d.W, d.C, t.h, t.w, t.c)
	}
	if !d.Normalized {
		return fmt.Errorf("dataset %s/%s is not normalised: call Normalize() first", d.Name, d.Split)
	}
	return nil
}

// Finalize releases the compiled programs.
func (t *Trainer) Finalize() {
	for _, e := range []*context.Exec{t.step, t.predict, t.embed} {
		if e != nil {
			e.Finalize()
		}
	}
}
