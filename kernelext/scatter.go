package kernelext

import (
	"math"
	"strconv"
)

// Markers are the point shapes a [ScatterGroup] can use.
var Markers = []string{"circle", "square", "triangle", "diamond", "cross"}

// ScatterGroup is one set of points of a [ScatterPlot], with its own colour, shape and size
// and one legend entry, e.g. the real images of a class (small grey dots) or one method's
// condensed images (larger coloured markers).
type ScatterGroup struct {
	// Name is shown in the legend ("" for no entry) and in the points' tooltips.
	Name string
	// X and Y are the coordinates; point i is (X[i], Y[i]). Points with a NaN or infinite
	// coordinate, or beyond the shorter slice, are not drawn.
	X, Y []float64
	// Labels, if set, add a tooltip per point (e.g. the image index).
	Labels []string
	// Color is any SVG colour; "" picks the next colour of [Palette].
	Color string
	// Marker is one of [Markers]; "" is "circle". Unknown names draw circles.
	Marker string
	// Size is the marker's radius in pixels (default 3.5).
	Size float64
	// Opacity of the markers' fill in (0, 1]; 0 means 1 (opaque).
	Opacity float64
}

// ScatterPlot is a self-contained SVG scatter plot of groups of points, e.g. a t-SNE
// projection of real and condensed images. Groups are drawn in order, so later groups lie
// on top. Its zero sizes default to 640×480.
type ScatterPlot struct {
	// Title is drawn above the plot; XLabel and YLabel name the axes ("" for none).
	Title, XLabel, YLabel string
	// Groups of points, drawn in order.
	Groups []ScatterGroup
	// Width and Height in pixels; 0 means 640 and 480.
	Width, Height int
	// NoTicks draws only the frame, without ticks and tick labels (t-SNE coordinates have no
	// meaning of their own).
	NoTicks bool
	// EqualAspect gives both axes the same scale (one data unit is as long in x as in y),
	// so that distances in the picture are comparable in every direction.
	EqualAspect bool
}

// points returns the drawable points of g.
func (g ScatterGroup) points() (xs, ys []float64, idx []int) {
	for i := range min(len(g.X), len(g.Y)) {
		if finite(g.X[i]) && finite(g.Y[i]) {
			xs, ys, idx = append(xs, g.X[i]), append(ys, g.Y[i]), append(idx, i)
		}
	}
	return xs, ys, idx
}

func (g ScatterGroup) radius() float64 {
	if g.Size > 0 && finite(g.Size) {
		return g.Size
	}
	return 3.5
}

// marker writes one marker of shape at (x, y) with radius r; attrs are the fill and stroke
// attributes, cls the class, tip the tooltip ("" for none).
func (s *svgWriter) marker(shape string, x, y, r float64, cls, attrs, tip string) {
	title := ""
	if tip != "" {
		title = "<title>" + esc(tip) + "</title>"
	}
	end := "/>"
	if title != "" {
		end = ">" + title
	}
	switch shape {
	case "square":
		s.f(`<rect class="%s" x="%s" y="%s" width="%s" height="%s"%s%s`, cls, num(x-r*0.9), num(y-r*0.9), num(1.8*r), num(1.8*r), attrs, end)
		if title != "" {
			s.f("</rect>")
		}
	case "triangle", "diamond", "cross":
		var pts [][2]float64
		switch shape {
		case "triangle":
			h := r * 1.2
			pts = [][2]float64{{x, y - h}, {x + h*0.866, y + h*0.5}, {x - h*0.866, y + h*0.5}}
		case "diamond":
			h := r * 1.25
			pts = [][2]float64{{x, y - h}, {x + h, y}, {x, y + h}, {x - h, y}}
		default: // a plus-shaped cross, as a polygon so that it has a fill
			a, b := r*1.1, r*0.38
			pts = [][2]float64{{x - b, y - a}, {x + b, y - a}, {x + b, y - b}, {x + a, y - b}, {x + a, y + b}, {x + b, y + b},
				{x + b, y + a}, {x - b, y + a}, {x - b, y + b}, {x - a, y + b}, {x - a, y - b}, {x - b, y - b}}
		}
		var p []byte
		for i, q := range pts {
			if i > 0 {
				p = append(p, ' ')
			}
			p = append(p, num(q[0])+","+num(q[1])...)
		}
		s.f(`<polygon class="%s" points="%s"%s%s`, cls, p, attrs, end)
		if title != "" {
			s.f("</polygon>")
		}
	default:
		s.f(`<circle class="%s" cx="%s" cy="%s" r="%s"%s%s`, cls, num(x), num(y), num(r), attrs, end)
		if title != "" {
			s.f("</circle>")
		}
	}
}

