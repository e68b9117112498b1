package datasets

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// tiny returns a 6-image, 2x2x3 dataset with labels 0,1,2,0,1,0 and pixel values
// (i*12+k)/100 for value k of image i.
func tiny() *Dataset {
	d := &Dataset{
		Name: "toy", Split: "train", N: 6, H: 2, W: 2, C: 3,
		Labels:  []int32{0, 1, 2, 0, 1, 0},
		Classes: []string{"a", "b", "c"},
		Mean:    []float32{0.5, 0.4, 0.3}, Std: []float32{0.2, 0.25, 0.5},
	}
	for i := range 6 * 12 {
		d.Images = append(d.Images, float32(i%72)/100)
	}
	return d
}

func TestDatasetBasics(t *testing.T) {
	d := tiny()
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	if d.ImageSize() != 12 || d.NumClasses() != 3 {
		t.Fatalf("ImageSize=%d NumClasses=%d", d.ImageSize(), d.NumClasses())
	}
	img := d.Image(2)
	if len(img) != 12 || cap(img) != 12 || img[0] != 0.24 {
		t.Fatalf("Image(2) = %v (cap %d)", img, cap(img))
	}
	img[0] = 9
	if d.Images[24] != 9 {
		t.Fatal("Image is not a view")
	}
	if got := d.String(); got != "toy/train: 6x2x2x3, 3 classes" {
		t.Fatalf("String() = %q", got)
	}
	if got := d.ClassCounts(); !slices.Equal(got, []int{3, 2, 1}) {
		t.Fatalf("ClassCounts = %v", got)
	}
}

func TestClassIndices(t *testing.T) {
	d := tiny()
	for _, tc := range []struct {
		class int
		want  []int
	}{{0, []int{0, 3, 5}}, {1, []int{1, 4}}, {2, []int{2}}, {3, nil}, {-1, nil}} {
		got := d.ClassIndices(tc.class)
		if !slices.Equal(got, tc.want) {
			t.Errorf("ClassIndices(%d) = %v, want %v", tc.class, got, tc.want)
		}
		if len(got) > 0 {
			got[0] = 100 // must not corrupt the cache
		}
	}
	if got := d.ClassIndices(0); !slices.Equal(got, []int{0, 3, 5}) {
		t.Fatalf("cache corrupted: %v", got)
	}
	// Replacing Labels invalidates the cache.
	d.Labels = []int32{2, 2, 2, 2, 2, 1}
	if got := d.ClassIndices(2); !slices.Equal(got, []int{0, 1, 2, 3, 4}) {
		t.Fatalf("after replacing Labels: %v", got)
	}
}

func TestNormalizeRoundTrip(t *testing.T) {
	d := tiny()
	orig := slices.Clone(d.Images)
	d.Normalize()
	if !d.Normalized {
		t.Fatal("Normalized not set")
	}
	// Value k of image i sits in channel k%3.
	for i, v := range d.Images {
		c := i % 3
		want := (orig[i] - d.Mean[c]) / d.Std[c]
		if math.Abs(float64(v-want)) > 1e-6 {
			t.Fatalf("Images[%d] = %v, want %v", i, v, want)
		}
	}
	once := slices.Clone(d.Images)
	d.Normalize() // no-op
	if !slices.Equal(once, d.Images) {
		t.Fatal("second Normalize changed the images")
	}
	d.Denormalize()
	if d.Normalized || maxAbsDiff(d.Images, orig) > 1e-6 {
		t.Fatalf("round trip error %g", maxAbsDiff(d.Images, orig))
	}
	d.Denormalize() // no-op
	if maxAbsDiff(d.Images, orig) > 1e-6 {
		t.Fatal("Denormalize of raw data changed it")
	}
}

func TestNormalizePanicsOnBadConstants(t *testing.T) {
	d := tiny()
	d.Std = d.Std[:2]
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	d.Normalize()
}

