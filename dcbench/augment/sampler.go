package augment

import (
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // gomlx's usual style.
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// pixelAffine is a per-sample affine map from output pixels to input pixels, around the image centre
// (cx, cy) = ((w-1)/2, (h-1)/2): output pixel (row i, column j) samples the input at
//
//	x = cx + a*(j-cx) + b*(i-cy) + tx
//	y = cy + c*(j-cx) + d*(i-cy) + ty
//
// Every field has shape [B], B being the batch size or 1. Written around the centre, the identity,
// horizontal flips (a = -1) and integer translations give exact integer coordinates.
type pixelAffine struct {
	a, b, c, d, tx, ty *Node
}

// identityAffine returns the identity map with fields shaped and typed like `like`.
func identityAffine(like *Node) *pixelAffine {
	one, zero := OnesLike(like), ZerosLike(like)
	return &pixelAffine{a: one, b: zero, c: zero, d: one, tx: zero, ty: zero}
}

// selectIf returns, field by field, other where the scalar boolean cond is true and af otherwise.
func (af *pixelAffine) selectIf(cond *Node, other *pixelAffine) *pixelAffine {
	sel := func(onFalse, onTrue *Node) *Node {
		if onFalse.Shape().Equal(onTrue.Shape()) {
			return Where(cond, onTrue, onFalse)
		}
		dims := onTrue.Shape().Dimensions
		if onFalse.Shape().Dimensions[0] > dims[0] {
			dims = onFalse.Shape().Dimensions
		}
		return Where(cond, BroadcastToDims(onTrue, dims...), BroadcastToDims(onFalse, dims...))
	}
	return &pixelAffine{
		a: sel(af.a, other.a), b: sel(af.b, other.b), c: sel(af.c, other.c), d: sel(af.d, other.d),
		tx: sel(af.tx, other.tx), ty: sel(af.ty, other.ty),
	}
}

// sampleBilinear resamples the NHWC images x through the map af with bilinear interpolation and zero
// padding (as torch's F.grid_sample(mode="bilinear", padding_mode="zeros")).
//
// It is built from one Gather of the four neighbouring pixels (whose gradient, a ScatterSum, works on
// every backend) weighted by the interpolation weights, with out-of-image neighbours weighted 0. The
// map itself is treated as a constant: gradients flow only to x.
func sampleBilinear(x *Node, af *pixelAffine) *Node {
	g := x.Graph()
	n, h, w, c := checkImages(x)
	dt := x.DType()
	if dt != dtypes.Float64 {
		dt = dtypes.Float32 // Coordinates in at least float32 precision.
	}
	field := func(v *Node) *Node { return Reshape(StopGradient(ConvertDType(v, dt)), -1, 1, 1) } // [B, 1, 1]
	cx, cy := float64(w-1)/2, float64(h-1)/2
	cols := AddScalar(Iota(g, shapes.Make(dt, 1, 1, w), 2), -cx) // j - cx
	rows := AddScalar(Iota(g, shapes.Make(dt, 1, h, 1), 1), -cy) // i - cy
	// Source coordinates, [B, H, W].
	srcX := AddScalar(Add(Add(Mul(field(af.a), cols), Mul(field(af.b), rows)), field(af.tx)), cx)
	srcY := AddScalar(Add(Add(Mul(field(af.c), cols), Mul(field(af.d), rows)), field(af.ty)), cy)
	if b := srcX.Shape().Dimensions[0]; b != n {
		if b != 1 {
			panicf("augment: affine parameters have batch %d, images %s", b, x.Shape())
		}
		srcX = BroadcastToDims(srcX, n, h, w)
		srcY = BroadcastToDims(srcY, n, h, w)
	}
	x0, y0 := Floor(srcX), Floor(srcY)
	fx, fy := Sub(srcX, x0), Sub(srcY, y0)
	gx, gy := OneMinus(fx), OneMinus(fy)
	batchBase := MulScalar(Iota(g, shapes.Make(dtypes.Int32, n, h, w), 0), h*w)

	type corner struct {
		x, y, weight *Node
	}
	x1, y1 := AddScalar(x0, 1), AddScalar(y0, 1)
	corners := []corner{
		{x0, y0, Mul(gx, gy)},
		{x1, y0, Mul(fx, gy)},
		{x0, y1, Mul(gx, fy)},
		{x1, y1, Mul(fx, fy)},
	}
	indices := make([]*Node, len(corners))
	weights := make([]*Node, len(corners))
	for k, cr := range corners {
		valid := LogicalAnd(
			LogicalAnd(GreaterOrEqual(cr.x, ScalarZero(g, dt)), LessOrEqual(cr.x, Scalar(g, dt, w-1))),
			LogicalAnd(GreaterOrEqual(cr.y, ScalarZero(g, dt)), LessOrEqual(cr.y, Scalar(g, dt, h-1))))
		weights[k] = Where(valid, cr.weight, ZerosLike(cr.weight))
		xi := ConvertDType(ClipScalar(cr.x, 0, float64(w-1)), dtypes.Int32)
		yi := ConvertDType(ClipScalar(cr.y, 0, float64(h-1)), dtypes.Int32)
		indices[k] = Add(batchBase, Add(MulScalar(yi, w), xi))
	}
	// Indices are flattened to rank 2: gomlx's Gather shape inference wants the index vector axis
	// within the operand's rank.
	idx := Reshape(Stack(indices, 0), 4*n*h*w, 1)
	wts := ConvertDType(InsertAxes(Stack(weights, 0), -1), x.DType()) // [4, N, H, W, 1]
	gathered := Reshape(Gather(Reshape(x, n*h*w, c), idx), 4, n, h, w, c)
	return ReduceSum(Mul(gathered, wts), 0)
}
