package kcenter

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/backends"

	"github.com/dcbench/dcbench/datasets"
	"github.com/dcbench/dcbench/dcbench/internal/testkit"
	"github.com/dcbench/dcbench/dcbench/method"
)

var backend backends.Backend

func TestMain(m *testing.M) { testkit.Main(m, &backend) }

// threeClusters: points 0-3 around (0,0), 4-7 around (10,0), 8-11 around (0,10).
var threeClusters = []float32{
	0, 0, 1, 0, 0, 1, 1, 1,
	10, 0, 11, 0, 10, 1, 11, 1,
	0, 10, 1, 10, 0, 11, 1, 11,
}

func TestKMeans(t *testing.T) {
	cases := []struct {
		name       string
		init       []int
		wantAssign []int
		wantCentre []float32
	}{
		{"one seed per cluster", []int{0, 4, 8}, []int{0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2},
			[]float32{0.5, 0.5, 10.5, 0.5, 0.5, 10.5}},
		{"seeds in another order", []int{9, 1, 6}, []int{1, 1, 1, 1, 2, 2, 2, 2, 0, 0, 0, 0},
			[]float32{0.5, 10.5, 0.5, 0.5, 10.5, 0.5}},
		{"two seeds in one cluster", []int{0, 3, 8}, []int{0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2},
			[]float32{0.5, 0.5, 10.5, 0.5, 0.5, 10.5}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := KMeans(threeClusters, 12, 2, tc.init, 300)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Converged || !slices.Equal(res.Assign, tc.wantAssign) {
				t.Fatalf("assign %v (converged %v after %d), want %v", res.Assign, res.Converged, res.Iterations, tc.wantAssign)
			}
			for i, c := range res.Centres {
				if math.Abs(float64(c-tc.wantCentre[i])) > 1e-6 {
					t.Fatalf("centres %v, want %v", res.Centres, tc.wantCentre)
				}
			}
			if math.Abs(res.Inertia-12*0.5) > 1e-4 { // each point is 1/√2 from its centre
				t.Errorf("inertia %v, want 6", res.Inertia)
			}
		})
	}
}

func TestKMeansEmptyCluster(t *testing.T) {
	// Points 0 and 1 coincide: both centres start there and cluster 1 gets no point; it must
	// take the farthest point (the outlier 9,9) instead.
	x := []float32{0, 0, 0, 0, 1, 0, 0, 1, 9, 9}
	res, err := KMeans(x, 5, 2, []int{0, 1}, 300)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Assign, []int{0, 0, 0, 0, 1}) || res.Centres[2] != 9 || res.Centres[3] != 9 {
		t.Errorf("assign %v centres %v, want the outlier alone in cluster 1", res.Assign, res.Centres)
	}
}