// SVG renders the plot as a standalone SVG document. Every drawn point is one element of
// class "point" (a <circle>, <rect> or <polygon>, by marker) inside a <g class="group">
// per group; the legend's sample markers have class "legend-marker".
func (c ScatterPlot) SVG() string {
	w, h := c.Width, c.Height
	if w <= 0 {
		w = 640
	}
	if h <= 0 {
		h = 480
	}
	var names []string
	for _, g := range c.Groups {
		if g.Name != "" {
			names = append(names, g.Name)
		}
	}
	f := newFrame(w, h, c.Title != "", names)
	if c.NoTicks {
		f.left = 30
	}

	xlo, xhi, ylo, yhi := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, g := range c.Groups {
		xs, ys, _ := g.points()
		for i := range xs {
			xlo, xhi = min(xlo, xs[i]), max(xhi, xs[i])
			ylo, yhi = min(ylo, ys[i]), max(yhi, ys[i])
		}
	}
	if math.IsInf(xlo, 1) {
		xlo, xhi, ylo, yhi = 0, 1, 0, 1
	}
	if xlo == xhi {
		xlo, xhi = xlo-1, xhi+1
	}
	if ylo == yhi {
		ylo, yhi = ylo-1, yhi+1
	}
	padX, padY := 0.04*(xhi-xlo), 0.04*(yhi-ylo)
	xlo, xhi, ylo, yhi = xlo-padX, xhi+padX, ylo-padY, yhi+padY
	if c.EqualAspect {
		pw, ph := f.right-f.left, f.bottom-f.top
		scale := max((xhi-xlo)/pw, (yhi-ylo)/ph) // data units per pixel
		cx, cy := (xlo+xhi)/2, (ylo+yhi)/2
		xlo, xhi = cx-scale*pw/2, cx+scale*pw/2
		ylo, yhi = cy-scale*ph/2, cy+scale*ph/2
	}
	xa := linearAxis(xlo, xhi, f.left, f.right, true, nil)
	ya := linearAxis(ylo, yhi, f.bottom, f.top, true, nil)
	if c.NoTicks {
		xa.ticks, xa.tickText, ya.ticks, ya.tickText = nil, nil, nil, nil
	}

	var s svgWriter
	s.header(f, c.Title)
	s.axes(f, xa, ya, c.XLabel, c.YLabel)
	s.f(`<rect class="frame" x="%s" y="%s" width="%s" height="%s" fill="none" stroke="#333"/>`+"\n",
		num(f.left), num(f.top), num(f.right-f.left), num(f.bottom-f.top))
	for gi, g := range c.Groups {
		col := esc(seriesColor(g.Color, gi))
		op := ""
		if g.Opacity > 0 && g.Opacity < 1 {
			op = ` fill-opacity="` + strconv.FormatFloat(g.Opacity, 'f', -1, 64) + `"`
		}
		attrs := ` fill="` + col + `"` + op + ` stroke="` + col + `" stroke-width="0.6"`
		if g.radius() >= 4 { // larger markers get a white rim, to stand out over small ones
			attrs = ` fill="` + col + `"` + op + ` stroke="white" stroke-width="0.8"`
		}
		s.f(`<g class="group" data-name="%s" clip-path="url(#kx-plot)">`+"\n", esc(g.Name))
		xs, ys, idx := g.points()
		for i := range xs {
			tip := g.Name
			if idx[i] < len(g.Labels) && g.Labels[idx[i]] != "" {
				if tip != "" {
					tip += ": "
				}
				tip += g.Labels[idx[i]]
			}
			s.marker(g.Marker, xa.pos(xs[i]), ya.pos(ys[i]), g.radius(), "point", attrs, tip)
		}
		s.f("\n</g>\n")
	}
	// Legend: a sample marker and the name per named group.
	if len(names) > 0 {
		s.f(`<g class="legend">` + "\n")
		x, y := f.right+14, f.top+8
		for gi, g := range c.Groups {
			if g.Name == "" {
				continue
			}
			col := esc(seriesColor(g.Color, gi))
			s.marker(g.Marker, x+9, y, min(g.radius(), 6), "legend-marker", ` fill="`+col+`" stroke="`+col+`"`, "")
			s.f(`<text x="%s" y="%s">%s</text>`+"\n", num(x+28), num(y+4), esc(g.Name))
			y += 18
		}
		s.f("</g>\n")
	}
	s.f("</svg>\n")
	return s.String()
}

// Display shows the plot in the notebook, or writes <name>.svg to the output folder and
// returns its path (name "" uses the title).
func (c ScatterPlot) Display(name string) (string, error) {
	if name == "" {
		name = c.Title
	}
	return DisplaySVG(name, c.SVG())
}
