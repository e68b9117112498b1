package augment

import (
	"errors"
	"fmt"
	"math"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // gomlx's usual style.
	"gonum.org/v1/gonum/mat"
)

// DefaultKIPZCAStrength is the relative ZCA regularisation strength of the KIP reference
// (zca_reg=0.1 in neural_tangents' and KIP's preprocessing): reg = 0.1·tr(C)/d.
const DefaultKIPZCAStrength = 0.1

// kipMinNorm is the smallest per-image L2 norm divided by; a constant image, whose centred norm
// is below it, is divided by 1 instead, so it stays all zeros rather than NaN (the
// "min_divisor" guard of the Coates–Ng / neural-kernels ZCA code that KIP's preprocessing comes
// from). The threshold is raised to kipRoundOff·sqrt(d)·ε·‖x‖ (ε the precision of the
// arithmetic), so that the round-off left by subtracting the mean of a constant image is not
// blown up to unit norm.
const kipMinNorm = 1e-8

// kipRoundOff is the multiple of the round-off bound below which a centred image counts as
// constant.
const kipRoundOff = 4

// constantThreshold returns the centred norm below which an image of d features with L2 norm
// rawNorm counts as constant, for arithmetic of precision eps.
func constantThreshold(rawNorm float64, d int, eps float64) float64 {
	return max(kipMinNorm, kipRoundOff*math.Sqrt(float64(d))*eps*rawNorm)
}

// KIPZCAOptions configures FitZCAKIPWith.
type KIPZCAOptions struct {
	// Strength is the relative regularisation: reg = Strength·tr(C)/d is added to every
	// eigenvalue of the covariance C. DefaultKIPZCAStrength in the reference. Because the images
	// are L2-normalised first, tr(C) = 1 (for non-constant images), so reg = Strength/d.
	Strength float64
	// Absolute makes Strength the regularisation itself (reg = Strength), as the reference's
	// zca_reg_absolute_scale=True.
	Absolute bool
	// RankControl reproduces the "rank control" of the reference's JAX code: when there are
	// fewer images than features (n < d), only the n largest eigen-directions are whitened; the
	// d-n smallest (for n distinct images, exactly those the training set does not span) are
	// passed through with gain 1 instead of 1/sqrt(reg). Without it (the default, and the numpy neural-kernels code) they are scaled by
	// 1/sqrt(reg), which is large: with n < d, whitened test images are then dominated by what
	// the training images do not span. It changes nothing when n >= d.
	RankControl bool
}

// KIPZCA is the ZCA whitening of KIP (Nguyen et al., 2021) and the neural-kernels code it comes
// from (neural_tangents' "zca_normalize" preprocessing): every image is first layer-normalised
// (its mean over all pixels and channels subtracted, then divided by its L2 norm), then multiplied
// by W = U diag(1/sqrt(λ + reg)) Uᵀ, where U diag(λ) Uᵀ is the uncentred covariance
// C = XᵀX/n of the layer-normalised training images and reg = Strength·tr(C)/d.
//
// It differs from ZCA (FitZCA, kornia's ZCAWhitening, what MTT's --zca does) in three ways:
// the per-image normalisation, no per-feature mean (the covariance is the uncentred second
// moment, and nothing is subtracted before the product) and a regularisation relative to the
// covariance's scale rather than an absolute eps.
//
// The per-image step divides by the L2 norm, as the reference, not by the standard deviation:
// with the relative regularisation the result is the same either way (scaling every image by s
// scales C and reg by s², hence W by 1/s), but the norm makes tr(C) = 1 so the regularisation
// amount is simply Strength/d. (With Absolute or RankControl the two would differ; the norm is
// what the reference uses there too.)
//
// KIPZCA wraps a *ZCA holding the linear part (with a zero mean): ZCA has no place for the
// per-image step, and a *ZCA whose Apply skipped it would silently whiten wrongly. Use Linear for
// the matrix or to Save it (LoadZCA then gives back only the linear part).
type KIPZCA struct {
	linear   *ZCA
	strength float64
	opts     KIPZCAOptions
}

// FitZCAKIP fits KIP-style ZCA on n images of d features each (flattened, e.g. d = h*w*c), given
// as n*d float32 values, with relative regularisation strength (DefaultKIPZCAStrength in the
// reference) and no rank control. See KIPZCA.
func FitZCAKIP(images []float32, n, d int, strength float64) (*KIPZCA, error) {
	return FitZCAKIPWith(images, n, d, KIPZCAOptions{Strength: strength})
}

