package kernelext

import (
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"image"
	"image/color"
	"image/draw"
	"math"
	"strings"
)

// GridOptions configure [ImageGrid] and [ImageGridHTML].
type GridOptions struct {
	// PerClass is the maximum number of images shown per class (row); 0 shows all.
	PerClass int
	// Scale is the integer zoom factor of each image (nearest neighbour); 0 means 1.
	Scale int
	// Padding is the gap in pixels between cells; 0 means none.
	Padding int
	// Background fills gaps, empty cells and the label column; nil means white.
	Background color.Color
	// Labels draws the class names left of the rows with a built-in 5×7 bitmap font (upper
	// case). [ImageGridHTML] ignores it and puts the names in HTML instead.
	Labels bool
	// LabelScale is the pixel size of the bitmap font; 0 picks one from the row height.
	LabelScale int
	// Title is shown above the grid by [ImageGridHTML].
	Title string
}

// gridLayout is the geometry of a grid.
type gridLayout struct {
	rows       [][]int // image indices per class
	cols       int
	cellW      int
	cellH      int
	pad        int
	labelW     int
	labelScale int
	scale      int
	w, h       int
}

// layoutGrid validates the inputs and places the images.
func layoutGrid(images []float32, n, h, w, c int, labels []int32, classes []string, mean, std []float32, opts GridOptions, withLabels bool) (*gridLayout, error) {
	switch {
	case n < 0 || h <= 0 || w <= 0:
		return nil, fmt.Errorf("kernelext: bad image shape n=%d h=%d w=%d", n, h, w)
	case c != 1 && c != 3:
		return nil, fmt.Errorf("kernelext: %d channels, want 1 (grayscale) or 3 (RGB)", c)
	case len(images) != n*h*w*c:
		return nil, fmt.Errorf("kernelext: %d values for %d images of %dx%dx%d", len(images), n, h, w, c)
	case len(labels) != n:
		return nil, fmt.Errorf("kernelext: %d labels for %d images", len(labels), n)
	case len(mean) != 0 && len(mean) != 1 && len(mean) != c:
		return nil, fmt.Errorf("kernelext: %d mean values for %d channels", len(mean), c)
	case len(std) != 0 && len(std) != 1 && len(std) != c:
		return nil, fmt.Errorf("kernelext: %d std values for %d channels", len(std), c)
	case opts.PerClass < 0 || opts.Scale < 0 || opts.Padding < 0 || opts.LabelScale < 0:
		return nil, errors.New("kernelext: negative grid option")
	}
	k := len(classes)
	if k == 0 {
		for _, l := range labels {
			k = max(k, int(l)+1)
		}
	}
	l := &gridLayout{rows: make([][]int, k), scale: max(opts.Scale, 1), pad: opts.Padding}
	for i, lab := range labels {
		if lab < 0 || int(lab) >= k {
			return nil, fmt.Errorf("kernelext: label %d of image %d out of range [0,%d)", lab, i, k)
		}
		if opts.PerClass == 0 || len(l.rows[lab]) < opts.PerClass {
			l.rows[lab] = append(l.rows[lab], i)
		}
	}
	for _, r := range l.rows {
		l.cols = max(l.cols, len(r))
	}
	l.cols = max(l.cols, 1)
	l.cellW, l.cellH = w*l.scale, h*l.scale
	if withLabels && k > 0 {
		l.labelScale = opts.LabelScale
		if l.labelScale == 0 {
			l.labelScale = max(1, l.cellH/16)
		}
		for i := range k {
			l.labelW = max(l.labelW, textWidth(className(classes, i), l.labelScale))
		}
		l.labelW += l.labelScale * glyphAdvance // half an advance of margin on each side
	}
	l.w = l.labelW + l.cols*l.cellW + (l.cols-1)*l.pad
	l.h = max(k*l.cellH+(k-1)*l.pad, 1)
	return l, nil
}

func className(classes []string, i int) string {
	if i < len(classes) {
		return classes[i]
	}
	return fmt.Sprint(i)
}

