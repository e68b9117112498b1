// Package datasets loads the image-classification datasets used by DC-Bench (CIFAR-10,
// CIFAR-100, TinyImageNet, MNIST and Fashion-MNIST) into flat float32 NHWC arrays, downloads
// and verifies the official archives, and ships a small real CIFAR-10 subset embedded in the
// binary so that examples and tests work offline.
//
// Every loader returns raw pixels scaled to [0,1] together with the per-channel mean and
// standard deviation of the dataset family; call Dataset.Normalize (or Pair.Normalize) to get
// (x-mean)/std. All randomness goes through an explicit *rand.Rand (math/rand/v2).
package datasets

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync/atomic"
)

// Dataset is one split of an image-classification dataset, images float32 NHWC.
type Dataset struct {
	Name       string    // registry name, e.g. "cifar10"
	Split      string    // "train" or "test"
	Images     []float32 // N*H*W*C values, NHWC, row-major; raw pixels scaled to [0,1] unless Normalized
	Labels     []int32   // N labels in [0, len(Classes))
	N, H, W, C int
	Classes    []string  // class names in official order
	Mean, Std  []float32 // per-channel normalisation constants of the dataset family (len C)
	Normalized bool      // whether Images are (x-mean)/std

	// byClass caches the per-class index lists built by ClassIndices and SampleClass
	// (a *classIndex). atomic.Value keeps concurrent use safe and is not flagged when a
	// Dataset is copied.
	byClass atomic.Value
}

// classIndex is the cached result of grouping Labels by class; labels0 and n identify the
// Labels slice it was computed from, so replacing Labels invalidates it.
type classIndex struct {
	labels0 *int32
	n       int
	lists   [][]int
}

// Pair holds the train and test splits of a dataset.
type Pair struct{ Train, Test *Dataset }

// Normalize normalises both splits in place (see Dataset.Normalize).
func (p *Pair) Normalize() {
	p.Train.Normalize()
	p.Test.Normalize()
}

// Denormalize undoes Normalize on both splits (see Dataset.Denormalize).
func (p *Pair) Denormalize() {
	p.Train.Denormalize()
	p.Test.Denormalize()
}

// String describes the dataset shape, e.g. "cifar10/train: 50000x32x32x3, 10 classes".
func (d *Dataset) String() string {
	norm := ""
	if d.Normalized {
		norm = ", normalized"
	}
	return fmt.Sprintf("%s/%s: %dx%dx%dx%d, %d classes%s", d.Name, d.Split, d.N, d.H, d.W, d.C, len(d.Classes), norm)
}

// ImageSize returns the number of float32 values of one image, H*W*C.
func (d *Dataset) ImageSize() int { return d.H * d.W * d.C }

// NumClasses returns the number of classes, len(Classes).
func (d *Dataset) NumClasses() int { return len(d.Classes) }

// Image returns image i as a view into Images (H*W*C values, HWC order). Writing to it
// modifies the dataset; its capacity is limited so appending to it cannot.
func (d *Dataset) Image(i int) []float32 {
	s := d.ImageSize()
	return d.Images[i*s : (i+1)*s : (i+1)*s]
}

// Normalize replaces every pixel x of channel c by (x-Mean[c])/Std[c], in place. It does
// nothing if the dataset is already normalised. It panics if Mean or Std do not have C
// entries (Validate reports that as an error).
func (d *Dataset) Normalize() {
	if d.Normalized {
		return
	}
	d.mustConstants()
	scale := make([]float32, d.C)
	for c := range scale {
		scale[c] = 1 / d.Std[c]
	}
	C := d.C
	for i := 0; i < len(d.Images); i += C {
		px := d.Images[i : i+C : i+C]
		for c := range px {
			px[c] = (px[c] - d.Mean[c]) * scale[c]
		}
	}
	d.Normalized = true
}

// Denormalize undoes Normalize, in place: x*Std[c]+Mean[c]. It does nothing if the dataset is
// not normalised.
func (d *Dataset) Denormalize() {
	if !d.Normalized {
		return
	}
	d.mustConstants()
	C := d.C
	for i := 0; i < len(d.Images); i += C {
		px := d.Images[i : i+C : i+C]
		for c := range px {
			px[c] = px[c]*d.Std[c] + d.Mean[c]
		}
	}
	d.Normalized = false
}

func (d *Dataset) mustConstants() {
	if err := d.checkConstants(); err != nil {
		panic(err)
	}
}

