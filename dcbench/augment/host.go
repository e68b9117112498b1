package augment

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
)

// Names of the evaluation augmentations of DC-Bench (Table 4 of the paper).
const (
	// NameNone is no augmentation (printed "n/a" in the paper).
	NameNone = "none"
	// NameImageNetAug is random crop with zero padding, horizontal flip and colour jitter.
	NameImageNetAug = "imagenet_aug"
	// NameRandAug is torchvision's RandAugment.
	NameRandAug = "randaug"
	// NameAutoAug is torchvision's AutoAugment.
	NameAutoAug = "autoaug"
	// NameDSA is the differentiable siamese augmentation, applied in the graph: see NewDSA.
	NameDSA = "dsa"
)

// Names returns the names of DC-Bench's evaluation augmentations: "none", "imagenet_aug", "randaug",
// "autoaug" and "dsa" (Table 4), and "dc_aug" (NameDCAug, its evaluator's default on MNIST). All
// but "dsa" are host-side (NewHost); "dsa" runs in the graph (NewDSA).
func Names() []string {
	return []string{NameNone, NameImageNetAug, NameRandAug, NameAutoAug, NameDSA, NameDCAug}
}

// HostAugmenter augments a batch of images on the host, in place.
type HostAugmenter interface {
	// Name returns the augmentation's name, one of Names.
	Name() string
	// Apply augments the n images of h×w×c (NHWC, float32, normalised by the dataset mean and std)
	// in place, drawing all randomness from rng. It returns an error if the sizes do not match.
	Apply(images []float32, n, h, w, c int, rng *rand.Rand) error
}

// AutoAugmentPolicy selects the AutoAugment policy.
type AutoAugmentPolicy int

const (
	// PolicyCIFAR10 is AutoAugment's CIFAR-10 policy, used by DC-Bench for CIFAR-10 and CIFAR-100.
	PolicyCIFAR10 AutoAugmentPolicy = iota
	// PolicyImageNet is AutoAugment's ImageNet policy, used by DC-Bench for TinyImageNet.
	PolicyImageNet
)

// String returns the policy's name.
func (p AutoAugmentPolicy) String() string {
	switch p {
	case PolicyCIFAR10:
		return "cifar10"
	case PolicyImageNet:
		return "imagenet"
	}
	return fmt.Sprintf("AutoAugmentPolicy(%d)", int(p))
}

// HostOptions configures the host-side augmentations. The zero value gives the defaults.
type HostOptions struct {
	// PerBatch draws the random parameters once per call and applies them to every image of the
	// batch: the reference's behaviour, since it applied torchvision transforms to the whole batch
	// tensor. By default (false) every image draws its own parameters.
	PerBatch bool

	// Uint8 reproduces the reference's uint8 pipeline: images are converted with a truncating cast
	// (uint8(x*255)) and every torchvision op rounds or truncates its result to uint8 as it does on
	// uint8 tensors. By default (false) images stay in float and only the ops that are defined on
	// uint8 levels (posterize, solarize, equalize) quantise, by rounding.
	Uint8 bool

	// CropPadding is the zero padding of imagenet_aug's random crop. 0 means the reference's 4 pixels
	// (for every image size); a negative value means size/8, the CIFAR ratio scaled to the image.
	CropPadding int

	// RandAugNumOps is the number of RandAugment ops per image. 0 means 1, the reference's
	// RandAugment(num_ops=1) (torchvision's own default is 2).
	RandAugNumOps int
	// RandAugMagnitude is RandAugment's magnitude bin. 0 means torchvision's default 9; use a negative
	// value for magnitude 0.
	RandAugMagnitude int
	// RandAugBins is RandAugment's number of magnitude bins. 0 means torchvision's default 31.
	RandAugBins int

	// AutoAugPolicy is the AutoAugment policy: PolicyCIFAR10 (default) or PolicyImageNet (the
	// reference's choice for TinyImageNet).
	AutoAugPolicy AutoAugmentPolicy

	// DCAug are the settings of NameDCAug (zero fields: the reference's). PerBatch and Uint8
	// do not apply to it: it draws per image on the normalised float images, as the reference.
	DCAug DCAugParams
}

// ReferenceHostOptions returns the options that reproduce the reference most closely: one draw per
// batch and the uint8 pipeline.
func ReferenceHostOptions() HostOptions {
	return HostOptions{PerBatch: true, Uint8: true}
}

