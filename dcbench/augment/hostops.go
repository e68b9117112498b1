package augment

import (
	"math"
)

// image is one HWC image on the 0..255 scale, the working buffer of the host augmentations. The ops
// follow torchvision's tensor implementations (torchvision.transforms.functional_tensor) on uint8
// images; with uint8 set they also round or truncate their results to integers where torchvision's
// uint8 path does, otherwise they stay in float.
type image struct {
	h, w, c int
	pix     []float32
	uint8   bool
	tmp     []float32
}

// newImage allocates an h×w×c image.
func newImage(h, w, c int, uint8 bool) *image {
	return &image{h: h, w: w, c: c, pix: make([]float32, h*w*c), uint8: uint8, tmp: make([]float32, h*w*c)}
}

// cast converts an op's result to the image's "dtype": a truncation to an integer for uint8 images
// (torch's .to(torch.uint8) on values already clamped to [0, 255]), nothing for float images.
func (im *image) cast(v float64) float32 {
	if im.uint8 {
		return float32(math.Trunc(v))
	}
	return float32(v)
}

// level returns v quantised to an integer level in [0, 255] (a rounding for float images, whose
// values are not integers), for the ops that torchvision only defines on uint8 images.
func (im *image) level(v float32) int {
	return int(min(max(math.RoundToEven(float64(v)), 0), 255))
}

// blend sets the image to ratio*img + (1-ratio)*other, clamped to [0, 255], as torchvision's _blend;
// other(i) gives the other image's value at flat index i.
//
// On uint8 images the arithmetic is float32 with a rounding after every operation, as torch
// computes ratio*img1 + (1-ratio)*img2 on uint8 tensors (promoted to float32), so that the
// truncation to uint8 gives the same levels.
func (im *image) blend(ratio float64, other func(i int) float64) {
	if im.uint8 {
		r, q := float32(ratio), float32(1-ratio)
		for i, v := range im.pix {
			x := float32(r*v) + float32(q*float32(other(i)))
			im.pix[i] = im.cast(float64(min(max(x, 0), 255)))
		}
		return
	}
	for i, v := range im.pix {
		im.pix[i] = im.cast(min(max(ratio*float64(v)+(1-ratio)*other(i), 0), 255))
	}
}

// grayscale returns the luma of each pixel (ITU-R 601-2: 0.2989 R + 0.587 G + 0.114 B), cast to the
// image's dtype as torchvision's rgb_to_grayscale; single-channel images are their own grayscale.
func (im *image) grayscale() []float32 {
	gray := make([]float32, im.h*im.w)
	for p := range gray {
		if im.c == 1 {
			gray[p] = im.pix[p]
			continue
		}
		if im.uint8 { // float32, as torch on uint8 channels
			r, g, b := im.pix[3*p], im.pix[3*p+1], im.pix[3*p+2]
			l := float32(float32(0.2989)*r) + float32(float32(0.587)*g)
			l = float32(l) + float32(float32(0.114)*b)
			gray[p] = im.cast(float64(l))
			continue
		}
		r, g, b := float64(im.pix[3*p]), float64(im.pix[3*p+1]), float64(im.pix[3*p+2])
		gray[p] = im.cast(0.2989*r + 0.587*g + 0.114*b)
	}
	return gray
}

// adjustBrightness multiplies by factor (blend with black).
func (im *image) adjustBrightness(factor float64) {
	im.blend(factor, func(int) float64 { return 0 })
}

// adjustContrast blends with the mean of the grayscale image.
func (im *image) adjustContrast(factor float64) {
	var sum float64
	for _, v := range im.grayscale() {
		sum += float64(v)
	}
	mean := sum / float64(im.h*im.w)
	im.blend(factor, func(int) float64 { return mean })
}

// adjustSaturation blends with the grayscale image; single-channel images are left unchanged.
func (im *image) adjustSaturation(factor float64) {
	if im.c == 1 {
		return
	}
	gray := im.grayscale()
	im.blend(factor, func(i int) float64 { return float64(gray[i/im.c]) })
}