func (d *Dataset) checkConstants() error {
	if len(d.Mean) != d.C || len(d.Std) != d.C {
		return fmt.Errorf("datasets: %s/%s: Mean and Std must have C=%d entries, have %d and %d", d.Name, d.Split, d.C, len(d.Mean), len(d.Std))
	}
	for c, s := range d.Std {
		if !(s > 0) || math.IsInf(float64(s), 0) {
			return fmt.Errorf("datasets: %s/%s: Std[%d]=%v, want a positive finite value", d.Name, d.Split, c, s)
		}
	}
	return nil
}

// index returns the per-class index lists, computing and caching them on first use. The
// cache is keyed on the Labels slice (its first element and length): code that modifies
// Labels in place after calling ClassIndices or SampleClass must replace the slice instead.
func (d *Dataset) index() [][]int {
	var first *int32
	if len(d.Labels) > 0 {
		first = &d.Labels[0]
	}
	if ci, ok := d.byClass.Load().(*classIndex); ok && ci.labels0 == first && ci.n == len(d.Labels) && len(ci.lists) == len(d.Classes) {
		return ci.lists
	}
	counts := make([]int, len(d.Classes))
	for _, l := range d.Labels {
		if l >= 0 && int(l) < len(counts) {
			counts[l]++
		}
	}
	lists := make([][]int, len(d.Classes))
	for c := range lists {
		lists[c] = make([]int, 0, counts[c])
	}
	for i, l := range d.Labels {
		if l >= 0 && int(l) < len(lists) {
			lists[l] = append(lists[l], i)
		}
	}
	d.byClass.Store(&classIndex{labels0: first, n: len(d.Labels), lists: lists})
	return lists
}

// ClassIndices returns the indices of all images of class c, in ascending order (a fresh
// slice the caller may modify). It returns nil for a class outside [0, NumClasses()).
//
// The per-class lists behind ClassIndices, ClassCounts and SampleClass are computed once
// and cached (safe for concurrent use). After changing labels in place, assign a new slice
// to Labels so that they are recomputed.
func (d *Dataset) ClassIndices(c int) []int {
	if c < 0 || c >= len(d.Classes) {
		return nil
	}
	return append([]int(nil), d.index()[c]...)
}

// ClassCounts returns the number of images of each class.
func (d *Dataset) ClassCounts() []int {
	lists := d.index()
	counts := make([]int, len(lists))
	for c, l := range lists {
		counts[c] = len(l)
	}
	return counts
}

// SampleClass returns n distinct indices of images of class c, drawn uniformly at random
// with rng, in the order drawn. The same rng state gives the same result. It returns an
// error if c is not a class, n is negative, rng is nil or the class has fewer than n images.
func (d *Dataset) SampleClass(c, n int, rng *rand.Rand) ([]int, error) {
	if c < 0 || c >= len(d.Classes) {
		return nil, fmt.Errorf("datasets: %s/%s: class %d out of range [0,%d)", d.Name, d.Split, c, len(d.Classes))
	}
	if rng == nil {
		return nil, errors.New("datasets: SampleClass needs a non-nil *rand.Rand")
	}
	if n < 0 {
		return nil, fmt.Errorf("datasets: %s/%s: cannot sample %d images", d.Name, d.Split, n)
	}
	list := d.index()[c]
	if n > len(list) {
		return nil, fmt.Errorf("datasets: %s/%s: class %d (%q) has %d images, cannot sample %d", d.Name, d.Split, c, d.Classes[c], len(list), n)
	}
	return sampleDistinct(list, n, rng), nil
}

// HeadPerClass returns the first n images of every class (all of a smaller class), class
// by class in class order: a deterministic, class-balanced subset.
func (d *Dataset) HeadPerClass(n int) *Dataset {
	var idx []int
	for c := range d.NumClasses() {
		ci := d.ClassIndices(c)
		idx = append(idx, ci[:min(max(n, 0), len(ci))]...)
	}
	return d.Subset(idx)
}

// SamplePerClass returns n images of every class (all of a smaller class) drawn at random
// without replacement, class by class in class order. Class c draws from the stream
// rand.NewPCG(seed, salt+c), so the same (seed, salt) gives the same subset and different
// salts give independent ones.
func (d *Dataset) SamplePerClass(n int, seed, salt uint64) (*Dataset, error) {
	var idx []int
	for c := range d.NumClasses() {
		pick, err := d.SampleClass(c, min(max(n, 0), len(d.ClassIndices(c))), rand.New(rand.NewPCG(seed, salt+uint64(c))))
		if err != nil {
			return nil, err
		}
		idx = append(idx, pick...)
	}
	return d.Subset(idx), nil
}

