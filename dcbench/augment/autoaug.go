package augment

import (
	"fmt"
	"math/rand/v2"
)

// autoAugStep is one (op, probability, magnitude bin) of an AutoAugment sub-policy; bin -1 is None.
type autoAugStep struct {
	op   hostOp
	prob float64
	bin  int
}

// autoAugCIFAR10 is torchvision's AutoAugmentPolicy.CIFAR10.
var autoAugCIFAR10 = [][2]autoAugStep{
	{{hopInvert, 0.1, -1}, {hopContrast, 0.2, 6}},
	{{hopRotate, 0.7, 2}, {hopTranslateX, 0.3, 9}},
	{{hopSharpness, 0.8, 1}, {hopSharpness, 0.9, 3}},
	{{hopShearY, 0.5, 8}, {hopTranslateY, 0.7, 9}},
	{{hopAutoContrast, 0.5, -1}, {hopEqualize, 0.9, -1}},
	{{hopShearY, 0.2, 7}, {hopPosterize, 0.3, 7}},
	{{hopColor, 0.4, 3}, {hopBrightness, 0.6, 7}},
	{{hopSharpness, 0.3, 9}, {hopBrightness, 0.7, 9}},
	{{hopEqualize, 0.6, -1}, {hopEqualize, 0.5, -1}},
	{{hopContrast, 0.6, 7}, {hopSharpness, 0.6, 5}},
	{{hopColor, 0.7, 7}, {hopTranslateX, 0.5, 8}},
	{{hopEqualize, 0.3, -1}, {hopAutoContrast, 0.4, -1}},
	{{hopTranslateY, 0.4, 3}, {hopSharpness, 0.2, 6}},
	{{hopBrightness, 0.9, 6}, {hopColor, 0.2, 8}},
	{{hopSolarize, 0.5, 2}, {hopInvert, 0.0, -1}},
	{{hopEqualize, 0.2, -1}, {hopAutoContrast, 0.6, -1}},
	{{hopEqualize, 0.2, -1}, {hopEqualize, 0.6, -1}},
	{{hopColor, 0.9, 9}, {hopEqualize, 0.6, -1}},
	{{hopAutoContrast, 0.8, -1}, {hopSolarize, 0.2, 8}},
	{{hopBrightness, 0.1, 3}, {hopColor, 0.7, 0}},
	{{hopSolarize, 0.4, 5}, {hopAutoContrast, 0.9, -1}},
	{{hopTranslateY, 0.9, 9}, {hopTranslateY, 0.7, 9}},
	{{hopAutoContrast, 0.9, -1}, {hopSolarize, 0.8, 3}},
	{{hopEqualize, 0.8, -1}, {hopInvert, 0.1, -1}},
	{{hopTranslateY, 0.7, 9}, {hopAutoContrast, 0.9, -1}},
}

// autoAugImageNet is torchvision's AutoAugmentPolicy.IMAGENET.
var autoAugImageNet = [][2]autoAugStep{
	{{hopPosterize, 0.4, 8}, {hopRotate, 0.6, 9}},
	{{hopSolarize, 0.6, 5}, {hopAutoContrast, 0.6, -1}},
	{{hopEqualize, 0.8, -1}, {hopEqualize, 0.6, -1}},
	{{hopPosterize, 0.6, 7}, {hopPosterize, 0.6, 6}},
	{{hopEqualize, 0.4, -1}, {hopSolarize, 0.2, 4}},
	{{hopEqualize, 0.4, -1}, {hopRotate, 0.8, 8}},
	{{hopSolarize, 0.6, 3}, {hopEqualize, 0.6, -1}},
	{{hopPosterize, 0.8, 5}, {hopEqualize, 1.0, -1}},
	{{hopRotate, 0.2, 3}, {hopSolarize, 0.6, 8}},
	{{hopEqualize, 0.6, -1}, {hopPosterize, 0.4, 6}},
	{{hopRotate, 0.8, 8}, {hopColor, 0.4, 0}},
	{{hopRotate, 0.4, 9}, {hopEqualize, 0.6, -1}},
	{{hopEqualize, 0.0, -1}, {hopEqualize, 0.8, -1}},
	{{hopInvert, 0.6, -1}, {hopEqualize, 1.0, -1}},
	{{hopColor, 0.6, 4}, {hopContrast, 1.0, 8}},
	{{hopRotate, 0.8, 8}, {hopColor, 1.0, 2}},
	{{hopColor, 0.8, 8}, {hopSolarize, 0.8, 7}},
	{{hopSharpness, 0.4, 7}, {hopInvert, 0.6, -1}},
	{{hopShearX, 0.6, 5}, {hopEqualize, 1.0, -1}},
	{{hopColor, 0.4, 0}, {hopEqualize, 0.6, -1}},
	{{hopEqualize, 0.4, -1}, {hopSolarize, 0.2, 4}},
	{{hopSolarize, 0.6, 5}, {hopAutoContrast, 0.6, -1}},
	{{hopInvert, 0.6, -1}, {hopEqualize, 1.0, -1}},
	{{hopColor, 0.6, 4}, {hopContrast, 1.0, 8}},
	{{hopEqualize, 0.8, -1}, {hopEqualize, 0.6, -1}},
}

// autoAugBins is AutoAugment's number of magnitude bins.
const autoAugBins = 10

// autoAugment is torchvision's AutoAugment(policy).
type autoAugment struct {
	policies [][2]autoAugStep
}

// newAutoAugment returns AutoAugment with the given policy.
func newAutoAugment(policy AutoAugmentPolicy) (*autoAugment, error) {
	switch policy {
	case PolicyCIFAR10:
		return &autoAugment{policies: autoAugCIFAR10}, nil
	case PolicyImageNet:
		return &autoAugment{policies: autoAugImageNet}, nil
	}
	return nil, fmt.Errorf("augment: unknown AutoAugment policy %d; valid are %s and %s",
		int(policy), PolicyCIFAR10, PolicyImageNet)
}

// draw implements drawFn as AutoAugment.get_params: one sub-policy drawn uniformly, each of its two
// steps applied when a uniform draw is <= its probability, with a random sign (negative when the
// drawn sign is 0) for signed ops.
func (aa *autoAugment) draw(rng *rand.Rand, h, w int) func(im *image) {
	sub := aa.policies[rng.IntN(len(aa.policies))]
	probs := [2]float64{rng.Float64(), rng.Float64()}
	signs := [2]int{rng.IntN(2), rng.IntN(2)}
	var ops []hostOp
	var mags []float64
	for i, st := range sub {
		if probs[i] > st.prob {
			continue
		}
		mag := 0.0
		if st.bin >= 0 {
			var signed bool
			mag, signed = opMagnitude(st.op, st.bin, autoAugBins, h, w)
			if signed && signs[i] == 0 {
				mag = -mag
			}
		}
		ops = append(ops, st.op)
		mags = append(mags, mag)
	}
	return func(im *image) {
		for i, op := range ops {
			applyHostOp(im, op, mags[i])
		}
	}
}
