package augment

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
)

// NameDCAug is DC's augmentation (Zhao et al. 2021), as DC-Bench's evaluator applies it when
// neither DSA nor a torchvision augmentation is asked for on MNIST
// (dcbench-evaluator_utils.py: get_daparam, augment): for each image one op drawn from the
// strategy (crop, scale, rotate or noise), on the normalised images. See DCAugParams.
const NameDCAug = "dc_aug"

// DCAugOps are the ops a DC augmentation strategy can hold.
var DCAugOps = []string{"crop", "scale", "rotate", "noise"}

// DCAugParams are DC's augmentation settings; the zero value of a field means the reference's
// (get_daparam's) value.
type DCAugParams struct {
	// Strategy is the ops joined by "_", one drawn uniformly per image; default
	// "crop_scale_rotate" (get_daparam's MNIST setting; "crop_noise" is its ConvNetBN one).
	Strategy string
	// Crop is the padding of the random crop, filled with the batch's channel means
	// (default 4): the window's offsets are uniform in [0, 2·Crop).
	Crop int
	// Scale: height and width are scaled by factors uniform in [1−Scale, 1+Scale) (default
	// 0.2), resized by nearest neighbour, centred on a zero canvas and cropped back.
	Scale float64
	// Rotate: the angle is an integer number of degrees uniform in [−Rotate, Rotate)
	// (default 45), by scipy.ndimage.rotate's cubic spline, the uncovered area filled with the
	// mean of the channel means.
	Rotate int
	// Noise is the standard deviation of the added Gaussian noise (default 0.001).
	Noise float64
}

// withDefaults fills the zero fields with the reference's values and checks the strategy.
func (p DCAugParams) withDefaults() (DCAugParams, []string, error) {
	if p.Strategy == "" {
		p.Strategy = "crop_scale_rotate"
	}
	if p.Crop == 0 {
		p.Crop = 4
	}
	if p.Scale == 0 {
		p.Scale = 0.2
	}
	if p.Rotate == 0 {
		p.Rotate = 45
	}
	if p.Noise == 0 {
		p.Noise = 0.001
	}
	ops := strings.Split(strings.ToLower(p.Strategy), "_")
	for _, op := range ops {
		if !slices.Contains(DCAugOps, op) {
			return p, nil, fmt.Errorf("augment: unknown DC augmentation op %q in strategy %q (valid ops: %s)",
				op, p.Strategy, strings.Join(DCAugOps, ", "))
		}
	}
	switch {
	case p.Crop < 0:
		return p, nil, fmt.Errorf("augment: DC augmentation crop must be positive, got %d", p.Crop)
	case p.Rotate < 0:
		return p, nil, fmt.Errorf("augment: DC augmentation rotate must be positive, got %d", p.Rotate)
	case !(p.Scale > 0 && p.Scale < 1):
		return p, nil, fmt.Errorf("augment: DC augmentation scale must be in (0, 1), got %g", p.Scale)
	case !(p.Noise > 0) || math.IsInf(p.Noise, 0):
		return p, nil, fmt.Errorf("augment: DC augmentation noise must be positive, got %g", p.Noise)
	}
	return p, ops, nil
}

// dcAug is the NameDCAug host augmenter.
type dcAug struct {
	p   DCAugParams
	ops []string
}

// newDCAug returns DC's augmentation with params p (zero fields: the reference's values).
func newDCAug(p DCAugParams) (*dcAug, error) {
	p, ops, err := p.withDefaults()
	if err != nil {
		return nil, err
	}
	return &dcAug{p: p, ops: ops}, nil
}

// Name implements HostAugmenter.
func (*dcAug) Name() string { return NameDCAug }

// dcDraw is one image's random draw: the op and its parameters.
type dcDraw struct {
	op    string
	a, b  float64   // crop: row and column offsets; scale: the two factors; rotate: a, the angle
	noise []float32 // noise: the standard normal values, in the image's NHWC order
}

// draw draws one image's op and parameters from rng.
func (d *dcAug) draw(rng *rand.Rand, h, w, c int) dcDraw {
	dr := dcDraw{op: d.ops[rng.IntN(len(d.ops))]}
	switch dr.op {
	case "crop":
		dr.a, dr.b = float64(rng.IntN(2*d.p.Crop)), float64(rng.IntN(2*d.p.Crop))
	case "scale":
		dr.a = 1 - d.p.Scale + 2*d.p.Scale*rng.Float64()
		dr.b = 1 - d.p.Scale + 2*d.p.Scale*rng.Float64()
	case "rotate":
		dr.a = float64(rng.IntN(2*d.p.Rotate) - d.p.Rotate)
	case "noise":
		dr.noise = make([]float32, h*w*c)
		for i := range dr.noise {
			dr.noise[i] = float32(rng.NormFloat64())
		}
	}
	return dr
}

