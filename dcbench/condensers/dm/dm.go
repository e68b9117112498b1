// Package dm is Distribution Matching (Zhao & Bilen, "Dataset Condensation with Distribution
// Matching", WACV 2023): synthetic images are learned so that, under randomly initialised
// networks, their mean embedding per class matches that of the real images. Each iteration
// draws a fresh network and one siamese DSA transformation per class, and takes one SGD step
// on the images for the sum over classes of ‖mean embed(real_c) − mean embed(syn_c)‖².
//
// The whole iteration — fresh weights, augmentation, both embeddings, the loss, its gradient
// and the momentum-SGD update of every class's images — is one compiled gomlx graph; only
// the real batch (sampled on the host) goes in, and the loss comes out.
package dm

import (
	"fmt"
	"strings"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/dcbench/dcbench/datasets"
	"github.com/dcbench/dcbench/dcbench/augment"
	"github.com/dcbench/dcbench/dcbench/condensers/kcenter"
	"github.com/dcbench/dcbench/dcbench/condensers/synth"
	"github.com/dcbench/dcbench/dcbench/internal/catch"
	"github.com/dcbench/dcbench/dcbench/method"
	"github.com/dcbench/dcbench/dcbench/models"
)

// Params of DM, besides those of package synth (init, iterations, lr_img, momentum_img,
// eval_every, eval_hook, checkpoint, checkpoint_every, stats).
const (
	// ParamBatchReal is the number of real images per class per iteration (256; fewer when a
	// class is smaller).
	ParamBatchReal = "batch_real"
	// ParamModel is the embedding network (the evaluation architecture: "convnet", or
	// "convnetd4" above 32x32); a fresh one is drawn every iteration.
	ParamModel = "model"
	// ParamDSAStrategy is the DSA strategy ("color_crop_cutout_flip_scale_rotate"; "none"
	// for no augmentation).
	ParamDSAStrategy = "dsa_strategy"
)

// Reference defaults.
const (
	DefaultIterations = 20000
	DefaultBatchReal  = 256
	DefaultMomentum   = 0.5
)

// netScope is the scope of the embedding network's variables.
const netScope = "/dm/net"

// DM is the condenser, registry name "dm".
type DM struct{}

// Name is "dm".
func (DM) Name() string { return "dm" }

// DefaultLR is the reference image learning rate: 1, or 10 for CIFAR-10 at IPC ≥ 100 (the
// setting DC-Bench used for its large-IPC runs).
func DefaultLR(dataset string, ipc int) float64 {
	if strings.HasPrefix(strings.ToLower(dataset), "cifar10") && !strings.HasPrefix(strings.ToLower(dataset), "cifar100") && ipc >= 100 {
		return 10
	}
	return 1
}

// Condense learns the synthetic images.
func (DM) Condense(req method.Request) (*datasets.Dataset, error) {
	d := req.Train
	batchReal, err := req.Int(ParamBatchReal, DefaultBatchReal)
	if err != nil {
		return nil, err
	}
	if batchReal < 1 {
		return nil, fmt.Errorf("param %s: want ≥ 1, got %d", ParamBatchReal, batchReal)
	}
	modelName, err := req.String(ParamModel, kcenter.DefaultModel(d.H, d.W))
	if err != nil {
		return nil, err
	}
	model, err := models.Get(modelName)
	if err != nil {
		return nil, err
	}
	strategy, err := req.String(ParamDSAStrategy, augment.DefaultStrategy)
	if err != nil {
		return nil, err
	}
	dc := augment.DefaultConfig()
	dc.Strategy = strategy
	dsa, err := augment.NewDSA(dc)
	if err != nil {
		return nil, fmt.Errorf("param %s: %w", ParamDSAStrategy, err)
	}
	// The DM params are checked first: with init=kcenter, synth.New does real work.
	s, err := synth.New(req, synth.Options{Method: "dm", Iterations: DefaultIterations,
		LR: DefaultLR(d.Name, req.IPC), Momentum: DefaultMomentum})
	if err != nil {
		return nil, err
	}
	batchReal = s.RealBatchSize(batchReal)
	it, err := newIteration(req, s, model, dsa, batchReal)
	if err != nil {
		return nil, err
	}
	defer it.exec.Finalize()
	var buf []float32
	err = s.Run(func(i int) (float64, error) {
		if buf, err = s.RealBatch(i, batchReal, buf); err != nil {
			return 0, err
		}
		return it.step(buf)
	})
	if err != nil {
		return nil, err
	}
	return s.Dataset()
}

// iteration is DM's compiled iteration.
type iteration struct {
	exec       *context.Exec
	n, h, w, c int
}

