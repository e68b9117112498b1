package augment

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

var (
	cifarMean = []float32{0.4914, 0.4822, 0.4465}
	cifarStd  = []float32{0.2023, 0.1994, 0.2010}
)

// normalisedImages returns n×h×w×3 images, normalised with the CIFAR-10 statistics, whose pixels are
// in [0, 1] before normalisation.
func normalisedImages(n, h, w int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 3))
	x := make([]float32, n*h*w*3)
	for i := range x {
		k := i % 3
		x[i] = (float32(rng.IntN(256))/255 - cifarMean[k]) / cifarStd[k]
	}
	return x
}

func TestNewHostErrors(t *testing.T) {
	if got := strings.Join(Names(), ","); got != "none,imagenet_aug,randaug,autoaug,dsa,dc_aug" {
		t.Errorf("Names() = %s", got)
	}
	for _, tc := range []struct {
		name      string
		mean, std []float32
		opts      HostOptions
		want      string
	}{
		{"cutmix", cifarMean, cifarStd, HostOptions{}, "valid names are none, imagenet_aug, randaug, autoaug, dsa"},
		{"dsa", cifarMean, cifarStd, HostOptions{}, "use NewDSA"},
		{"randaug", cifarMean, cifarStd[:2], HostOptions{}, "one value per channel"},
		{"randaug", cifarMean, []float32{1, 0, 1}, HostOptions{}, "must be positive"},
		{"randaug", []float32{0, 0}, []float32{1, 1}, HostOptions{}, "needs 1 or 3 channels"},
		{"randaug", cifarMean, cifarStd, HostOptions{RandAugMagnitude: 31}, "invalid RandAugment"},
		{"autoaug", cifarMean, cifarStd, HostOptions{AutoAugPolicy: 5}, "unknown AutoAugment policy"},
		{"dc_aug", cifarMean, cifarStd, HostOptions{DCAug: DCAugParams{Strategy: "crop_mixup"}}, `unknown DC augmentation op "mixup"`},
	} {
		_, err := NewHost(tc.name, tc.mean, tc.std, tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewHost(%q): error = %v, want one containing %q", tc.name, err, tc.want)
		}
	}

	aug, err := NewHost(NameRandAug, cifarMean, cifarStd, HostOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	x := normalisedImages(2, 4, 4, 1)
	for _, tc := range []struct {
		name    string
		err     error
		wantErr string
	}{
		{"length", aug.Apply(x[:10], 2, 4, 4, 3, rng), "want n*h*w*c"},
		{"channels", aug.Apply(x[:64], 2, 4, 4, 2, rng), "mean and std have 3"},
		{"no rng", aug.Apply(x, 2, 4, 4, 3, nil), "random number generator"},
		{"dims", aug.Apply(x, 2, 0, 4, 3, rng), "invalid batch dimensions"},
	} {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.wantErr) {
			t.Errorf("Apply %s: error = %v, want one containing %q", tc.name, tc.err, tc.wantErr)
		}
	}
}