// sampleDistinct returns n elements of list drawn without replacement: a partial
// Fisher-Yates shuffle whose swaps are kept in a map, so it costs O(n), not O(len(list)).
func sampleDistinct(list []int, n int, rng *rand.Rand) []int {
	out := make([]int, n)
	swapped := make(map[int]int, n)
	at := func(i int) int {
		if v, ok := swapped[i]; ok {
			return v
		}
		return list[i]
	}
	m := len(list)
	for i := range n {
		j := i + rng.IntN(m-i)
		vi, vj := at(i), at(j)
		out[i] = vj
		swapped[j] = vi
	}
	return out
}

// Subset returns a new dataset holding copies of the images and labels at idx, in that
// order (indices may repeat). It panics if an index is out of range, like slice indexing.
func (d *Dataset) Subset(idx []int) *Dataset {
	s := &Dataset{
		Name: d.Name, Split: d.Split,
		N: len(idx), H: d.H, W: d.W, C: d.C,
		Classes:    append([]string(nil), d.Classes...),
		Mean:       append([]float32(nil), d.Mean...),
		Std:        append([]float32(nil), d.Std...),
		Normalized: d.Normalized,
	}
	s.Images = d.Batch(idx, nil)
	s.Labels = d.Labels32(idx)
	return s
}

// Batch copies the images at idx, in that order, into dst and returns it. dst is reused when
// its capacity holds len(idx)*ImageSize() values, otherwise a new slice is allocated (pass
// nil to always allocate). It panics if an index is out of range.
func (d *Dataset) Batch(idx []int, dst []float32) []float32 {
	s := d.ImageSize()
	need := len(idx) * s
	if cap(dst) >= need {
		dst = dst[:need]
	} else {
		dst = make([]float32, need)
	}
	for k, i := range idx {
		copy(dst[k*s:(k+1)*s], d.Images[i*s:(i+1)*s])
	}
	return dst
}

// Labels32 returns the labels at idx, in that order.
func (d *Dataset) Labels32(idx []int) []int32 {
	out := make([]int32, len(idx))
	for k, i := range idx {
		out[k] = d.Labels[i]
	}
	return out
}

// Shuffle returns a random permutation of 0..n-1 drawn with rng.
func Shuffle(n int, rng *rand.Rand) []int { return rng.Perm(n) }

// ChannelStats returns the per-channel mean and (population) standard deviation of Images,
// computed in float64. It describes the current values, normalised or not.
func (d *Dataset) ChannelStats() (mean, std []float32) {
	C := d.C
	if C <= 0 {
		return nil, nil
	}
	sum := make([]float64, C)
	sq := make([]float64, C)
	for i := 0; i+C <= len(d.Images); i += C {
		for c := range C {
			v := float64(d.Images[i+c])
			sum[c] += v
			sq[c] += v * v
		}
	}
	n := float64(len(d.Images) / C)
	mean = make([]float32, C)
	std = make([]float32, C)
	if n == 0 {
		return mean, std
	}
	for c := range C {
		m := sum[c] / n
		mean[c] = float32(m)
		std[c] = float32(math.Sqrt(max(0, sq[c]/n-m*m)))
	}
	return mean, std
}

// Validate checks that the shapes, labels, classes and normalisation constants are
// consistent, and returns an error describing the first problem found.
func (d *Dataset) Validate() error {
	where := fmt.Sprintf("datasets: %s/%s", d.Name, d.Split)
	switch {
	case d.N < 0 || d.H <= 0 || d.W <= 0 || d.C <= 0:
		return fmt.Errorf("%s: bad shape N=%d H=%d W=%d C=%d", where, d.N, d.H, d.W, d.C)
	case len(d.Images) != d.N*d.H*d.W*d.C:
		return fmt.Errorf("%s: len(Images)=%d, want N*H*W*C=%d", where, len(d.Images), d.N*d.H*d.W*d.C)
	case len(d.Labels) != d.N:
		return fmt.Errorf("%s: len(Labels)=%d, want N=%d", where, len(d.Labels), d.N)
	case len(d.Classes) == 0:
		return fmt.Errorf("%s: no classes", where)
	}
	for i, l := range d.Labels {
		if l < 0 || int(l) >= len(d.Classes) {
			return fmt.Errorf("%s: label %d of image %d out of range [0,%d)", where, l, i, len(d.Classes))
		}
	}
	if err := d.checkConstants(); err != nil {
		return err
	}
	if !d.Normalized {
		for i, v := range d.Images {
			if !(v >= 0 && v <= 1) {
				return fmt.Errorf("%s: pixel %d = %v outside [0,1] although Normalized is false", where, i, v)
			}
		}
	}
	return nil
}
