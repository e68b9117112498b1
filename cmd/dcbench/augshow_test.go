package main

import (
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAugshow renders two images at scale 1 and checks the PNG: its size from the layout (12
// rows; the widest is DSA COLOR, 6 variants × 2 images), and, pixel by pixel, that the FLIP row
// mirrors the ORIGINAL row and the first CROP variant (x+4) shifts it left with a zero (mean
// colour) fill.
func TestAugshow(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "sub", "aug.png")
	code, stdout, stderr := runCaptured(t, "augshow", "--out", out, "--n", "2", "--draws", "2", "--scale", "1", "--seed", "5")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"automobile #0, bird #0", "DSA RANDOM    seed 5: ", "AUTOAUG       seed 5 | seed 6", "wrote " + out} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("decoding %s: %v", out, err)
	}
	const rows, cols, cell, pad = 12, 12, 32, 2
	// Label column: the widest label, "IMAGENET_AUG" (12 glyphs of advance 6, less the last
	// gap), plus one advance of margin, at label scale 1.
	labelW := (12*6 - 1) + 6
	wantW, wantH := labelW+cols*cell+(cols-1)*pad, rows*cell+(rows-1)*pad
	if b := img.Bounds(); b.Dx() != wantW || b.Dy() != wantH {
		t.Fatalf("PNG is %dx%d, want %dx%d", b.Dx(), b.Dy(), wantW, wantH)
	}
	pixel := func(row, col, x, y int) color.NRGBA {
		return color.NRGBAModel.Convert(img.At(labelW+col*(cell+pad)+x, row*(cell+pad)+y)).(color.NRGBA)
	}
	const rowOriginal, rowCrop, rowFlip = 0, 2, 4
	same := func(a, b color.NRGBA) bool {
		d := func(u, v uint8) int { return max(int(u)-int(v), int(v)-int(u)) }
		return d(a.R, b.R) <= 1 && d(a.G, b.G) <= 1 && d(a.B, b.B) <= 1
	}
	// Mean colour of CIFAR-10 (0.4914, 0.4822, 0.4465), where DSA fills with zeros.
	mean := color.NRGBA{125, 123, 114, 255}
	for k := range 2 { // Cells: original [img0, img1]; crop [img0 × 3, img1 × 3]; flip [img0, img1].
		for y := range cell {
			for x := range cell {
				o := pixel(rowOriginal, k, x, y)
				if f := pixel(rowFlip, k, cell-1-x, y); !same(f, o) {
					t.Fatalf("image %d: FLIP at (%d,%d) is %v, ORIGINAL at (%d,%d) is %v", k, cell-1-x, y, f, x, y, o)
				}
				c := pixel(rowCrop, 3*k, x, y)
				want := mean
				if x+4 < cell {
					want = pixel(rowOriginal, k, x+4, y)
				}
				if !same(c, want) {
					t.Fatalf("image %d: CROP x+4 at (%d,%d) is %v, want %v", k, x, y, c, want)
				}
			}
		}
	}
}

func TestAugshowBadFlags(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "x.png")
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"zero images", []string{"--n", "0"}, 2, "--n must be in [1, 10], got 0"},
		{"too many images", []string{"--n", "11"}, 2, "--n must be in [1, 10], got 11"},
		{"zero draws", []string{"--draws", "0"}, 2, "--draws must be in [1, 16], got 0"},
		{"scale too large", []string{"--scale", "9"}, 2, "--scale must be in [1, 8], got 9"},
		{"negative index", []string{"--index", "-1"}, 2, "--index must be non-negative"},
		{"index past the class", []string{"--index", "100"}, 2, "--index 100: class automobile has 100 images"},
		{"unknown class", []string{"--class", "zebra"}, 2, `unknown --class "zebra"`},
		{"class out of range", []string{"--class", "10"}, 2, "--class 10 out of range [0, 10)"},
		{"empty out", []string{"--out", ""}, 2, "--out must name a file"},
		{"not a number", []string{"--n", "two"}, 2, `invalid value "two" for flag -n`},
		{"unknown flag", []string{"--colour", "red"}, 2, "flag provided but not defined: -colour"},
		{"stray argument", []string{"extra"}, 2, `unexpected argument "extra"`},
		{"out is a folder", []string{"--out", dir, "--draws", "1"}, 1, dir},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"augshow", "--out", out}, tc.args...)
			code, _, stderr := runCaptured(t, args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q", code, stderr, tc.code, tc.want)
			}
			if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic") {
				t.Fatalf("stderr has a panic trace: %s", stderr)
			}
		})
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed run left %s behind (%v)", out, err)
	}
}