func TestKMeansErrors(t *testing.T) {
	cases := []struct {
		name string
		init []int
		iter int
	}{
		{"duplicate init", []int{1, 1}, 10},
		{"init out of range", []int{0, 12}, 10},
		{"no centres", nil, 10},
		{"no iterations", []int{0}, 0},
	}
	for _, tc := range cases {
		if _, err := KMeans(threeClusters, 12, 2, tc.init, tc.iter); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

func TestDistancesMatchNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n, k, dim := 13, 5, 37
	x := make([]float32, n*dim)
	c := make([]float32, k*dim)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	for i := range c {
		c[i] = float32(r.NormFloat64())
	}
	out := make([]float32, n*k)
	distances(x, rowNorms(x, n, dim), n, dim, c, rowNorms(c, k, dim), k, out)
	for i := 0; i < n; i++ {
		for j := 0; j < k; j++ {
			var s float64
			for d := 0; d < dim; d++ {
				v := float64(x[i*dim+d] - c[j*dim+d])
				s += v * v
			}
			if math.Abs(s-float64(out[i*k+j])) > 1e-3*max(1, s) {
				t.Fatalf("distance %d,%d = %v, want %v", i, j, out[i*k+j], s)
			}
		}
	}
}

// naiveLloyd is the textbook algorithm in float64 (no empty clusters expected).
func naiveLloyd(x []float32, n, dim int, init []int, maxIter int) (assign []int, iters int) {
	k := len(init)
	c := make([]float64, k*dim)
	for j, i := range init {
		for d := 0; d < dim; d++ {
			c[j*dim+d] = float64(x[i*dim+d])
		}
	}
	assign = make([]int, n)
	for i := range assign {
		assign[i] = -1
	}
	for iters < maxIter {
		changed := 0
		for i := 0; i < n; i++ {
			best, bd := 0, math.Inf(1)
			for j := 0; j < k; j++ {
				var s float64
				for d := 0; d < dim; d++ {
					v := float64(x[i*dim+d]) - c[j*dim+d]
					s += v * v
				}
				if s < bd {
					best, bd = j, s
				}
			}
			if assign[i] != best {
				assign[i] = best
				changed++
			}
		}
		iters++
		if changed == 0 {
			break
		}
		clear(c)
		counts := make([]int, k)
		for i, j := range assign {
			counts[j]++
			for d := 0; d < dim; d++ {
				c[j*dim+d] += float64(x[i*dim+d])
			}
		}
		for j := 0; j < k; j++ {
			for d := 0; d < dim; d++ {
				c[j*dim+d] /= float64(counts[j])
			}
		}
	}
	return assign, iters
}

// TestKMeansMatchesLloyd: the pruned steps give the assignments and step count of plain
// Lloyd on overlapping Gaussian clusters (where many steps are needed).
func TestKMeansMatchesLloyd(t *testing.T) {
	for _, tc := range []struct{ n, dim, k, clusters int }{{400, 16, 8, 5}, {300, 3, 12, 12}, {50, 5, 1, 2}, {200, 40, 20, 4}} {
		t.Run(fmt.Sprintf("n%d_dim%d_k%d", tc.n, tc.dim, tc.k), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(tc.n), uint64(tc.k)))
			means := make([]float64, tc.clusters*tc.dim)
			for i := range means {
				means[i] = 0.7 * r.NormFloat64()
			}
			x := make([]float32, tc.n*tc.dim)
			for i := 0; i < tc.n; i++ {
				m := r.IntN(tc.clusters)
				for d := 0; d < tc.dim; d++ {
					x[i*tc.dim+d] = float32(means[m*tc.dim+d] + r.NormFloat64())
				}
			}
			init := r.Perm(tc.n)[:tc.k]
			res, err := KMeans(x, tc.n, tc.dim, init, 300)
			if err != nil {
				t.Fatal(err)
			}
			want, iters := naiveLloyd(x, tc.n, tc.dim, init, 300)
			if !slices.Equal(res.Assign, want) || res.Iterations != iters {
				t.Errorf("%d steps, assignments differ from Lloyd's (%d steps) at %d points", res.Iterations, iters, countDiff(res.Assign, want))
			}
			for _, maxIter := range []int{1, 2, 3} { // stopped early: the final assignment to the final centres
				res, _ := KMeans(x, tc.n, tc.dim, init, maxIter)
				want, _ := naiveLloyd(x, tc.n, tc.dim, init, maxIter+1)
				if !slices.Equal(res.Assign, want) {
					t.Errorf("maxIter %d: assignments differ from Lloyd's at %d points", maxIter, countDiff(res.Assign, want))
				}
			}
			t.Logf("%d steps", res.Iterations)
		})
	}
}

func countDiff(a, b []int) int {
	n := 0
	for i := range a {
		if a[i] != b[i] {
			n++
		}
	}
	return n
}

func TestNearestDistinct(t *testing.T) {
	// Both centres are nearest to point 0; the closer one (centre 1) gets it, centre 0 the next.
	x := []float32{0, 0, 3, 0, 10, 10}
	got, err := NearestDistinct(x, 3, 2, []float32{1, 0, 0.5, 0}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []int{1, 0}) {
		t.Errorf("picks %v, want [1 0]", got)
	}
	if _, err := NearestDistinct(x, 3, 2, make([]float32, 8), 4); err == nil {
		t.Errorf("no error for more centres than points")
	}
}

func ExampleKMeans() {
	x := []float32{0, 0, 0, 1, 9, 9, 9, 10} // two pairs of 2-D points
	res, _ := KMeans(x, 4, 2, []int{0, 1}, 300)
	fmt.Println(res.Assign, res.Centres, res.Converged)
	// Output: [0 0 1 1] [0 0.5 9 9.5] true
}

// toyData is testkit.ToyData.
func toyData(classes, n, s int, seed uint64) *datasets.Dataset {
	return testkit.ToyData(classes, n, s, seed)
}

