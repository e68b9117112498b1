package dcbench

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/gomlx/gomlx/backends"

	"github.com/dcbench/dcbench/datasets"
	"github.com/dcbench/dcbench/dcbench/backend"
	"github.com/dcbench/dcbench/dcbench/train"
	"github.com/dcbench/dcbench/dcbench/tsne"
)

// Defaults of the distribution-bias study (see DistributionOptions).
const (
	// DefaultDistributionModel is the embedding network of DC-Bench's Fig. 7.
	DefaultDistributionModel = "resnet18"
	// DefaultDistributionEpochs is the number of epochs the embedding network is trained on
	// the real training set when DistributionOptions.Train.Epochs is 0.
	DefaultDistributionEpochs = 30
	// DefaultCoverageK is the k of the coverage metric (Naeem et al. 2020 use 5).
	DefaultCoverageK = 5
)

// DistributionOptions are the settings of DistributionBias.
type DistributionOptions struct {
	// Class is the index of the class studied (0 = airplane on CIFAR-10).
	Class int
	// Train is how the embedding network is trained on the real training set: its Model
	// defaults to "resnet18" (DefaultDistributionModel) and its Epochs to 30
	// (DefaultDistributionEpochs); the other fields take the reference defaults of
	// train.Config (SGD lr 0.01, momentum 0.9, weight decay 5e-4, batch 256, no
	// augmentation, lr ×0.1 at half). Train.Seed seeds its initialisation and shuffling.
	Train train.Config
	// Network, if not nil, is an already trained network whose features are used; Train is
	// then ignored and nothing is trained.
	Network *train.Trainer
	// Test, if not nil, is a normalised test split on which the trained network's accuracy
	// is measured (reported in Distribution.Accuracy, to show the embedding is meaningful).
	Test *datasets.Dataset
	// MaxReal bounds the number of real images of the class that are embedded (drawn at
	// random with Seed when the class has more); 0 takes them all.
	MaxReal int
	// Seed draws the real images when MaxReal applies.
	Seed uint64
	// TSNE are the t-SNE settings. Perplexity 0 means 30, lowered to fit when there are
	// fewer than 91 points; Seed is used as given.
	TSNE tsne.Options
	// CoverageK is the k of Bias.Coverage (default 5). It is lowered to the number of real
	// images minus one when the class has no more than k of them.
	CoverageK int
	// Backend to compute on; nil picks one with backend.New("").
	Backend backends.Backend
	// Progress receives progress (training epochs, then embedding, then t-SNE iterations);
	// nil for none.
	Progress ProgressFunc
	// Context cancels the training; nil means context.Background().
	Context context.Context
}

// DistributionGroup is one set of points of the study: the real images of the class or the
// condensed images of one method, with their t-SNE coordinates.
type DistributionGroup struct {
	// Name is "real" or the condensed set's method.
	Name string `json:"name"`
	// Indices are the images' indices in the real training set (real) or in the condensed
	// set's Data (condensed).
	Indices []int `json:"indices"`
	// X and Y are the 2-D t-SNE coordinates, one per image.
	X []float64 `json:"x"`
	Y []float64 `json:"y"`
}

// Bias measures how a condensed set's embeddings are placed relative to the real ones of
// the class, in the network's feature space (not in the t-SNE plane, whose distances are
// distorted). Real images embedded against themselves would give CentroidOffset 0, Spread
// 1, Coverage 1 and MMD 0.
type Bias struct {
	// Name is the condensed set's method.
	Name string `json:"name"`
	// N is the number of condensed images of the class.
	N int `json:"n"`
	// CentroidOffset is ‖mean(condensed) − mean(real)‖ / σ_real, where σ_real is the real
	// points' RMS distance to their mean: how far the condensed set's centre is pulled
	// away from the real one, in units of the real spread.
	CentroidOffset float64 `json:"centroid_offset"`
	// Spread is σ_condensed / σ_real (RMS distance to the own mean): below 1 the condensed
	// points are more concentrated than the real ones, above 1 more scattered.
	Spread float64 `json:"spread"`
	// Coverage is the fraction of real points whose k-nearest-real-neighbour ball (k =
	// CoverageK) holds at least one condensed point (Naeem et al. 2020, "Reliable fidelity
	// and diversity metrics"): the share of the real distribution the set reaches.
	Coverage float64 `json:"coverage"`
	// MMD is the maximum mean discrepancy between the real and condensed points (biased
	// estimate, Gaussian kernel exp(−d²/2h²) with h the median real–real distance): 0 when
	// the distributions match.
	MMD float64 `json:"mmd"`
}

