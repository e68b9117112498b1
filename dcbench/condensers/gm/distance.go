package gm

import (
	"fmt"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
)

// DistanceEpsilon is added to the product of the row norms in LayerDistance, as the reference's
// distance_wb (0.000001).
const DistanceEpsilon = 1e-6

// LayerDistance is the reference's layer-wise gradient distance (distance_wb, metric "ours")
// between the real-data gradient gr and the synthetic-data gradient gs of one parameter
// tensor: the tensor is cut into rows, one per output unit, and the distance is
//
//	Σ_rows 1 − ⟨gr_row, gs_row⟩ / (‖gr_row‖·‖gs_row‖ + 1e-6).
//
// dcbench keeps the output axis last (conv kernels [k, k, in, out], dense weights [in, out],
// layer-norm gains [H, W, C]), so a row is everything but the last axis: the same rows as the
// reference's reshape of PyTorch's [out, in, k, k], [out, in] and [C, H, W] tensors to
// [out, -1]. Tensors of rank 0 or 1 (biases, norm gains and offsets) contribute 0, as in the
// reference ("do nothing" for 1-D tensors); LayerDistance returns nil for them.
//
// The norms are written so that an all-zero row (e.g. the gradient of a dead unit) has norm 0
// and a finite (zero) gradient, as PyTorch's norm.
func LayerDistance(gr, gs *Node) *Node {
	if gr.Rank() <= 1 {
		return nil
	}
	axes := make([]int, gr.Rank()-1)
	for i := range axes {
		axes[i] = i
	}
	dot := ReduceSum(Mul(gr, gs), axes...)
	nr := safeSqrt(ReduceSum(Mul(gr, gr), axes...))
	ns := safeSqrt(ReduceSum(Mul(gs, gs), axes...))
	cos := Div(dot, AddScalar(Mul(nr, ns), DistanceEpsilon))
	return ReduceAllSum(OneMinus(cos))
}

// MatchDistance sums LayerDistance over the parameter tensors; gr[i] and gs[i] are the real
// and synthetic gradients of parameter i. 1-D tensors contribute 0. It returns a scalar zero
// when no tensor contributes.
func MatchDistance(gr, gs []*Node) *Node {
	if len(gr) != len(gs) {
		panic(fmt.Sprintf("gm.MatchDistance: %d real and %d synthetic gradients", len(gr), len(gs)))
	}
	var total *Node
	for i := range gr {
		d := LayerDistance(gr[i], gs[i])
		if d == nil {
			continue
		}
		if total == nil {
			total = d
		} else {
			total = Add(total, d)
		}
	}
	if total == nil && len(gs) > 0 {
		return ScalarZero(gs[0].Graph(), gs[0].DType())
	}
	return total
}

// safeSqrt is √s for s ≥ 0, with value and gradient 0 at s = 0 (Sqrt's gradient there is
// infinite, and 0·∞ would poison the whole gradient with NaN).
func safeSqrt(s *Node) *Node {
	pos := GreaterThan(s, ZerosLike(s))
	return Where(pos, Sqrt(Where(pos, s, OnesLike(s))), ZerosLike(s))
}
