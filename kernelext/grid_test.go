package kernelext

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// solidBatch returns n images h×w×c where image i has every value set to vals[i].
func solidBatch(vals []float32, h, w, c int) []float32 {
	out := make([]float32, 0, len(vals)*h*w*c)
	for _, v := range vals {
		for range h * w * c {
			out = append(out, v)
		}
	}
	return out
}

func rgbAt(img image.Image, x, y int) [3]uint8 {
	c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
	return [3]uint8{c.R, c.G, c.B}
}

func TestImageGridLayoutAndColours(t *testing.T) {
	// 5 images of 2×3 RGB: labels 1, 0, 1, 1, 0; normalised with mean 0.5 / std 0.25.
	// Raw value v shows as clip(v*0.25+0.5): 1 → 0.75 (191), -2 → 0 (clipped), 4 → 1 (255),
	// 0 → 0.5 (128).
	vals := []float32{1, -2, 4, 0, 1}
	labels := []int32{1, 0, 1, 1, 0}
	h, w, c := 2, 3, 3
	mean := []float32{0.5, 0.5, 0.5}
	std := []float32{0.25, 0.25, 0.25}
	for _, tc := range []struct {
		name       string
		opts       GridOptions
		wantW      int
		wantH      int
		cellW      int
		cellH      int
		pad        int
		cellColour map[[2]int][3]uint8 // (row, col) → colour
	}{
		{"all", GridOptions{}, 3 * 3, 2 * 2, 3, 2, 0, map[[2]int][3]uint8{
			{0, 0}: {0, 0, 0}, {0, 1}: {191, 191, 191}, {0, 2}: {255, 255, 255}, // class 0: images 1, 4; empty cell white
			{1, 0}: {191, 191, 191}, {1, 1}: {255, 255, 255}, {1, 2}: {128, 128, 128}, // class 1: images 0, 2, 3
		}},
		{"per class 2, scale 3, padding 1", GridOptions{PerClass: 2, Scale: 3, Padding: 1}, 2*9 + 1, 2*6 + 1, 9, 6, 1, map[[2]int][3]uint8{
			{0, 0}: {0, 0, 0}, {0, 1}: {191, 191, 191},
			{1, 0}: {191, 191, 191}, {1, 1}: {255, 255, 255},
		}},
	} {
		img, err := ImageGrid(solidBatch(vals, h, w, c), len(vals), h, w, c, labels, []string{"cat", "dog"}, mean, std, tc.opts)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		// Round trip through PNG.
		b, err := EncodePNG(img)
		if err != nil {
			t.Fatal(err)
		}
		dec, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if dec.Bounds().Dx() != tc.wantW || dec.Bounds().Dy() != tc.wantH {
			t.Errorf("%s: size %v, want %dx%d", tc.name, dec.Bounds(), tc.wantW, tc.wantH)
		}
		for rc, want := range tc.cellColour {
			// Check the four corners of the cell.
			x0, y0 := rc[1]*(tc.cellW+tc.pad), rc[0]*(tc.cellH+tc.pad)
			for _, p := range [][2]int{{x0, y0}, {x0 + tc.cellW - 1, y0}, {x0, y0 + tc.cellH - 1}, {x0 + tc.cellW - 1, y0 + tc.cellH - 1}} {
				if got := rgbAt(dec, p[0], p[1]); got != want {
					t.Errorf("%s: cell %v pixel %v = %v, want %v", tc.name, rc, p, got, want)
				}
			}
		}
	}
}

