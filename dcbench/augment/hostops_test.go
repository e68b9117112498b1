package augment

import (
	"math"
	"testing"
)

// levelImage returns an h×w×c image with integer levels in [0, 254] that differ from pixel to pixel.
func levelImage(h, w, c int, uint8 bool) *image {
	im := newImage(h, w, c, uint8)
	for i := range im.pix {
		im.pix[i] = float32((i*37 + 11) % 255)
	}
	return im
}

// clone returns a copy of the image.
func (im *image) clone() *image {
	out := newImage(im.h, im.w, im.c, im.uint8)
	copy(out.pix, im.pix)
	return out
}

// px returns the value at (i, j, k), or 0 outside the image.
func (im *image) px(i, j, k int) float32 {
	if i < 0 || i >= im.h || j < 0 || j >= im.w {
		return 0
	}
	return im.pix[(i*im.w+j)*im.c+k]
}

// expectImage checks im against want(i, j, k) within tol.
func expectImage(t *testing.T, name string, im *image, tol float64, want func(i, j, k int) float64) {
	t.Helper()
	for i := range im.h {
		for j := range im.w {
			for k := range im.c {
				if got := float64(im.px(i, j, k)); math.Abs(got-want(i, j, k)) > tol {
					t.Errorf("%s: pixel (%d, %d, %d) = %g, want %g", name, i, j, k, got, want(i, j, k))
					return
				}
			}
		}
	}
}

func TestHostGeometricOps(t *testing.T) {
	const h, w, c = 5, 6, 2
	src := levelImage(h, w, c, false)
	at := func(i, j, k int) float64 { return float64(src.px(i, j, k)) }
	for _, tc := range []struct {
		name string
		op   hostOp
		mag  float64
		want func(i, j, k int) float64
	}{
		{"translate x moves right", hopTranslateX, 2, func(i, j, k int) float64 { return at(i, j-2, k) }},
		{"translate x truncates magnitude", hopTranslateX, -1.7, func(i, j, k int) float64 { return at(i, j+1, k) }},
		{"translate y moves down", hopTranslateY, 3, func(i, j, k int) float64 { return at(i-3, j, k) }},
		{"shear x around the top-left corner", hopShearX, 0.3, func(i, j, k int) float64 {
			return at(i, int(math.RoundToEven(float64(j)+0.3*(float64(i)+0.5))), k)
		}},
		{"shear y around the top-left corner", hopShearY, -0.2, func(i, j, k int) float64 {
			return at(int(math.RoundToEven(float64(i)-0.2*(float64(j)+0.5))), j, k)
		}},
		{"rotate 0", hopRotate, 0, at},
		{"identity", hopIdentity, 5, at},
	} {
		im := src.clone()
		applyHostOp(im, tc.op, tc.mag)
		expectImage(t, tc.name, im, 0, tc.want)
	}

	// A counter-clockwise quarter turn of a square image: out[i][j] = in[j][w-1-i].
	sq := levelImage(4, 4, 1, false)
	rot := sq.clone()
	rot.rotate(90)
	expectImage(t, "rotate 90", rot, 0, func(i, j, k int) float64 { return float64(sq.px(j, 3-i, k)) })

	flip := src.clone()
	flip.hflip()
	expectImage(t, "hflip", flip, 0, func(i, j, k int) float64 { return at(i, w-1-j, k) })
}

func TestHostPhotometricOps(t *testing.T) {
	const h, w = 4, 5
	for _, tc := range []struct {
		name  string
		c     int
		uint8 bool
		apply func(im *image)
		want  func(src *image, i, j, k int) float64
		tol   float64
	}{
		{"solarize threshold", 3, false, func(im *image) { im.solarize(128) }, func(src *image, i, j, k int) float64 {
			if v := src.px(i, j, k); v >= 128 {
				return 255 - float64(v)
			}
			return float64(src.px(i, j, k))
		}, 0},
		{"posterize 3 bits", 3, false, func(im *image) { im.posterize(3) }, func(src *image, i, j, k int) float64 {
			return float64(int(src.px(i, j, k)) & 0xe0)
		}, 0},
		{"posterize 8 bits", 3, false, func(im *image) { im.posterize(8) }, func(src *image, i, j, k int) float64 {
			return float64(src.px(i, j, k))
		}, 0},
		{"invert", 3, false, func(im *image) { im.invert() }, func(src *image, i, j, k int) float64 {
			return 255 - float64(src.px(i, j, k))
		}, 0},
		{"brightness", 3, false, func(im *image) { im.adjustBrightness(1.3) }, func(src *image, i, j, k int) float64 {
			return min(1.3*float64(src.px(i, j, k)), 255)
		}, 1e-3},
		{"brightness uint8 truncates", 3, true, func(im *image) { im.adjustBrightness(0.7) }, func(src *image, i, j, k int) float64 {
			return math.Trunc(0.7 * float64(src.px(i, j, k)))
		}, 0},
		{"saturation 0 is grayscale", 3, false, func(im *image) { im.adjustSaturation(0) }, func(src *image, i, j, k int) float64 {
			return 0.2989*float64(src.px(i, j, 0)) + 0.587*float64(src.px(i, j, 1)) + 0.114*float64(src.px(i, j, 2))
		}, 1e-3},
		{"contrast 0 is the grey mean", 1, false, func(im *image) { im.adjustContrast(0) }, func(src *image, i, j, k int) float64 {
			s := 0.0
			for _, v := range src.pix {
				s += float64(v)
			}
			return s / float64(len(src.pix))
		}, 1e-3},
		{"hue 0", 3, false, func(im *image) { im.adjustHue(0) }, func(src *image, i, j, k int) float64 {
			return float64(src.px(i, j, k))
		}, 1e-3},
		{"sharpness 1", 3, false, func(im *image) { im.adjustSharpness(1) }, func(src *image, i, j, k int) float64 {
			return float64(src.px(i, j, k))
		}, 1e-3},
		{"sharpness 0 blurs the interior", 1, false, func(im *image) { im.adjustSharpness(0) }, func(src *image, i, j, k int) float64 {
			if i == 0 || j == 0 || i == h-1 || j == w-1 {
				return float64(src.px(i, j, k))
			}
			s := 4 * float64(src.px(i, j, k))
			for di := -1; di <= 1; di++ {
				for dj := -1; dj <= 1; dj++ {
					s += float64(src.px(i+di, j+dj, k))
				}
			}
			return s / 13
		}, 1e-3},
	} {
		src := levelImage(h, w, tc.c, tc.uint8)
		im := src.clone()
		tc.apply(im)
		expectImage(t, tc.name, im, tc.tol, func(i, j, k int) float64 { return tc.want(src, i, j, k) })
	}

	// A third of the hue circle turns red into green and green into blue.
	im := newImage(1, 2, 3, false)
	copy(im.pix, []float32{255, 0, 0, 0, 200, 0})
	im.adjustHue(1.0 / 3)
	want := []float32{0, 255, 0, 0, 0, 200}
	for i := range want {
		if math.Abs(float64(im.pix[i]-want[i])) > 1e-3 {
			t.Errorf("hue 1/3: got %v, want %v", im.pix, want)
			break
		}
	}
}

