package kernelext

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
)

// Palette is the default series colours (matplotlib's tab10), used in order when a series
// has no Color.
var Palette = []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"}

// Series is one line of a [LineChart].
type Series struct {
	// Name is shown in the legend (series without a name have no legend entry).
	Name string
	// X and Y are the points; X nil means 0, 1, 2, …. Points with a NaN coordinate (or a
	// non-positive X on a log axis) break the line.
	X, Y []float64
	// Err, if not nil, draws error bars Y ± Err[i] (e.g. the std over runs).
	Err []float64
	// Dashed draws a dashed line, e.g. for the paper's numbers beside ours.
	Dashed bool
	// Color is any SVG colour; "" picks the next colour of [Palette].
	Color string
}

// LineChart is a self-contained SVG line chart (no external assets): accuracy vs IPC (LogX),
// vs iteration, or per architecture. Its zero sizes default to 640×400.
type LineChart struct {
	// Title is drawn above the plot; XLabel and YLabel name the axes ("" for none).
	Title, XLabel, YLabel string
	// LogX uses a logarithmic x axis (for IPC 1…1000).
	LogX bool
	// Series are drawn in order; each is one <path> element.
	Series []Series
	// Width and Height in pixels; 0 means 640 and 400.
	Width, Height int
	// XTicks, if set, are the x tick positions (e.g. the IPCs 1, 10, 50) instead of
	// automatic ones.
	XTicks []float64
	// YRange, if it holds two values, fixes the y axis to [YRange[0], YRange[1]].
	YRange []float64
}

// BarSeries is one set of bars of a [BarChart]: one value per category.
type BarSeries struct {
	// Name is shown in the legend ("" for no entry).
	Name string
	// Values[i] is the bar of Categories[i]; NaN or a missing index draws no bar.
	Values []float64
	// Err, if not nil, draws error bars.
	Err []float64
	// Color is any SVG colour; "" picks the next colour of [Palette].
	Color string
}

// BarChart is a grouped bar chart as self-contained SVG: for each category (e.g. an
// evaluation architecture) one bar per series (e.g. ours and the paper's).
type BarChart struct {
	// Title is drawn above the plot; XLabel and YLabel name the axes ("" for none).
	Title, XLabel, YLabel string
	// Categories are the groups along the x axis, left to right.
	Categories []string
	// Series each draw one bar per category, side by side within a group.
	Series []BarSeries
	// Width and Height in pixels; 0 means 640 and 400.
	Width, Height int
	// YRange, if it holds two values, fixes the y axis; by default it starts at 0.
	YRange []float64
}

// plotFrame is the geometry shared by both chart kinds.
type plotFrame struct {
	w, h                     float64
	left, right, top, bottom float64 // plot area in pixels
}

func newFrame(width, height int, title bool, legendNames []string) plotFrame {
	f := plotFrame{w: 640, h: 400}
	if width > 0 {
		f.w = float64(width)
	}
	if height > 0 {
		f.h = float64(height)
	}
	f.left, f.top, f.bottom = 62, 14, f.h-46
	if title {
		f.top = 34
	}
	legendW := 0
	for _, n := range legendNames {
		legendW = max(legendW, 36+int(math.Ceil(7.5*float64(len([]rune(n))))))
	}
	f.right = f.w - 16 - float64(legendW)
	return f
}

// axis maps data values to pixels, linearly or in log10.
type axis struct {
	lo, hi   float64 // data range (in log10 for log axes)
	p0, p1   float64 // pixel range
	log      bool
	ticks    []float64 // data values
	tickText []string
}

func (a axis) pos(v float64) float64 {
	if a.log {
		v = math.Log10(v)
	}
	return a.p0 + (v-a.lo)/(a.hi-a.lo)*(a.p1-a.p0)
}

// niceStep returns a 1, 2, 2.5 or 5 × 10^k step giving about n intervals over span.
func niceStep(span float64, n int) float64 {
	raw := span / float64(n)
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= raw*0.999 {
			return m * p
		}
	}
	return 10 * p
}

