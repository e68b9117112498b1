package augment

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// hostOp is one of the image ops of torchvision's RandAugment and AutoAugment.
type hostOp int

const (
	hopIdentity hostOp = iota
	hopShearX
	hopShearY
	hopTranslateX
	hopTranslateY
	hopRotate
	hopBrightness
	hopColor
	hopContrast
	hopSharpness
	hopPosterize
	hopSolarize
	hopAutoContrast
	hopEqualize
	hopInvert
)

var hostOpNames = [...]string{"Identity", "ShearX", "ShearY", "TranslateX", "TranslateY", "Rotate",
	"Brightness", "Color", "Contrast", "Sharpness", "Posterize", "Solarize", "AutoContrast", "Equalize", "Invert"}

// String returns torchvision's name of the op.
func (op hostOp) String() string { return hostOpNames[op] }

// randAugmentOps are the ops of torchvision's RandAugment, in the order of its augmentation space.
var randAugmentOps = []hostOp{hopIdentity, hopShearX, hopShearY, hopTranslateX, hopTranslateY, hopRotate,
	hopBrightness, hopColor, hopContrast, hopSharpness, hopPosterize, hopSolarize, hopAutoContrast, hopEqualize}

// opMagnitude returns the magnitude of op at bin `bin` of `bins`, and whether its sign is drawn, as
// torchvision's _augmentation_space (shared by RandAugment and AutoAugment), with its float32
// magnitude tables. Ops without a magnitude return 0.
func opMagnitude(op hostOp, bin, bins, h, w int) (magnitude float64, signed bool) {
	// torch.linspace(lo, hi, bins)[bin] as torchvision computes it, in float32: step = (hi-lo)/(bins-1),
	// lo + step·i for the first half of the bins and hi − step·(bins−1−i) for the rest.
	linspace := func(lo, hi float64) float64 {
		l, u := float32(lo), float32(hi)
		step := float32(u-l) / float32(bins-1)
		if bin < bins/2 {
			return float64(l + float32(step*float32(bin)))
		}
		return float64(u - float32(step*float32(bins-1-bin)))
	}
	switch op {
	case hopShearX, hopShearY:
		return linspace(0, 0.3), true
	case hopTranslateX:
		return linspace(0, 150.0/331.0*float64(w)), true
	case hopTranslateY:
		return linspace(0, 150.0/331.0*float64(h)), true
	case hopRotate:
		return linspace(0, 30), true
	case hopBrightness, hopColor, hopContrast, hopSharpness:
		return linspace(0, 0.9), true
	case hopPosterize:
		return 8 - math.RoundToEven(float64(bin)/(float64(bins-1)/4)), false
	case hopSolarize:
		return linspace(255, 0), false
	}
	return 0, false
}

// applyHostOp applies op with the given (signed) magnitude, as torchvision's _apply_op with nearest
// interpolation and zero fill.
func applyHostOp(im *image, op hostOp, magnitude float64) {
	switch op {
	case hopIdentity:
	case hopShearX:
		im.affine(0, [2]float64{}, 1, [2]float64{math.Atan(magnitude) * 180 / math.Pi, 0}, &[2]float64{})
	case hopShearY:
		im.affine(0, [2]float64{}, 1, [2]float64{0, math.Atan(magnitude) * 180 / math.Pi}, &[2]float64{})
	case hopTranslateX:
		im.affine(0, [2]float64{math.Trunc(magnitude), 0}, 1, [2]float64{}, nil)
	case hopTranslateY:
		im.affine(0, [2]float64{0, math.Trunc(magnitude)}, 1, [2]float64{}, nil)
	case hopRotate:
		im.rotate(magnitude)
	case hopBrightness:
		im.adjustBrightness(1 + magnitude)
	case hopColor:
		im.adjustSaturation(1 + magnitude)
	case hopContrast:
		im.adjustContrast(1 + magnitude)
	case hopSharpness:
		im.adjustSharpness(1 + magnitude)
	case hopPosterize:
		im.posterize(int(magnitude))
	case hopSolarize:
		im.solarize(magnitude)
	case hopAutoContrast:
		im.autocontrast()
	case hopEqualize:
		im.equalize()
	case hopInvert:
		im.invert()
	default:
		panicf("augment: unknown host op %d", int(op))
	}
}

// randAugment is torchvision's RandAugment(num_ops, magnitude, num_magnitude_bins).
type randAugment struct {
	numOps, magnitude, bins int
}

// newRandAugment resolves the RandAugment options (see HostOptions).
func newRandAugment(opts HostOptions) (*randAugment, error) {
	ra := &randAugment{numOps: opts.RandAugNumOps, magnitude: opts.RandAugMagnitude, bins: opts.RandAugBins}
	if ra.numOps == 0 {
		ra.numOps = 1
	}
	if ra.bins == 0 {
		ra.bins = 31
	}
	switch {
	case ra.magnitude == 0:
		ra.magnitude = 9
	case ra.magnitude < 0:
		ra.magnitude = 0
	}
	if ra.numOps < 0 || ra.bins < 2 || ra.magnitude >= ra.bins {
		return nil, fmt.Errorf("augment: invalid RandAugment options num_ops=%d, magnitude=%d, bins=%d",
			ra.numOps, ra.magnitude, ra.bins)
	}
	return ra, nil
}

// draw implements drawFn: numOps ops drawn uniformly, each with a random sign when signed.
func (ra *randAugment) draw(rng *rand.Rand, h, w int) func(im *image) {
	type step struct {
		op        hostOp
		magnitude float64
	}
	steps := make([]step, ra.numOps)
	for k := range steps {
		op := randAugmentOps[rng.IntN(len(randAugmentOps))]
		mag, signed := opMagnitude(op, ra.magnitude, ra.bins, h, w)
		if signed && rng.IntN(2) == 1 {
			mag = -mag
		}
		steps[k] = step{op, mag}
	}
	return func(im *image) {
		for _, s := range steps {
			applyHostOp(im, s.op, s.magnitude)
		}
	}
}
