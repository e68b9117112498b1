package gm_test

import (
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/backends"

	"github.com/dcbench/dcbench/datasets"
	"github.com/dcbench/dcbench/dcbench"
)

// TestRegistered runs DC and DSA through dcbench.Condense, by their registry names.
func TestRegistered(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	d := &datasets.Dataset{Name: "toy", Split: "train", N: 8, H: 6, W: 6, C: 1, Classes: []string{"a", "b"},
		Mean: []float32{0.5}, Std: []float32{0.25}, Normalized: true}
	for i := range d.N {
		d.Labels = append(d.Labels, int32(i%2))
		for range d.ImageSize() {
			d.Images = append(d.Images, float32(rng.NormFloat64()))
		}
	}
	be := backends.MustNew()
	for _, name := range []string{"dc", "DSA"} {
		set, err := dcbench.Condense(d, dcbench.CondenseOptions{Method: name, IPC: 2, Seed: 3, Backend: be,
			Params: map[string]any{"iterations": 1, "outer_loop": 2, "inner_loop": 1, "batch_real": 4,
				"convnet_width": 4, "convnet_depth": 1}})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if set.Method != map[string]string{"dc": "dc", "DSA": "dsa"}[name] || set.Data.N != 4 {
			t.Errorf("%s: method %q, %d images", name, set.Method, set.Data.N)
		}
	}
}