// Apply implements HostAugmenter: the images (NHWC, normalised) are augmented one by one, each
// with its own draw, the fills computed from the batch's channel means before any change.
func (d *dcAug) Apply(images []float32, n, h, w, c int, rng *rand.Rand) error {
	if err := checkBatch(images, n, h, w, c, 0); err != nil {
		return err
	}
	if rng == nil {
		return fmt.Errorf("augment: %s needs a random number generator", NameDCAug)
	}
	mean := batchChannelMeans(images, c)
	for i := range n {
		d.applyOne(images[i*h*w*c:(i+1)*h*w*c], h, w, c, mean, d.draw(rng, h, w, c))
	}
	return nil
}

// batchChannelMeans returns the mean of every channel over the batch (NHWC).
func batchChannelMeans(images []float32, c int) []float64 {
	sum := make([]float64, c)
	for i, v := range images {
		sum[i%c] += float64(v)
	}
	for k := range sum {
		sum[k] /= float64(len(images) / c)
	}
	return sum
}

// applyOne applies one draw to one h×w×c image in place.
func (d *dcAug) applyOne(pix []float32, h, w, c int, mean []float64, dr dcDraw) {
	switch dr.op {
	case "crop":
		dcCrop(pix, h, w, c, d.p.Crop, int(dr.a), int(dr.b), mean)
	case "scale":
		// The reference sizes both sides from the height (shape[2]): a quirk on non-square images.
		dcScale(pix, h, w, c, int(dr.a*float64(h)), int(dr.b*float64(h)))
	case "rotate":
		cval := 0.0
		for _, m := range mean {
			cval += m
		}
		dcRotate(pix, h, w, c, dr.a, cval/float64(c))
	case "noise":
		noise := float32(d.p.Noise)
		for i := range pix {
			pix[i] += noise * dr.noise[i]
		}
	}
}

// dcCrop pads the image by pad on each side with the channel means and takes the h×w window at
// offsets (r, q).
func dcCrop(pix []float32, h, w, c, pad, r, q int, mean []float64) {
	src := slices.Clone(pix)
	for y := range h {
		for x := range w {
			sy, sx := y+r-pad, x+q-pad
			for k := range c {
				v := float32(mean[k])
				if sy >= 0 && sy < h && sx >= 0 && sx < w {
					v = src[(sy*w+sx)*c+k]
				}
				pix[(y*w+x)*c+k] = v
			}
		}
	}
}

// nearestIndex is PyTorch's nearest-neighbour source index (F.interpolate, mode "nearest") of
// output index o when in values are resized to out, in float32 as it computes it.
func nearestIndex(o, in, out int) int {
	switch {
	case out == in:
		return o
	case out == 2*in:
		return o >> 1
	}
	scale := float32(in) / float32(out)
	return min(int(math.Floor(float64(float32(o)*scale))), in-1)
}

// dcScale resizes the image to sh×sw by nearest neighbour, centres it on a zero square canvas
// of side max(sh, sw, h, w) and takes the centred h×w window.
func dcScale(pix []float32, h, w, c, sh, sw int) {
	src := slices.Clone(pix)
	m := max(sh, sw, h, w)
	r0, c0 := (m-sh)/2, (m-sw)/2 // where the resized image sits on the canvas
	r1, c1 := (m-h)/2, (m-w)/2   // the window taken back
	for y := range h {
		for x := range w {
			ty, tx := y+r1-r0, x+c1-c0 // position in the resized image
			inside := ty >= 0 && ty < sh && tx >= 0 && tx < sw
			var sy, sx int
			if inside {
				sy, sx = nearestIndex(ty, h, sh), nearestIndex(tx, w, sw)
			}
			for k := range c {
				v := float32(0)
				if inside {
					v = src[(sy*w+sx)*c+k]
				}
				pix[(y*w+x)*c+k] = v
			}
		}
	}
}

// sinCosDegrees returns the sine and cosine of deg degrees, exact at multiples of 90 as
// scipy.special's sindg and cosdg.
func sinCosDegrees(deg float64) (float64, float64) {
	if math.Mod(deg, 90) == 0 {
		switch int(math.Mod(math.Mod(deg, 360)+360, 360)) {
		case 0:
			return 0, 1
		case 90:
			return 1, 0
		case 180:
			return 0, -1
		default:
			return -1, 0
		}
	}
	return math.Sincos(deg * math.Pi / 180)
}