// linearAxis builds a linear axis over [lo, hi] with nice ticks; if fixed, the range is
// kept, otherwise it is extended to whole ticks.
func linearAxis(lo, hi, p0, p1 float64, fixed bool, ticks []float64) axis {
	if lo == hi {
		lo, hi = lo-1, hi+1
	}
	step := niceStep(hi-lo, 6)
	if !fixed && ticks == nil {
		lo, hi = math.Floor(lo/step+1e-9)*step, math.Ceil(hi/step-1e-9)*step
	}
	a := axis{lo: lo, hi: hi, p0: p0, p1: p1}
	dec := 0
	for dec < 8 && math.Abs(step*math.Pow(10, float64(dec))-math.Round(step*math.Pow(10, float64(dec)))) > 1e-6 {
		dec++
	}
	if ticks != nil {
		for _, t := range ticks {
			a.ticks = append(a.ticks, t)
			a.tickText = append(a.tickText, strconv.FormatFloat(t, 'g', 6, 64))
		}
		return a
	}
	k0 := math.Ceil(lo/step - 1e-9)
	for k := k0; k*step <= hi+step*1e-9; k++ {
		t := k * step
		if math.Abs(t) < step*1e-9 {
			t = 0 // no "-0"
		}
		a.ticks = append(a.ticks, t)
		a.tickText = append(a.tickText, strconv.FormatFloat(t, 'f', dec, 64))
	}
	return a
}

// logAxis builds a log10 axis over [lo, hi] (both > 0) with ticks at 1-2-5 × 10^k for
// short ranges, powers of ten for long ones.
func logAxis(lo, hi, p0, p1 float64, ticks []float64) axis {
	if lo <= 0 || hi <= 0 || math.IsInf(lo, 0) {
		lo, hi = 1, 10
	}
	llo, lhi := math.Log10(lo), math.Log10(hi)
	if lhi-llo < 1e-9 {
		llo, lhi = llo-0.5, lhi+0.5
	}
	pad := 0.04 * (lhi - llo)
	a := axis{lo: llo - pad, hi: lhi + pad, p0: p0, p1: p1, log: true}
	if ticks == nil {
		mults := []float64{1}
		if lhi-llo <= 2.5 {
			mults = []float64{1, 2, 5}
		}
		for e := math.Floor(llo); e <= math.Ceil(lhi); e++ {
			for _, m := range mults {
				v := m * math.Pow(10, e)
				if lv := math.Log10(v); lv >= a.lo-1e-9 && lv <= a.hi+1e-9 {
					ticks = append(ticks, v)
				}
			}
		}
	}
	for _, t := range ticks {
		if t > 0 {
			a.ticks = append(a.ticks, t)
			a.tickText = append(a.tickText, strconv.FormatFloat(t, 'g', 6, 64))
		}
	}
	return a
}

// svgWriter accumulates SVG markup.
type svgWriter struct{ strings.Builder }

func (s *svgWriter) f(format string, args ...any) { fmt.Fprintf(s, format, args...) }

func esc(s string) string { return html.EscapeString(s) }

func num(v float64) string { return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64) }

// header writes the <svg> element, background, clip path and title.
func (s *svgWriter) header(f plotFrame, title string) {
	s.f(`<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" font-family="sans-serif" font-size="12">`+"\n",
		num(f.w), num(f.h), num(f.w), num(f.h))
	s.f(`<rect x="0" y="0" width="%s" height="%s" fill="white"/>`+"\n", num(f.w), num(f.h))
	s.f(`<defs><clipPath id="kx-plot"><rect x="%s" y="%s" width="%s" height="%s"/></clipPath></defs>`+"\n",
		num(f.left), num(f.top), num(f.right-f.left), num(f.bottom-f.top))
	if title != "" {
		s.f(`<text class="title" x="%s" y="20" text-anchor="middle" font-size="15" font-weight="bold">%s</text>`+"\n", num(f.w/2), esc(title))
	}
}

