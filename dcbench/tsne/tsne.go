// Package tsne is t-distributed stochastic neighbour embedding (van der Maaten and Hinton,
// 2008) in pure Go: it maps points of a high-dimensional space (e.g. network embeddings of
// images) to 2 (or a few) dimensions so that near neighbours stay near.
//
// It is the exact O(n²) algorithm, as scikit-learn's method="exact": the inputs are first
// reduced to at most [Options.PCADims] dimensions by PCA (gonum); each point's Gaussian
// bandwidth is calibrated by binary search to the perplexity; the conditional affinities are
// symmetrised into P; the embedding, drawn from N(0, 1e-4·I), follows the gradient of
// KL(P‖Q) under a Student-t kernel Q with momentum (0.5, then 0.8), per-coordinate gains
// (delta-bar-delta, minimum 0.01) and early exaggeration of P (×12 for the first 250
// iterations). It is meant for up to a few thousand points: memory is two n×n float64
// matrices (n = 5,000 needs 400 MB) and each iteration is O(n²·dims), spread over
// GOMAXPROCS goroutines.
//
// Results are deterministic: the same input, options and seed give the same embedding
// (bit for bit on one machine), whatever the number of goroutines.
//
// It exists because no well-kept t-SNE library for Go was found (github.com/danaugrs/go-tsne,
// the best known, is old and unmaintained).
package tsne

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
)

// Defaults of [Options].
const (
	DefaultPerplexity        = 30
	DefaultIterations        = 1000
	DefaultEarlyExaggeration = 12
	DefaultExaggerationIters = 250
	DefaultPCADims           = 50
	DefaultDims              = 2
	// KLEvery is the number of iterations between two KL divergences recorded in
	// [Result.History] (and reported to [Options.Progress]).
	KLEvery = 50
)

const (
	minGain         = 0.01
	initialMomentum = 0.5
	finalMomentum   = 0.8
	perplexityTol   = 1e-5
	perplexitySteps = 100
	machineEps      = 2.220446049250313e-16
	initStd         = 1e-4
)

// Options are the settings of [Embed]. The zero value of a field means its default.
type Options struct {
	// Perplexity is the effective number of neighbours each point's Gaussian is calibrated
	// to (default 30). The number of points must exceed 3·Perplexity.
	Perplexity float64
	// Iterations of gradient descent (default 1000), early exaggeration included.
	Iterations int
	// LearningRate of gradient descent; 0 means "auto" as scikit-learn:
	// max(n / EarlyExaggeration / 4, 50).
	LearningRate float64
	// EarlyExaggeration multiplies P during the first ExaggerationIters iterations
	// (default 12; must be ≥ 1).
	EarlyExaggeration float64
	// ExaggerationIters is the length of the early-exaggeration phase, also when the
	// momentum switches from 0.5 to 0.8 (default 250; at most Iterations).
	ExaggerationIters int
	// Seed of the random initial embedding. Every draw comes from it.
	Seed uint64
	// PCADims reduces the input to at most this many principal components before t-SNE
	// (default 50); a negative value disables PCA. Inputs with fewer dimensions are only
	// centred.
	PCADims int
	// Dims is the dimension of the embedding (default 2).
	Dims int
	// Progress, if not nil, is called every KLEvery iterations and after the last one with
	// the iteration (from 1), the number of iterations and the KL divergence KL(P‖Q) of the
	// current embedding (P not exaggerated).
	Progress func(iter, total int, kl float64)
}

// KLPoint is the KL divergence after an iteration.
type KLPoint struct {
	// Iter is the iteration (from 1).
	Iter int
	// KL is KL(P‖Q) of the embedding after Iter iterations, with P not exaggerated.
	KL float64
}

// Result is the outcome of [Embed].
type Result struct {
	// Y holds one row of Dims coordinates per input point, in input order.
	Y [][]float64
	// KL is the final KL divergence KL(P‖Q).
	KL float64
	// History is the KL divergence every KLEvery iterations and after the last one.
	History []KLPoint
	// LearningRate is the learning rate used (after "auto").
	LearningRate float64
	// InputDims is the dimension t-SNE worked in after PCA.
	InputDims int
}

// ErrInput is wrapped by every error about the input points or the options.
var ErrInput = errors.New("tsne: invalid input")

func inputErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInput, fmt.Sprintf(format, args...))
}

