package tsne

import (
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// clusters draws k Gaussian clusters of perCluster points in dim dimensions, with unit
// variance and centres `sep` apart along successive axes; it returns the points and each
// point's cluster.
func clusters(k, perCluster, dim int, sep float64, seed uint64) ([][]float64, []int) {
	rng := rand.New(rand.NewPCG(seed, 1))
	var x [][]float64
	var label []int
	for c := range k {
		for range perCluster {
			row := make([]float64, dim)
			for j := range row {
				row[j] = rng.NormFloat64()
			}
			row[c%dim] += sep * float64(c+1)
			x = append(x, row)
			label = append(label, c)
		}
	}
	return x, label
}

// nnPurity is the fraction of points whose nearest other point (in y) has the same label.
func nnPurity(y [][]float64, label []int) float64 {
	good := 0
	for i := range y {
		best, bd := -1, math.Inf(1)
		for j := range y {
			if j == i {
				continue
			}
			var d float64
			for k := range y[i] {
				t := y[i][k] - y[j][k]
				d += t * t
			}
			if d < bd {
				best, bd = j, d
			}
		}
		if label[best] == label[i] {
			good++
		}
	}
	return float64(good) / float64(len(y))
}

// separated reports whether the two clusters are linearly separable along the line joining
// their centroids: every point is closer to its own centroid's side of the midpoint.
func separated(y [][]float64, label []int) bool {
	var c [2][2]float64
	var cnt [2]float64
	for i, p := range y {
		c[label[i]][0] += p[0]
		c[label[i]][1] += p[1]
		cnt[label[i]]++
	}
	for l := range 2 {
		c[l][0] /= cnt[l]
		c[l][1] /= cnt[l]
	}
	dir := [2]float64{c[1][0] - c[0][0], c[1][1] - c[0][1]}
	mid := [2]float64{(c[0][0] + c[1][0]) / 2, (c[0][1] + c[1][1]) / 2}
	for i, p := range y {
		s := (p[0]-mid[0])*dir[0] + (p[1]-mid[1])*dir[1]
		if (s > 0) != (label[i] == 1) {
			return false
		}
	}
	return true
}

func TestSeparatesClusters(t *testing.T) {
	tests := []struct {
		name string
		dim  int
		sep  float64
		opts Options
	}{
		{"10-D, default options", 10, 20, Options{Perplexity: 10, Iterations: 600, Seed: 1}},
		{"80-D with PCA to 5", 80, 20, Options{Perplexity: 10, Iterations: 600, Seed: 2, PCADims: 5}},
		{"3-D output", 10, 20, Options{Perplexity: 5, Iterations: 600, Seed: 3, Dims: 3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x, label := clusters(2, 40, tc.dim, tc.sep, 7)
			res, err := Embed(x, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			want := tc.opts.Dims
			if want == 0 {
				want = 2
			}
			if len(res.Y) != len(x) || len(res.Y[0]) != want {
				t.Fatalf("embedding is %d×%d, want %d×%d", len(res.Y), len(res.Y[0]), len(x), want)
			}
			if p := nnPurity(res.Y, label); p != 1 {
				t.Errorf("nearest-neighbour purity %.3f, want 1", p)
			}
			if want == 2 && !separated(res.Y, label) {
				t.Errorf("clusters are not linearly separated in the embedding")
			}
		})
	}
}

func TestDeterministic(t *testing.T) {
	x, _ := clusters(3, 20, 6, 8, 11)
	opts := Options{Perplexity: 8, Iterations: 120, Seed: 42}
	a, err := Embed(x, opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Embed(x, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a.Y {
		for k := range a.Y[i] {
			if a.Y[i][k] != b.Y[i][k] {
				t.Fatalf("same seed, different embedding at point %d: %v vs %v", i, a.Y[i], b.Y[i])
			}
		}
	}
	opts.Seed = 43
	c, err := Embed(x, opts)
	if err != nil {
		t.Fatal(err)
	}
	if c.Y[0][0] == a.Y[0][0] && c.Y[1][1] == a.Y[1][1] {
		t.Errorf("a different seed gave the same embedding")
	}
}

func TestDeterministicAcrossGOMAXPROCS(t *testing.T) {
	x, _ := clusters(3, 100, 6, 8, 12) // 300 points: split over up to 4 goroutines
	opts := Options{Perplexity: 10, Iterations: 60, Seed: 7}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	var ref *Result
	for _, procs := range []int{1, 3, 4} {
		runtime.GOMAXPROCS(procs)
		res, err := Embed(x, opts)
		if err != nil {
			t.Fatal(err)
		}
		if ref == nil {
			ref = res
			continue
		}
		for i := range res.Y {
			for k := range res.Y[i] {
				if res.Y[i][k] != ref.Y[i][k] {
					t.Fatalf("GOMAXPROCS %d: point %d is %v, with 1 it is %v", procs, i, res.Y[i], ref.Y[i])
				}
			}
		}
	}
}

func TestKLDecreases(t *testing.T) {
	x, _ := clusters(3, 30, 10, 6, 5)
	var reported []float64
	res, err := Embed(x, Options{Perplexity: 10, Iterations: 600, Seed: 9, Progress: func(iter, total int, kl float64) {
		if total != 600 {
			t.Errorf("progress total %d, want 600", total)
		}
		reported = append(reported, kl)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.History) != 600/KLEvery || len(reported) != len(res.History) {
		t.Fatalf("history has %d points, progress %d, want %d", len(res.History), len(reported), 600/KLEvery)
	}
	first := res.History[0].KL
	if !(res.KL < first) || res.KL != res.History[len(res.History)-1].KL {
		t.Errorf("KL went from %.4f to %.4f, want a decrease", first, res.KL)
	}
	// After the early exaggeration, plain descent on KL: non-increasing (up to rounding).
	for i := 1; i < len(res.History); i++ {
		prev, cur := res.History[i-1], res.History[i]
		if prev.Iter < DefaultExaggerationIters+KLEvery {
			continue
		}
		if cur.KL > prev.KL*(1+1e-3) {
			t.Errorf("KL rose from %.5f (iteration %d) to %.5f (iteration %d)", prev.KL, prev.Iter, cur.KL, cur.Iter)
		}
	}
	if res.KL < 0 || math.IsNaN(res.KL) {
		t.Errorf("KL %v is not a divergence", res.KL)
	}
}

func TestLearningRateAuto(t *testing.T) {
	tests := []struct {
		n    int
		opts Options
		want float64
	}{
		{100, Options{Perplexity: 5}, 50},
		{4800, Options{Perplexity: 5}, 100},
		{4800, Options{Perplexity: 5, EarlyExaggeration: 4}, 300},
		{100, Options{Perplexity: 5, LearningRate: 200}, 200},
	}
	for _, tc := range tests {
		o, err := tc.opts.withDefaults(tc.n)
		if err != nil {
			t.Fatal(err)
		}
		if o.LearningRate != tc.want {
			t.Errorf("n=%d %+v: learning rate %v, want %v", tc.n, tc.opts, o.LearningRate, tc.want)
		}
	}
}

func TestBadInput(t *testing.T) {
	good, _ := clusters(2, 20, 4, 5, 3)
	nan := clone(good)
	nan[3][1] = math.NaN()
	inf := clone(good)
	inf[0][0] = math.Inf(-1)
	ragged := clone(good)
	ragged[5] = ragged[5][:2]
	tests := []struct {
		name string
		x    [][]float64
		opts Options
	}{
		{"no points", nil, Options{}},
		{"empty rows", [][]float64{{}, {}}, Options{}},
		{"n = 3·perplexity", good[:30], Options{Perplexity: 10}},
		{"n < 3·perplexity (default 30)", good, Options{}},
		{"NaN", nan, Options{Perplexity: 5}},
		{"Inf", inf, Options{Perplexity: 5}},
		{"ragged", ragged, Options{Perplexity: 5}},
		{"negative perplexity", good, Options{Perplexity: -1}},
		{"NaN perplexity", good, Options{Perplexity: math.NaN()}},
		{"negative iterations", good, Options{Perplexity: 5, Iterations: -1}},
		{"negative learning rate", good, Options{Perplexity: 5, LearningRate: -1}},
		{"exaggeration < 1", good, Options{Perplexity: 5, EarlyExaggeration: 0.5}},
		{"negative dims", good, Options{Perplexity: 5, Dims: -2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Embed(tc.x, tc.opts)
			if err == nil {
				t.Fatalf("no error, got %d points", len(res.Y))
			}
			if !errors.Is(err, ErrInput) {
				t.Errorf("error %v does not wrap ErrInput", err)
			}
		})
	}
}

func TestIdenticalPoints(t *testing.T) {
	x := make([][]float64, 20)
	for i := range x {
		x[i] = []float64{1, 2, 3}
	}
	// All distances are 0: every point is equally near; P is uniform and t-SNE still runs.
	res, err := Embed(x, Options{Perplexity: 3, Iterations: 60, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range res.Y {
		for _, v := range p {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("non-finite coordinate %v", p)
			}
		}
	}
}

func TestFromFlat(t *testing.T) {
	x, err := FromFlat([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	if err != nil || len(x) != 2 || x[1][0] != 4 || x[1][2] != 6 {
		t.Fatalf("FromFlat = %v, %v", x, err)
	}
	for _, tc := range []struct {
		flat   []float32
		n, dim int
	}{{[]float32{1, 2, 3}, 2, 2}, {nil, 0, 3}, {[]float32{1}, 1, -1}} {
		if _, err := FromFlat(tc.flat, tc.n, tc.dim); !errors.Is(err, ErrInput) {
			t.Errorf("FromFlat(%d values, %d, %d): error %v, want ErrInput", len(tc.flat), tc.n, tc.dim, err)
		}
	}
}

func TestPCAReduces(t *testing.T) {
	x, _ := clusters(2, 20, 30, 5, 4)
	tests := []struct {
		pca, want int
	}{{0, 30}, {10, 10}, {-1, 30}, {100, 30}}
	for _, tc := range tests {
		res, err := Embed(x, Options{Perplexity: 5, Iterations: 10, PCADims: tc.pca})
		if err != nil {
			t.Fatal(err)
		}
		if res.InputDims != tc.want {
			t.Errorf("PCADims %d: t-SNE ran in %d dimensions, want %d", tc.pca, res.InputDims, tc.want)
		}
	}
}

func clone(x [][]float64) [][]float64 {
	out := make([][]float64, len(x))
	for i, r := range x {
		out[i] = append([]float64(nil), r...)
	}
	return out
}

// BenchmarkEmbed1000 times 100 iterations of t-SNE on 1,000 points in 64 dimensions (PCA to 50).
func BenchmarkEmbed1000(b *testing.B) {
	x, _ := clusters(4, 250, 64, 5, 1)
	for b.Loop() {
		if _, err := Embed(x, Options{Iterations: 100, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}
