package gm

import (
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

	"github.com/dcbench/dcbench/dcbench/augment"
	"github.com/dcbench/dcbench/dcbench/condensers/synth"
	"github.com/dcbench/dcbench/dcbench/internal/catch"
	"github.com/dcbench/dcbench/dcbench/models"
	"github.com/dcbench/dcbench/dcbench/nn"
)

// netScope is the context scope of the matching network.
const netScope = "/gm/net"

// matcher builds the matching network and the per-class matching distance. It is separate
// from the engine so that the tests can build it in float64 in a context of their own.
type matcher struct {
	model      *models.Model
	numClasses int
	dsa        *augment.DSA        // nil for DC
	netVars    []*context.Variable // every variable of the network (all trainable)
	matchVars  []*context.Variable // those of rank ≥ 2, the only ones the distance sees
}

// newMatcher prepares the network of cfg for numClasses classes (the variables are made by
// materialize).
func newMatcher(cfg Config, numClasses int) (*matcher, error) {
	model, err := models.Get(cfg.Model)
	if err != nil {
		return nil, err
	}
	m := &matcher{model: model, numClasses: numClasses}
	if cfg.DSA {
		if m.dsa, err = augment.NewDSA(cfg.DSAConfig); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// logits builds the network on x in the network scope of ctx.
func (m *matcher) logits(ctx *context.Context, x *Node) *Node {
	return m.model.Logits(ctx.InAbsPath(netScope), x, m.numClasses)
}

// materialize creates and initialises the network variables in ctx (whose params select
// the model variant) by running the network once on a zero image of dtype, and lists them.
// Networks with state that is not a parameter (batch norm's running statistics) are refused:
// the reference freezes them on a real batch per step, which is not implemented here.
func (m *matcher) materialize(backend backends.Backend, ctx *context.Context, dtype dtypes.DType, h, w, c int) error {
	err := catch.Run(func() {
		probe := context.MustNewExec(backend, ctx, func(ctx *context.Context, x *Node) *Node {
			ctx.SetTraining(x.Graph(), true)
			return m.logits(ctx, x)
		})
		defer probe.Finalize()
		finalize(probe.MustExec(tensors.FromShape(shapes.Make(dtype, 1, h, w, c))))
	})
	if err != nil {
		return fmt.Errorf("building the matching network %s: %w", m.model.Name, err)
	}
	m.netVars, m.matchVars = nil, nil
	for v := range ctx.IterVariables() {
		if v.Scope() != netScope && !strings.HasPrefix(v.Scope(), netScope+context.ScopeSeparator) {
			continue
		}
		if !v.Trainable || !v.Shape().DType.IsFloat() {
			return fmt.Errorf("network %s has non-parameter state %s (batch norm?), which DC/DSA do not support here; use instancenorm",
				m.model.Name, v.ScopeAndName())
		}
		m.netVars = append(m.netVars, v)
		if v.Shape().Rank() >= 2 {
			m.matchVars = append(m.matchVars, v)
		}
	}
	if len(m.matchVars) == 0 {
		return fmt.Errorf("network %s has no weight matrix to match", m.model.Name)
	}
	return nil
}

// classLabels is a constant [n] int32 vector of class cl.
func classLabels(g *Graph, cl, n int) *Node {
	l := make([]int32, n)
	for i := range l {
		l[i] = int32(cl)
	}
	return Const(g, l)
}

// classDistance is the matching distance of one class: the gradients of the cross-entropy
// loss with respect to params (the network's weight tensors, as nodes) on the real batch
// (made constants) and on the synthetic batch, compared by MatchDistance. real and syn are
// NHWC batches of class cl (already augmented, for DSA).
func (m *matcher) classDistance(ctx *context.Context, real, syn *Node, cl int, params []*Node) *Node {
	g := real.Graph()
	lossReal := nn.CrossEntropy(m.logits(ctx, real), classLabels(g, cl, real.Shape().Dimensions[0]))
	gr := Gradient(lossReal, params...)
	for i := range gr {
		gr[i] = StopGradient(gr[i])
	}
	lossSyn := nn.CrossEntropy(m.logits(ctx, syn), classLabels(g, cl, syn.Shape().Dimensions[0]))
	gs := Gradient(lossSyn, params...)
	return MatchDistance(gr, gs)
}

// paramNodes returns the value nodes of vars in g.
func paramNodes(g *Graph, vars []*context.Variable) []*Node {
	out := make([]*Node, len(vars))
	for i, v := range vars {
		out[i] = v.ValueGraph(g)
	}
	return out
}

// engine runs DC/DSA on a synth.Set: the set holds the synthetic images (one variable of
// [IPC, H, W, C] per class, so each class's gradient is taken with respect to a whole
// variable, with no slicing on the gradient path), their momentum, the random number
// generator and the iteration loop; the engine adds the network and three compiled programs.
type engine struct {
	*matcher
	cfg     Config
	set     *synth.Set
	backend backends.Backend
	seed    uint64
	ipc     int
	h, w, c int
	nReal   int // real images per class and matching step

	reinit *context.Exec // draws a fresh network
	match  *context.Exec // one matching step of all classes, updates the images
	inner  *context.Exec // one SGD step of the network on a synthetic batch

	realBuf []float32
}

// newEngine builds the network in the set's context and prepares the programs.
func newEngine(backend backends.Backend, set *synth.Set, cfg Config, seed uint64, batchRealMax int) (*engine, error) {
	m, err := newMatcher(cfg, set.NumClasses())
	if err != nil {
		return nil, err
	}
	e := &engine{matcher: m, cfg: cfg, set: set, backend: backend, seed: seed, ipc: set.IPC(),
		nReal: set.RealBatchSize(batchRealMax)}
	e.h, e.w, e.c = set.ImageShape()
	ctx := set.Context()
	for k, v := range cfg.ModelParams {
		ctx.InAbsPath(netScope).SetParam(k, v)
	}
	// Building the network draws its first weights from the random number generator; keep
	// the generator's state as it was, so that a run resumed from a checkpoint (which saves
	// that state) draws what the uninterrupted run drew. Each iteration redraws the network.
	rngVar := ctx.GetVariableByScopeAndName(context.RootScope, context.RNGStateVariableName)
	var rngState *tensors.Tensor
	if rngVar != nil {
		v, err := rngVar.Value()
		if err != nil {
			return nil, err
		}
		if rngState, err = v.LocalClone(); err != nil {
			return nil, err
		}
	}
	if err := m.materialize(backend, ctx, dtypes.Float32, e.h, e.w, e.c); err != nil {
		return nil, err
	}
	if rngState != nil {
		if err := rngVar.SetValue(rngState); err != nil {
			return nil, err
		}
	}
	err = catch.Run(func() {
		e.reinit = context.MustNewExec(backend, ctx, e.reinitGraph)
		e.match = context.MustNewExec(backend, ctx, e.matchGraph)
		e.inner = context.MustNewExec(backend, ctx, e.innerGraph)
	})
	return e, err
}

// reinitGraph redraws every network variable from its initializer (PyTorch's default), with
// the context's random number generator. It returns the sum of the first weight tensor (a
// program needs an output; simplego fails on a constant one).
func (e *engine) reinitGraph(ctx *context.Context, g *Graph) *Node {
	if _, err := synth.ReinitVariables(ctx.InAbsPath(netScope), g); err != nil {
		panic(err)
	}
	return ReduceAllSum(e.matchVars[0].ValueGraph(g))
}

// matchGraph builds one matching step of all classes on the real batch (class-major,
// e.nReal images per class): the per-class distances (returned as a [classes] vector), the
// gradient of their sum with respect to every class's synthetic images and the SGD step with
// momentum on them (synth.Set.Update).
func (e *engine) matchGraph(ctx *context.Context, real *Node) *Node {
	g := real.Graph()
	ctx.SetTraining(g, true)
	params := paramNodes(g, e.matchVars)
	dists := make([]*Node, e.numClasses)
	synVals := make([]*Node, e.numClasses)
	var total *Node
	for cl := range e.numClasses {
		synVals[cl] = e.set.ClassImages(g, cl)
		// The real images are constants: slicing them is never differentiated.
		r := StopGradient(SliceAxis(real, 0, AxisRange(cl*e.nReal, (cl+1)*e.nReal)))
		s := synVals[cl]
		if e.dsa != nil {
			aug := e.dsa.Siamese(ctx, r, s)
			r, s = aug[0], aug[1]
		}
		dists[cl] = e.classDistance(ctx, r, s, cl, params)
		if total == nil {
			total = dists[cl]
		} else {
			total = Add(total, dists[cl])
		}
	}
	e.set.Update(total, synVals)
	return Stack(dists, 0)
}

// innerGraph builds one plain-SGD step of the network on the synthetic images at idx (with
// DSA augmentation, one draw per image, for the DSA method) and returns the loss.
func (e *engine) innerGraph(ctx *context.Context, idx, labels *Node) *Node {
	g := idx.Graph()
	ctx.SetTraining(g, true)
	x := Gather(StopGradient(e.set.AllImages(g)), Reshape(idx, -1, 1))
	if e.dsa != nil {
		x = e.dsa.Augment(ctx, x)
	}
	return e.sgdStep(ctx, x, labels, e.cfg.LRNet)
}

// sgdStep builds one plain-SGD step (no momentum or weight decay, as the reference's
// optimizer_net) of the network on the batch x with labels, at learning rate lr, and returns
// the loss before the step.
func (m *matcher) sgdStep(ctx *context.Context, x, labels *Node, lr float64) *Node {
	loss := nn.CrossEntropy(m.logits(ctx, x), labels)
	params := paramNodes(x.Graph(), m.netVars)
	grads := Gradient(loss, params...)
	for i, v := range m.netVars {
		v.SetValueGraph(Sub(params[i], MulScalar(grads[i], lr)))
	}
	return loss
}

// freshNetwork draws new network weights.
func (e *engine) freshNetwork() error {
	return catch.Run(func() { finalize(e.reinit.MustExec()) })
}

// matchStep runs matching step number step (from 1; it selects the real batches, so that a
// resumed run draws what an uninterrupted one would) and updates the synthetic images. It
// returns the distance of each class before the update.
func (e *engine) matchStep(step int) ([]float64, error) {
	var err error
	if e.realBuf, err = e.set.RealBatch(step, e.nReal, e.realBuf); err != nil {
		return nil, err
	}
	var d []float64
	err = catch.Run(func() {
		out := e.match.MustExec(tensors.FromFlatDataAndDimensions(e.realBuf, e.numClasses*e.nReal, e.h, e.w, e.c))
		d = toFloat64(out[0])
		finalize(out)
	})
	if err != nil {
		return nil, fmt.Errorf("matching step: %w", err)
	}
	for cl, v := range d {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("matching distance of class %d is %v: diverged (lower %s)", cl, v, ParamLRImg)
		}
	}
	return d, nil
}

// trainEpoch trains the network for one epoch over the synthetic set: batches of BatchTrain
// images in the order perm (the last one smaller), as the reference's shuffled DataLoader.
// It returns the mean loss of the batches.
func (e *engine) trainEpoch(perm []int) (mean float64, err error) {
	n := len(perm)
	batches := 0
	err = catch.Run(func() {
		for start := 0; start < n; start += e.cfg.BatchTrain {
			end := min(start+e.cfg.BatchTrain, n)
			idx := make([]int32, end-start)
			labels := make([]int32, end-start)
			for i, p := range perm[start:end] {
				idx[i] = int32(p)
				labels[i] = int32(p / e.ipc)
			}
			out := e.inner.MustExec(tensors.FromFlatDataAndDimensions(idx, len(idx)), tensors.FromFlatDataAndDimensions(labels, len(labels)))
			loss := toFloat64(out[0])[0]
			finalize(out)
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				panic(fmt.Errorf("inner-loop training diverged (loss %v); lower %s", loss, ParamLRNet))
			}
			mean += loss
			batches++
		}
	})
	return mean / float64(max(batches, 1)), err
}