// dcRotate rotates every channel plane by deg degrees as scipy.ndimage.rotate(plane, deg,
// reshape=True, order=3, mode="constant", cval) does (a cubic B-spline on mirror-extended
// coefficients, cval outside the input), then takes the centred h×w window of the enlarged
// result.
func dcRotate(pix []float32, h, w, c int, deg, cval float64) {
	sn, cs := sinCosDegrees(deg)
	// The rotated bounds of the input plane (rows, columns), as rotate's reshape computes them.
	ys := [4]float64{0, sn * float64(w), cs * float64(h), cs*float64(h) + sn*float64(w)}
	xs := [4]float64{0, cs * float64(w), -sn * float64(h), -sn*float64(h) + cs*float64(w)}
	oh := int(slices.Max(ys[:]) - slices.Min(ys[:]) + 0.5)
	ow := int(slices.Max(xs[:]) - slices.Min(xs[:]) + 0.5)
	// Input coordinate of output (o0, o1): R·o + offset, offset = in_centre − R·out_centre.
	hc0, hc1 := float64(oh-1)/2, float64(ow-1)/2
	off0 := float64(h-1)/2 - (cs*hc0 + sn*hc1)
	off1 := float64(w-1)/2 - (-sn*hc0 + cs*hc1)
	r1, c1 := (oh-h)/2, (ow-w)/2
	plane := make([]float64, h*w)
	for k := range c {
		for i := range plane {
			plane[i] = float64(pix[i*c+k])
		}
		coef := splineCoefficients2D(plane, h, w)
		for y := range h {
			for x := range w {
				o0, o1 := float64(y+r1), float64(x+c1)
				iy := cs*o0 + sn*o1 + off0
				ix := -sn*o0 + cs*o1 + off1
				v := cval
				if iy >= 0 && iy <= float64(h-1) && ix >= 0 && ix <= float64(w-1) {
					v = splineAt(coef, h, w, iy, ix)
				}
				pix[(y*w+x)*c+k] = float32(v)
			}
		}
	}
}

// splineCoefficients2D returns the cubic B-spline coefficients of an h×w plane with mirror
// boundaries (the interpolation condition on every row, then every column).
func splineCoefficients2D(plane []float64, h, w int) []float64 {
	coef := slices.Clone(plane)
	row := make([]float64, max(h, w))
	for y := range h {
		copy(row, coef[y*w:(y+1)*w])
		splineCoefficients1D(row[:w])
		copy(coef[y*w:(y+1)*w], row[:w])
	}
	for x := range w {
		for y := range h {
			row[y] = coef[y*w+x]
		}
		splineCoefficients1D(row[:h])
		for y := range h {
			coef[y*w+x] = row[y]
		}
	}
	return coef
}

// splineCoefficients1D replaces v by the cubic B-spline coefficients c that interpolate it
// with mirror boundaries: (c[i−1] + 4c[i] + c[i+1])/6 = v[i], c[−1] = c[1], c[n] = c[n−2]. It
// solves the tridiagonal system directly.
func splineCoefficients1D(v []float64) {
	n := len(v)
	if n < 2 {
		return
	}
	// Rows: sub[i] c[i−1] + 4 c[i] + sup[i] c[i+1] = 6 v[i]; the mirror doubles the neighbour
	// of the two end rows.
	sup := make([]float64, n)
	rhs := make([]float64, n)
	sup[0] = 2.0 / 4 // row 0: 4 c[0] + 2 c[1] = 6 v[0]
	rhs[0] = 6 * v[0] / 4
	for i := 1; i < n; i++ {
		sub, up := 1.0, 1.0
		if i == n-1 {
			sub, up = 2, 0
		}
		den := 4 - sub*sup[i-1]
		sup[i] = up / den
		rhs[i] = (6*v[i] - sub*rhs[i-1]) / den
	}
	v[n-1] = rhs[n-1]
	for i := n - 2; i >= 0; i-- {
		v[i] = rhs[i] - sup[i]*v[i+1]
	}
}

// mirrorIndex maps i into [0, n) by whole-sample mirroring (… 2 1 | 0 1 … n−1 | n−2 …).
func mirrorIndex(i, n int) int {
	if n == 1 {
		return 0
	}
	p := 2*n - 2
	i %= p
	if i < 0 {
		i += p
	}
	if i >= n {
		i = p - i
	}
	return i
}

// cubicBSpline is the centred cubic B-spline β³(t).
func cubicBSpline(t float64) float64 {
	t = math.Abs(t)
	switch {
	case t < 1:
		return 2.0/3 - t*t + t*t*t/2
	case t < 2:
		u := 2 - t
		return u * u * u / 6
	}
	return 0
}

// splineAt evaluates the cubic spline with coefficients coef (h×w, mirror-extended) at (y, x).
func splineAt(coef []float64, h, w int, y, x float64) float64 {
	fy, fx := int(math.Floor(y)), int(math.Floor(x))
	var wy, wx [4]float64
	var iy, ix [4]int
	for j := range 4 {
		wy[j], iy[j] = cubicBSpline(y-float64(fy-1+j)), mirrorIndex(fy-1+j, h)
		wx[j], ix[j] = cubicBSpline(x-float64(fx-1+j)), mirrorIndex(fx-1+j, w)
	}
	s := 0.0
	for a := range 4 {
		r := 0.0
		for b := range 4 {
			r += coef[iy[a]*w+ix[b]] * wx[b]
		}
		s += r * wy[a]
	}
	return s
}
