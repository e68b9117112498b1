// Package ntk computes closed-form infinite-width kernels of neural networks as gomlx graph
// functions: the NNGP kernel (the covariance of the network's outputs at initialisation) and
// the neural tangent kernel (NTK, the kernel of gradient-descent training in the
// infinite-width limit) of a fully-connected ReLU network, as neural-tangents'
// stax.serial(Flatten, [Dense(W_std, b_std), Relu] × depth, Dense(W_std, b_std)) in the NTK
// parameterisation computes them. A plain-Go float64 implementation of the same recursions
// (FC.Reference) is the test oracle.
//
// The kernels are differentiable with respect to both inputs on every backend, including
// the pure-Go simplego one, which has no arccos: it is built from Sqrt and a polynomial
// (Acos), and the angle's infinite derivative at cos θ = ±1 (the diagonal of K(x, x)) is
// kept out of the gradient.
//
// # Recursions
//
// For inputs x, x' with d features, the first layer sees Σ = x·x'/d and the variances
// q = |x|²/d, q' = |x'|²/d; the NTK Θ starts at 0. A Dense layer maps
//
//	Σ ← W²·Σ + b²,  q ← W²·q + b²,  Θ ← W²·Θ + Σ (the new Σ),
//
// and a ReLU, with cos θ = Σ/√(q q'),
//
//	Σ ← √(q q')/(2π)·(sin θ + (π − θ) cos θ),  q ← q/2,  Θ ← Θ·(π − θ)/(2π).
//
// The kernels returned are those of the network's output (after the last Dense).
package ntk

import (
	"errors"
	"fmt"
	"math"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // gomlx's usual style.

	"github.com/dcbench/dcbench/dcbench/nn"
)

// FC is the infinite-width fully-connected ReLU network: Depth hidden layers (Dense + ReLU)
// followed by a Dense output layer, all in the NTK parameterisation with weight standard
// deviation WStd and bias standard deviation BStd.
type FC struct {
	// Depth is the number of hidden layers (≥ 0; 0 gives the linear kernel).
	Depth int
	// WStd is the weight standard deviation (W_std of neural-tangents' stax.Dense).
	WStd float64
	// BStd is the bias standard deviation (b_std).
	BStd float64
}

// DefaultFC is the kernel of the KIP reference (its FullyConnectedNetwork: depth 1,
// W_std = √2, b_std = 0.1, NTK parameterisation).
func DefaultFC() FC { return FC{Depth: 1, WStd: math.Sqrt2, BStd: 0.1} }

// Validate reports a setting that does not define a kernel.
func (k FC) Validate() error {
	switch {
	case k.Depth < 0:
		return fmt.Errorf("ntk: depth must be ≥ 0, got %d", k.Depth)
	case !(k.WStd > 0) || math.IsInf(k.WStd, 0):
		return fmt.Errorf("ntk: weight std must be positive and finite, got %v", k.WStd)
	case !(k.BStd >= 0) || math.IsInf(k.BStd, 0):
		return fmt.Errorf("ntk: bias std must be ≥ 0 and finite, got %v", k.BStd)
	}
	return nil
}

// Kind selects which kernel of a network is used.
type Kind string

// The kernels of a network.
const (
	// NTK is the neural tangent kernel (the default of KIP).
	NTK Kind = "ntk"
	// NNGP is the neural-network Gaussian-process kernel.
	NNGP Kind = "nngp"
)

// ParseKind reads "ntk" or "nngp".
func ParseKind(s string) (Kind, error) {
	switch Kind(s) {
	case NTK, NNGP:
		return Kind(s), nil
	}
	return "", fmt.Errorf("ntk: unknown kernel %q (want ntk or nngp)", s)
}

