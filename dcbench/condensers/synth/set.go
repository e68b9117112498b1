package synth

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/dcbench/dcbench/datasets"
	"github.com/dcbench/dcbench/dcbench/condensers/kcenter"
	"github.com/dcbench/dcbench/dcbench/method"
)

// Scopes of the variables a Set owns.
const (
	// ImagesScope holds one variable per class, "cNNN", of shape [IPC, H, W, C].
	ImagesScope = "/synth/images"
	// MomentumScope holds the momentum buffer of each class's images, same names and shapes.
	MomentumScope = "/synth/momentum"
)

// Set is a synthetic set being optimised: IPC images per class as context variables (so they
// stay on the device between iterations), their optimiser state, and the loop that drives
// a method's iterations. Make one with New.
type Set struct {
	req   method.Request
	cfg   Config
	hook  EvalHook
	stats *Stats

	ctx      *context.Context
	images   []*context.Variable
	momentum []*context.Variable

	numClasses, ipc, h, w, c int
	// done is the number of iterations already made (from a checkpoint), 0 for a fresh run.
	done int
	// began is when New started; prior the seconds of the runs before a resumed checkpoint.
	began time.Time
	prior float64
}

// New makes the synthetic set of req: it reads the params (Options give the method's
// defaults), resumes from the checkpoint file when one is set and exists (its identity —
// method, data, IPC, seed and every param but the schedule ones — must match, else it is an
// error), or else initialises the images as param "init" says. The context's random number
// generator is seeded from req.Seed.
func New(req method.Request, opts Options) (*Set, error) {
	cfg, hook, stats, err := readConfig(req, opts)
	if err != nil {
		return nil, err
	}
	d := req.Train
	if d == nil || d.N == 0 {
		return nil, errors.New("empty training set")
	}
	if !d.Normalized {
		return nil, fmt.Errorf("training set %s is not normalised", d.Name)
	}
	if req.IPC < 1 {
		return nil, fmt.Errorf("IPC must be at least 1, got %d", req.IPC)
	}
	if stats == nil {
		stats = &Stats{}
	}
	s := &Set{req: req, cfg: cfg, hook: hook, stats: stats, began: time.Now(),
		numClasses: d.NumClasses(), ipc: req.IPC, h: d.H, w: d.W, c: d.C}
	s.ctx = context.New().Checked(false)
	if err := s.ctx.SetRNGStateFromSeed(int64(req.Seed)); err != nil {
		return nil, err
	}
	var ck *checkpoint
	if cfg.Checkpoint != "" {
		ck, err = loadCheckpoint(cfg.Checkpoint)
		switch {
		case errors.Is(err, os.ErrNotExist):
			ck = nil
		case err != nil:
			return nil, err
		default:
			if err := ck.matches(s.identity(), cfg.Iterations); err != nil {
				return nil, fmt.Errorf("checkpoint %s: %w", cfg.Checkpoint, err)
			}
		}
	}
	if ck != nil {
		if err := s.restore(ck); err != nil {
			return nil, fmt.Errorf("checkpoint %s: %w", cfg.Checkpoint, err)
		}
		if req.Resumed != nil {
			req.Resumed(s.done, s.prior)
		}
		return s, nil
	}
	flat, err := s.initialImages()
	if err != nil {
		return nil, err
	}
	size := s.ipc * s.h * s.w * s.c
	for k := 0; k < s.numClasses; k++ {
		img := tensors.FromFlatDataAndDimensions(flat[k*size:(k+1)*size], s.ipc, s.h, s.w, s.c)
		mom := tensors.FromFlatDataAndDimensions(make([]float32, size), s.ipc, s.h, s.w, s.c)
		s.images = append(s.images, s.ctx.InAbsPath(ImagesScope).VariableWithValue(className(k), img).SetTrainable(false))
		s.momentum = append(s.momentum, s.ctx.InAbsPath(MomentumScope).VariableWithValue(className(k), mom).SetTrainable(false))
	}
	return s, nil
}

func className(k int) string { return fmt.Sprintf("c%03d", k) }

// initialImages draws the initial images, class-major, as cfg.Init says.
func (s *Set) initialImages() ([]float32, error) {
	d := s.req.Train
	switch s.cfg.Init {
	case InitNoise:
		rng := rand.New(rand.NewPCG(s.req.Seed, 0x6e6f697365)) // "noise"
		flat := make([]float32, s.numClasses*s.ipc*d.ImageSize())
		for i := range flat {
			flat[i] = float32(rng.NormFloat64())
		}
		return flat, nil
	case InitKCenter:
		idx, err := kcenter.Select(s.req)
		if err != nil {
			return nil, fmt.Errorf("init kcenter: %w", err)
		}
		return d.Batch(idx, nil), nil
	default: // InitReal, as the Random condenser draws
		var idx []int
		for k := 0; k < s.numClasses; k++ {
			rng := rand.New(rand.NewPCG(s.req.Seed, uint64(k)+1))
			pick, err := d.SampleClass(k, s.ipc, rng)
			if err != nil {
				return nil, err
			}
			idx = append(idx, pick...)
		}
		return d.Batch(idx, nil), nil
	}
}

// Config returns the resolved setting.
func (s *Set) Config() Config { return s.cfg }

// Context returns the gomlx context that holds the set's variables and the random number
// generator; build the method's graphs over it (its methods' own variables go in other
// scopes).
func (s *Set) Context() *context.Context { return s.ctx }