// TestHostNormalisation checks the un-normalise / re-normalise round trip with an identity draw, and
// the clipping to [0, 1].
func TestHostNormalisation(t *testing.T) {
	const n, h, w = 2, 3, 4
	x := normalisedImages(n, h, w, 2)
	x[0] = (1.5 - cifarMean[0]) / cifarStd[0] // Out of range: clipped to 1.
	identity := &hostBase{name: "identity", mean: cifarMean, std: cifarStd,
		draw: func(*rand.Rand, int, int) func(*image) { return func(*image) {} }}
	got := append([]float32(nil), x...)
	if err := identity.Apply(got, n, h, w, 3, rand.New(rand.NewPCG(1, 2))); err != nil {
		t.Fatal(err)
	}
	want := append([]float32(nil), x...)
	want[0] = (1 - cifarMean[0]) / cifarStd[0]
	if d := maxAbsDiff(got, want); d > 1e-5 {
		t.Errorf("identity round trip differs by %g", d)
	}

	none, err := NewHost(NameNone, cifarMean, cifarStd, HostOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got = append([]float32(nil), x...)
	if err := none.Apply(got, n, h, w, 3, nil); err != nil || maxAbsDiff(got, x) != 0 {
		t.Errorf("none changed the images or failed: %v", err)
	}
}

// runHost applies the named augmentation with a seeded generator to a copy of x.
func runHost(t *testing.T, name string, opts HostOptions, x []float32, n, h, w int, seed uint64) []float32 {
	t.Helper()
	aug, err := NewHost(name, cifarMean, cifarStd, opts)
	if err != nil {
		t.Fatal(err)
	}
	out := append([]float32(nil), x...)
	if err := aug.Apply(out, n, h, w, 3, rand.New(rand.NewPCG(seed, 99))); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestHostDeterminismAndBatching checks, for every host augmentation, that a seed fixes the output,
// that per-image draws differ between copies of one image, and that PerBatch uses one draw.
func TestHostDeterminismAndBatching(t *testing.T) {
	const n, h, w = 16, 8, 8
	one := normalisedImages(1, h, w, 3)
	var copies []float32
	for range n {
		copies = append(copies, one...)
	}
	sz := h * w * 3
	for _, name := range []string{NameImageNetAug, NameRandAug, NameAutoAug} {
		for _, opts := range []HostOptions{{}, {PerBatch: true}, ReferenceHostOptions(), {AutoAugPolicy: PolicyImageNet}} {
			a := runHost(t, name, opts, copies, n, h, w, 5)
			b := runHost(t, name, opts, copies, n, h, w, 5)
			if maxAbsDiff(a, b) != 0 {
				t.Errorf("%s %+v: same seed, different outputs", name, opts)
			}
			c := runHost(t, name, opts, copies, n, h, w, 6)
			if maxAbsDiff(a, c) == 0 {
				t.Errorf("%s %+v: different seeds, same outputs", name, opts)
			}
			distinct := 0
			for k := 1; k < n; k++ {
				if maxAbsDiff(a[:sz], a[k*sz:(k+1)*sz]) > 0 {
					distinct++
				}
			}
			if opts.PerBatch && distinct != 0 {
				t.Errorf("%s %+v: per-batch draw gave %d images different from the first", name, opts, distinct)
			}
			if !opts.PerBatch && distinct == 0 {
				t.Errorf("%s %+v: per-image draws gave identical images", name, opts)
			}
			if opts.Uint8 {
				// The uint8 pipeline gives values on the 1/255 grid.
				for i, v := range a {
					u := (float64(v)*float64(cifarStd[i%3]) + float64(cifarMean[i%3])) * 255
					if math.Abs(u-math.Round(u)) > 1e-3 {
						t.Errorf("%s: uint8 pipeline value %g not on a uint8 level", name, u)
						break
					}
				}
			}
		}
	}
}

// TestImageNetAugCrop checks imagenet_aug's random crop and flip with the colour jitter turned off:
// each output is the input shifted by at most the padding (zero fill), maybe flipped, and the shifts
// and flips cover their whole range.
func TestImageNetAugCrop(t *testing.T) {
	const h, w, c = 16, 12, 3
	src := levelImage(h, w, c, false)
	for _, pad := range []int{0, -1, 3} {
		aug := newImageNetAug(HostOptions{CropPadding: pad})
		aug.brightness, aug.contrast, aug.saturation, aug.hue = 0, 0, 0, 0
		padH, padW := cropPadding(pad, h), cropPadding(pad, w)
		seen := map[[3]int]bool{}
		rng := rand.New(rand.NewPCG(uint64(10+pad), 1))
		for range 400 {
			im := src.clone()
			aug.draw(rng, h, w)(im)
			found := false
			for dy := -padH; dy <= padH && !found; dy++ {
				for dx := -padW; dx <= padW && !found; dx++ {
					for _, flip := range []int{0, 1} {
						match := true
						for i := 0; i < h && match; i++ {
							for j := 0; j < w && match; j++ {
								sj := j
								if flip == 1 {
									sj = w - 1 - j
								}
								for k := range c {
									if im.px(i, j, k) != src.px(i-dy, sj-dx, k) {
										match = false
										break
									}
								}
							}
						}
						if match {
							seen[[3]int{dy, dx, flip}] = true
							found = true
							break
						}
					}
				}
			}
			if !found {
				t.Fatalf("padding %d: output is not a shifted (and maybe flipped) input", pad)
			}
		}
		var dys, dxs, flips = map[int]bool{}, map[int]bool{}, map[int]bool{}
		for k := range seen {
			dys[k[0]], dxs[k[1]], flips[k[2]] = true, true, true
		}
		if len(dys) != 2*padH+1 || len(dxs) != 2*padW+1 || len(flips) != 2 {
			t.Errorf("padding %d: drew %d row shifts, %d column shifts and %d flips; want %d, %d and 2",
				pad, len(dys), len(dxs), len(flips), 2*padH+1, 2*padW+1)
		}
	}
}
