package augment

import (
	"math/rand/v2"
)

// imageNetAug is DC-Bench's "imagenet_aug": torchvision's Compose([RandomCrop(size, padding=4),
// RandomHorizontalFlip(), ColorJitter(brightness=0.4, contrast=0.4, saturation=0.4, hue=0.2)]).
type imageNetAug struct {
	// padding is HostOptions.CropPadding: 0 means 4 pixels, negative size/8.
	padding int
	// brightness, contrast, saturation and hue are ColorJitter's arguments.
	brightness, contrast, saturation, hue float64
}

// newImageNetAug returns imagenet_aug with the reference's jitter.
func newImageNetAug(opts HostOptions) *imageNetAug {
	return &imageNetAug{padding: opts.CropPadding, brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.2}
}

// draw implements drawFn.
func (a *imageNetAug) draw(rng *rand.Rand, h, w int) func(im *image) {
	padH, padW := cropPadding(a.padding, h), cropPadding(a.padding, w)
	// RandomCrop of the full size from the zero-padded image: top and left in [0, 2*pad].
	top, left := rng.IntN(2*padH+1), rng.IntN(2*padW+1)
	flip := rng.Float64() < 0.5
	jitter := drawColorJitter(rng, a.brightness, a.contrast, a.saturation, a.hue)
	return func(im *image) {
		im.translate(padW-left, padH-top)
		if flip {
			im.hflip()
		}
		jitter(im)
	}
}

// cropPadding resolves HostOptions.CropPadding for an image side: 0 means 4 pixels, negative size/8.
func cropPadding(opt, size int) int {
	switch {
	case opt == 0:
		return 4
	case opt < 0:
		return size / 8
	}
	return opt
}

// drawColorJitter draws torchvision's ColorJitter(brightness, contrast, saturation, hue) parameters:
// a random order of the four adjustments, factors uniform in [max(0, 1-x), 1+x] and a hue shift
// uniform in [-hue, hue]. Adjustments with a zero argument are skipped, as torchvision does.
func drawColorJitter(rng *rand.Rand, brightness, contrast, saturation, hue float64) func(im *image) {
	order := rng.Perm(4)
	factor := func(x float64) float64 {
		lo := max(0, 1-x)
		return lo + rng.Float64()*(1+x-lo)
	}
	b, c, s := factor(brightness), factor(contrast), factor(saturation)
	hf := -hue + rng.Float64()*2*hue
	return func(im *image) {
		for _, fn := range order {
			switch {
			case fn == 0 && brightness > 0:
				im.adjustBrightness(b)
			case fn == 1 && contrast > 0:
				im.adjustContrast(c)
			case fn == 2 && saturation > 0:
				im.adjustSaturation(s)
			case fn == 3 && hue > 0:
				im.adjustHue(hf)
			}
		}
	}
}