// Kernels returns the NNGP and NTK kernels [N1, N2] between x1 [N1, ...] and x2 [N2, ...]
// (flattened to their features, which must agree), in x1's float dtype. It panics, as gomlx
// graph functions do, on shapes that do not match; call Validate first for the settings.
func (k FC) Kernels(x1, x2 *Node) (nngp, ntk *Node) {
	if err := k.Validate(); err != nil {
		panic(err)
	}
	if x1.Rank() < 1 || x2.Rank() < 1 || !x1.DType().IsFloat() || x1.DType() != x2.DType() {
		panic(fmt.Sprintf("ntk: inputs must be float tensors [N, ...] of one dtype, got %s and %s", x1.Shape(), x2.Shape()))
	}
	n1, n2 := x1.Shape().Dimensions[0], x2.Shape().Dimensions[0]
	if n1 == 0 || n2 == 0 {
		panic(fmt.Sprintf("ntk: empty input, shapes %s and %s", x1.Shape(), x2.Shape()))
	}
	d := x1.Shape().Size() / n1
	if x2.Shape().Size()/n2 != d {
		panic(fmt.Sprintf("ntk: inputs have %d and %d features (shapes %s and %s)", d, x2.Shape().Size()/n2, x1.Shape(), x2.Shape()))
	}
	f1, f2 := Reshape(x1, n1, d), Reshape(x2, n2, d)
	inv := 1 / float64(d)
	sigma := MulScalar(nn.MatMulLast(f1, Transpose(f2, 0, 1)), inv)                        // [N1, N2]
	q1 := BroadcastToDims(MulScalar(ReduceAndKeep(Square(f1), ReduceSum, 1), inv), n1, n2) // [N1, N2]
	q2 := BroadcastToDims(MulScalar(Transpose(ReduceAndKeep(Square(f2), ReduceSum, 1), 0, 1), inv), n1, n2)
	w2, b2 := k.WStd*k.WStd, k.BStd*k.BStd
	dense := func() {
		sigma = AddScalar(MulScalar(sigma, w2), b2)
		q1 = AddScalar(MulScalar(q1, w2), b2)
		q2 = AddScalar(MulScalar(q2, w2), b2)
		if ntk == nil {
			ntk = sigma
		} else {
			ntk = Add(MulScalar(ntk, w2), sigma)
		}
	}
	dense()
	for range k.Depth {
		prod := Sqrt(Mul(q1, q2))
		cos := Div(sigma, prod)
		theta := Acos(cos)
		sin := SinFromCos(cos)
		piMinus := OneMinus(MulScalar(theta, 1/math.Pi)) // (π − θ)/π
		sigma = Mul(MulScalar(prod, 0.5/math.Pi), Add(sin, Mul(MulScalar(piMinus, math.Pi), cos)))
		ntk = Mul(ntk, MulScalar(piMinus, 0.5))
		q1 = MulScalar(q1, 0.5)
		q2 = MulScalar(q2, 0.5)
		dense()
	}
	return sigma, ntk
}

// Kernel returns the kernel of the given kind (see Kernels).
func (k FC) Kernel(kind Kind, x1, x2 *Node) *Node {
	nngp, ntk := k.Kernels(x1, x2)
	if kind == NNGP {
		return nngp
	}
	return ntk
}

// Abramowitz & Stegun 4.4.46: acos(x) = √(1−x)·Σ a_i x^i + ε for 0 ≤ x ≤ 1, |ε| ≤ 2·10⁻⁸.
var acosCoeffs = [...]float64{1.5707963050, -0.2145988016, 0.0889789874, -0.0501743046,
	0.0308918810, -0.0170881256, 0.0066700901, -0.0012624911}

// acosPos is the approximation for x ∈ [0, 1] (finite for x ∈ [−1, 1]).
func acosPos(x *Node) *Node {
	p := Scalar(x.Graph(), x.DType(), acosCoeffs[len(acosCoeffs)-1])
	for i := len(acosCoeffs) - 2; i >= 0; i-- {
		p = AddScalar(Mul(p, x), acosCoeffs[i])
	}
	return Mul(Sqrt(OneMinus(x)), p)
}

