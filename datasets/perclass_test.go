package datasets

import (
	"slices"
	"testing"
)

func TestHeadAndSamplePerClass(t *testing.T) {
	d := tiny()
	counts := d.ClassCounts()
	for _, n := range []int{0, 1, 2, 100} {
		head := d.HeadPerClass(n)
		a, err := d.SamplePerClass(n, 7, 3)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := d.SamplePerClass(n, 7, 3)
		for _, s := range []*Dataset{head, a} {
			got := s.ClassCounts()
			for c := range counts {
				if want := min(n, counts[c]); got[c] != want {
					t.Errorf("n=%d: class %d has %d images, want %d", n, c, got[c], want)
				}
			}
		}
		if !slices.Equal(a.Images, b.Images) {
			t.Errorf("n=%d: the same seed and salt gave different samples", n)
		}
		// HeadPerClass keeps each class's first images, in order.
		var want []int
		for c := range counts {
			ci := d.ClassIndices(c)
			want = append(want, ci[:min(n, len(ci))]...)
		}
		if !slices.Equal(head.Labels, d.Labels32(want)) || !slices.Equal(head.Images, d.Batch(want, nil)) {
			t.Errorf("n=%d: HeadPerClass is not the first images of each class", n)
		}
	}
}
