package dcbench

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dcbench/dcbench/dcbench/train"
	"github.com/dcbench/dcbench/dcbench/tsne"
)

// gauss draws n points of N(centre, scale²·I) in dim dimensions.
func gauss(rng *rand.Rand, n, dim int, centre, scale float64) [][]float64 {
	out := make([][]float64, n)
	for i := range out {
		out[i] = make([]float64, dim)
		for j := range out[i] {
			out[i][j] = centre + scale*rng.NormFloat64()
		}
	}
	return out
}

func TestMeasureBias(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	real := gauss(rng, 200, 8, 0, 1)
	tests := []struct {
		name      string
		set       [][]float64
		offset    [2]float64 // CentroidOffset range
		spread    [2]float64
		coverage  [2]float64
		mmdAtMost float64
	}{
		// 40 of the real points themselves: an unbiased sample.
		{"subset of real", real[:40], [2]float64{0, 0.4}, [2]float64{0.8, 1.2}, [2]float64{0.4, 1}, 0.25},
		// Fresh draws from the same distribution.
		{"same distribution", gauss(rng, 40, 8, 0, 1), [2]float64{0, 0.4}, [2]float64{0.8, 1.2}, [2]float64{0.3, 1}, 0.25},
		// Collapsed near the mean (what a biased synthesis can do): small spread.
		{"collapsed at the centre", gauss(rng, 40, 8, 0, 0.1), [2]float64{0, 0.2}, [2]float64{0, 0.2}, [2]float64{0, 0.3}, 2},
		// Shifted away: large offset, nothing covered.
		{"shifted", gauss(rng, 40, 8, 3, 1), [2]float64{2.5, 3.5}, [2]float64{0.8, 1.2}, [2]float64{0, 0.05}, 2},
	}
	sets := make([][][]float64, len(tests))
	for i, tc := range tests {
		sets[i] = tc.set
	}
	got, err := MeasureBias(real, sets, 5)
	if err != nil {
		t.Fatal(err)
	}
	in := func(v float64, r [2]float64) bool { return v >= r[0] && v <= r[1] }
	for i, tc := range tests {
		b := got[i]
		if b.N != len(tc.set) {
			t.Errorf("%s: N %d, want %d", tc.name, b.N, len(tc.set))
		}
		if !in(b.CentroidOffset, tc.offset) || !in(b.Spread, tc.spread) || !in(b.Coverage, tc.coverage) || !(b.MMD >= 0 && b.MMD <= tc.mmdAtMost) {
			t.Errorf("%s: %+v outside offset %v, spread %v, coverage %v, MMD ≤ %v", tc.name, b, tc.offset, tc.spread, tc.coverage, tc.mmdAtMost)
		}
	}
	// Orderings a reader relies on.
	if !(got[0].MMD < got[2].MMD && got[1].MMD < got[3].MMD) {
		t.Errorf("MMD does not rank the biased sets above the unbiased ones: %+v", got)
	}
	if !(got[1].Coverage > got[2].Coverage && got[2].Coverage >= got[3].Coverage) {
		t.Errorf("coverage not ordered same > collapsed ≥ shifted: %+v", got)
	}
	// The real points against themselves.
	self, err := MeasureBias(real, [][][]float64{real, nil}, 5)
	if err != nil {
		t.Fatal(err)
	}
	if s := self[0]; s.CentroidOffset > 1e-12 || math.Abs(s.Spread-1) > 1e-12 || s.Coverage != 1 || s.MMD > 1e-6 {
		t.Errorf("real vs itself: %+v, want offset 0, spread 1, coverage 1, MMD 0", s)
	}
	if e := self[1]; e.N != 0 || !math.IsNaN(e.MMD) || !math.IsNaN(e.Coverage) {
		t.Errorf("empty set: %+v, want NaN metrics", e)
	}
}

