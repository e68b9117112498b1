package train

import (
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/gomlx/gomlx/backends"
	_ "github.com/gomlx/gomlx/backends/simplego"

	_ "github.com/dcbench/dcbench/dcbench/backend/gogemm"

	"github.com/dcbench/dcbench/datasets"
	"github.com/dcbench/dcbench/dcbench/augment"
)

var backend backends.Backend

func TestMain(m *testing.M) {
	if os.Getenv("GOMLX_BACKEND") == "" {
		os.Setenv("GOMLX_BACKEND", "gogemm:ops_sequential")
	}
	backend = backends.MustNew()
	os.Exit(m.Run())
}

// toyData makes a normalised dataset of n images of size s×s×3 whose class k is a bright
// vertical stripe at column k: learnable in a few steps.
func toyData(n, s, classes int, seed uint64) *datasets.Dataset {
	r := rand.New(rand.NewPCG(seed, 3))
	d := &datasets.Dataset{Name: "toy", Split: "train", N: n, H: s, W: s, C: 3,
		Images: make([]float32, n*s*s*3), Labels: make([]int32, n),
		Mean: []float32{0, 0, 0}, Std: []float32{1, 1, 1}, Normalized: true}
	for i := 0; i < n; i++ {
		k := i % classes
		d.Labels[i] = int32(k)
		for y := 0; y < s; y++ {
			for x := 0; x < s; x++ {
				for c := 0; c < 3; c++ {
					v := float32(r.NormFloat64() * 0.1)
					if x == k*s/classes {
						v += 1
					}
					d.Images[((i*s+y)*s+x)*3+c] = v
				}
			}
		}
	}
	for k := 0; k < classes; k++ {
		d.Classes = append(d.Classes, string(rune('a'+k)))
	}
	return d
}

func TestFitLearnsToyTask(t *testing.T) {
	for _, opt := range []string{"sgd", "adam"} {
		t.Run(opt, func(t *testing.T) {
			train := toyData(8, 8, 4, 1)
			test := toyData(16, 8, 4, 2)
			cfg := Config{Model: "convnet", ModelParams: map[string]any{"convnet_width": 8, "convnet_depth": 2},
				Epochs: 20, Optimizer: opt, LR: 0.01, Seed: 1}
			tr, err := New(backend, cfg, 4, 8, 8, 3, train.Mean, train.Std)
			if err != nil {
				t.Fatal(err)
			}
			defer tr.Finalize()
			var first, last float64
			if err := tr.Fit(nil, train, func(ep, total int, loss float64) {
				if ep == 1 {
					first = loss
				}
				last = loss
			}); err != nil {
				t.Fatal(err)
			}
			if tr.Steps() != 21 {
				t.Errorf("took %d steps, want 21 (Epochs+1 passes of one batch)", tr.Steps())
			}
			if !(last < first/2) {
				t.Errorf("loss went from %.4f to %.4f, want at least halved", first, last)
			}
			acc, err := tr.Accuracy(test)
			if err != nil {
				t.Fatal(err)
			}
			if acc < 0.9 {
				t.Errorf("test accuracy %.2f, want ≥ 0.9 on the stripe task", acc)
			}
		})
	}
}

func TestSameSeedSameResult(t *testing.T) {
	train := toyData(8, 8, 4, 1)
	run := func(seed uint64) float64 {
		cfg := Config{Model: "convnet", ModelParams: map[string]any{"convnet_width": 4, "convnet_depth": 1},
			Epochs: 3, Seed: seed, Augment: "dsa"}
		tr, err := New(backend, cfg, 4, 8, 8, 3, train.Mean, train.Std)
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Finalize()
		var last float64
		if err := tr.Fit(nil, train, func(_, _ int, l float64) { last = l }); err != nil {
			t.Fatal(err)
		}
		return last
	}
	a, b, c := run(5), run(5), run(6)
	if a != b {
		t.Errorf("same seed gave losses %v and %v", a, b)
	}
	if a == c {
		t.Errorf("different seeds gave the same loss %v", a)
	}
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
	}{
		{"optimizer", Config{Optimizer: "rmsprop"}},
		{"augment", Config{Augment: "mixup"}},
		{"model", Config{Model: "resnet9000"}},
		{"lr", Config{LR: -1}},
		{"host augment mode", Config{Augment: "randaug", HostAugment: "per_batch"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(backend, tc.cfg, 10, 8, 8, 3, []float32{0, 0, 0}, []float32{1, 1, 1}); err == nil {
				t.Fatalf("config %+v accepted, want an error", tc.cfg)
			}
		})
	}
}