func TestImageGridPerChannelAndGray(t *testing.T) {
	// One 1×1 RGB image with channel-specific normalisation.
	img, err := ImageGrid([]float32{0, 1, -1}, 1, 1, 1, 3, []int32{0}, nil,
		[]float32{0.2, 0.4, 0.6}, []float32{0.1, 0.2, 0.3}, GridOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rgbAt(img, 0, 0), [3]uint8{51, 153, 77}; got != want { // 0.2, 0.6, 0.3
		t.Errorf("pixel %v, want %v", got, want)
	}
	// Grayscale 2×2, no normalisation, one value per pixel.
	g, err := ImageGrid([]float32{0, 0.5, 1, 2}, 1, 2, 2, 1, []int32{0}, []string{"digit"}, nil, nil, GridOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []uint8{0, 128, 255, 255} {
		if got := rgbAt(g, i%2, i/2); got != [3]uint8{want, want, want} {
			t.Errorf("gray pixel %d = %v, want %d", i, got, want)
		}
	}
}

func TestImageGridLabels(t *testing.T) {
	vals := []float32{0, 0}
	plain, err := ImageGrid(solidBatch(vals, 32, 32, 3), 2, 32, 32, 3, []int32{0, 1}, []string{"airplane", "cat"}, nil, nil, GridOptions{})
	if err != nil {
		t.Fatal(err)
	}
	lab, err := ImageGrid(solidBatch(vals, 32, 32, 3), 2, 32, 32, 3, []int32{0, 1}, []string{"airplane", "cat"}, nil, nil, GridOptions{Labels: true})
	if err != nil {
		t.Fatal(err)
	}
	extra := lab.Bounds().Dx() - plain.Bounds().Dx()
	// Font scale 2 for 32-pixel rows: "airplane" is 8 glyphs = (8*6-1)*2 = 94 px, plus 12 px margins.
	if extra != 94+12 || lab.Bounds().Dy() != plain.Bounds().Dy() {
		t.Errorf("label column %d px wide (bounds %v vs %v)", extra, lab.Bounds(), plain.Bounds())
	}
	// Some dark text pixels in the label column, the images still black at the right place.
	dark := 0
	for y := 0; y < lab.Bounds().Dy(); y++ {
		for x := 0; x < extra; x++ {
			if rgbAt(lab, x, y)[0] < 100 {
				dark++
			}
		}
	}
	if dark == 0 {
		t.Errorf("no label pixels drawn")
	}
	if got := rgbAt(lab, extra, 0); got != [3]uint8{0, 0, 0} {
		t.Errorf("first image pixel %v", got)
	}
}

func TestImageGridErrors(t *testing.T) {
	ok := solidBatch([]float32{0}, 2, 2, 3)
	for _, tc := range []struct {
		name   string
		images []float32
		n, c   int
		labels []int32
		mean   []float32
	}{
		{"channels", solidBatch([]float32{0}, 2, 2, 2), 1, 2, []int32{0}, nil},
		{"length", ok[:5], 1, 3, []int32{0}, nil},
		{"labels count", ok, 1, 3, []int32{0, 1}, nil},
		{"label range", ok, 1, 3, []int32{2}, nil},
		{"negative label", ok, 1, 3, []int32{-1}, nil},
		{"mean length", ok, 1, 3, []int32{0}, []float32{1, 2}},
	} {
		if _, err := ImageGrid(tc.images, tc.n, 2, 2, tc.c, tc.labels, []string{"a", "b"}, tc.mean, nil, GridOptions{}); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

func TestImageGridHTML(t *testing.T) {
	h, err := ImageGridHTML(solidBatch([]float32{1, 1, 1}, 4, 4, 1), 3, 4, 4, 1, []int32{0, 2, 2}, []string{"zero", "one", "two & more"},
		nil, nil, GridOptions{Scale: 2, Padding: 1, Title: "IPC 2"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(h, `class="kx-class"`) != 3 || !strings.Contains(h, "two &amp; more") || !strings.Contains(h, "IPC 2") {
		t.Errorf("class names missing:\n%s", h)
	}
	m := regexp.MustCompile(`data:image/png;base64,([A-Za-z0-9+/=]+)`).FindStringSubmatch(h)
	if m == nil {
		t.Fatal("no embedded PNG")
	}
	b, _ := base64.StdEncoding.DecodeString(m[1])
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	// 3 rows of 8 px with 1 px gaps; 2 columns of 8 px with a 1 px gap.
	if img.Bounds().Dx() != 17 || img.Bounds().Dy() != 26 {
		t.Errorf("embedded image %v", img.Bounds())
	}
	if !strings.Contains(h, `width="17" height="26"`) || !strings.Contains(h, "height:8px") {
		t.Errorf("geometry not in HTML")
	}
}

func TestDisplayImageWritesPNG(t *testing.T) {
	dir := t.TempDir()
	SetOutputDir(dir)
	defer SetOutputDir("")
	img, _ := ImageGrid(solidBatch([]float32{1}, 2, 2, 1), 1, 2, 2, 1, []int32{0}, nil, nil, nil, GridOptions{Scale: 2})
	path, err := DisplayImage("grid/cifar10.png", img)
	if err != nil {
		t.Fatal(err)
	}
	if path != filepath.Join(dir, "grid_cifar10.png") {
		t.Errorf("path %q", path)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil || cfg.Width != 4 || cfg.Height != 4 {
		t.Errorf("PNG config %+v, %v", cfg, err)
	}
}

func ExampleImageGrid() {
	// Two classes, three 8×8 grayscale images, normalised with mean 0.5 and std 0.5.
	const n, h, w, c = 3, 8, 8, 1
	images := make([]float32, n*h*w*c)
	for i := range images {
		images[i] = float32(i/(h*w))*0.5 - 0.5 // image 0: 0.25, image 1: 0.5, image 2: 0.75 after un-normalising
	}
	img, err := ImageGrid(images, n, h, w, c, []int32{0, 1, 1}, []string{"zero", "one"},
		[]float32{0.5}, []float32{0.5}, GridOptions{PerClass: 10, Scale: 4, Padding: 2})
	if err != nil {
		panic(err)
	}
	fmt.Println(img.Bounds().Dx(), "x", img.Bounds().Dy())
	fmt.Println(img.At(0, 0), img.At(34, 34))
	pngBytes, _ := EncodePNG(img)
	fmt.Println(len(pngBytes) > 0)
	// Output:
	// 66 x 66
	// {64 64 64 255} {191 191 191 255}
	// true
}
