package augment

import (
	"math"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // gomlx's usual style.
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// Params holds one draw of DSA parameters as graph nodes, in "physical" units. Every field but Op
// has shape [B], where B is the batch size (one draw per sample) or 1 (one draw shared by all samples,
// the siamese case). Draw and DrawFromContext fill all fields; ParamValues.Const builds fixed ones.
//
// Axis names: X is the width (column) axis and Y the height (row) axis of NHWC images.
type Params struct {
	// Op is an int32 scalar holding the Op applied in OneOpPerCall mode.
	Op *Node

	// Brightness is the additive shift: x + Brightness.
	Brightness *Node
	// Saturation is the saturation factor: (x - mean over channels)*Saturation + mean.
	Saturation *Node
	// Contrast is the contrast factor: (x - mean over the image)*Contrast + mean.
	Contrast *Node

	// CropX and CropY are integer translations in pixels, with zero fill:
	// out[i, j] = in[i+CropY, j+CropX].
	CropX, CropY *Node

	// CutoutX and CutoutY are the integer column and row of the centre of the zeroed square, which
	// spans rows [CutoutY - size/2, CutoutY - size/2 + size) (integer division), and likewise columns.
	CutoutX, CutoutY *Node

	// Flip is 1 to flip the image horizontally and 0 to keep it.
	Flip *Node

	// ScaleX and ScaleY are the diagonal of the (normalised) affine theta: output column x samples the
	// input at ScaleX*x, in coordinates centred on the image.
	ScaleX, ScaleY *Node

	// Rotate is the angle, in radians, of the rotation theta [[cos, -sin], [sin, cos]].
	Rotate *Node
}

// Number of uniform draws per sample.
const numUniforms = 11

// Draw draws DSA parameters for a batch of `batch` samples of height×width images from the explicit
// random number generator state (see graph.RNGStateFromSeedForGraph), and returns the updated state.
// Use batch=1 for parameters shared by all samples (siamese).
func (a *DSA) Draw(rngState *Node, batch, height, width int) (newState *Node, p *Params) {
	var u, uOp *Node
	rngState, u = RandomUniform(rngState, shapes.Make(dtypes.Float32, batch, numUniforms))
	newState, uOp = RandomUniform(rngState, shapes.Make(dtypes.Float32))
	return newState, a.paramsFromUniform(u, uOp, height, width)
}

// DrawFromContext is like Draw but uses, and advances, the random number generator state kept in the
// context (see context.Context.RandomUniform and context.Context.SetRNGStateFromSeed).
func (a *DSA) DrawFromContext(ctx *context.Context, g *Graph, batch, height, width int) *Params {
	u := ctx.RandomUniform(g, shapes.Make(dtypes.Float32, batch, numUniforms))
	uOp := ctx.RandomUniform(g, shapes.Make(dtypes.Float32))
	return a.paramsFromUniform(u, uOp, height, width)
}

// paramsFromUniform maps uniform draws in [0, 1) to parameters, as the reference's rand_* functions.
func (a *DSA) paramsFromUniform(u, uOp *Node, h, w int) *Params {
	g := u.Graph()
	u = StopGradient(u)
	col := func(k int) *Node { return Reshape(SliceAxis(u, 1, AxisElem(k)), -1) }
	// randInt maps a uniform to an integer in [lo, hi), as torch.randint.
	randInt := func(k, lo, hi int) *Node {
		v := AddScalar(Floor(MulScalar(col(k), float64(hi-lo))), float64(lo))
		return ClipScalar(v, float64(lo), float64(hi-1))
	}
	cfg := a.cfg
	p := &Params{}
	p.Brightness = MulScalar(AddScalar(col(0), -0.5), cfg.Brightness)
	p.Saturation = MulScalar(col(1), cfg.Saturation)
	p.Contrast = AddScalar(col(2), cfg.Contrast)
	sx, sy := a.cropShift(w), a.cropShift(h)
	p.CropX = randInt(3, -sx, sx+1)
	p.CropY = randInt(4, -sy, sy+1)
	cw, ch := a.cutoutSize(w), a.cutoutSize(h)
	p.CutoutX = randInt(5, 0, w+1-cw%2)
	p.CutoutY = randInt(6, 0, h+1-ch%2)
	p.Flip = ConvertDType(LessThan(col(7), Scalar(g, dtypes.Float32, cfg.FlipProb)), dtypes.Float32)
	r := cfg.ScaleRatio
	p.ScaleX = AddScalar(MulScalar(col(8), r-1/r), 1/r)
	p.ScaleY = AddScalar(MulScalar(col(9), r-1/r), 1/r)
	p.Rotate = MulScalar(AddScalar(col(10), -0.5), 2*cfg.RotateDegrees/180*math.Pi)

	// The op is drawn uniformly among the strategy's entries, as the reference (a repeated name is
	// drawn proportionally more often).
	if len(a.ops) == 0 {
		p.Op = Scalar(g, dtypes.Int32, 0)
	} else {
		opsTable := make([]int32, len(a.ops))
		for i, op := range a.ops {
			opsTable[i] = int32(op)
		}
		idx := ConvertDType(Floor(MulScalar(StopGradient(uOp), float64(len(a.ops)))), dtypes.Int32)
		idx = ClipScalar(idx, 0, float64(len(a.ops)-1))
		p.Op = Reshape(Gather(Const(g, opsTable), Reshape(idx, 1)))
	}
	return p
}

// forApply returns the parameters converted to dtype, checking that their batch dimension is 1 or n.
func (p *Params) forApply(dtype dtypes.DType, n int) *Params {
	if p == nil {
		panicf("augment: nil DSA parameters")
	}
	conv := func(name string, v *Node) *Node {
		if v == nil {
			panicf("augment: DSA parameter %s is nil", name)
		}
		if v.Rank() == 0 {
			v = Reshape(v, 1)
		}
		if v.Rank() != 1 || (v.Shape().Dimensions[0] != 1 && v.Shape().Dimensions[0] != n) {
			panicf("augment: DSA parameter %s must have shape [1] or [%d], got %s", name, n, v.Shape())
		}
		return StopGradient(ConvertDType(v, dtype))
	}
	q := &Params{
		Brightness: conv("Brightness", p.Brightness),
		Saturation: conv("Saturation", p.Saturation),
		Contrast:   conv("Contrast", p.Contrast),
		CropX:      conv("CropX", p.CropX),
		CropY:      conv("CropY", p.CropY),
		CutoutX:    conv("CutoutX", p.CutoutX),
		CutoutY:    conv("CutoutY", p.CutoutY),
		Flip:       conv("Flip", p.Flip),
		ScaleX:     conv("ScaleX", p.ScaleX),
		ScaleY:     conv("ScaleY", p.ScaleY),
		Rotate:     conv("Rotate", p.Rotate),
	}
	if p.Op == nil {
		panicf("augment: DSA parameter Op is nil")
	}
	q.Op = Reshape(ConvertDType(p.Op, dtypes.Int32))
	return q
}

// ParamValues holds fixed DSA parameters as Go values, shared by all samples. It is meant for tests,
// visualisation and reproducing a given transformation; see Params for the meaning of each field.
type ParamValues struct {
	// Op is the op applied in OneOpPerCall mode.
	Op Op
	// Brightness, Saturation and Contrast are the additive shift and the two factors of OpColor.
	Brightness, Saturation, Contrast float64
	// CropX and CropY are the translation of OpCrop, in pixels.
	CropX, CropY int
	// CutoutX and CutoutY are the centre of the square of OpCutout.
	CutoutX, CutoutY int
	// Flip says whether OpFlip flips.
	Flip bool
	// ScaleX and ScaleY are the scale factors of OpScale.
	ScaleX, ScaleY float64
	// Rotate is the angle of OpRotate, in radians.
	Rotate float64
}

// IdentityValues returns parameters for which every op but cutout is the identity; its cutout
// square lies far outside the image, so cutout is the identity too.
func IdentityValues() ParamValues {
	return ParamValues{Saturation: 1, Contrast: 1, ScaleX: 1, ScaleY: 1, CutoutX: -1 << 20, CutoutY: -1 << 20}
}

// Const returns the values as constant Params of batch dimension 1, in graph g.
func (v ParamValues) Const(g *Graph) *Params {
	c := func(x float64) *Node { return Const(g, []float32{float32(x)}) }
	flip := 0.0
	if v.Flip {
		flip = 1
	}
	return &Params{
		Op:         Const(g, int32(v.Op)),
		Brightness: c(v.Brightness),
		Saturation: c(v.Saturation),
		Contrast:   c(v.Contrast),
		CropX:      c(float64(v.CropX)),
		CropY:      c(float64(v.CropY)),
		CutoutX:    c(float64(v.CutoutX)),
		CutoutY:    c(float64(v.CutoutY)),
		Flip:       c(flip),
		ScaleX:     c(v.ScaleX),
		ScaleY:     c(v.ScaleY),
		Rotate:     c(v.Rotate),
	}
}

// ParamsFromFields builds the Params of op (an int32 scalar node) from one node per field:
// field(name, identity) returns the values of the field called name (e.g. "CropX", as the
// Params field), given the value that leaves images unchanged. Tests use it to replay draws
// recorded elsewhere.
func ParamsFromFields(op *Node, field func(name string, identity float64) *Node) *Params {
	id := IdentityValues()
	return &Params{
		Op:         op,
		Brightness: field("Brightness", id.Brightness),
		Saturation: field("Saturation", id.Saturation),
		Contrast:   field("Contrast", id.Contrast),
		CropX:      field("CropX", float64(id.CropX)),
		CropY:      field("CropY", float64(id.CropY)),
		CutoutX:    field("CutoutX", float64(id.CutoutX)),
		CutoutY:    field("CutoutY", float64(id.CutoutY)),
		Flip:       field("Flip", 0),
		ScaleX:     field("ScaleX", id.ScaleX),
		ScaleY:     field("ScaleY", id.ScaleY),
		Rotate:     field("Rotate", id.Rotate),
	}
}