// NumClasses is the number of classes; IPC the images per class.
func (s *Set) NumClasses() int { return s.numClasses }

// IPC is the number of images per class.
func (s *Set) IPC() int { return s.ipc }

// ImageShape returns the height, width and channels of the images.
func (s *Set) ImageShape() (h, w, c int) { return s.h, s.w, s.c }

// Done is the number of iterations already made: from the checkpoint before Run, the
// last finished one during and after it.
func (s *Set) Done() int { return s.done }

// Seconds is the wall time spent condensing: since New, plus the earlier runs' time recorded
// in the checkpoint it resumed from.
func (s *Set) Seconds() float64 { return s.prior + time.Since(s.began).Seconds() }

// Stats returns the record of the run (the *Stats of param "stats" when given).
func (s *Set) Stats() *Stats { return s.stats }

// ClassImages returns the current images of class k in graph g, [IPC, H, W, C]: the value
// of the class's variable, so a gradient with respect to it is the gradient for the class.
func (s *Set) ClassImages(g *Graph, k int) *Node { return s.images[k].ValueGraph(g) }

// AllImages returns the current images of every class concatenated, class-major,
// [classes·IPC, H, W, C] (labels: see Labels).
func (s *Set) AllImages(g *Graph) *Node {
	parts := make([]*Node, s.numClasses)
	for k := range parts {
		parts[k] = s.ClassImages(g, k)
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return Concatenate(parts, 0)
}

// Labels returns the labels of AllImages: each class IPC times, in order.
func (s *Set) Labels() []int32 {
	out := make([]int32, 0, s.numClasses*s.ipc)
	for k := 0; k < s.numClasses; k++ {
		for range s.ipc {
			out = append(out, int32(k))
		}
	}
	return out
}

// Update differentiates loss with respect to syn (syn[k] must be ClassImages(g, k), or nil
// to leave class k alone) and applies ApplyGradients.
func (s *Set) Update(loss *Node, syn []*Node) {
	var xs []*Node
	var at []int
	for k, x := range syn {
		if x != nil {
			xs = append(xs, x)
			at = append(at, k)
		}
	}
	grads := make([]*Node, s.numClasses)
	for i, gr := range Gradient(loss, xs...) {
		grads[at[i]] = gr
	}
	s.ApplyGradients(loss.Graph(), grads)
}

// ApplyGradients takes one SGD step with momentum on the images, in graph g, as PyTorch's
// SGD (no weight decay, no dampening): buf ← momentum·buf + grad, images ← images − lr·buf.
// grads[k] is the gradient for class k's current images (nil: class k is not updated). The
// new values become the variables' values when the graph's Exec runs; calling it again in
// the same graph takes another step from the updated values.
func (s *Set) ApplyGradients(g *Graph, grads []*Node) {
	for k, grad := range grads {
		if grad == nil {
			continue
		}
		img := s.images[k].ValueGraph(g)
		buf := grad
		if s.cfg.Momentum != 0 {
			buf = Add(MulScalar(s.momentum[k].ValueGraph(g), s.cfg.Momentum), grad)
			s.momentum[k].SetValueGraph(buf)
		}
		s.images[k].SetValueGraph(Sub(img, MulScalar(buf, s.cfg.LR)))
	}
}

// RealBatchSize is the per-class real batch that RealBatch can draw: want, or the smallest
// class's size when that is smaller (the reference takes the whole class then).
func (s *Set) RealBatchSize(want int) int {
	n := want
	for _, m := range s.req.Train.ClassCounts() {
		n = min(n, m)
	}
	return n
}

// RealBatch draws n distinct real images of every class (n ≤ RealBatchSize(n)), class-major
// ([classes·n, H, W, C] flat), into dst when it is large enough. The draw depends only on the
// seed, the iteration and the class, so a resumed run draws what the uninterrupted one would.
func (s *Set) RealBatch(it, n int, dst []float32) ([]float32, error) {
	d := s.req.Train
	size := d.ImageSize()
	need := s.numClasses * n * size
	if cap(dst) >= need {
		dst = dst[:need]
	} else {
		dst = make([]float32, need)
	}
	for k := 0; k < s.numClasses; k++ {
		rng := rand.New(rand.NewPCG(s.req.Seed^0x7265616c, uint64(it)<<20|uint64(k))) // "real"
		idx, err := d.SampleClass(k, n, rng)
		if err != nil {
			return nil, err
		}
		d.Batch(idx, dst[k*n*size:(k+1)*n*size])
	}
	return dst, nil
}

// Dataset copies the current images to the host as a normalised dataset (labels grouped by
// class, the class names and normalisation constants of the training set).
func (s *Set) Dataset() (*datasets.Dataset, error) {
	d := s.req.Train
	out := &datasets.Dataset{Name: d.Name, Split: "synthetic", N: s.numClasses * s.ipc, H: s.h, W: s.w, C: s.c,
		Classes: append([]string(nil), d.Classes...), Mean: append([]float32(nil), d.Mean...),
		Std: append([]float32(nil), d.Std...), Normalized: true, Labels: s.Labels()}
	out.Images = make([]float32, 0, out.N*out.ImageSize())
	for k, v := range s.images {
		t, err := v.Value()
		if err != nil {
			return nil, fmt.Errorf("images of class %d: %w", k, err)
		}
		flat, err := tensors.CopyFlatData[float32](t)
		if err != nil {
			return nil, fmt.Errorf("images of class %d: %w", k, err)
		}
		out.Images = append(out.Images, flat...)
	}
	return out, nil
}