// adjustHue shifts the hue by factor (a fraction of the hue circle, in [-0.5, 0.5]) through HSV, as
// torchvision's adjust_hue; single-channel images are left unchanged.
func (im *image) adjustHue(factor float64) {
	if im.c == 1 {
		return
	}
	if im.uint8 {
		im.adjustHueUint8(factor)
		return
	}
	for p := range im.h * im.w {
		px := im.pix[3*p : 3*p+3]
		h, s, v := rgbToHSV(float64(px[0])/255, float64(px[1])/255, float64(px[2])/255)
		h = math.Mod(h+factor, 1)
		if h < 0 {
			h++
		}
		r, g, b := hsvToRGB(h, s, v)
		px[0], px[1], px[2] = im.cast(r*255), im.cast(g*255), im.cast(b*255)
	}
}

// adjustHueUint8 is adjustHue on a uint8 image as torchvision (0.14) computes it: the levels
// divided by 255 in float32, _rgb2hsv and _hsv2rgb in float32, and the result multiplied by 255
// and truncated.
func (im *image) adjustHueUint8(factor float64) {
	f32 := float32(factor)
	for p := range im.h * im.w {
		px := im.pix[3*p : 3*p+3]
		r, g, b := px[0]/255, px[1]/255, px[2]/255
		maxc, minc := max(r, g, b), min(r, g, b)
		eqc := maxc == minc
		cr := maxc - minc
		var s, h float32
		if !eqc {
			s = cr / maxc
			rc, gc, bc := (maxc-r)/cr, (maxc-g)/cr, (maxc-b)/cr
			switch {
			case maxc == r:
				h = bc - gc
			case maxc == g:
				h = float32(2+rc) - bc
			default:
				h = float32(4+gc) - rc
			}
		}
		h = float32(math.Mod(float64(float32(h/6)+1), 1)) // torch.fmod, exact
		h = float32(h + f32)
		h = float32(math.Mod(float64(h), 1)) // torch's remainder (Python %): sign of the divisor
		if h < 0 {
			h = float32(h + 1)
		}
		v := maxc
		h6 := float32(h * 6)
		i := float32(math.Floor(float64(h6)))
		fr := h6 - i
		cl := func(x float32) float32 { return min(max(x, 0), 1) }
		pp := cl(float32(v * float32(1-s)))
		q := cl(float32(v * float32(1-float32(s*fr))))
		t := cl(float32(v * float32(1-float32(s*float32(1-fr)))))
		var o [3]float32
		switch ((int(i) % 6) + 6) % 6 {
		case 0:
			o = [3]float32{v, t, pp}
		case 1:
			o = [3]float32{q, v, pp}
		case 2:
			o = [3]float32{pp, v, t}
		case 3:
			o = [3]float32{pp, q, v}
		case 4:
			o = [3]float32{t, pp, v}
		default:
			o = [3]float32{v, pp, q}
		}
		for k := range 3 {
			px[k] = float32(math.Trunc(float64(float32(o[k] * 255))))
		}
	}
}

// rgbToHSV follows torchvision's _rgb2hsv, with r, g, b in [0, 1].
func rgbToHSV(r, g, b float64) (h, s, v float64) {
	maxc := max(r, g, b)
	minc := min(r, g, b)
	if maxc == minc {
		return 0, 0, maxc
	}
	cr := maxc - minc
	s = cr / maxc
	rc, gc, bc := (maxc-r)/cr, (maxc-g)/cr, (maxc-b)/cr
	switch {
	case maxc == r:
		h = bc - gc
	case maxc == g:
		h = 2 + rc - bc
	default:
		h = 4 + gc - rc
	}
	h = math.Mod(h/6+1, 1)
	return h, s, maxc
}

// hsvToRGB follows torchvision's _hsv2rgb.
func hsvToRGB(h, s, v float64) (r, g, b float64) {
	i := math.Floor(h * 6)
	f := h*6 - i
	p := min(max(v*(1-s), 0), 1)
	q := min(max(v*(1-s*f), 0), 1)
	t := min(max(v*(1-s*(1-f)), 0), 1)
	switch ((int(i) % 6) + 6) % 6 {
	case 0:
		return v, t, p
	case 1:
		return q, v, p
	case 2:
		return p, v, t
	case 3:
		return p, q, v
	case 4:
		return t, p, v
	default:
		return v, p, q
	}
}