// withDefaults fills the zero fields of o and checks them against n points.
func (o Options) withDefaults(n int) (Options, error) {
	if o.Perplexity == 0 {
		o.Perplexity = DefaultPerplexity
	}
	if o.Iterations == 0 {
		o.Iterations = DefaultIterations
	}
	if o.EarlyExaggeration == 0 {
		o.EarlyExaggeration = DefaultEarlyExaggeration
	}
	if o.ExaggerationIters == 0 {
		o.ExaggerationIters = DefaultExaggerationIters
	}
	if o.PCADims == 0 {
		o.PCADims = DefaultPCADims
	}
	if o.Dims == 0 {
		o.Dims = DefaultDims
	}
	switch {
	case !(o.Perplexity > 0) || math.IsInf(o.Perplexity, 0):
		return o, inputErr("perplexity must be a positive number, got %v", o.Perplexity)
	case o.Iterations < 0:
		return o, inputErr("iterations must be positive, got %d", o.Iterations)
	case math.IsNaN(o.LearningRate) || math.IsInf(o.LearningRate, 0) || o.LearningRate < 0:
		return o, inputErr("learning rate must be positive (0 for auto), got %v", o.LearningRate)
	case !(o.EarlyExaggeration >= 1) || math.IsInf(o.EarlyExaggeration, 0):
		return o, inputErr("early exaggeration must be ≥ 1, got %v", o.EarlyExaggeration)
	case o.ExaggerationIters < 0:
		return o, inputErr("exaggeration iterations must be ≥ 0, got %d", o.ExaggerationIters)
	case o.Dims < 0:
		return o, inputErr("embedding dimension must be positive, got %d", o.Dims)
	}
	if float64(n) <= 3*o.Perplexity {
		return o, inputErr("%d points are too few for perplexity %g: need more than 3·perplexity = %g (lower Perplexity)",
			n, o.Perplexity, 3*o.Perplexity)
	}
	o.ExaggerationIters = min(o.ExaggerationIters, o.Iterations)
	if o.LearningRate == 0 {
		o.LearningRate = max(float64(n)/o.EarlyExaggeration/4, 50)
	}
	return o, nil
}

// FromFlat converts n row-major vectors of dim values (e.g. the features of
// dcbench/train.Trainer.Features) into the rows Embed takes.
func FromFlat(flat []float32, n, dim int) ([][]float64, error) {
	if n <= 0 || dim <= 0 {
		return nil, inputErr("need a positive number of points and dimensions, got %d×%d", n, dim)
	}
	if len(flat) != n*dim {
		return nil, inputErr("%d values cannot be %d points of dimension %d", len(flat), n, dim)
	}
	x := make([][]float64, n)
	for i := range x {
		row := make([]float64, dim)
		for j := range row {
			row[j] = float64(flat[i*dim+j])
		}
		x[i] = row
	}
	return x, nil
}

// Embed runs t-SNE on the points x (one row each, all of the same dimension, finite) and
// returns their embedding. It returns an error wrapping [ErrInput] for bad points or
// options, e.g. fewer than 3·Perplexity+1 points or a NaN coordinate.
func Embed(x [][]float64, opts Options) (*Result, error) {
	n := len(x)
	if n == 0 {
		return nil, inputErr("no points")
	}
	d := len(x[0])
	if d == 0 {
		return nil, inputErr("points have no coordinates")
	}
	for i, row := range x {
		if len(row) != d {
			return nil, inputErr("point %d has %d coordinates, point 0 has %d", i, len(row), d)
		}
		for j, v := range row {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, inputErr("point %d coordinate %d is %v", i, j, v)
			}
		}
	}
	o, err := opts.withDefaults(n)
	if err != nil {
		return nil, err
	}
	z, err := reduce(x, o.PCADims)
	if err != nil {
		return nil, err
	}
	p, err := jointProbabilities(z, o.Perplexity)
	if err != nil {
		return nil, err
	}
	res := optimize(p, n, o)
	res.InputDims = len(z[0])
	return res, nil
}