// acosPoly is the approximation on [−1, 1], using acos(x) = π − acos(−x) for x < 0.
func acosPoly(x *Node) *Node {
	return Where(GreaterOrEqual(x, ZerosLike(x)), acosPos(x), AddScalar(Neg(acosPos(Neg(x))), math.Pi))
}

// gradMargin returns how far inside ±1 the gradient of Acos and SinFromCos is taken, where
// the derivatives are infinite: 10⁻¹² in float64, 10⁻⁶ in narrower dtypes.
func gradMargin(dt dtypes.DType) float64 {
	if dt == dtypes.Float64 {
		return 1e-12
	}
	return 1e-6
}

// valueWithGradOf returns value's value with soft's gradient.
func valueWithGradOf(value, soft *Node) *Node {
	return Add(StopGradient(value), Sub(soft, StopGradient(soft)))
}

// Acos is the arc-cosine of x, clipped to [−1, 1] first, in [0, π], with an absolute error
// below 2·10⁻⁸ (Abramowitz & Stegun 4.4.46; the simplego backend has no arccos). Its
// gradient is that of the approximation at x clipped to [−1+m, 1−m] (m = 10⁻¹² in float64,
// 10⁻⁶ otherwise): finite everywhere, zero outside, where acos's derivative is infinite.
func Acos(x *Node) *Node {
	m := gradMargin(x.DType())
	return valueWithGradOf(acosPoly(ClipScalar(x, -1, 1)), acosPoly(ClipScalar(x, -1+m, 1-m)))
}

// SinFromCos is √(1 − x²) for x clipped to [−1, 1] (the sine of Acos(x)), with the gradient
// taken inside ±(1−m) as Acos's.
func SinFromCos(x *Node) *Node {
	m := gradMargin(x.DType())
	s := func(c *Node) *Node { return Sqrt(Max(OneMinus(Square(c)), ZerosLike(c))) }
	return valueWithGradOf(s(ClipScalar(x, -1, 1)), s(ClipScalar(x, -1+m, 1-m)))
}

// Reference computes the NNGP and NTK kernels in plain Go float64 with math.Acos: x1 holds
// n1 inputs and x2 n2 inputs of d features each (row-major); the results are n1×n2,
// row-major. It is the oracle of the graph version.
func (k FC) Reference(x1 []float64, n1 int, x2 []float64, n2 int, d int) (nngp, ntk []float64, err error) {
	if err := k.Validate(); err != nil {
		return nil, nil, err
	}
	if n1 < 1 || n2 < 1 || d < 1 || len(x1) != n1*d || len(x2) != n2*d {
		return nil, nil, errors.New("ntk: Reference got inputs whose lengths do not match n1, n2 and d")
	}
	nngp = make([]float64, n1*n2)
	ntk = make([]float64, n1*n2)
	w2, b2 := k.WStd*k.WStd, k.BStd*k.BStd
	for i := range n1 {
		a := x1[i*d : (i+1)*d]
		for j := range n2 {
			b := x2[j*d : (j+1)*d]
			var s, qa, qb float64
			for f := range d {
				s += a[f] * b[f]
				qa += a[f] * a[f]
				qb += b[f] * b[f]
			}
			s, qa, qb = s/float64(d), qa/float64(d), qb/float64(d)
			s, qa, qb = w2*s+b2, w2*qa+b2, w2*qb+b2
			t := s
			for range k.Depth {
				prod := math.Sqrt(qa * qb)
				c := max(-1, min(1, s/prod))
				th := math.Acos(c)
				s = prod / (2 * math.Pi) * (math.Sin(th) + (math.Pi-th)*c)
				t *= (math.Pi - th) / (2 * math.Pi)
				qa, qb = qa/2, qb/2
				s, qa, qb = w2*s+b2, w2*qa+b2, w2*qb+b2
				t = w2*t + s
			}
			nngp[i*n2+j], ntk[i*n2+j] = s, t
		}
	}
	return nngp, ntk, nil
}