func TestMeasureBiasErrors(t *testing.T) {
	real := [][]float64{{0, 0}, {1, 0}, {0, 1}, {1, 1}}
	tests := []struct {
		name string
		real [][]float64
		sets [][][]float64
		k    int
		want string
	}{
		{"one real point", real[:1], nil, 1, "at least 2"},
		{"k too large", real, nil, 4, "coverage k"},
		{"k zero", real, nil, 0, "coverage k"},
		{"ragged set", real, [][][]float64{{{1, 2, 3}}}, 2, "coordinates"},
		{"NaN", real, [][][]float64{{{math.NaN(), 0}}}, 2, "non-finite"},
		{"identical real", [][]float64{{1, 1}, {1, 1}, {1, 1}}, nil, 1, "identical"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := MeasureBias(tc.real, tc.sets, tc.k)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

// TestDistributionBiasTiny runs the whole study on the embedded subset with a one-epoch MLP:
// the groups hold the right images and finite coordinates, and the metrics are in range.
func TestDistributionBiasTiny(t *testing.T) {
	p := embedded(t)
	var sets []*Set
	for _, seed := range []uint64{1, 2} {
		s, err := Condense(p.Train, CondenseOptions{Method: "random", IPC: 4, Seed: seed, Backend: testBackend})
		if err != nil {
			t.Fatal(err)
		}
		sets = append(sets, s)
	}
	var calls int
	opts := DistributionOptions{
		Class: 3, MaxReal: 30, Seed: 5, Backend: testBackend,
		Train: train.Config{Model: "mlp", Epochs: 1, BatchSize: 250, Seed: 1},
		Test:  p.Test,
		TSNE:  tsne.Options{Iterations: 250, Seed: 1},
		Progress: func(done, total int, msg string) {
			calls++
		},
	}
	d, err := DistributionBias(p.Train, sets, opts)
	if err != nil {
		t.Fatal(err)
	}
	if calls == 0 {
		t.Error("no progress reported")
	}
	if d.ClassName != p.Train.Classes[3] || d.Model != "mlp" || d.Epochs != 1 || d.FeatureDim <= 0 {
		t.Errorf("header %+v", d)
	}
	if !(d.Accuracy >= 0 && d.Accuracy <= 100) {
		t.Errorf("accuracy %v", d.Accuracy)
	}
	wantN := []int{30, 4, 4}
	if len(d.Groups) != 3 || d.Groups[0].Name != "real" || d.Groups[1].Name != "random" {
		t.Fatalf("groups %d, names %v", len(d.Groups), d.Groups)
	}
	for g, grp := range d.Groups {
		if len(grp.Indices) != wantN[g] || len(grp.X) != wantN[g] || len(grp.Y) != wantN[g] {
			t.Errorf("group %d (%s): %d indices, %d×%d coordinates, want %d", g, grp.Name, len(grp.Indices), len(grp.X), len(grp.Y), wantN[g])
		}
		for i := range grp.X {
			if math.IsNaN(grp.X[i]) || math.IsNaN(grp.Y[i]) {
				t.Fatalf("group %s point %d is NaN", grp.Name, i)
			}
		}
	}
	for _, i := range d.Groups[0].Indices {
		if p.Train.Labels[i] != 3 {
			t.Errorf("real index %d has label %d, want 3", i, p.Train.Labels[i])
		}
	}
	for g, s := range sets {
		for _, i := range d.Groups[g+1].Indices {
			if s.Data.Labels[i] != 3 {
				t.Errorf("set %d index %d has label %d, want 3", g, i, s.Data.Labels[i])
			}
		}
	}
	if len(d.Bias) != 2 {
		t.Fatalf("%d bias entries, want 2", len(d.Bias))
	}
	for _, b := range d.Bias {
		if b.Name != "random" || b.N != 4 || b.Coverage < 0 || b.Coverage > 1 || !(b.MMD >= 0) || !(b.Spread > 0) {
			t.Errorf("bias %+v", b)
		}
	}
	if d.Perplexity <= 0 || float64(38) <= 3*d.Perplexity || !(d.KL >= 0) {
		t.Errorf("perplexity %v, KL %v", d.Perplexity, d.KL)
	}
	if d.CoverageK != DefaultCoverageK {
		t.Errorf("coverage k %d, want %d", d.CoverageK, DefaultCoverageK)
	}
}

// TestDistributionBiasGivenNetwork uses an already trained network (nothing is trained) and a
// class with fewer real images than the coverage's k, which lowers k.
func TestDistributionBiasGivenNetwork(t *testing.T) {
	p := embedded(t)
	set, err := Condense(p.Train, CondenseOptions{Method: "random", IPC: 2, Seed: 3, Backend: testBackend})
	if err != nil {
		t.Fatal(err)
	}
	net, err := train.New(testBackend, train.Config{Model: "mlp", Epochs: 1, BatchSize: 250, Seed: 2}, 10, 32, 32, 3, p.Train.Mean, p.Train.Std)
	if err != nil {
		t.Fatal(err)
	}
	defer net.Finalize()
	d, err := DistributionBias(p.Train, []*Set{set}, DistributionOptions{
		Class: 7, MaxReal: 4, Network: net, TSNE: tsne.Options{Iterations: 100, Seed: 2},
	})
	if err != nil {
		t.Fatal(err)
	}
	if d.Epochs != 0 || d.TrainSeconds != 0 || d.Model != "mlp" || !math.IsNaN(d.Accuracy) {
		t.Errorf("given network: epochs %d, train %v s, model %s, accuracy %v; want 0, 0, mlp, NaN", d.Epochs, d.TrainSeconds, d.Model, d.Accuracy)
	}
	if d.CoverageK != 3 || len(d.Groups[0].X) != 4 || len(d.Groups[1].X) != 2 {
		t.Errorf("coverage k %d (want 3), %d real and %d condensed points (want 4, 2)", d.CoverageK, len(d.Groups[0].X), len(d.Groups[1].X))
	}
}

func TestDistributionBiasErrors(t *testing.T) {
	p := embedded(t)
	set, err := Condense(p.Train, CondenseOptions{Method: "random", IPC: 2, Seed: 1, Backend: testBackend})
	if err != nil {
		t.Fatal(err)
	}
	raw := p.Train.Subset([]int{0, 1, 2})
	raw.Normalized = false
	other := *set
	other.Data = set.Data.Subset(set.Data.ClassIndices(0))
	other.Data.Classes = other.Data.Classes[:1]
	tests := []struct {
		name string
		sets []*Set
		opts DistributionOptions
		data bool // use the unnormalised data
		want string
	}{
		{"class out of range", nil, DistributionOptions{Class: 10}, false, "out of range"},
		{"negative class", nil, DistributionOptions{Class: -1}, false, "out of range"},
		{"negative MaxReal", nil, DistributionOptions{MaxReal: -1}, false, "MaxReal"},
		{"negative k", nil, DistributionOptions{CoverageK: -2}, false, "CoverageK"},
		{"not normalised", nil, DistributionOptions{}, true, "normalise"},
		{"nil set", []*Set{nil}, DistributionOptions{}, false, "set 0"},
		{"mismatched set", []*Set{&other}, DistributionOptions{}, false, "classes"},
		{"bad model", nil, DistributionOptions{Train: train.Config{Model: "nonesuch"}, Backend: testBackend}, false, "nonesuch"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := p.Train
			if tc.data {
				data = raw
			}
			_, err := DistributionBias(data, tc.sets, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}