// reduce centres x and projects it on its first k principal components when it has more
// than k dimensions (k < 0: no projection). Component signs are fixed (largest loading
// positive) so that the result does not depend on the SVD's sign choices.
func reduce(x [][]float64, k int) ([][]float64, error) {
	n, d := len(x), len(x[0])
	mean := make([]float64, d)
	for _, row := range x {
		for j, v := range row {
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	c := make([][]float64, n)
	for i, row := range x {
		c[i] = make([]float64, d)
		for j, v := range row {
			c[i][j] = v - mean[j]
		}
	}
	if k < 0 || d <= k {
		return c, nil
	}
	k = min(k, n) // at most n components carry variance
	data := mat.NewDense(n, d, nil)
	for i, row := range c {
		data.SetRow(i, row)
	}
	var pc stat.PC
	if ok := pc.PrincipalComponents(data, nil); !ok {
		return nil, fmt.Errorf("tsne: PCA of %d×%d points failed (SVD did not converge)", n, d)
	}
	var vecs mat.Dense
	pc.VectorsTo(&vecs)
	_, nc := vecs.Dims()
	k = min(k, nc)
	proj := mat.NewDense(d, k, nil)
	for j := range k {
		col := mat.Col(nil, j, &vecs)
		big := 0
		for r := range col {
			if math.Abs(col[r]) > math.Abs(col[big]) {
				big = r
			}
		}
		if col[big] < 0 {
			for r := range col {
				col[r] = -col[r]
			}
		}
		proj.SetCol(j, col)
	}
	var out mat.Dense
	out.Mul(data, proj)
	z := make([][]float64, n)
	for i := range z {
		z[i] = mat.Row(nil, i, &out)
	}
	return z, nil
}

// parallel runs f(lo, hi) over [0, n) split in contiguous blocks, one goroutine per block.
// Each row is computed by one goroutine, so results do not depend on the split.
func parallel(n int, f func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), max(n/64, 1))
	if workers <= 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	step := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += step {
		hi := min(lo+step, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(lo, hi)
		}()
	}
	wg.Wait()
}

// sqDistances returns the n×n matrix of squared Euclidean distances, row-major.
func sqDistances(z [][]float64) []float64 {
	n := len(z)
	dist := make([]float64, n*n)
	parallel(n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			zi := z[i]
			for j := range n {
				if j == i {
					continue
				}
				var s float64
				for k, v := range zi {
					t := v - z[j][k]
					s += t * t
				}
				dist[i*n+j] = s
			}
		}
	})
	return dist
}

// jointProbabilities calibrates a Gaussian per point to the perplexity (binary search on its
// precision β) and returns the symmetrised P = (P_{j|i} + P_{i|j}) / 2n, row-major n×n,
// with every off-diagonal entry at least machine epsilon.
func jointProbabilities(z [][]float64, perplexity float64) ([]float64, error) {
	n := len(z)
	dist := sqDistances(z)
	cond := make([]float64, n*n)
	target := math.Log(perplexity)
	failed := make([]bool, n)
	parallel(n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			failed[i] = !calibrateRow(dist[i*n:(i+1)*n], cond[i*n:(i+1)*n], i, target)
		}
	})
	for i, f := range failed {
		if f {
			return nil, fmt.Errorf("tsne: could not calibrate point %d to perplexity %g (are all points identical?)", i, perplexity)
		}
	}
	p := make([]float64, n*n)
	norm := 2 * float64(n)
	for i := range n {
		for j := range n {
			if i == j {
				continue
			}
			p[i*n+j] = max((cond[i*n+j]+cond[j*n+i])/norm, machineEps)
		}
	}
	return p, nil
}

// calibrateRow fills row (the conditional probabilities P_{j|i}) from the squared distances
// d of point i so that their entropy (in nats) is target; it reports whether the result is
// a probability distribution. Distances are shifted by their minimum, which leaves P and
// the entropy unchanged and keeps exp from underflowing.
func calibrateRow(d, row []float64, i int, target float64) bool {
	n := len(d)
	dmin := math.Inf(1)
	var dsum float64
	for j, v := range d {
		if j != i {
			dmin = min(dmin, v)
			dsum += v
		}
	}
	beta := 1.0
	if spread := dsum/float64(n-1) - dmin; spread > 0 {
		beta = 1 / spread
	}
	betaMin, betaMax := math.Inf(-1), math.Inf(1)
	for range perplexitySteps {
		var sum float64
		for j, v := range d {
			if j == i {
				row[j] = 0
				continue
			}
			row[j] = math.Exp(-(v - dmin) * beta)
			sum += row[j]
		}
		var h float64 // entropy = log(sum) + β·Σ d_j p_j
		for j, v := range d {
			row[j] /= sum
			h += (v - dmin) * row[j]
		}
		h = math.Log(sum) + beta*h
		diff := h - target
		if math.Abs(diff) <= perplexityTol {
			break
		}
		if diff > 0 {
			betaMin = beta
			if math.IsInf(betaMax, 1) {
				beta *= 2
			} else {
				beta = (beta + betaMax) / 2
			}
		} else {
			betaMax = beta
			if math.IsInf(betaMin, -1) {
				beta /= 2
			} else {
				beta = (beta + betaMin) / 2
			}
		}
	}
	var total float64
	for _, v := range row {
		if math.IsNaN(v) {
			return false
		}
		total += v
	}
	return math.Abs(total-1) < 1e-6
}