// iteration runs outer iteration it (from 1): a fresh network, OuterLoop matching steps with
// InnerLoop training epochs between them. It returns the mean class distance, as the
// reference's loss_avg. Its host-side draws depend only on the seed and it.
func (e *engine) iteration(it int) (float64, error) {
	if err := e.freshNetwork(); err != nil {
		return 0, err
	}
	rng := rand.New(rand.NewPCG(e.seed^0x676d, uint64(it))) // inner-loop shuffles
	var sum float64
	for ol := 0; ol < e.cfg.OuterLoop; ol++ {
		d, err := e.matchStep((it-1)*e.cfg.OuterLoop + ol + 1)
		if err != nil {
			return 0, err
		}
		for _, v := range d {
			sum += v
		}
		if ol == e.cfg.OuterLoop-1 {
			break
		}
		for il := 0; il < e.cfg.InnerLoop; il++ {
			if _, err := e.trainEpoch(rng.Perm(e.numClasses * e.ipc)); err != nil {
				return 0, err
			}
		}
	}
	return sum / float64(e.numClasses*e.cfg.OuterLoop), nil
}

// close releases the compiled programs.
func (e *engine) close() {
	for _, x := range []*context.Exec{e.reinit, e.match, e.inner} {
		if x != nil {
			x.Finalize()
		}
	}
}

// toFloat64 copies a float tensor's values as float64.
func toFloat64(t *tensors.Tensor) []float64 {
	switch t.DType() {
	case dtypes.Float64:
		return tensors.MustCopyFlatData[float64](t)
	case dtypes.Float32:
		f := tensors.MustCopyFlatData[float32](t)
		out := make([]float64, len(f))
		for i, x := range f {
			out[i] = float64(x)
		}
		return out
	}
	panic(fmt.Sprintf("gm: unexpected dtype %s", t.DType()))
}

// finalize frees tensors now rather than at garbage collection (device memory).
func finalize(ts []*tensors.Tensor) {
	for _, t := range ts {
		_ = t.FinalizeAll()
	}
}