// ImageGrid renders a batch of images as a grid in the style of the condensed-set figures of
// DC-Bench (Fig. 8): one row per class, in class order, holding that class's images in input
// order, up to opts.PerClass columns.
//
// images is NHWC float32 of n images h×w with c channels (1: grayscale, 3: RGB), normalised
// as for training: each value is un-normalised as x*std[ch]+mean[ch] and clipped to [0,1]
// (mean/std may be nil for none, or hold one value for all channels). labels[i] is the class
// of image i, in [0, K) where K is len(classes), or max(labels)+1 if classes is nil. classes
// name the rows when opts.Labels is set. Classes without images give empty rows.
func ImageGrid(images []float32, n, h, w, c int, labels []int32, classes []string, mean, std []float32, opts GridOptions) (image.Image, error) {
	l, err := layoutGrid(images, n, h, w, c, labels, classes, mean, std, opts, opts.Labels)
	if err != nil {
		return nil, err
	}
	bg := opts.Background
	if bg == nil {
		bg = color.White
	}
	img := image.NewNRGBA(image.Rect(0, 0, l.w, l.h))
	draw.Draw(img, img.Bounds(), image.NewUniform(bg), image.Point{}, draw.Src)
	chanParam := func(v []float32, ch int, def float32) float32 {
		switch len(v) {
		case 0:
			return def
		case 1:
			return v[0]
		default:
			return v[ch]
		}
	}
	var m, s [3]float32
	for ch := range c {
		m[ch], s[ch] = chanParam(mean, ch, 0), chanParam(std, ch, 1)
	}
	toByte := func(x float32) uint8 {
		v := float64(x)
		if math.IsNaN(v) || v < 0 {
			v = 0
		} else if v > 1 {
			v = 1
		}
		return uint8(math.Round(v * 255))
	}
	for row, idx := range l.rows {
		y0 := row * (l.cellH + l.pad)
		for col, i := range idx {
			x0 := l.labelW + col*(l.cellW+l.pad)
			base := i * h * w * c
			for y := range h {
				for x := range w {
					p := base + (y*w+x)*c
					var px color.NRGBA
					if c == 1 {
						g := toByte(images[p]*s[0] + m[0])
						px = color.NRGBA{g, g, g, 255}
					} else {
						px = color.NRGBA{toByte(images[p]*s[0] + m[0]), toByte(images[p+1]*s[1] + m[1]), toByte(images[p+2]*s[2] + m[2]), 255}
					}
					for dy := range l.scale {
						off := img.PixOffset(x0+x*l.scale, y0+y*l.scale+dy)
						for dx := 0; dx < l.scale; dx++ {
							q := img.Pix[off+4*dx : off+4*dx+4 : off+4*dx+4]
							q[0], q[1], q[2], q[3] = px.R, px.G, px.B, px.A
						}
					}
				}
			}
		}
		if l.labelW > 0 {
			ty := y0 + (l.cellH-glyphH*l.labelScale)/2
			drawText(img, l.labelScale*glyphAdvance/2, ty, className(classes, row), l.labelScale, color.NRGBA{0x22, 0x22, 0x22, 255})
		}
	}
	return img, nil
}

// ImageGridHTML renders the same grid as [ImageGrid] (without bitmap labels) as an HTML
// fragment: the PNG embedded as base64, with the class names in HTML beside their rows and
// opts.Title above.
func ImageGridHTML(images []float32, n, h, w, c int, labels []int32, classes []string, mean, std []float32, opts GridOptions) (string, error) {
	o := opts
	o.Labels = false
	img, err := ImageGrid(images, n, h, w, c, labels, classes, mean, std, o)
	if err != nil {
		return "", err
	}
	l, _ := layoutGrid(images, n, h, w, c, labels, classes, mean, std, o, false)
	pngBytes, err := EncodePNG(img)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(`<div class="kx-grid" style="font-family:sans-serif">`)
	if opts.Title != "" {
		fmt.Fprintf(&b, `<div style="font-weight:bold;margin:4px 0">%s</div>`, html.EscapeString(opts.Title))
	}
	b.WriteString(`<div style="display:flex;align-items:flex-start">`)
	fmt.Fprintf(&b, `<div style="display:flex;flex-direction:column;gap:%dpx;margin-right:8px">`, l.pad)
	fontPx := min(14, max(9, l.cellH*2/3))
	for i := range l.rows {
		fmt.Fprintf(&b, `<div class="kx-class" style="height:%dpx;line-height:%dpx;font-size:%dpx;text-align:right;white-space:nowrap">%s</div>`,
			l.cellH, l.cellH, fontPx, html.EscapeString(className(classes, i)))
	}
	b.WriteString(`</div>`)
	bounds := img.Bounds()
	fmt.Fprintf(&b, `<img src="data:image/png;base64,%s" width="%d" height="%d" style="image-rendering:pixelated" alt="%s">`,
		base64.StdEncoding.EncodeToString(pngBytes), bounds.Dx(), bounds.Dy(), html.EscapeString(opts.Title))
	b.WriteString(`</div></div>`)
	return b.String(), nil
}