// optimize runs gradient descent on KL(P‖Q) from a seeded Gaussian start.
func optimize(p []float64, n int, o Options) *Result {
	dims := o.Dims
	rng := rand.New(rand.NewPCG(o.Seed, 0x75e))
	y := make([]float64, n*dims)
	for i := range y {
		y[i] = initStd * rng.NormFloat64()
	}
	update := make([]float64, n*dims)
	gains := make([]float64, n*dims)
	for i := range gains {
		gains[i] = 1
	}
	grad := make([]float64, n*dims)
	num := make([]float64, n*n)
	rowSum := make([]float64, n)
	res := &Result{LearningRate: o.LearningRate}

	// kernel fills num with 1/(1+|y_i−y_j|²) (0 on the diagonal) and returns Σ num.
	kernel := func() float64 {
		parallel(n, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				yi := y[i*dims : (i+1)*dims]
				var s float64
				for j := range n {
					if j == i {
						num[i*n+j] = 0
						continue
					}
					var d2 float64
					for k, v := range yi {
						t := v - y[j*dims+k]
						d2 += t * t
					}
					q := 1 / (1 + d2)
					num[i*n+j] = q
					s += q
				}
				rowSum[i] = s
			}
		})
		var z float64
		for _, s := range rowSum {
			z += s
		}
		return z
	}
	kl := func(z float64) float64 {
		parallel(n, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				var s float64
				for j := range n {
					if j == i {
						continue
					}
					pij := p[i*n+j]
					q := max(num[i*n+j]/z, machineEps)
					s += pij * math.Log(max(pij, machineEps)/q)
				}
				rowSum[i] = s
			}
		})
		var s float64
		for _, v := range rowSum {
			s += v
		}
		return s
	}
	record := func(it int) {
		z := kernel()
		k := kl(z)
		res.History = append(res.History, KLPoint{Iter: it, KL: k})
		res.KL = k
		if o.Progress != nil {
			o.Progress(it, o.Iterations, k)
		}
	}

	for it := 1; it <= o.Iterations; it++ {
		exag, momentum := 1.0, finalMomentum
		if it <= o.ExaggerationIters {
			exag, momentum = o.EarlyExaggeration, initialMomentum
		}
		z := kernel()
		parallel(n, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				g := grad[i*dims : (i+1)*dims]
				clear(g)
				yi := y[i*dims : (i+1)*dims]
				for j := range n {
					if j == i {
						continue
					}
					q := num[i*n+j]
					mult := (exag*p[i*n+j] - q/z) * q
					for k, v := range yi {
						g[k] += mult * (v - y[j*dims+k])
					}
				}
				for k := range g {
					g[k] *= 4
				}
			}
		})
		for i, g := range grad {
			if g*update[i] < 0 {
				gains[i] += 0.2
			} else {
				gains[i] *= 0.8
			}
			gains[i] = max(gains[i], minGain)
			update[i] = momentum*update[i] - o.LearningRate*gains[i]*g
			y[i] += update[i]
		}
		// Centre the embedding (t-SNE is translation invariant; this keeps it near 0).
		for k := range dims {
			var m float64
			for i := range n {
				m += y[i*dims+k]
			}
			m /= float64(n)
			for i := range n {
				y[i*dims+k] -= m
			}
		}
		if it%KLEvery == 0 || it == o.Iterations {
			record(it)
		}
	}
	res.Y = make([][]float64, n)
	for i := range res.Y {
		res.Y[i] = append([]float64(nil), y[i*dims:(i+1)*dims]...)
	}
	return res
}
