package herding

import (
	stdctx "context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gomlx/gomlx/backends"

	"github.com/dcbench/dcbench/datasets"
	"github.com/dcbench/dcbench/dcbench/internal/testkit"
	"github.com/dcbench/dcbench/dcbench/method"
)

var backend backends.Backend

func TestMain(m *testing.M) { testkit.Main(m, &backend) }

func TestHerd(t *testing.T) {
	cases := []struct {
		name string
		x    []float32
		dim  int
		k    int
		want []int
	}{
		// Mean 3.2: first 3 (closest); then (3+x)/2 ≈ 3.2 wants x = 3.4: 2 (mean 2.5) beats 10
		// (6.5); then (5+x)/3 wants 4.6: 1 (mean 2) beats 10 (5) and 0 (1.67); then (6+x)/4
		// wants 6.8: 10 (4) beats 0 (1.5).
		{"1-D", []float32{0, 1, 2, 3, 10}, 1, 4, []int{3, 2, 1, 4}},
		// Square corners and the centre: the centre is the mean; then the running mean stays
		// at the centre only with opposite corners, ties going to the lowest index.
		{"2-D square", []float32{0, 0, 2, 0, 0, 2, 2, 2, 1, 1}, 2, 3, []int{4, 0, 3}},
		{"all", []float32{5, 1, 3}, 1, 3, []int{2, 0, 1}},
		{"none", []float32{5, 1, 3}, 1, 0, []int{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Herd(tc.x, len(tc.x)/tc.dim, tc.dim, tc.k)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("picks %v, want %v", got, tc.want)
			}
		})
	}
	if _, err := Herd([]float32{1, 2}, 2, 1, 3); err == nil {
		t.Errorf("no error picking 3 of 2")
	}
}

func TestHerdLargeIsDistinctAndParallelSafe(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	n, dim := 1000, 7
	x := make([]float32, n*dim)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	got, err := Herd(x, n, dim, 50)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, i := range got {
		if seen[i] {
			t.Fatalf("row %d picked twice", i)
		}
		seen[i] = true
	}
	again, _ := Herd(x, n, dim, 50)
	if !slices.Equal(got, again) {
		t.Errorf("not deterministic")
	}
}

func ExampleHerd() {
	picks, _ := Herd([]float32{0, 1, 2, 3, 10}, 5, 1, 4)
	fmt.Println(picks)
	// Output: [3 2 1 4]
}

func TestCondense(t *testing.T) {
	d := &datasets.Dataset{Name: "toy", Split: "train", N: 12, H: 2, W: 2, C: 1, Classes: []string{"a", "b"},
		Mean: []float32{0}, Std: []float32{1}, Normalized: true}
	r := rand.New(rand.NewPCG(2, 2))
	for i := 0; i < d.N; i++ {
		d.Labels = append(d.Labels, int32(i%2))
		for j := 0; j < 4; j++ {
			d.Images = append(d.Images, float32(i%2)*3+float32(r.NormFloat64()))
		}
	}
	for _, features := range []string{"raw", "embedding"} {
		req := method.Request{Context: stdctx.Background(), Train: d, IPC: 3, Seed: 1, Backend: backend,
			Params: map[string]any{"features": features, "model": "convnetd1"}, Progress: func(int, int, string) {}}
		set, err := Herding{}.Condense(req)
		if err != nil {
			t.Fatal(err)
		}
		again, err := Herding{}.Condense(req)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(set.Labels, []int32{0, 0, 0, 1, 1, 1}) {
			t.Errorf("%s: labels %v", features, set.Labels)
		}
		if !slices.Equal(set.Images, again.Images) {
			t.Errorf("%s: same seed, different selections", features)
		}
	}
}