// NewHost returns the host-side augmentation called name (one of Names, except "dsa", which runs in
// the graph), for images normalised by the per-channel mean and std. The augmentations un-normalise
// to [0, 1] (clipping, as the reference), work on the 0..255 scale as torchvision does on uint8
// images, and re-normalise.
func NewHost(name string, mean, std []float32, opts HostOptions) (HostAugmenter, error) {
	if len(mean) == 0 || len(mean) != len(std) {
		return nil, fmt.Errorf("augment: mean and std must have one value per channel, got %d and %d",
			len(mean), len(std))
	}
	for k, s := range std {
		if !(s > 0) || math.IsInf(float64(s), 0) || math.IsNaN(float64(mean[k])) {
			return nil, fmt.Errorf("augment: std[%d]=%g must be positive and mean[%d]=%g finite", k, s, k, mean[k])
		}
	}
	base := hostBase{name: name, mean: append([]float32(nil), mean...), std: append([]float32(nil), std...), opts: opts}
	switch name {
	case NameNone:
		return noneAug{}, nil
	case NameImageNetAug:
		if len(mean) != 1 && len(mean) != 3 {
			return nil, fmt.Errorf("augment: %s needs 1 or 3 channels, got %d", name, len(mean))
		}
		base.draw = newImageNetAug(opts).draw
	case NameRandAug:
		if len(mean) != 1 && len(mean) != 3 {
			return nil, fmt.Errorf("augment: %s needs 1 or 3 channels, got %d", name, len(mean))
		}
		ra, err := newRandAugment(opts)
		if err != nil {
			return nil, err
		}
		base.draw = ra.draw
	case NameAutoAug:
		if len(mean) != 1 && len(mean) != 3 {
			return nil, fmt.Errorf("augment: %s needs 1 or 3 channels, got %d", name, len(mean))
		}
		aa, err := newAutoAugment(opts.AutoAugPolicy)
		if err != nil {
			return nil, err
		}
		base.draw = aa.draw
	case NameDCAug:
		return newDCAug(opts.DCAug)
	case NameDSA:
		return nil, fmt.Errorf("augment: %q is applied in the graph, use NewDSA", name)
	default:
		return nil, fmt.Errorf("augment: unknown augmentation %q; valid names are %s",
			name, strings.Join(Names(), ", "))
	}
	return &base, nil
}

// noneAug leaves the images unchanged.
type noneAug struct{}

// Name implements HostAugmenter.
func (noneAug) Name() string { return NameNone }

// Apply implements HostAugmenter: it only checks the sizes.
func (noneAug) Apply(images []float32, n, h, w, c int, _ *rand.Rand) error {
	return checkBatch(images, n, h, w, c, 0)
}

// drawFn draws the random parameters of an augmentation for h×w images and returns the function that
// applies them to one image.
type drawFn func(rng *rand.Rand, h, w int) func(im *image)

// hostBase is the common part of the host augmentations: normalisation, batching and draws.
type hostBase struct {
	name      string
	mean, std []float32
	opts      HostOptions
	draw      drawFn
}

// Name implements HostAugmenter.
func (b *hostBase) Name() string { return b.name }

// Apply implements HostAugmenter.
func (b *hostBase) Apply(images []float32, n, h, w, c int, rng *rand.Rand) error {
	if err := checkBatch(images, n, h, w, c, len(b.mean)); err != nil {
		return err
	}
	if rng == nil {
		return fmt.Errorf("augment: %s needs a random number generator", b.name)
	}
	im := newImage(h, w, c, b.opts.Uint8)
	var apply func(im *image)
	for i := range n {
		pix := images[i*h*w*c : (i+1)*h*w*c]
		b.load(im, pix)
		if apply == nil || !b.opts.PerBatch {
			apply = b.draw(rng, h, w)
		}
		apply(im)
		b.store(im, pix)
	}
	return nil
}

// load un-normalises pix into im on the 0..255 scale, clipping to [0, 1] first as the reference.
func (b *hostBase) load(im *image, pix []float32) {
	c := im.c
	for i, v := range pix {
		k := i % c
		u := float64(v)*float64(b.std[k]) + float64(b.mean[k])
		u = min(max(u, 0), 1) * 255
		if im.uint8 {
			u = math.Trunc(u) // torch's .to(torch.uint8) truncates.
		}
		im.pix[i] = float32(u)
	}
}

// store re-normalises im into pix.
func (b *hostBase) store(im *image, pix []float32) {
	c := im.c
	for i, v := range im.pix {
		k := i % c
		pix[i] = float32((float64(v)/255 - float64(b.mean[k])) / float64(b.std[k]))
	}
}

// checkBatch checks that images holds n×h×w×c values and that c matches the normalisation (when
// channels > 0).
func checkBatch(images []float32, n, h, w, c, channels int) error {
	if n < 0 || h <= 0 || w <= 0 || c <= 0 {
		return fmt.Errorf("augment: invalid batch dimensions n=%d, h=%d, w=%d, c=%d", n, h, w, c)
	}
	if len(images) != n*h*w*c {
		return fmt.Errorf("augment: images has %d values, want n*h*w*c = %d*%d*%d*%d = %d",
			len(images), n, h, w, c, n*h*w*c)
	}
	if channels > 0 && c != channels {
		return fmt.Errorf("augment: images have %d channels, mean and std have %d", c, channels)
	}
	return nil
}
