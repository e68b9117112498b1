package augment

import (
	"fmt"
	"math"
	"strings"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // gomlx's usual style.
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// DefaultStrategy is the DSA strategy used by DSA, DM and MTT, and by DC-Bench's "dsa" evaluation
// augmentation.
const DefaultStrategy = "color_crop_cutout_flip_scale_rotate"

// Op is one DSA operation group, one of the names in a strategy string.
type Op int

const (
	// OpColor applies brightness, saturation and contrast in turn, each with its own random factor.
	OpColor Op = iota
	// OpCrop translates the image by a random integer number of pixels, filling with zeros.
	OpCrop
	// OpCutout zeroes a square at a random centre.
	OpCutout
	// OpFlip flips the image horizontally with probability Config.FlipProb.
	OpFlip
	// OpScale scales the image by random factors on each axis (bilinear sampling, zero padding).
	OpScale
	// OpRotate rotates the image by a random angle (bilinear sampling, zero padding).
	OpRotate

	numOps
)

var opNames = [numOps]string{"color", "crop", "cutout", "flip", "scale", "rotate"}

// String returns the name of the op as used in strategy strings.
func (op Op) String() string {
	if op < 0 || op >= numOps {
		return fmt.Sprintf("Op(%d)", int(op))
	}
	return opNames[op]
}

// OpNames returns the names accepted in a DSA strategy string, in their canonical order.
func OpNames() []string {
	return append([]string(nil), opNames[:]...)
}

// ParseStrategy splits a DSA strategy string such as "color_crop_cutout_flip_scale_rotate" into its
// ops, in order. "", "none" and "None" give no ops (no augmentation). An unknown name is an error that
// lists the valid ones. Repeated names are kept, as in the reference (a repeated op is drawn more
// often in OneOpPerCall mode).
func ParseStrategy(strategy string) ([]Op, error) {
	if strategy == "" || strategy == "none" || strategy == "None" {
		return nil, nil
	}
	var ops []Op
	for _, name := range strings.Split(strategy, "_") {
		found := false
		for op := range numOps {
			if opNames[op] == name {
				ops = append(ops, op)
				found = true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("augment: unknown DSA op %q in strategy %q; valid ops are %s",
				name, strategy, strings.Join(opNames[:], ", "))
		}
	}
	return ops, nil
}

// Mode says how the ops of a strategy are combined in one call.
type Mode int

const (
	// OneOpPerCall draws one op of the strategy uniformly at random per call and applies only it (to
	// every sample of the call). It is the reference's default (ParamDiffAug.aug_mode = 'S').
	OneOpPerCall Mode = iota
	// AllOpsInTurn applies every op of the strategy in order (the reference's aug_mode = 'M', the
	// original DiffAugment behaviour).
	AllOpsInTurn
)

// String returns the mode's name.
func (m Mode) String() string {
	switch m {
	case OneOpPerCall:
		return "OneOpPerCall"
	case AllOpsInTurn:
		return "AllOpsInTurn"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Config holds the DSA parameters. DefaultConfig returns the reference values (ParamDiffAug).
type Config struct {
	// Strategy lists the ops, joined by "_"; see ParseStrategy.
	Strategy string
	// Mode says whether one op is drawn per call (the default) or all are applied in turn.
	Mode Mode

	// FlipProb is the probability of a horizontal flip (0.5).
	FlipProb float64
	// ScaleRatio bounds the per-axis scale factors to [1/ScaleRatio, ScaleRatio] (1.2).
	ScaleRatio float64
	// RotateDegrees bounds the rotation angle to ±RotateDegrees (15).
	RotateDegrees float64
	// CropRatio is the largest translation as a fraction of the image side (0.125), rounded as
	// int(size*ratio + 0.5).
	CropRatio float64
	// CutoutRatio is the side of the zeroed square as a fraction of the image side (0.5), rounded as
	// int(size*ratio + 0.5).
	CutoutRatio float64
	// Brightness scales the additive brightness shift: x + (r-0.5)*Brightness (1.0).
	Brightness float64
	// Saturation scales the saturation factor: (x-mean_c)*(r*Saturation) + mean_c (2.0).
	Saturation float64
	// Contrast offsets the contrast factor: (x-mean)*(r+Contrast) + mean (0.5).
	Contrast float64

	// ReferenceGrids selects mixed align_corners choices for scale and rotate: the scale grid
	// built with align_corners=False and sampled with align_corners=True, rotate the opposite.
	// With it, a unit scale or a zero angle is not exactly the identity (the image shrinks or
	// grows by about one pixel). It is NOT what the reference computes: DatasetCondensation's
	// rand_scale and rand_rotate call F.affine_grid and F.grid_sample with torch's defaults
	// (align_corners=False for both since torch 1.3), which the default (false) reproduces
	// exactly (docs/parity.md, fixtures dsa_ops and dsa_diffaugment, non-square images
	// included). Kept for comparison with earlier dcbench runs.
	ReferenceGrids bool
}

// DefaultConfig returns the reference DSA configuration: strategy DefaultStrategy, one op per call,
// and the parameters of the reference's ParamDiffAug.
func DefaultConfig() Config {
	return Config{
		Strategy:      DefaultStrategy,
		Mode:          OneOpPerCall,
		FlipProb:      0.5,
		ScaleRatio:    1.2,
		RotateDegrees: 15,
		CropRatio:     0.125,
		CutoutRatio:   0.5,
		Brightness:    1.0,
		Saturation:    2.0,
		Contrast:      0.5,
	}
}

// Validate checks the configuration: a valid strategy, a known mode and parameters in range.
func (c Config) Validate() error {
	if _, err := ParseStrategy(c.Strategy); err != nil {
		return err
	}
	if c.Mode != OneOpPerCall && c.Mode != AllOpsInTurn {
		return fmt.Errorf("augment: unknown DSA mode %d", int(c.Mode))
	}
	check := func(name string, v, lo, hi float64) error {
		if math.IsNaN(v) || v < lo || v > hi {
			return fmt.Errorf("augment: DSA %s=%g out of range [%g, %g]", name, v, lo, hi)
		}
		return nil
	}
	for _, e := range []error{
		check("FlipProb", c.FlipProb, 0, 1),
		check("ScaleRatio", c.ScaleRatio, 1, math.MaxFloat64),
		check("RotateDegrees", c.RotateDegrees, 0, 180),
		check("CropRatio", c.CropRatio, 0, 1),
		check("CutoutRatio", c.CutoutRatio, 0, 1),
		check("Brightness", c.Brightness, 0, math.MaxFloat64),
		check("Saturation", c.Saturation, 0, math.MaxFloat64),
		check("Contrast", c.Contrast, 0, math.MaxFloat64),
	} {
		if e != nil {
			return e
		}
	}
	return nil
}

// DSA is a differentiable siamese augmentation built from a validated Config. It is immutable and
// safe to share; its methods build graph operations.
//
// Graph-building methods panic (the gomlx convention) on shape errors, e.g. an input that is not a
// rank-4 NHWC float tensor; the configuration itself is checked by NewDSA.
type DSA struct {
	cfg Config
	ops []Op
}

// NewDSA validates cfg and returns the augmentation.
func NewDSA(cfg Config) (*DSA, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ops, _ := ParseStrategy(cfg.Strategy)
	return &DSA{cfg: cfg, ops: ops}, nil
}

// Config returns the configuration the augmentation was built with.
func (a *DSA) Config() Config { return a.cfg }

// Ops returns the ops of the strategy, in order.
func (a *DSA) Ops() []Op { return append([]Op(nil), a.ops...) }

// Augment applies DSA to the NHWC batch x with the random parameters drawn from ctx's random number
// generator, each sample drawing its own (the reference's DiffAugment with seed=-1). In OneOpPerCall
// mode the op is drawn once for the whole call. Set the seed with ctx.SetRNGStateFromSeed for
// repeatable runs.
func (a *DSA) Augment(ctx *context.Context, x *Node) *Node {
	if len(a.ops) == 0 {
		return x
	}
	n, h, w, _ := checkImages(x)
	p := a.DrawFromContext(ctx, x.Graph(), n, h, w)
	return a.Apply(p, x)
}

// Siamese applies the very same random transformation to every batch in xs, and to every sample in
// them: the parameters are drawn once, for a single sample, and shared (the reference draws per sample
// and then copies the first sample's parameters to all, which is the same distribution). This is what
// DSA condensation does to the real and the synthetic batch of a class. The batches may have different
// sizes but must have the same height and width. Called with a single batch, it gives every sample the
// same transformation, as the "batchmode" option of later reference code (MTT's ParamDiffAug).
func (a *DSA) Siamese(ctx *context.Context, xs ...*Node) []*Node {
	if len(xs) == 0 {
		return nil
	}
	if len(a.ops) == 0 {
		return append([]*Node(nil), xs...)
	}
	_, h, w, _ := checkImages(xs[0])
	for _, x := range xs[1:] {
		if _, h2, w2, _ := checkImages(x); h2 != h || w2 != w {
			panicf("augment: Siamese needs batches of the same height and width, got %s and %s",
				xs[0].Shape(), x.Shape())
		}
	}
	p := a.DrawFromContext(ctx, xs[0].Graph(), 1, h, w)
	out := make([]*Node, len(xs))
	for i, x := range xs {
		out[i] = a.Apply(p, x)
	}
	return out
}

// Apply transforms the NHWC batch x with the given parameters, whose leading dimension is either
// x's batch size or 1 (shared by all samples). In OneOpPerCall mode only the op in p.Op is applied
// (it should be one of the strategy's ops; with several ops in the strategy, any other leaves x
// unchanged); in AllOpsInTurn mode every op of the strategy is applied in order (p.Op is ignored, and a
// repeated op reuses its parameters). Gradients flow to x; the parameters are treated as constants.
func (a *DSA) Apply(p *Params, x *Node) *Node {
	n, h, w, _ := checkImages(x)
	if len(a.ops) == 0 {
		return x
	}
	q := p.forApply(x.DType(), n)
	if a.cfg.Mode == AllOpsInTurn {
		for _, op := range a.ops {
			x = a.applyOp(op, q, x, h, w)
		}
		return x
	}
	return a.applyOneOf(q, x, h, w)
}

// applyOp applies a single op with the parameters q.
func (a *DSA) applyOp(op Op, q *Params, x *Node, h, w int) *Node {
	switch op {
	case OpColor:
		return colorOp(q, x)
	case OpCutout:
		return Mul(x, cutoutMask(q, x.DType(), h, w, a.cutoutSize(h), a.cutoutSize(w)))
	default:
		return sampleBilinear(x, a.affineFor(op, q, h, w))
	}
}

// applyOneOf applies the op selected by q.Op, choosing among the strategy's ops with masks (Where)
// rather than control flow: the photometric ops are selected with Where, and every geometric op is
// expressed as one affine map in pixel space, so a single bilinear sampling serves them all.
func (a *DSA) applyOneOf(q *Params, x *Node, h, w int) *Node {
	g := x.Graph()
	has := make(map[Op]bool)
	for _, op := range a.ops {
		has[op] = true
	}
	if len(has) == 1 {
		return a.applyOp(a.ops[0], q, x, h, w)
	}
	is := func(op Op) *Node { return Equal(q.Op, Scalar(g, q.Op.DType(), int(op))) }
	if has[OpColor] {
		x = Where(is(OpColor), colorOp(q, x), x)
	}
	if has[OpCutout] {
		x = Where(is(OpCutout), Mul(x, cutoutMask(q, x.DType(), h, w, a.cutoutSize(h), a.cutoutSize(w))), x)
	}
	var af *pixelAffine
	for _, op := range []Op{OpCrop, OpFlip, OpScale, OpRotate} {
		if !has[op] {
			continue
		}
		opAf := a.affineFor(op, q, h, w)
		if af == nil {
			af = identityAffine(opAf.a)
		}
		af = af.selectIf(is(op), opAf)
	}
	if af != nil {
		x = sampleBilinear(x, af)
	}
	return x
}

// cropShift returns the largest translation, int(size*ratio + 0.5), as the reference.
func (a *DSA) cropShift(size int) int { return int(float64(size)*a.cfg.CropRatio + 0.5) }

// cutoutSize returns the side of the cutout square, int(size*ratio + 0.5), as the reference.
func (a *DSA) cutoutSize(size int) int { return int(float64(size)*a.cfg.CutoutRatio + 0.5) }

// checkImages panics unless x is a rank-4 float tensor, and returns its dimensions.
func checkImages(x *Node) (n, h, w, c int) {
	if x == nil {
		panicf("augment: nil images")
	}
	if x.Rank() != 4 || !x.DType().IsFloat() {
		panicf("augment: images must be a float NHWC tensor of rank 4, got %s", x.Shape())
	}
	d := x.Shape().Dimensions
	return d[0], d[1], d[2], d[3]
}

// panicf panics with an error, in the gomlx style of graph-building errors.
func panicf(format string, args ...any) {
	panic(fmt.Errorf(format, args...))
}
