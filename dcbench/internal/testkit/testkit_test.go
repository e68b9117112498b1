package testkit

import "testing"

func TestToyData(t *testing.T) {
	d := ToyData(3, 4, 2, 7)
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	if d.N != 12 || len(d.Images) != 12*2*2*3 || len(d.Classes) != 3 {
		t.Fatalf("N %d, %d values, classes %v", d.N, len(d.Images), d.Classes)
	}
	// Class k is brighter by k: the class means are ordered.
	mean := make([]float64, 3)
	for i := 0; i < d.N; i++ {
		for _, v := range d.Image(i) {
			mean[d.Labels[i]] += float64(v)
		}
	}
	if !(mean[0] < mean[1] && mean[1] < mean[2]) {
		t.Errorf("class sums %v are not increasing", mean)
	}
	again := ToyData(3, 4, 2, 7)
	for i := range d.Images {
		if d.Images[i] != again.Images[i] {
			t.Fatal("same seed, different data")
		}
	}
}