// FitZCAKIPWith is FitZCAKIP with every option of the reference. A zero regularisation needs a
// non-singular covariance, which layer-normalised images never have (they are all orthogonal to
// the constant image), unless RankControl passes the null directions through.
func FitZCAKIPWith(images []float32, n, d int, opts KIPZCAOptions) (*KIPZCA, error) {
	if n < 1 || d < 2 {
		return nil, fmt.Errorf("augment: FitZCAKIP needs n >= 1 images of d >= 2 features, got n=%d, d=%d", n, d)
	}
	if len(images) != n*d {
		return nil, fmt.Errorf("augment: FitZCAKIP got %d values, want n*d = %d*%d = %d", len(images), n, d, n*d)
	}
	if !(opts.Strength >= 0) || math.IsInf(opts.Strength, 0) {
		return nil, fmt.Errorf("augment: FitZCAKIP strength must be finite and >= 0, got %g", opts.Strength)
	}

	// Uncentred second moment of the layer-normalised images, chunk by chunk: C += Xᵀ X.
	cov := mat.NewSymDense(d, nil)
	buf := make([]float64, zcaChunk*d)
	for start := 0; start < n; start += zcaChunk {
		rows := min(zcaChunk, n-start)
		block := buf[:rows*d]
		for i := range rows {
			row := block[i*d : (i+1)*d]
			for k, v := range images[(start+i)*d : (start+i+1)*d] {
				row[k] = float64(v)
			}
			layerNorm(row)
		}
		cov.SymRankK(cov, 1, mat.NewDense(rows, d, block).T())
	}
	cov.ScaleSym(1/float64(n), cov)

	trace := 0.0
	for k := range d {
		trace += cov.At(k, k)
	}
	reg := opts.Strength
	if !opts.Absolute {
		reg = opts.Strength * trace / float64(d)
	}

	var eig mat.EigenSym
	if !eig.Factorize(cov, true) {
		return nil, errors.New("augment: FitZCAKIP: eigen-decomposition of the covariance failed")
	}
	values := eig.Values(nil) // Ascending.
	var u mat.Dense
	eig.VectorsTo(&u)
	// Rank control keeps the gains of the n largest eigenvalues only and sets the others to 1:
	// with the values in ascending order, the first d-n.
	passThrough := 0
	if opts.RankControl && n < d {
		passThrough = d - n
	}
	tol := 0.0
	for _, l := range values {
		tol = max(tol, math.Abs(l))
	}
	tol *= float64(d) * 0x1p-52
	invRoot := make([]float64, d)
	root := make([]float64, d)
	for k, l := range values {
		if k < passThrough {
			invRoot[k], root[k] = 1, 1
			continue
		}
		if l <= tol { // Round-off around zero (possibly negative) is zero.
			l = 0
		}
		l += reg
		if !(l > 0) {
			return nil, fmt.Errorf("augment: FitZCAKIP: the covariance is singular (eigenvalue %d is %g, "+
				"layer-normalised images always give one); use a positive strength", k, values[k])
		}
		invRoot[k] = 1 / math.Sqrt(l)
		root[k] = math.Sqrt(l)
	}
	linear := &ZCA{dim: d, eps: reg, mean: make([]float64, d), w: symProduct(&u, invRoot), inv: symProduct(&u, root)}
	return &KIPZCA{linear: linear, strength: opts.Strength, opts: opts}, nil
}

// layerNorm subtracts the mean of x and divides it by its L2 norm, in place; a constant image
// (see constantThreshold) becomes all zeros.
func layerNorm(x []float64) {
	mean, raw := 0.0, 0.0
	for _, v := range x {
		mean += v
		raw += v * v
	}
	mean /= float64(len(x))
	ss := 0.0
	for k, v := range x {
		v -= mean
		x[k] = v
		ss += v * v
	}
	norm := math.Sqrt(ss)
	if norm < constantThreshold(math.Sqrt(raw), len(x), 0x1p-52) {
		clear(x)
		return
	}
	for k := range x {
		x[k] /= norm
	}
}

// Dim returns the number of features.
func (z *KIPZCA) Dim() int { return z.linear.dim }

