package kernelext

import (
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// svgElement is one element of a parsed SVG document.
type svgElement struct {
	Name  string
	Attrs map[string]string
	Text  string
}

// parseSVG parses doc with encoding/xml, failing the test on malformed XML, and returns the
// elements in document order.
func parseSVG(t *testing.T, doc string) []svgElement {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(doc))
	var out []svgElement
	var stack []int
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			e := svgElement{Name: tk.Name.Local, Attrs: map[string]string{}}
			for _, a := range tk.Attr {
				e.Attrs[a.Name.Local] = a.Value
			}
			out = append(out, e)
			stack = append(stack, len(out)-1)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				out[stack[len(stack)-1]].Text += string(tk)
			}
		}
	}
	if len(out) == 0 || out[0].Name != "svg" || out[0].Attrs["xmlns"] == "" && !strings.Contains(doc, `xmlns="http://www.w3.org/2000/svg"`) {
		t.Fatalf("root is not an svg element")
	}
	return out
}

func count(els []svgElement, name, class string) int {
	n := 0
	for _, e := range els {
		if e.Name == name && (class == "" || e.Attrs["class"] == class) {
			n++
		}
	}
	return n
}

func texts(els []svgElement) []string {
	var out []string
	for _, e := range els {
		if e.Name == "text" {
			out = append(out, e.Text)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestLineChartSVG(t *testing.T) {
	for _, tc := range []struct {
		name      string
		chart     LineChart
		wantTicks []string // x tick labels that must appear
		dashed    int
		errbars   int // <line class="errbar"> elements (3 per bar)
	}{
		{
			name: "accuracy vs IPC, log x",
			chart: LineChart{Title: "CIFAR-10 & <ConvNet>", XLabel: "IPC", YLabel: "accuracy (%)", LogX: true, Series: []Series{
				{Name: "DC ours", X: []float64{1, 10, 50}, Y: []float64{28, 44, 53}, Err: []float64{0.5, 0.6, 0}},
				{Name: "DC paper", X: []float64{1, 10, 50}, Y: []float64{29.34, 50.99, 56.81}, Dashed: true},
				{Name: "DSA paper", X: []float64{1, 10, 50, 100, 1000}, Y: []float64{27.76, 52.96, 60.28, 61, 78.68}, Dashed: true},
			}},
			wantTicks: []string{"1", "10", "100", "1000"},
			dashed:    2,
			errbars:   6,
		},
		{
			name: "short log range uses 1-2-5 ticks",
			chart: LineChart{LogX: true, Series: []Series{
				{Name: "a", X: []float64{1, 10, 50}, Y: []float64{1, 2, 3}},
			}},
			wantTicks: []string{"1", "2", "5", "10", "20", "50"},
		},
		{
			name: "vs iteration, linear, NaN gap, X nil",
			chart: LineChart{XLabel: "iteration", Series: []Series{
				{Name: "loss", Y: []float64{3, 2, math.NaN(), 1, 0.5}},
				{X: []float64{0, 1000, 2000}, Y: []float64{10, 20, 30}},
			}},
			wantTicks: []string{"0", "500", "1000", "1500", "2000"},
		},
		{
			name:      "fixed ticks and range, empty series",
			chart:     LineChart{XTicks: []float64{1, 10, 50}, YRange: []float64{0, 100}, Series: []Series{{Name: "none"}, {Name: "x", X: []float64{1, 10, 50}, Y: []float64{5, 50, 150}}}},
			wantTicks: []string{"1", "10", "50"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := tc.chart.SVG()
			els := parseSVG(t, doc)
			if got := count(els, "path", ""); got != len(tc.chart.Series) {
				t.Errorf("%d <path> elements, want one per series (%d)", got, len(tc.chart.Series))
			}
			nd := 0
			for _, e := range els {
				if e.Name == "path" && e.Attrs["stroke-dasharray"] != "" {
					nd++
				}
			}
			if nd != tc.dashed {
				t.Errorf("%d dashed paths, want %d", nd, tc.dashed)
			}
			if got := count(els, "line", "errbar"); got != tc.errbars {
				t.Errorf("%d error-bar lines, want %d", got, tc.errbars)
			}
			txt := texts(els)
			for _, tick := range tc.wantTicks {
				if !contains(txt, tick) {
					t.Errorf("tick %q missing from %q", tick, txt)
				}
			}
			for _, s := range tc.chart.Series {
				if s.Name != "" && !contains(txt, s.Name) {
					t.Errorf("legend lacks %q", s.Name)
				}
			}
			for _, l := range []string{tc.chart.Title, tc.chart.XLabel, tc.chart.YLabel} {
				if l != "" && !contains(txt, l) {
					t.Errorf("label %q missing", l)
				}
			}
		})
	}
}

func TestLineChartGeometry(t *testing.T) {
	// Points must map inside the plot area and increase left to right / bottom to top.
	c := LineChart{LogX: true, Series: []Series{{X: []float64{1, 10, 100}, Y: []float64{10, 20, 30}}}}
	els := parseSVG(t, c.SVG())
	var d string
	for _, e := range els {
		if e.Name == "path" {
			d = e.Attrs["d"]
		}
	}
	var x [3]float64
	var y [3]float64
	if _, err := fmt.Sscanf(d, "M%g %g L%g %g L%g %g", &x[0], &y[0], &x[1], &y[1], &x[2], &y[2]); err != nil {
		t.Fatalf("path %q: %v", d, err)
	}
	if !(x[0] < x[1] && x[1] < x[2]) || !(y[0] > y[1] && y[1] > y[2]) {
		t.Errorf("points not monotone: %v %v", x, y)
	}
	if math.Abs((x[1]-x[0])-(x[2]-x[1])) > 0.02 {
		t.Errorf("log axis not evenly spaced per decade: %v", x)
	}
	if math.Abs((y[0]-y[1])-(y[1]-y[2])) > 0.02 {
		t.Errorf("linear y not evenly spaced: %v", y)
	}
	for i := range x {
		if x[i] < 0 || x[i] > 640 || y[i] < 0 || y[i] > 400 {
			t.Errorf("point %d outside the canvas: %v,%v", i, x[i], y[i])
		}
	}
}

func TestBarChartSVG(t *testing.T) {
	c := BarChart{
		Title: "Transfer, CIFAR-10 IPC 10", YLabel: "accuracy (%)",
		Categories: []string{"ConvNet", "MLP", "ResNet18", "ResNet152", "ViT"},
		Series: []BarSeries{
			{Name: "ours", Values: []float64{50, 30, 40, 20, math.NaN()}, Err: []float64{1, 1, 1, 1, 1}},
			{Name: "paper", Values: []float64{51, 31, 42}}, // shorter: no bars for the rest
		},
	}
	els := parseSVG(t, c.SVG())
	if got := count(els, "rect", "bar"); got != 4+3 {
		t.Errorf("%d bars, want 7", got)
	}
	if got := count(els, "line", "errbar"); got != 4*3 {
		t.Errorf("%d error-bar lines, want 12", got)
	}
	txt := texts(els)
	for _, s := range append(c.Categories, "ours", "paper", c.Title, c.YLabel, "0") {
		if !contains(txt, s) {
			t.Errorf("text %q missing", s)
		}
	}
	// Bars of the same series share a colour; the two series differ.
	var fills []string
	for _, e := range els {
		if e.Attrs["class"] == "bar" {
			fills = append(fills, e.Attrs["fill"])
		}
	}
	if fills[0] != fills[2] || fills[0] == fills[1] { // ours ConvNet, paper ConvNet, ours MLP, …
		t.Errorf("bar colours %v", fills)
	}
	if !strings.Contains(c.SVG(), "<title>ours, MLP: 30</title>") {
		t.Errorf("tooltip missing")
	}
	parseSVG(t, BarChart{}.SVG()) // empty chart still valid
}

func TestChartDisplayWritesSVG(t *testing.T) {
	dir := t.TempDir()
	SetOutputDir(dir)
	defer SetOutputDir("")
	path, err := LineChart{Title: "acc vs ipc"}.Display("")
	if err != nil {
		t.Fatal(err)
	}
	if path != filepath.Join(dir, "acc_vs_ipc.svg") {
		t.Errorf("path %q", path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	parseSVG(t, string(b))
}

func ExampleLineChart() {
	chart := LineChart{
		Title:  "CIFAR-10, DC",
		XLabel: "images per class",
		YLabel: "test accuracy (%)",
		LogX:   true,
		Series: []Series{
			{Name: "ours", X: []float64{1, 10, 50}, Y: []float64{28.1, 44.0, 53.3}, Err: []float64{0.5, 0.6, 0.4}},
			{Name: "paper", X: []float64{1, 10, 50}, Y: []float64{29.34, 50.99, 56.81}, Err: []float64{0.37, 0.62, 0.44}, Dashed: true},
		},
	}
	svg := chart.SVG()
	fmt.Println(strings.HasPrefix(svg, "<svg"), strings.Count(svg, "<path"), strings.Count(svg, `stroke-dasharray="6 4"`))
	// Output: true 2 1
}

func ExampleBarChart() {
	chart := BarChart{
		Title:      "CIFAR-10 IPC 10, DC: transfer to other architectures",
		YLabel:     "test accuracy (%)",
		Categories: []string{"ConvNet", "MLP", "ResNet18", "ResNet152"},
		Series: []BarSeries{
			{Name: "ours", Values: []float64{44.0, 27.5, 36.1, math.NaN()}, Err: []float64{0.6, 0.4, 0.9, 0}},
			{Name: "paper", Values: []float64{50.99, 28.46, 42.85, 23.22}},
		},
	}
	svg := chart.SVG()
	fmt.Println(strings.Count(svg, `class="bar"`)) // the NaN draws no bar
	// Output: 7
}