// Distribution is the outcome of DistributionBias.
type Distribution struct {
	// Class and ClassName are the class studied.
	Class     int    `json:"class"`
	ClassName string `json:"class_name"`
	// Model is the embedding network and FeatureDim its feature dimension.
	Model      string `json:"model"`
	FeatureDim int    `json:"feature_dim"`
	// Epochs the network was trained for (0 when DistributionOptions.Network was given).
	Epochs int `json:"epochs"`
	// Accuracy is the network's test accuracy in percent (NaN without a test split).
	Accuracy float64 `json:"accuracy"`
	// Groups are the real images first, then one group per condensed set, in order.
	Groups []DistributionGroup `json:"groups"`
	// Bias has one entry per condensed set, in order.
	Bias []Bias `json:"bias"`
	// CoverageK is the k used by Bias.Coverage.
	CoverageK int `json:"coverage_k"`
	// Perplexity used by t-SNE and the final KL divergence of the embedding.
	Perplexity float64 `json:"perplexity"`
	KL         float64 `json:"kl"`
	// TrainSeconds, EmbedSeconds and TSNESeconds are the wall times of the three phases.
	TrainSeconds float64 `json:"train_seconds"`
	EmbedSeconds float64 `json:"embed_seconds"`
	TSNESeconds  float64 `json:"tsne_seconds"`
	// Backend describes the backend the network ran on.
	Backend string `json:"backend"`
}