func request(d *datasets.Dataset, ipc int, seed uint64, params map[string]any) method.Request {
	return testkit.Request(backend, d, ipc, seed, params)
}

func TestCondense(t *testing.T) {
	d := toyData(3, 6, 8, 1)
	for _, features := range []string{"raw", "embedding"} {
		t.Run(features, func(t *testing.T) {
			params := map[string]any{"features": features, "model": "convnetd1", "embed_batch": 8}
			run := func(seed uint64) *datasets.Dataset {
				set, err := KCenter{}.Condense(request(d, 2, seed, params))
				if err != nil {
					t.Fatal(err)
				}
				return set
			}
			a, b := run(1), run(1)
			if !slices.Equal(a.Labels, []int32{0, 0, 1, 1, 2, 2}) {
				t.Fatalf("labels %v", a.Labels)
			}
			if !slices.Equal(a.Images, b.Images) {
				t.Errorf("same seed, different selections")
			}
			for i := 0; i < a.N; i += 2 {
				if slices.Equal(a.Image(i), a.Image(i+1)) {
					t.Errorf("class %d: the same image twice", i/2)
				}
			}
		})
	}
}

func TestEmbedOnePass(t *testing.T) {
	d := toyData(2, 5, 8, 1)
	var steps []string
	req := request(d, 1, 1, map[string]any{"model": "convnetd1", "embed_batch": 4})
	req.Progress = func(done, total int, msg string) {
		if strings.HasPrefix(msg, "embedding network") {
			steps = append(steps, msg)
		}
	}
	feats, dim, err := Embed(req)
	if err != nil {
		t.Fatal(err)
	}
	if dim != 128*4*4 || len(feats) != d.N*dim {
		t.Errorf("features %d of dimension %d, want %d of %d", len(feats), dim, d.N*128*16, 128*16)
	}
	if len(steps) != 3 { // ceil(10/4): one pass
		t.Errorf("%d training steps, want 3 (one epoch): %v", len(steps), steps)
	}
	if _, _, err := Embed(request(d, 1, 1, map[string]any{"features": "pixels"})); err == nil ||
		!strings.Contains(err.Error(), "embedding, raw") {
		t.Errorf("unknown feature space: %v", err)
	}
}

// BenchmarkKMeansStep times one k-means step (assignment and centre update) on 5000 points of
// dimension 2048 — one CIFAR-10 class embedded by ConvNet-3 — for k = 10 and 50.
func BenchmarkKMeansStep(b *testing.B) {
	n, dim := 5000, 2048
	r := rand.New(rand.NewPCG(1, 1))
	x := make([]float32, n*dim)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	for _, k := range []int{10, 50} {
		b.Run(fmt.Sprintf("n%d_dim%d_k%d", n, dim, k), func(b *testing.B) {
			init := r.Perm(n)[:k]
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := KMeans(x, n, dim, init, 1); err != nil {
					b.Fatal(err)
				}
			}
			flops := 2 * float64(n) * float64(dim) * float64(k) * 2 // two assignments (MaxIter stops after the update)
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkKMeansRun times a whole k-means run (to convergence or 300 steps) on 5000
// clustered points of dimension 2048, k = 10 and 50, and reports the steps and the seconds
// per step (DC-Bench's Table 8 divides the K-Center time by 300 steps).
func BenchmarkKMeansRun(b *testing.B) {
	n, dim := 5000, 2048
	r := rand.New(rand.NewPCG(2, 2))
	means := make([]float64, 20*dim)
	for i := range means {
		means[i] = 0.15 * r.NormFloat64()
	}
	x := make([]float32, n*dim)
	for i := 0; i < n; i++ {
		m := r.IntN(20)
		for d := 0; d < dim; d++ {
			x[i*dim+d] = float32(means[m*dim+d] + r.NormFloat64())
		}
	}
	for _, k := range []int{10, 50} {
		b.Run(fmt.Sprintf("n%d_dim%d_k%d", n, dim, k), func(b *testing.B) {
			init := r.Perm(n)[:k]
			steps := 0
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				res, err := KMeans(x, n, dim, init, 300)
				if err != nil {
					b.Fatal(err)
				}
				steps += res.Iterations
			}
			b.ReportMetric(float64(steps)/float64(b.N), "steps/run")
			b.ReportMetric(b.Elapsed().Seconds()/float64(steps), "s/step")
		})
	}
}