func TestSchedule(t *testing.T) {
	c := Config{}.Defaults()
	if c.Epochs != 300 || c.BatchSize != 256 || c.LR != 0.01 || c.Momentum != 0.9 || c.WeightDecay != 5e-4 {
		t.Errorf("defaults %+v differ from the reference protocol", c)
	}
	if c.DecayEpoch() != 151 || c.NumPasses() != 301 {
		t.Errorf("decay after pass %d of %d, want 151 of 301", c.DecayEpoch(), c.NumPasses())
	}
	if a := (Config{Augment: "dsa"}).Defaults(); a.Epochs != 1000 {
		t.Errorf("with augmentation epochs = %d, want 1000", a.Epochs)
	}
	if a := (Config{Optimizer: "adam"}).Defaults(); a.LR != 0.003 || a.WeightDecay != 0 || a.Decays() {
		t.Errorf("adam lr = %g, weight decay %g, decays %v; want DC-Bench's evaluator: 0.003, 0, false", a.LR, a.WeightDecay, a.Decays())
	}
	_ = math.Pi
}

// TestPassLossWeightsBatches checks that the pass loss Fit reports is the per-image mean, each
// batch weighted by its size, as the reference's epoch(): with 8 images in batches of 3, the
// last batch (2 images) counts 2/8, not 1/3. The same steps are replayed by hand on a twin
// trainer (same seed, same order) to get each batch's loss.
func TestPassLossWeightsBatches(t *testing.T) {
	train := toyData(8, 8, 4, 1)
	if train.N != 8 {
		t.Fatalf("toy data has %d images, want 8", train.N)
	}
	cfg := Config{Model: "convnet", ModelParams: map[string]any{"convnet_width": 4, "convnet_depth": 1},
		Epochs: 1, BatchSize: 3, LR: 0.05, Seed: 3} // 2 passes; the first is checked
	order := []int{5, 0, 7, 2, 6, 1, 3, 4}
	mk := func() *Trainer {
		tr, err := New(backend, cfg, 4, 8, 8, 3, train.Mean, train.Std)
		if err != nil {
			t.Fatal(err)
		}
		tr.perm = func(int) []int { return order }
		return tr
	}
	fit, twin := mk(), mk()
	defer fit.Finalize()
	defer twin.Finalize()
	var reported float64
	var passes int
	if err := fit.Fit(nil, train, func(ep, _ int, l float64) {
		if ep == 1 {
			reported = l
		}
		passes++
	}); err != nil {
		t.Fatal(err)
	}
	if passes != 2 {
		t.Fatalf("%d passes, want 2", passes)
	}
	var sum, unweighted float64
	var buf []float32
	for start := 0; start < 8; start += 3 {
		idx := order[start:min(start+3, 8)]
		buf = train.Batch(idx, buf[:0])
		l, err := twin.Step(buf, train.Labels32(idx))
		if err != nil {
			t.Fatal(err)
		}
		sum += l * float64(len(idx))
		unweighted += l / 3
	}
	want := sum / 8
	if math.Abs(reported-want) > 1e-6*math.Abs(want) {
		t.Errorf("pass loss %.9g, want the per-image mean %.9g (the unweighted mean of batches is %.9g)", reported, want, unweighted)
	}
}

// TestHostAugmentMode: the host augmentations default to DC-Bench's evaluator (one draw per
// batch, uint8 images, the ImageNet AutoAugment policy for TinyImageNet's 64×64).
func TestHostAugmentMode(t *testing.T) {
	for _, tc := range []struct {
		augment, mode string
		wantMode      string
	}{
		{"randaug", "", HostAugmentReference},
		{"AutoAug", "Per_Image", HostAugmentPerImage},
		{"imagenet_aug", "reference", HostAugmentReference},
		{"dsa", "", ""},
		{"dc_aug", "", ""},
		{"none", "", ""},
	} {
		if got := (Config{Augment: tc.augment, HostAugment: tc.mode}).Defaults().HostAugment; got != tc.wantMode {
			t.Errorf("augment %q mode %q: defaulted to %q, want %q", tc.augment, tc.mode, got, tc.wantMode)
		}
	}
	for _, tc := range []struct {
		mode string
		h, w int
		want augment.HostOptions
	}{
		{HostAugmentReference, 32, 32, augment.HostOptions{PerBatch: true, Uint8: true}},
		{HostAugmentReference, 64, 64, augment.HostOptions{PerBatch: true, Uint8: true, AutoAugPolicy: augment.PolicyImageNet}},
		{HostAugmentPerImage, 28, 28, augment.HostOptions{}},
		{HostAugmentPerImage, 64, 64, augment.HostOptions{AutoAugPolicy: augment.PolicyImageNet}},
	} {
		if got := HostOptions(tc.mode, tc.h, tc.w); got != tc.want {
			t.Errorf("HostOptions(%q, %d, %d) = %+v, want %+v", tc.mode, tc.h, tc.w, got, tc.want)
		}
	}
}