// Strength returns the strength it was fitted with (relative, unless Options().Absolute).
func (z *KIPZCA) Strength() float64 { return z.strength }

// Options returns the options it was fitted with.
func (z *KIPZCA) Options() KIPZCAOptions { return z.opts }

// Regularization returns the amount actually added to the covariance eigenvalues,
// Strength·tr(C)/d (or Strength if Absolute).
func (z *KIPZCA) Regularization() float64 { return z.linear.eps }

// Linear returns the linear part: the whitening matrix W with a zero mean, without the per-image
// normalisation. Its Apply is KIPZCA.Apply only on images already layer-normalised.
func (z *KIPZCA) Linear() *ZCA { return z.linear }

// Matrix returns a copy of the whitening matrix W (dim×dim, row-major, symmetric).
func (z *KIPZCA) Matrix() []float64 { return z.linear.Matrix() }

// LayerNorm applies only the per-image step to n images of Dim features, in place: each image's
// mean over all its features is subtracted and it is divided by its L2 norm (a constant image
// becomes all zeros).
func (z *KIPZCA) LayerNorm(images []float32, n int) error {
	d := z.linear.dim
	if n < 0 || len(images) != n*d {
		return fmt.Errorf("augment: KIP ZCA of dim %d got %d values for n=%d images, want %d", d, len(images), n, n*d)
	}
	row := make([]float64, d)
	for i := range n {
		im := images[i*d : (i+1)*d]
		for k, v := range im {
			row[k] = float64(v)
		}
		layerNorm(row)
		for k, v := range row {
			im[k] = float32(v)
		}
	}
	return nil
}

// Apply layer-normalises and whitens n images of Dim features in place: x ← layernorm(x) W.
func (z *KIPZCA) Apply(images []float32, n int) error {
	if err := z.LayerNorm(images, n); err != nil {
		return err
	}
	return z.linear.Apply(images, n)
}

// Inverse undoes the whitening in place, x ← x W⁻¹, giving back the layer-normalised images
// (zero mean and unit L2 norm each): the per-image mean and norm are not recorded, so the
// original scale is lost. For display, min–max scale each image.
func (z *KIPZCA) Inverse(images []float32, n int) error {
	return z.linear.Inverse(images, n)
}

// ApplyGraph layer-normalises and whitens x in the graph: x has shape [N, ...] with Dim features
// per example, and the result has x's shape and dtype. It is differentiable (a constant example
// gives zeros and a zero gradient).
func (z *KIPZCA) ApplyGraph(x *Node) *Node {
	d := z.linear.dim
	if x.Rank() < 1 || !x.DType().IsFloat() || x.Shape().Size() != x.Shape().Dimensions[0]*d {
		panicf("augment: KIP ZCA of dim %d needs a float tensor [N, ...] with %d features per example, got %s",
			d, d, x.Shape())
	}
	n := x.Shape().Dimensions[0]
	flat := Reshape(x, n, d)
	rawSS := StopGradient(ReduceAndKeep(Square(flat), ReduceSum, 1))
	flat = Sub(flat, ReduceAndKeep(flat, ReduceMean, 1))
	ss := ReduceAndKeep(Square(flat), ReduceSum, 1)
	// Constant when ss < constantThreshold(sqrt(rawSS))², written without a square root.
	eps := dtypeEpsilon(x.DType())
	rel := kipRoundOff * math.Sqrt(float64(d)) * eps
	thrSS := MaxScalar(MulScalar(rawSS, rel*rel), kipMinNorm*kipMinNorm)
	// Per image [N, 1]: 1/norm, or 0 for a constant image.
	factor := Where(LessThan(ss, thrSS), ZerosLike(ss), Inverse(Sqrt(Max(ss, thrSS))))
	flat = Mul(flat, factor)
	return z.linear.ApplyGraph(Reshape(flat, x.Shape().Dimensions...))
}

// dtypeEpsilon returns the machine epsilon of a float dtype (float32's for unknown ones).
func dtypeEpsilon(dt dtypes.DType) float64 {
	switch dt {
	case dtypes.Float64:
		return 0x1p-52
	case dtypes.Float16:
		return 0x1p-10
	case dtypes.BFloat16:
		return 0x1p-7
	}
	return 0x1p-23
}