// newIteration compiles the iteration graph: input the real batch [K·B, H, W, C] (class-major),
// output the loss; the images are updated in place.
func newIteration(req method.Request, s *synth.Set, model *models.Model, dsa *augment.DSA, batchReal int) (*iteration, error) {
	h, w, c := s.ImageShape()
	ctx := s.Context()
	embed := func(ctx *context.Context, x *Node) *Node { return model.Features(ctx, x) }
	if err := synth.Materialize(req.Backend, ctx.InAbsPath(netScope), embed, 2, h, w, c); err != nil {
		return nil, fmt.Errorf("building the %s embedding: %w", model.Name, err)
	}
	it := &iteration{n: s.NumClasses() * batchReal, h: h, w: w, c: c}
	var err error
	it.exec, err = context.NewExec(req.Backend, ctx, func(ctx *context.Context, real *Node) *Node {
		g := real.Graph()
		ctx.SetTraining(g, true) // the reference embeds with net.train()
		net := ctx.InAbsPath(netScope)
		if _, err := synth.ReinitVariables(net, g); err != nil {
			panic(err)
		}
		syn := make([]*Node, s.NumClasses())
		for k := range syn {
			syn[k] = s.ClassImages(g, k)
		}
		loss := Loss(ctx, func(x *Node) *Node { return embed(net, x) }, dsa, real, syn, jointReal(model, net))
		s.Update(loss, syn)
		return ConvertDType(loss, dtypes.Float32)
	})
	return it, err
}

// step runs one iteration on the real batch and returns the loss.
func (it *iteration) step(real []float32) (loss float64, err error) {
	err = catch.Run(func() {
		out := it.exec.MustExec(tensors.FromFlatDataAndDimensions(real, it.n, it.h, it.w, it.c))
		loss = float64(tensors.ToScalar[float32](out[0]))
	})
	return
}

// Loss is DM's objective in graph form: real is [K·B, H, W, C] (B real images per class,
// class-major), syn[k] the images of class k [IPC, H, W, C]; for each class one DSA draw
// from ctx's random number generator is applied to both (siamese; dsa nil for none), and the
// loss is Σ_k ‖mean_b embed(real_k) − mean_i embed(syn_k)‖², a scalar of the images' dtype.
// The real embeddings carry no gradient.
//
// The synthetic images of all classes are embedded in one batch. The real ones are embedded
// class by class, as the reference does for networks with per-sample normalisation (which
// keeps the memory of B=256 real images per class in bounds), or all together when
// jointReal is set, as the reference does for batch-norm networks (where the batch matters).
func Loss(ctx *context.Context, embed func(x *Node) *Node, dsa *augment.DSA, real *Node, syn []*Node, jointReal bool) *Node {
	var aug Augmenter
	if dsa != nil && len(dsa.Ops()) > 0 {
		aug = func(_ int, real, syn *Node) (*Node, *Node) {
			out := dsa.Siamese(ctx, real, syn)
			return out[0], out[1]
		}
	}
	return LossWith(embed, aug, real, syn, jointReal)
}

// Augmenter augments class c's real and synthetic batches (DM: with one shared DSA draw).
type Augmenter func(c int, real, syn *Node) (realAug, synAug *Node)

// LossWith is Loss with the augmentation given as a function (nil for none): the parity tests
// replay the reference's recorded DSA draws through it.
func LossWith(embed func(x *Node) *Node, aug Augmenter, real *Node, syn []*Node, jointReal bool) *Node {
	k := len(syn)
	n := real.Shape().Dimensions[0]
	if n%k != 0 {
		panic(fmt.Sprintf("dm.Loss: %d real images for %d classes", n, k))
	}
	b := n / k
	ipc := syn[0].Shape().Dimensions[0]
	real = StopGradient(real)
	rest := real.Shape().Dimensions[1:]
	byClass := Reshape(real, append([]int{k, b}, rest...)...)
	realParts := make([]*Node, k)
	synAug := make([]*Node, k)
	for c := 0; c < k; c++ {
		realParts[c] = Reshape(SliceAxis(byClass, 0, AxisElem(c)), append([]int{b}, rest...)...)
		synAug[c] = syn[c]
		if aug != nil {
			realParts[c], synAug[c] = aug(c, realParts[c], syn[c])
		}
	}
	var mr *Node // [K, F]
	if jointReal {
		fr := StopGradient(embed(concat(realParts)))
		mr = ReduceMean(Reshape(fr, k, b, -1), 1)
	} else {
		means := make([]*Node, k)
		for c, x := range realParts {
			means[c] = ReduceAndKeep(StopGradient(embed(x)), ReduceMean, 0)
		}
		mr = concat(means)
	}
	fs := embed(concat(synAug))
	ms := ReduceMean(Reshape(fs, k, ipc, -1), 1)
	diff := Sub(mr, ms)
	return ReduceAllSum(Mul(diff, diff))
}

// jointReal says whether the network normalises over the batch, so that the real images of
// all classes must be embedded together (the reference's batch-norm branch).
func jointReal(m *models.Model, ctx *context.Context) bool {
	norm := models.ConvNetConfigFrom(m.Scope(ctx)).Norm
	return strings.HasPrefix(strings.ToLower(norm), "batch")
}

func concat(xs []*Node) *Node {
	if len(xs) == 1 {
		return xs[0]
	}
	return Concatenate(xs, 0)
}
