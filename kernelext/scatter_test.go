package kernelext

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestScatterPlotSVG(t *testing.T) {
	real := ScatterGroup{Name: "real (100)", Color: "#9a9a9a", Size: 2}
	for i := range 100 {
		a := float64(i) * 0.3
		real.X = append(real.X, 10*math.Cos(a)+float64(i)/10)
		real.Y = append(real.Y, 5*math.Sin(a))
	}
	tests := []struct {
		name       string
		plot       ScatterPlot
		wantPoints []int    // drawn points per group, in order
		legend     []string // legend texts
		tags       map[string]int
	}{
		{
			name: "real vs methods (t-SNE)",
			plot: ScatterPlot{Title: "t-SNE of class <cat> & co", NoTicks: true, EqualAspect: true, Groups: []ScatterGroup{
				real,
				{Name: "Random", X: []float64{1, 2, 3}, Y: []float64{1, 2, 3}, Size: 6, Marker: "square"},
				{Name: "K-Center", X: []float64{-1, -2}, Y: []float64{4, 5}, Size: 6, Marker: "triangle", Labels: []string{"img 4", "img 9"}},
				{Name: "DM", X: []float64{0}, Y: []float64{0}, Size: 6, Marker: "diamond", Opacity: 0.8},
				{Name: "Herding", X: []float64{5, 6}, Y: []float64{0, 1}, Marker: "cross"},
			}},
			wantPoints: []int{100, 3, 2, 1, 2},
			legend:     []string{"real (100)", "Random", "K-Center", "DM", "Herding"},
			tags:       map[string]int{"circle": 100, "rect": 3, "polygon": 5},
		},
		{
			name: "NaN, Inf, short slices and unnamed group",
			plot: ScatterPlot{XLabel: "x", YLabel: "y", Groups: []ScatterGroup{
				{Name: "a", X: []float64{1, math.NaN(), 3, 4}, Y: []float64{1, 2, math.Inf(1), 4}},
				{X: []float64{1, 2, 3}, Y: []float64{1}},
			}},
			wantPoints: []int{2, 1},
			legend:     []string{"a"},
			tags:       map[string]int{"circle": 3},
		},
		{
			name:       "no groups",
			plot:       ScatterPlot{Title: "empty"},
			wantPoints: nil,
		},
		{
			name: "one point (degenerate ranges)",
			plot: ScatterPlot{Groups: []ScatterGroup{
				{Name: "only", X: []float64{2}, Y: []float64{2}},
			}},
			wantPoints: []int{1},
			legend:     []string{"only"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := tc.plot.SVG()
			els := parseSVG(t, doc)
			// Points per group: walk the document, counting class="point" inside each group.
			var perGroup []int
			for _, e := range els {
				switch {
				case e.Name == "g" && e.Attrs["class"] == "group":
					perGroup = append(perGroup, 0)
				case e.Attrs["class"] == "point":
					perGroup[len(perGroup)-1]++
				}
			}
			if len(perGroup) != len(tc.wantPoints) {
				t.Fatalf("%d groups drawn, want %d", len(perGroup), len(tc.wantPoints))
			}
			for i := range perGroup {
				if perGroup[i] != tc.wantPoints[i] {
					t.Errorf("group %d: %d points, want %d", i, perGroup[i], tc.wantPoints[i])
				}
			}
			for tag, want := range tc.tags {
				if got := count(els, tag, "point"); got != want {
					t.Errorf("%d <%s class=point>, want %d", got, tag, want)
				}
			}
			if got := countClass(els, "legend-marker"); got != len(tc.legend) {
				t.Errorf("%d legend markers, want %d", got, len(tc.legend))
			}
			txt := texts(els)
			for _, l := range tc.legend {
				if !contains(txt, l) {
					t.Errorf("legend lacks %q (texts %q)", l, txt)
				}
			}
			for _, l := range []string{tc.plot.Title, tc.plot.XLabel, tc.plot.YLabel} {
				if l != "" && !contains(txt, l) {
					t.Errorf("label %q missing", l)
				}
			}
			// Every point lies inside the canvas.
			w, h := 640.0, 480.0
			for _, e := range els {
				if e.Attrs["class"] != "point" || e.Name != "circle" {
					continue
				}
				x, _ := strconv.ParseFloat(e.Attrs["cx"], 64)
				y, _ := strconv.ParseFloat(e.Attrs["cy"], 64)
				if x < 0 || x > w || y < 0 || y > h {
					t.Errorf("point at %v,%v outside the %vx%v canvas", x, y, w, h)
				}
			}
			if strings.Contains(doc, "NaN") || strings.Contains(doc, "Inf") {
				t.Errorf("SVG holds a non-finite number")
			}
		})
	}
}

func TestScatterPlotTicksAndTooltips(t *testing.T) {
	g := ScatterGroup{Name: "K-Center", X: []float64{0, 10}, Y: []float64{0, 10}, Labels: []string{"img 4", ""}}
	with := parseSVG(t, ScatterPlot{Groups: []ScatterGroup{g}}.SVG())
	without := parseSVG(t, ScatterPlot{Groups: []ScatterGroup{g}, NoTicks: true}.SVG())
	if !contains(texts(with), "10") {
		t.Errorf("tick labels missing: %q", texts(with))
	}
	if contains(texts(without), "10") || contains(texts(without), "0") {
		t.Errorf("NoTicks still draws tick labels: %q", texts(without))
	}
	var tips []string
	for _, e := range with {
		if e.Name == "title" {
			tips = append(tips, e.Text)
		}
	}
	if !contains(tips, "K-Center: img 4") || !contains(tips, "K-Center") {
		t.Errorf("tooltips %q, want %q and %q", tips, "K-Center: img 4", "K-Center")
	}
}

func TestScatterPlotEqualAspect(t *testing.T) {
	// A square of side 10: with EqualAspect its drawn width and height are equal.
	g := ScatterGroup{X: []float64{0, 10, 0, 10}, Y: []float64{0, 0, 10, 10}}
	els := parseSVG(t, ScatterPlot{Groups: []ScatterGroup{g}, EqualAspect: true, Width: 800, Height: 300}.SVG())
	var xs, ys []float64
	for _, e := range els {
		if e.Attrs["class"] == "point" {
			x, _ := strconv.ParseFloat(e.Attrs["cx"], 64)
			y, _ := strconv.ParseFloat(e.Attrs["cy"], 64)
			xs, ys = append(xs, x), append(ys, y)
		}
	}
	if len(xs) != 4 {
		t.Fatalf("%d points, want 4", len(xs))
	}
	dx, dy := math.Abs(xs[1]-xs[0]), math.Abs(ys[2]-ys[0])
	if math.Abs(dx-dy) > 0.02 || dx == 0 {
		t.Errorf("square drawn %v wide and %v high", dx, dy)
	}
}

func TestScatterPlotDisplayWritesSVG(t *testing.T) {
	dir := t.TempDir()
	SetOutputDir(dir)
	defer SetOutputDir("")
	path, err := ScatterPlot{Title: "tsne cat", Groups: []ScatterGroup{{Name: "a", X: []float64{1}, Y: []float64{2}}}}.Display("")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "tsne_cat.svg"); path != want {
		t.Errorf("path %q, want %q", path, want)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	parseSVG(t, string(b))
}

// countClass counts the elements of any name with the given class.
func countClass(els []svgElement, class string) int {
	n := 0
	for _, e := range els {
		if e.Attrs["class"] == class {
			n++
		}
	}
	return n
}