func TestSampleClass(t *testing.T) {
	d := &Dataset{Name: "toy", Split: "train", N: 100, H: 1, W: 1, C: 1, Classes: []string{"even", "odd"},
		Mean: []float32{0}, Std: []float32{1}, Images: make([]float32, 100)}
	for i := range 100 {
		d.Labels = append(d.Labels, int32(i%2))
	}
	a, err := d.SampleClass(1, 20, rand.New(rand.NewPCG(7, 8)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := d.SampleClass(1, 20, rand.New(rand.NewPCG(7, 8)))
	c, _ := d.SampleClass(1, 20, rand.New(rand.NewPCG(9, 8)))
	if !slices.Equal(a, b) {
		t.Fatalf("same seed, different samples: %v %v", a, b)
	}
	if slices.Equal(a, c) {
		t.Fatalf("different seeds, same samples: %v", a)
	}
	seen := map[int]bool{}
	for _, i := range a {
		if i%2 != 1 || seen[i] || i < 0 || i >= 100 {
			t.Fatalf("bad sample %v", a)
		}
		seen[i] = true
	}
	all, err := d.SampleClass(0, 50, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(all)
	if !slices.Equal(all, d.ClassIndices(0)) {
		t.Fatalf("sampling the whole class: %v", all)
	}
	for _, tc := range []struct {
		class, n int
		rng      *rand.Rand
		parts    []string
	}{
		{0, 51, rand.New(rand.NewPCG(1, 2)), []string{"class 0", `"even"`, "has 50 images", "cannot sample 51"}},
		{2, 1, rand.New(rand.NewPCG(1, 2)), []string{"class 2 out of range"}},
		{0, -1, rand.New(rand.NewPCG(1, 2)), []string{"cannot sample -1"}},
		{0, 1, nil, []string{"rand.Rand"}},
	} {
		_, err := d.SampleClass(tc.class, tc.n, tc.rng)
		wantErr(t, err, tc.parts...)
	}
}

// TestSampleClassUniform checks that every index of a class is drawn about equally often.
func TestSampleClassUniform(t *testing.T) {
	d := &Dataset{N: 10, H: 1, W: 1, C: 1, Classes: []string{"x"}, Labels: make([]int32, 10), Images: make([]float32, 10)}
	rng := rand.New(rand.NewPCG(3, 4))
	counts := make([]int, 10)
	for range 20000 {
		s, err := d.SampleClass(0, 3, rng)
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range s {
			counts[i]++
		}
	}
	for i, c := range counts { // expected 6000 each, sd about 65
		if c < 5600 || c > 6400 {
			t.Fatalf("index %d drawn %d times: %v", i, c, counts)
		}
	}
}

func TestSubsetBatchLabels(t *testing.T) {
	d := tiny()
	idx := []int{5, 1, 5}
	s := d.Subset(idx)
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if s.N != 3 || !slices.Equal(s.Labels, []int32{0, 1, 0}) || !slices.Equal(s.Image(1), d.Image(1)) || !slices.Equal(s.Image(0), d.Image(5)) {
		t.Fatalf("Subset = %+v", s)
	}
	s.Images[0] = -1
	s.Classes[0] = "changed"
	if d.Images[60] == -1 || d.Classes[0] != "a" {
		t.Fatal("Subset shares memory with the original")
	}
	buf := make([]float32, 0, 100)
	got := d.Batch([]int{2, 0}, buf)
	if &got[0] != &buf[:1][0] || len(got) != 24 {
		t.Fatal("Batch did not reuse dst")
	}
	if !slices.Equal(got[:12], d.Image(2)) || !slices.Equal(got[12:], d.Image(0)) {
		t.Fatalf("Batch = %v", got)
	}
	if got := d.Batch([]int{1}, make([]float32, 3)); len(got) != 12 || !slices.Equal(got, d.Image(1)) {
		t.Fatalf("Batch with small dst = %v", got)
	}
	if got := d.Labels32([]int{2, 4, 0}); !slices.Equal(got, []int32{2, 1, 0}) {
		t.Fatalf("Labels32 = %v", got)
	}
}

func TestShuffle(t *testing.T) {
	a := Shuffle(50, rand.New(rand.NewPCG(1, 1)))
	b := Shuffle(50, rand.New(rand.NewPCG(1, 1)))
	if !slices.Equal(a, b) {
		t.Fatal("same seed, different permutations")
	}
	sorted := slices.Sorted(slices.Values(a))
	for i, v := range sorted {
		if v != i {
			t.Fatalf("not a permutation: %v", a)
		}
	}
	if slices.Equal(a, sorted) {
		t.Fatal("identity permutation")
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		modify func(d *Dataset)
		want   string // "" for valid
	}{
		{"ok", func(*Dataset) {}, ""},
		{"images length", func(d *Dataset) { d.Images = d.Images[:10] }, "len(Images)=10"},
		{"labels length", func(d *Dataset) { d.Labels = d.Labels[:5] }, "len(Labels)=5"},
		{"label range", func(d *Dataset) { d.Labels[3] = 3 }, "label 3 of image 3"},
		{"negative label", func(d *Dataset) { d.Labels[0] = -1 }, "label -1 of image 0"},
		{"shape", func(d *Dataset) { d.C = 0 }, "bad shape"},
		{"no classes", func(d *Dataset) { d.Classes = nil; d.Labels = make([]int32, 6) }, "no classes"},
		{"mean length", func(d *Dataset) { d.Mean = d.Mean[:1] }, "Mean and Std"},
		{"zero std", func(d *Dataset) { d.Std[1] = 0 }, "Std[1]"},
		{"pixel range", func(d *Dataset) { d.Images[7] = 1.5 }, "pixel 7"},
		{"normalized allows any range", func(d *Dataset) { d.Images[7] = 1.5; d.Normalized = true }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := tiny()
			tc.modify(d)
			err := d.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantErr(t, err, tc.want)
		})
	}
}

func TestChannelStats(t *testing.T) {
	d := &Dataset{N: 2, H: 1, W: 2, C: 2, Images: []float32{0, 1, 1, 1, 0, 1, 1, 1}}
	mean, std := d.ChannelStats()
	if maxAbsDiff(mean, []float32{0.5, 1}) > 1e-7 || maxAbsDiff(std, []float32{0.5, 0}) > 1e-7 {
		t.Fatalf("mean %v std %v", mean, std)
	}
}