// axes writes grid lines, axis lines, ticks, tick labels and axis labels. xa may have no
// ticks (bar charts write their own category labels).
func (s *svgWriter) axes(f plotFrame, xa, ya axis, xLabel, yLabel string) {
	s.f(`<g class="axes" stroke="#333" stroke-width="1">` + "\n")
	for i, t := range ya.ticks {
		y := ya.pos(t)
		if y < f.top-0.5 || y > f.bottom+0.5 {
			continue
		}
		s.f(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#e5e5e5"/>`, num(f.left), num(y), num(f.right), num(y))
		s.f(`<line x1="%s" y1="%s" x2="%s" y2="%s"/>`, num(f.left-5), num(y), num(f.left), num(y))
		s.f(`<text x="%s" y="%s" text-anchor="end" stroke="none" fill="#333">%s</text>`+"\n", num(f.left-8), num(y+4), esc(ya.tickText[i]))
	}
	for i, t := range xa.ticks {
		x := xa.pos(t)
		if x < f.left-0.5 || x > f.right+0.5 {
			continue
		}
		s.f(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#e5e5e5"/>`, num(x), num(f.top), num(x), num(f.bottom))
		s.f(`<line x1="%s" y1="%s" x2="%s" y2="%s"/>`, num(x), num(f.bottom), num(x), num(f.bottom+5))
		s.f(`<text x="%s" y="%s" text-anchor="middle" stroke="none" fill="#333">%s</text>`+"\n", num(x), num(f.bottom+18), esc(xa.tickText[i]))
	}
	s.f(`<line x1="%s" y1="%s" x2="%s" y2="%s"/>`, num(f.left), num(f.bottom), num(f.right), num(f.bottom))
	s.f(`<line x1="%s" y1="%s" x2="%s" y2="%s"/>`+"\n", num(f.left), num(f.top), num(f.left), num(f.bottom))
	s.f("</g>\n")
	if xLabel != "" {
		s.f(`<text class="xlabel" x="%s" y="%s" text-anchor="middle">%s</text>`+"\n", num((f.left+f.right)/2), num(f.h-8), esc(xLabel))
	}
	if yLabel != "" {
		cy := (f.top + f.bottom) / 2
		s.f(`<text class="ylabel" x="16" y="%s" text-anchor="middle" transform="rotate(-90 16 %s)">%s</text>`+"\n", num(cy), num(cy), esc(yLabel))
	}
}

// legend writes one entry per named item: a sample (line or box) and the name.
func (s *svgWriter) legend(f plotFrame, names, colors []string, dashed []bool, boxes bool) {
	if len(names) == 0 {
		return
	}
	s.f(`<g class="legend">` + "\n")
	x, y := f.right+14, f.top+8
	for i, n := range names {
		if boxes {
			s.f(`<rect x="%s" y="%s" width="18" height="10" fill="%s"/>`, num(x), num(y-5), esc(colors[i]))
		} else {
			dash := ""
			if dashed[i] {
				dash = ` stroke-dasharray="5 3"`
			}
			s.f(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="2"%s/>`, num(x), num(y), num(x+22), num(y), esc(colors[i]), dash)
		}
		s.f(`<text x="%s" y="%s">%s</text>`+"\n", num(x+28), num(y+4), esc(n))
		y += 18
	}
	s.f("</g>\n")
}

func seriesColor(c string, i int) string {
	if c != "" {
		return c
	}
	return Palette[i%len(Palette)]
}

func at(v []float64, i int) float64 {
	if i < len(v) {
		return v[i]
	}
	return math.NaN()
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// xOf returns the i-th x of a series (i if X is nil).
func (sr Series) xOf(i int) float64 {
	if sr.X == nil {
		return float64(i)
	}
	return at(sr.X, i)
}

// SVG renders the chart as a standalone SVG document. Each series is one <path> element
// (class "line"), with a circle per point (up to 60 points) and error bars as <line>
// elements of class "errbar".
func (c LineChart) SVG() string {
	var names, colors []string
	var dashed []bool
	for i, sr := range c.Series {
		if sr.Name != "" {
			names = append(names, sr.Name)
			colors = append(colors, seriesColor(sr.Color, i))
			dashed = append(dashed, sr.Dashed)
		}
	}
	f := newFrame(c.Width, c.Height, c.Title != "", names)

	// Data ranges.
	xlo, xhi, ylo, yhi := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	usable := func(x, y float64) bool { return finite(x) && finite(y) && (!c.LogX || x > 0) }
	for _, sr := range c.Series {
		for i := range sr.Y {
			x, y := sr.xOf(i), sr.Y[i]
			if !usable(x, y) {
				continue
			}
			e := at(sr.Err, i)
			if !finite(e) {
				e = 0
			}
			xlo, xhi = min(xlo, x), max(xhi, x)
			ylo, yhi = min(ylo, y-math.Abs(e)), max(yhi, y+math.Abs(e))
		}
	}
	for _, t := range c.XTicks {
		if !c.LogX || t > 0 {
			xlo, xhi = min(xlo, t), max(xhi, t)
		}
	}
	if math.IsInf(xlo, 1) {
		xlo, xhi, ylo, yhi = 0, 1, 0, 1
		if c.LogX {
			xlo, xhi = 1, 10
		}
	}
	fixedY := len(c.YRange) == 2 && c.YRange[0] < c.YRange[1]
	if fixedY {
		ylo, yhi = c.YRange[0], c.YRange[1]
	}
	var xa axis
	if c.LogX {
		xa = logAxis(xlo, xhi, f.left, f.right, c.XTicks)
	} else {
		xa = linearAxis(xlo, xhi, f.left, f.right, c.XTicks != nil, c.XTicks)
		if c.XTicks != nil {
			pad := 0.03 * (xa.hi - xa.lo)
			xa.lo, xa.hi = xa.lo-pad, xa.hi+pad
		}
	}
	ya := linearAxis(ylo, yhi, f.bottom, f.top, fixedY, nil)

	var s svgWriter
	s.header(f, c.Title)
	s.axes(f, xa, ya, c.XLabel, c.YLabel)
	for i, sr := range c.Series {
		col := esc(seriesColor(sr.Color, i))
		s.f(`<g class="series" clip-path="url(#kx-plot)">` + "\n")
		var d strings.Builder
		pen := false
		type pt struct{ x, y, e float64 }
		var pts []pt
		for j := range sr.Y {
			x, y := sr.xOf(j), sr.Y[j]
			if !usable(x, y) {
				pen = false
				continue
			}
			px, py := xa.pos(x), ya.pos(y)
			if pen {
				d.WriteString(" L")
			} else {
				if d.Len() > 0 {
					d.WriteString(" ")
				}
				d.WriteString("M")
			}
			d.WriteString(num(px) + " " + num(py))
			pen = true
			pts = append(pts, pt{px, y, at(sr.Err, j)})
		}
		dash := ""
		if sr.Dashed {
			dash = ` stroke-dasharray="6 4"`
		}
		s.f(`<path class="line" d="%s" fill="none" stroke="%s" stroke-width="2"%s><title>%s</title></path>`+"\n", d.String(), col, dash, esc(sr.Name))
		for _, p := range pts {
			if !finite(p.e) || p.e == 0 {
				continue
			}
			y0, y1 := ya.pos(p.y-math.Abs(p.e)), ya.pos(p.y+math.Abs(p.e))
			s.f(`<line class="errbar" x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/>`, num(p.x), num(y0), num(p.x), num(y1), col)
			s.f(`<line class="errbar" x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/>`, num(p.x-4), num(y0), num(p.x+4), num(y0), col)
			s.f(`<line class="errbar" x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/>`+"\n", num(p.x-4), num(y1), num(p.x+4), num(y1), col)
		}
		if len(pts) <= 60 {
			fill := col
			if sr.Dashed {
				fill = "white"
			}
			for _, p := range pts {
				s.f(`<circle cx="%s" cy="%s" r="3" fill="%s" stroke="%s"/>`, num(p.x), num(ya.pos(p.y)), fill, col)
			}
			s.f("\n")
		}
		s.f("</g>\n")
	}
	s.legend(f, names, colors, dashed, false)
	s.f("</svg>\n")
	return s.String()
}

// Display shows the chart in the notebook, or writes <name>.svg to the output folder and
// returns its path (name "" uses the title).
func (c LineChart) Display(name string) (string, error) {
	if name == "" {
		name = c.Title
	}
	return DisplaySVG(name, c.SVG())
}

// SVG renders the bar chart as a standalone SVG document; every bar is a <rect> of class
// "bar" with a <title> tooltip, error bars are <line> elements of class "errbar".
func (c BarChart) SVG() string {
	var names, colors []string
	for i, sr := range c.Series {
		if sr.Name != "" {
			names = append(names, sr.Name)
			colors = append(colors, seriesColor(sr.Color, i))
		}
	}
	f := newFrame(c.Width, c.Height, c.Title != "", names)
	ylo, yhi := 0.0, math.Inf(-1)
	for _, sr := range c.Series {
		for i := range c.Categories {
			v := at(sr.Values, i)
			if !finite(v) {
				continue
			}
			e := at(sr.Err, i)
			if !finite(e) {
				e = 0
			}
			ylo, yhi = min(ylo, v-math.Abs(e)), max(yhi, v+math.Abs(e))
		}
	}
	if math.IsInf(yhi, -1) {
		yhi = 1
	}
	fixedY := len(c.YRange) == 2 && c.YRange[0] < c.YRange[1]
	if fixedY {
		ylo, yhi = c.YRange[0], c.YRange[1]
	}
	ya := linearAxis(ylo, yhi, f.bottom, f.top, fixedY, nil)
	var s svgWriter
	s.header(f, c.Title)
	s.axes(f, axis{}, ya, c.XLabel, c.YLabel)
	nc, ns := len(c.Categories), max(len(c.Series), 1)
	if nc == 0 {
		s.legend(f, names, colors, nil, true)
		s.f("</svg>\n")
		return s.String()
	}
	groupW := (f.right - f.left) / float64(nc)
	barW := groupW * 0.8 / float64(ns)
	base := ya.pos(max(ya.lo, min(0, ya.hi)))
	s.f(`<g class="bars" clip-path="url(#kx-plot)">` + "\n")
	for i, cat := range c.Categories {
		gx := f.left + float64(i)*groupW + groupW*0.1
		for j, sr := range c.Series {
			v := at(sr.Values, i)
			if !finite(v) {
				continue
			}
			x := gx + float64(j)*barW
			y := ya.pos(v)
			top, hgt := min(y, base), math.Abs(base-y)
			label := cat + ": " + strconv.FormatFloat(v, 'f', -1, 64)
			if sr.Name != "" {
				label = sr.Name + ", " + label
			}
			s.f(`<rect class="bar" x="%s" y="%s" width="%s" height="%s" fill="%s"><title>%s</title></rect>`+"\n",
				num(x), num(top), num(barW*0.92), num(hgt), esc(seriesColor(sr.Color, j)), esc(label))
			if e := at(sr.Err, i); finite(e) && e != 0 {
				cx := x + barW*0.46
				y0, y1 := ya.pos(v-math.Abs(e)), ya.pos(v+math.Abs(e))
				s.f(`<line class="errbar" x1="%s" y1="%s" x2="%s" y2="%s" stroke="#222"/>`, num(cx), num(y0), num(cx), num(y1))
				s.f(`<line class="errbar" x1="%s" y1="%s" x2="%s" y2="%s" stroke="#222"/>`, num(cx-3), num(y0), num(cx+3), num(y0))
				s.f(`<line class="errbar" x1="%s" y1="%s" x2="%s" y2="%s" stroke="#222"/>`+"\n", num(cx-3), num(y1), num(cx+3), num(y1))
			}
		}
	}
	s.f("</g>\n")
	for i, cat := range c.Categories {
		cx := f.left + (float64(i)+0.5)*groupW
		s.f(`<text class="category" x="%s" y="%s" text-anchor="middle">%s</text>`+"\n", num(cx), num(f.bottom+18), esc(cat))
	}
	s.legend(f, names, colors, nil, true)
	s.f("</svg>\n")
	return s.String()
}

// Display shows the chart in the notebook, or writes <name>.svg to the output folder and
// returns its path (name "" uses the title).
func (c BarChart) Display(name string) (string, error) {
	if name == "" {
		name = c.Title
	}
	return DisplaySVG(name, c.SVG())
}