// DistributionBias is the distribution-bias study of DC-Bench (Fig. 7): it trains a network
// (ResNet-18 by default) on the real training set, embeds the real images of one class and
// the condensed images of that class from each set, projects all of them jointly to 2-D with
// t-SNE, and measures each set's bias against the real images in feature space (Bias).
// trainSet must be normalised; the sets must have its image size and classes.
func DistributionBias(trainSet *datasets.Dataset, sets []*Set, opts DistributionOptions) (*Distribution, error) {
	if trainSet == nil || trainSet.N == 0 {
		return nil, fmt.Errorf("distribution bias: empty training set")
	}
	if !trainSet.Normalized {
		return nil, fmt.Errorf("distribution bias: training set is not normalised: call Normalize() first")
	}
	if opts.Class < 0 || opts.Class >= trainSet.NumClasses() {
		return nil, fmt.Errorf("distribution bias: class %d out of range [0,%d)", opts.Class, trainSet.NumClasses())
	}
	if opts.MaxReal < 0 {
		return nil, fmt.Errorf("distribution bias: MaxReal must be ≥ 0, got %d", opts.MaxReal)
	}
	if opts.CoverageK == 0 {
		opts.CoverageK = DefaultCoverageK
	}
	if opts.CoverageK < 0 {
		return nil, fmt.Errorf("distribution bias: CoverageK must be positive, got %d", opts.CoverageK)
	}
	for i, s := range sets {
		if err := s.Validate(); err != nil {
			return nil, fmt.Errorf("distribution bias: set %d: %w", i, err)
		}
		d := s.Data
		if d.H != trainSet.H || d.W != trainSet.W || d.C != trainSet.C || d.NumClasses() != trainSet.NumClasses() {
			return nil, fmt.Errorf("distribution bias: set %d (%s) has %dx%dx%d images and %d classes, the training set %dx%dx%d and %d",
				i, s.Method, d.H, d.W, d.C, d.NumClasses(), trainSet.H, trainSet.W, trainSet.C, trainSet.NumClasses())
		}
	}
	realIdx := slices.Clone(trainSet.ClassIndices(opts.Class))
	if opts.MaxReal > 0 && len(realIdx) > opts.MaxReal {
		rng := rand.New(rand.NewPCG(opts.Seed, 0xd157))
		picked, err := trainSet.SampleClass(opts.Class, opts.MaxReal, rng)
		if err != nil {
			return nil, err
		}
		realIdx = picked
		slices.Sort(realIdx)
	}
	if len(realIdx) < 2 {
		return nil, fmt.Errorf("distribution bias: class %d has %d real images, need at least 2", opts.Class, len(realIdx))
	}
	opts.CoverageK = min(opts.CoverageK, len(realIdx)-1)
	progress := opts.Progress
	if progress == nil {
		progress = func(int, int, string) {}
	}
	if opts.Context == nil {
		opts.Context = context.Background()
	}
	res := &Distribution{Class: opts.Class, ClassName: trainSet.Classes[opts.Class], Accuracy: math.NaN(), CoverageK: opts.CoverageK}

	// 1. The embedding network.
	net := opts.Network
	if net == nil {
		cfg := opts.Train
		if cfg.Model == "" {
			cfg.Model = DefaultDistributionModel
		}
		if cfg.Epochs == 0 {
			cfg.Epochs = DefaultDistributionEpochs
		}
		cfg = cfg.Defaults()
		if err := cfg.Validate(); err != nil {
			return nil, fmt.Errorf("distribution bias: %w", err)
		}
		var err error
		if opts.Backend == nil {
			if opts.Backend, _, err = backend.New(""); err != nil {
				return nil, err
			}
		}
		net, err = train.New(opts.Backend, cfg, trainSet.NumClasses(), trainSet.H, trainSet.W, trainSet.C, trainSet.Mean, trainSet.Std)
		if err != nil {
			return nil, fmt.Errorf("distribution bias: %w", err)
		}
		defer net.Finalize()
		start := time.Now()
		err = net.Fit(opts.Context, trainSet, func(ep, total int, loss float64) {
			progress(ep, total, fmt.Sprintf("training %s on the real data: epoch %d/%d, loss %.4f", cfg.Model, ep, total, loss))
		})
		if err != nil {
			return nil, fmt.Errorf("distribution bias: training the embedding network: %w", err)
		}
		res.TrainSeconds = time.Since(start).Seconds()
		res.Epochs = cfg.Epochs
	}
	res.Model = net.Config().Model
	res.Backend = "given network"
	if opts.Backend != nil {
		res.Backend = backend.Describe(opts.Backend)
	}
	if opts.Test != nil {
		acc, err := net.Accuracy(opts.Test)
		if err != nil {
			return nil, fmt.Errorf("distribution bias: test accuracy: %w", err)
		}
		res.Accuracy = 100 * acc
	}

	// 2. Features of the real and condensed images of the class.
	start := time.Now()
	groups := []DistributionGroup{{Name: "real", Indices: realIdx}}
	sources := []*datasets.Dataset{trainSet}
	for _, s := range sets {
		groups = append(groups, DistributionGroup{Name: s.Method, Indices: slices.Clone(s.Data.ClassIndices(opts.Class))})
		sources = append(sources, s.Data)
	}
	feats := make([][][]float64, len(groups))
	var all [][]float64
	for g := range groups {
		progress(g, len(groups), fmt.Sprintf("embedding the %s images of class %s", groups[g].Name, res.ClassName))
		flat, dim, err := net.Features(sources[g].Subset(groups[g].Indices))
		if err != nil {
			return nil, fmt.Errorf("distribution bias: features of %s: %w", groups[g].Name, err)
		}
		rows, err := tsne.FromFlat(flat, len(groups[g].Indices), dim)
		if err != nil {
			return nil, fmt.Errorf("distribution bias: features of %s: %w", groups[g].Name, err)
		}
		res.FeatureDim = dim
		feats[g] = rows
		all = append(all, rows...)
	}
	res.EmbedSeconds = time.Since(start).Seconds()

	// 3. Bias in feature space.
	biases, err := MeasureBias(feats[0], feats[1:], opts.CoverageK)
	if err != nil {
		return nil, fmt.Errorf("distribution bias: %w", err)
	}
	for i := range biases {
		biases[i].Name = groups[i+1].Name
	}
	res.Bias = biases

	// 4. Joint t-SNE.
	start = time.Now()
	to := opts.TSNE
	if to.Perplexity == 0 {
		to.Perplexity = min(tsne.DefaultPerplexity, float64(len(all)-1)/3*0.99)
	}
	user := to.Progress
	to.Progress = func(it, total int, kl float64) {
		progress(it, total, fmt.Sprintf("t-SNE of %d points: iteration %d/%d, KL %.4f", len(all), it, total, kl))
		if user != nil {
			user(it, total, kl)
		}
	}
	emb, err := tsne.Embed(all, to)
	if err != nil {
		return nil, fmt.Errorf("distribution bias: %w", err)
	}
	res.Perplexity, res.KL = to.Perplexity, emb.KL
	res.TSNESeconds = time.Since(start).Seconds()
	at := 0
	for g := range groups {
		for range groups[g].Indices {
			groups[g].X = append(groups[g].X, emb.Y[at][0])
			groups[g].Y = append(groups[g].Y, emb.Y[at][1])
			at++
		}
	}
	res.Groups = groups
	return res, nil
}