func TestHostAutocontrastEqualize(t *testing.T) {
	// Autocontrast stretches [50, 150] to [0, 255], channel by channel, and keeps constant channels.
	im := newImage(1, 3, 2, false)
	copy(im.pix, []float32{50, 7, 100, 7, 150, 7})
	im.autocontrast()
	want := []float32{0, 7, 127.5, 7, 255, 7}
	for i := range want {
		if math.Abs(float64(im.pix[i]-want[i])) > 1e-3 {
			t.Fatalf("autocontrast = %v, want %v", im.pix, want)
		}
	}

	// Equalize, with 300 pixels at 50, 300 at 100 and 424 at 150: step = (300+300)/255 = 2 and
	// lut[l] = (cumsum[l-1] + 1)/2, so 50 → 0, 100 → 150 and 150 → min(300, 255).
	eq := newImage(32, 32, 1, false)
	for i := range eq.pix {
		switch {
		case i < 300:
			eq.pix[i] = 50
		case i < 600:
			eq.pix[i] = 100.2 // Quantised to 100.
		default:
			eq.pix[i] = 150
		}
	}
	eq.equalize()
	for i, v := range eq.pix {
		want := float32(255)
		switch {
		case i < 300:
			want = 0
		case i < 600:
			want = 150
		}
		if v != want {
			t.Fatalf("equalize: pixel %d = %g, want %g", i, v, want)
		}
	}

	// Too few distinct values (step 0): levels are kept.
	few := newImage(2, 2, 1, false)
	copy(few.pix, []float32{3, 3, 9, 9})
	few.equalize()
	if few.pix[0] != 3 || few.pix[3] != 9 {
		t.Errorf("equalize with step 0 changed the levels: %v", few.pix)
	}
}

// TestHostOpsIdentityAtMagnitudeZero checks that every RandAugment op is the identity at magnitude bin 0,
// on an image of integer levels below 255 (so that solarize's threshold 255 and posterize's 8 bits keep it).
func TestHostOpsIdentityAtMagnitudeZero(t *testing.T) {
	const h, w, c = 6, 7, 3
	src := levelImage(h, w, c, false)
	for _, op := range randAugmentOps {
		if op == hopAutoContrast || op == hopEqualize {
			continue // No magnitude.
		}
		mag, _ := opMagnitude(op, 0, 31, h, w)
		im := src.clone()
		applyHostOp(im, op, mag)
		expectImage(t, op.String()+" at magnitude 0", im, 1e-3, func(i, j, k int) float64 { return float64(src.px(i, j, k)) })
	}
}

func TestOpMagnitude(t *testing.T) {
	for _, tc := range []struct {
		op          hostOp
		bin, bins   int
		want        float64
		wantSigned  bool
		description string
	}{
		{hopShearX, 9, 31, 0.09, true, "0.3*9/30"},
		{hopTranslateX, 9, 31, 150.0 / 331 * 32 * 9 / 30, true, "150/331*width*9/30"},
		{hopRotate, 9, 31, 9, true, "30*9/30"},
		{hopPosterize, 9, 31, 7, false, "8 - round(9/7.5)"},
		{hopPosterize, 8, 10, 4, false, "8 - round(8/2.25)"},
		{hopSolarize, 9, 31, 178.5, false, "255 - 255*9/30"},
		{hopBrightness, 9, 10, 0.9, true, "last bin"},
		{hopEqualize, 3, 10, 0, false, "no magnitude"},
	} {
		got, signed := opMagnitude(tc.op, tc.bin, tc.bins, 32, 32)
		// torchvision's tables are float32 (torch.linspace): within float32 rounding.
		if math.Abs(got-tc.want) > 1e-6*max(1, math.Abs(tc.want)) || signed != tc.wantSigned {
			t.Errorf("%s bin %d/%d (%s) = %g, %v; want %g, %v", tc.op, tc.bin, tc.bins, tc.description,
				got, signed, tc.want, tc.wantSigned)
		}
	}
}
