package augment

import (
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // gomlx's usual style.
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// perSample reshapes a [B] parameter to [B, 1, 1, 1], to broadcast over NHWC images.
func perSample(v *Node) *Node { return Reshape(v, -1, 1, 1, 1) }

// colorOp applies brightness, saturation and contrast in turn, as the reference's 'color' group
// (rand_brightness, rand_saturation, rand_contrast).
func colorOp(q *Params, x *Node) *Node {
	// Brightness: x + (r - 0.5) * brightness.
	x = Add(x, perSample(q.Brightness))
	// Saturation: (x - mean over channels) * (r * saturation) + mean.
	mean := ReduceAndKeep(x, ReduceMean, 3)
	x = Add(Mul(Sub(x, mean), perSample(q.Saturation)), mean)
	// Contrast: (x - mean over channels, rows and columns) * (r + contrast) + mean.
	mean = ReduceAndKeep(x, ReduceMean, 1, 2, 3)
	return Add(Mul(Sub(x, mean), perSample(q.Contrast)), mean)
}

// cutoutMask returns a [B, H, W, 1] mask of dtype with zeros on each sample's cutout square and ones
// elsewhere. As the reference, the square of side sizeH×sizeW starts at centre - size/2 and is clipped
// to the image.
func cutoutMask(q *Params, dtype dtypes.DType, h, w, sizeH, sizeW int) *Node {
	g := q.CutoutX.Graph()
	rows := Iota(g, shapes.Make(dtype, 1, h, 1, 1), 1)
	cols := Iota(g, shapes.Make(dtype, 1, 1, w, 1), 2)
	inside := func(pos, centre *Node, size int) *Node {
		start := AddScalar(perSample(centre), -float64(size/2))
		return LogicalAnd(GreaterOrEqual(pos, start), LessThan(pos, AddScalar(start, float64(size))))
	}
	inRows := inside(rows, q.CutoutY, sizeH) // [B, H, 1, 1]
	inCols := inside(cols, q.CutoutX, sizeW) // [B, 1, W, 1]
	b := q.CutoutX.Shape().Dimensions[0]
	cut := LogicalAnd(BroadcastToDims(inRows, b, h, w, 1), BroadcastToDims(inCols, b, h, w, 1))
	return Where(cut, ScalarZero(g, dtype), ScalarOne(g, dtype))
}

// affineFor returns the pixel-space affine map of a geometric op (crop, flip, scale or rotate).
func (a *DSA) affineFor(op Op, q *Params, h, w int) *pixelAffine {
	one := OnesLike(q.ScaleX)
	zero := ZerosLike(q.ScaleX)
	switch op {
	case OpCrop:
		// out[i, j] = in[i + CropY, j + CropX]: an exact integer translation.
		return &pixelAffine{a: one, b: zero, c: zero, d: one, tx: q.CropX, ty: q.CropY}
	case OpFlip:
		// a = -1 maps column j to w-1-j exactly; a = 1 is the identity.
		return &pixelAffine{a: OneMinus(MulScalar(q.Flip, 2)), b: zero, c: zero, d: one, tx: zero, ty: zero}
	case OpScale:
		// The reference's F.affine_grid(theta, x.shape) and F.grid_sample(x, grid) with torch's
		// defaults (align_corners=False since torch 1.3): a unit scale is the identity, and on
		// square images the same map as align_corners=True for both.
		gridAlign, sampleAlign := false, false
		if a.cfg.ReferenceGrids {
			// rand_scale: F.affine_grid(theta, x.shape) (align_corners=False by default) followed by
			// F.grid_sample(..., align_corners=True).
			gridAlign, sampleAlign = false, true
		}
		return thetaToPixel(q.ScaleX, zero, zero, q.ScaleY, h, w, gridAlign, sampleAlign)
	case OpRotate:
		gridAlign, sampleAlign := false, false // as OpScale
		if a.cfg.ReferenceGrids {
			// rand_rotate: F.affine_grid(..., align_corners=True) followed by F.grid_sample(x, grid)
			// (align_corners=False by default).
			gridAlign, sampleAlign = true, false
		}
		cos, sin := Cos(q.Rotate), Sin(q.Rotate)
		return thetaToPixel(cos, Neg(sin), sin, cos, h, w, gridAlign, sampleAlign)
	}
	panicf("augment: op %s is not geometric", op)
	return nil
}

// thetaToPixel converts the linear part of a torch affine theta (no translation), as used by
// F.affine_grid followed by F.grid_sample, to a pixel-space map around the image centre.
//
// F.affine_grid gives each output pixel j the normalised coordinate (j - cx)/sx1, with cx = (w-1)/2
// and sx1 = (w-1)/2 if align_corners else w/2; F.grid_sample maps a normalised coordinate u back to
// the pixel cx + u*sx2, with sx2 likewise set by its own align_corners. Rows are the same with h.
func thetaToPixel(t00, t01, t10, t11 *Node, h, w int, gridAlign, sampleAlign bool) *pixelAffine {
	half := func(size int, align bool) float64 {
		if align {
			return float64(size-1) / 2
		}
		return float64(size) / 2
	}
	sx1, sy1 := half(w, gridAlign), half(h, gridAlign)
	sx2, sy2 := half(w, sampleAlign), half(h, sampleAlign)
	scale := func(v *Node, f float64) *Node {
		if f == 1 {
			return v
		}
		return MulScalar(v, f)
	}
	ratio := func(num, den float64) float64 {
		if den == 0 { // Images of size 1 along an axis: any value maps to the single pixel.
			return 0
		}
		return num / den
	}
	zero := ZerosLike(t00)
	return &pixelAffine{
		a:  scale(t00, ratio(sx2, sx1)),
		b:  scale(t01, ratio(sx2, sy1)),
		c:  scale(t10, ratio(sy2, sx1)),
		d:  scale(t11, ratio(sy2, sy1)),
		tx: zero,
		ty: zero,
	}
}