// MeasureBias compares each condensed point set with the real points (rows of equal
// dimension; e.g. network features of one class) and returns one Bias per set, in order,
// with Name unset. k is the coverage's number of real neighbours (1 ≤ k < number of real
// points). Sets with no points get NaN metrics.
func MeasureBias(real [][]float64, condensed [][][]float64, k int) ([]Bias, error) {
	n := len(real)
	if n < 2 {
		return nil, fmt.Errorf("measure bias: need at least 2 real points, got %d", n)
	}
	if k < 1 || k >= n {
		return nil, fmt.Errorf("measure bias: coverage k must be in [1, %d) for %d real points, got %d", n, n, k)
	}
	dim := len(real[0])
	check := func(what string, rows [][]float64) error {
		for i, r := range rows {
			if len(r) != dim {
				return fmt.Errorf("measure bias: %s point %d has %d coordinates, want %d", what, i, len(r), dim)
			}
			for _, v := range r {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return fmt.Errorf("measure bias: %s point %d has a non-finite coordinate", what, i)
				}
			}
		}
		return nil
	}
	if dim == 0 {
		return nil, fmt.Errorf("measure bias: points have no coordinates")
	}
	if err := check("real", real); err != nil {
		return nil, err
	}
	for s, rows := range condensed {
		if err := check(fmt.Sprintf("set %d", s), rows); err != nil {
			return nil, err
		}
	}

	// Real–real squared distances: k-NN radii, kernel bandwidth and the real kernel mean.
	d2 := make([]float64, n*n)
	parallelRows(n, func(i int) {
		for j := range n {
			if j != i {
				d2[i*n+j] = sqDist(real[i], real[j])
			}
		}
	})
	radius2 := make([]float64, n) // squared distance to the k-th nearest other real point
	parallelRows(n, func(i int) {
		row := make([]float64, 0, n-1)
		for j := range n {
			if j != i {
				row = append(row, d2[i*n+j])
			}
		}
		slices.Sort(row)
		radius2[i] = row[k-1]
	})
	pairs := make([]float64, 0, n*(n-1)/2)
	for i := range n {
		pairs = append(pairs, d2[i*n+i+1:(i+1)*n]...)
	}
	slices.Sort(pairs)
	h2 := pairs[len(pairs)/2] // median squared distance = (median distance)²
	if !(h2 > 0) {
		h2 = 1
	}
	kern := func(dd float64) float64 { return math.Exp(-dd / (2 * h2)) }
	var krr float64
	for i := range n {
		for j := range n {
			if j == i {
				krr++
			} else {
				krr += kern(d2[i*n+j])
			}
		}
	}
	krr /= float64(n * n)
	realMean, realSigma := meanSigma(real)
	if realSigma == 0 {
		return nil, fmt.Errorf("measure bias: the %d real points are all identical (a collapsed embedding?)", n)
	}

	out := make([]Bias, len(condensed))
	for s, rows := range condensed {
		m := len(rows)
		b := Bias{N: m}
		if m == 0 {
			b.CentroidOffset, b.Spread, b.Coverage, b.MMD = math.NaN(), math.NaN(), math.NaN(), math.NaN()
			out[s] = b
			continue
		}
		cMean, cSigma := meanSigma(rows)
		b.CentroidOffset = math.Sqrt(sqDist(cMean, realMean)) / realSigma
		b.Spread = cSigma / realSigma
		covered := 0
		var krc float64
		for i := range n {
			near := math.Inf(1)
			for _, c := range rows {
				dd := sqDist(real[i], c)
				near = min(near, dd)
				krc += kern(dd)
			}
			if near <= radius2[i] {
				covered++
			}
		}
		krc /= float64(n * m)
		var kcc float64
		for _, a := range rows {
			for _, c := range rows {
				kcc += kern(sqDist(a, c))
			}
		}
		kcc /= float64(m * m)
		b.Coverage = float64(covered) / float64(n)
		b.MMD = math.Sqrt(max(krr+kcc-2*krc, 0))
		out[s] = b
	}
	return out, nil
}

func sqDist(a, b []float64) float64 {
	var s float64
	for i, v := range a {
		t := v - b[i]
		s += t * t
	}
	return s
}

// meanSigma returns the mean of rows and their RMS distance to it.
func meanSigma(rows [][]float64) (mean []float64, sigma float64) {
	mean = make([]float64, len(rows[0]))
	for _, r := range rows {
		for j, v := range r {
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(len(rows))
	}
	for _, r := range rows {
		sigma += sqDist(r, mean)
	}
	return mean, math.Sqrt(sigma / float64(len(rows)))
}

// parallelRows calls f(i) for every i in [0, n) on GOMAXPROCS goroutines; each i is handled
// by exactly one goroutine, so results written per row do not depend on the scheduling.
func parallelRows(n int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				f(i)
			}
		}()
	}
	wg.Wait()
}