// adjustSharpness blends with a smoothed image (3×3 kernel [1 1 1; 1 5 1; 1 1 1]/13 on the interior,
// the border kept), as torchvision's adjust_sharpness; images of side 2 or less are left unchanged.
func (im *image) adjustSharpness(factor float64) {
	h, w, c := im.h, im.w, im.c
	if h <= 2 || w <= 2 {
		return
	}
	blur := im.tmp
	copy(blur, im.pix)
	for i := 1; i < h-1; i++ {
		for j := 1; j < w-1; j++ {
			for k := range c {
				if im.uint8 {
					// torchvision: a float32 convolution with the kernel divided by its sum
					// (1/13 and 5/13 in float32), then rounded.
					var s float32
					for di := -1; di <= 1; di++ {
						for dj := -1; dj <= 1; dj++ {
							wt := float32(1) / 13
							if di == 0 && dj == 0 {
								wt = float32(5) / 13
							}
							s = float32(s + float32(wt*im.pix[((i+di)*w+j+dj)*c+k]))
						}
					}
					blur[(i*w+j)*c+k] = float32(math.RoundToEven(float64(s)))
					continue
				}
				var s float64
				for di := -1; di <= 1; di++ {
					for dj := -1; dj <= 1; dj++ {
						wt := 1.0
						if di == 0 && dj == 0 {
							wt = 5
						}
						s += wt * float64(im.pix[((i+di)*w+j+dj)*c+k])
					}
				}
				blur[(i*w+j)*c+k] = float32(s / 13)
			}
		}
	}
	im.blend(factor, func(i int) float64 { return float64(blur[i]) })
}

// posterize keeps the top `bits` bits of each (quantised) value.
func (im *image) posterize(bits int) {
	mask := ^(1<<(8-bits) - 1) & 0xff
	for i, v := range im.pix {
		im.pix[i] = float32(im.level(v) & mask)
	}
}

// solarize inverts the (quantised) values at or above threshold, on the 0..255 scale.
func (im *image) solarize(threshold float64) {
	for i, v := range im.pix {
		l := im.level(v)
		if float64(l) >= threshold {
			l = 255 - l
		}
		im.pix[i] = float32(l)
	}
}

// invert maps v to 255 - v.
func (im *image) invert() {
	for i, v := range im.pix {
		im.pix[i] = 255 - v
	}
}

// autocontrast stretches each channel to [0, 255]; constant channels are left unchanged.
func (im *image) autocontrast() {
	for k := range im.c {
		lo, hi := math.Inf(1), math.Inf(-1)
		for i := k; i < len(im.pix); i += im.c {
			lo, hi = min(lo, float64(im.pix[i])), max(hi, float64(im.pix[i]))
		}
		if hi == lo {
			continue // torchvision: scale is infinite, so minimum=0 and scale=1.
		}
		if im.uint8 { // float32, as torchvision on uint8 images
			lo32 := float32(lo)
			scale := float32(255) / float32(float32(hi)-lo32)
			for i := k; i < len(im.pix); i += im.c {
				im.pix[i] = im.cast(float64(min(max(float32(float32(im.pix[i]-lo32)*scale), 0), 255)))
			}
			continue
		}
		scale := 255 / (hi - lo)
		for i := k; i < len(im.pix); i += im.c {
			im.pix[i] = im.cast(min(max((float64(im.pix[i])-lo)*scale, 0), 255))
		}
	}
}

// equalize equalises the histogram of each channel's (quantised) levels, as torchvision's equalize.
func (im *image) equalize() {
	for k := range im.c {
		var hist [256]int
		for i := k; i < len(im.pix); i += im.c {
			hist[im.level(im.pix[i])]++
		}
		// step = (sum of the non-zero bins but the last one) / 255, floored.
		last := 255
		for last >= 0 && hist[last] == 0 {
			last--
		}
		total := 0
		for l := 0; l < last; l++ {
			total += hist[l]
		}
		step := total / 255
		if step == 0 {
			for i := k; i < len(im.pix); i += im.c {
				im.pix[i] = float32(im.level(im.pix[i]))
			}
			continue
		}
		var lut [256]int
		cum := 0
		for l := range 256 {
			// lut[l] = (cumsum(hist)[l-1] + step/2) / step, with lut[0] = 0, clamped to 255.
			lut[l] = min((cum+step/2)/step, 255)
			cum += hist[l]
		}
		for i := k; i < len(im.pix); i += im.c {
			im.pix[i] = float32(lut[im.level(im.pix[i])])
		}
	}
}

// hflip flips the image horizontally.
func (im *image) hflip() {
	w, c := im.w, im.c
	for i := range im.h {
		row := im.pix[i*w*c : (i+1)*w*c]
		for j := range w / 2 {
			a, b := row[j*c:(j+1)*c], row[(w-1-j)*c:(w-j)*c]
			for k := range c {
				a[k], b[k] = b[k], a[k]
			}
		}
	}
}

// translate shifts the content by (dx, dy) pixels (right and down for positive values), filling with
// zeros: out[i, j] = in[i-dy, j-dx].
func (im *image) translate(dx, dy int) {
	h, w, c := im.h, im.w, im.c
	out := im.tmp
	for i := range h {
		for j := range w {
			si, sj := i-dy, j-dx
			dst := out[(i*w+j)*c : (i*w+j+1)*c]
			if si < 0 || si >= h || sj < 0 || sj >= w {
				clear(dst)
				continue
			}
			copy(dst, im.pix[(si*w+sj)*c:(si*w+sj+1)*c])
		}
	}
	im.pix, im.tmp = im.tmp, im.pix
}

// inverseAffine returns the inverse affine matrix of torchvision's _get_inverse_affine_matrix, which
// maps output coordinates to input coordinates, both centred on the image centre. center is the
// rotation/shear centre in those centred coordinates, angle and shear are in degrees.
func inverseAffine(center [2]float64, angle float64, translate [2]float64, scale float64, shear [2]float64) [6]float64 {
	rot := angle * math.Pi / 180
	sx, sy := shear[0]*math.Pi/180, shear[1]*math.Pi/180
	cx, cy := center[0], center[1]
	tx, ty := translate[0], translate[1]
	a := math.Cos(rot-sy) / math.Cos(sy)
	b := -math.Cos(rot-sy)*math.Tan(sx)/math.Cos(sy) - math.Sin(rot)
	c := math.Sin(rot-sy) / math.Cos(sy)
	d := -math.Sin(rot-sy)*math.Tan(sx)/math.Cos(sy) + math.Cos(rot)
	m := [6]float64{d, -b, 0, -c, a, 0}
	for i := range m {
		m[i] /= scale
	}
	m[2] += m[0]*(-cx-tx) + m[1]*(-cy-ty)
	m[5] += m[3]*(-cx-tx) + m[4]*(-cy-ty)
	m[2] += cx
	m[5] += cy
	return m
}

// affineNearest resamples the image through the inverse affine matrix m with nearest-neighbour
// interpolation and zero fill, as torchvision's tensor affine/rotate: output pixel (i, j) has centred
// coordinates (j+0.5-w/2, i+0.5-h/2), m maps them to the input's centred coordinates, which
// grid_sample(align_corners=False, mode="nearest") rounds (half to even) to a pixel.
func (im *image) affineNearest(m [6]float64) {
	h, w, c := im.h, im.w, im.c
	out := im.tmp
	hw, hh := float64(w)/2, float64(h)/2
	for i := range h {
		y := float64(i) + 0.5 - hh
		for j := range w {
			x := float64(j) + 0.5 - hw
			sx := m[0]*x + m[1]*y + m[2] + hw - 0.5
			sy := m[3]*x + m[4]*y + m[5] + hh - 0.5
			rx, ry := math.RoundToEven(sx), math.RoundToEven(sy)
			dst := out[(i*w+j)*c : (i*w+j+1)*c]
			if !(rx >= 0 && rx <= float64(w-1) && ry >= 0 && ry <= float64(h-1)) { // Also false for NaN.
				clear(dst)
				continue
			}
			si, sj := int(ry), int(rx)
			copy(dst, im.pix[(si*w+sj)*c:(si*w+sj+1)*c])
		}
	}
	im.pix, im.tmp = im.tmp, im.pix
}

// affine applies torchvision's F.affine(img, angle, translate, scale, shear, center) with nearest
// interpolation and zero fill; center is in pixel coordinates, or nil for the image centre.
func (im *image) affine(angle float64, translate [2]float64, scale float64, shear [2]float64, center *[2]float64) {
	var cf [2]float64
	if center != nil {
		cf = [2]float64{center[0] - float64(im.w)/2, center[1] - float64(im.h)/2}
	}
	im.affineNearest(inverseAffine(cf, angle, translate, scale, shear))
}

// rotate applies torchvision's F.rotate(img, angle) (counter-clockwise degrees, around the centre,
// nearest interpolation, zero fill, no expansion).
func (im *image) rotate(angle float64) {
	im.affineNearest(inverseAffine([2]float64{}, -angle, [2]float64{}, 1, [2]float64{}))
}
