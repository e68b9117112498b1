package nn

import (
	"fmt"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
)

// withCustomVJP returns value (it is wrapped in StopGradient, so gomlx never differentiates
// the ops that computed it) as a node whose gradient with respect to inputs[i] is
// vjp(v, i), where v is the gradient arriving at the output. It costs one pass over the
// value (adding an exact zero); withLinkedVJP avoids that pass.
func withCustomVJP(inputs []*Node, value *Node, vjp func(v *Node, i int) *Node) *Node {
	value = StopGradient(value)
	return withLinkedVJP(inputs, func(zero *Node, _ []*Node) *Node {
		return Add(value, ConvertDType(zero, value.DType()))
	}, vjp)
}

// withLinkedVJP returns link(zero, stopped) as a node whose gradient with respect to
// inputs[i] is vjp(v, i), where v is the gradient arriving at the output.
//
// stopped are the inputs wrapped in StopGradient, from which link computes the value, and
// zero is an exactly-zero scalar (of the first input's dtype) that link must fold into
// the value, best into a small operand (a weight matrix, a padding row), so that it costs
// next to nothing. It is what links the output to the inputs: gomlx offers custom
// gradients only on identity nodes, whose gradient has the shape of their input, so the
// output carries an identity that records the arriving v, and each input is linked to the
// output through the zero (t − StopGradient(t), read in O(1), see firstElementZero) whose
// identity t returns vjp(v, i). The gradient that reaches the zero through link's ops is
// never used, so those ops' gradients are never computed. The recorded v is used within the
// same reverse pass: gomlx visits nodes in reverse creation order, so the output's identity
// always comes before the inputs'. vjp must itself be built from differentiable ops (e.g.
// MatMulLast), which makes the result differentiable to any order.
func withLinkedVJP(inputs []*Node, link func(zero *Node, stopped []*Node) *Node, vjp func(v *Node, i int) *Node) *Node {
	var arriving *Node
	var zero *Node
	stopped := make([]*Node, len(inputs))
	for i, x := range inputs {
		i := i
		t := IdentityWithCustomGradient(x, func(_, _ *Node) *Node {
			if arriving == nil {
				panic("nn: internal error, custom gradient reached an input before the output")
			}
			return vjp(arriving, i)
		})
		z := ConvertDType(firstElementZero(t), inputs[0].DType())
		if zero == nil {
			zero = z
		} else {
			zero = Add(zero, z)
		}
		stopped[i] = StopGradient(x)
	}
	out := link(zero, stopped)
	return IdentityWithCustomGradient(out, func(_, v *Node) *Node {
		arriving = v
		return v
	})
}

// firstElementZero returns t's first element minus itself: exactly 0, read in O(1) (a
// one-element Gather with a full-rank index, whose gradient, a ScatterSum, is cheap and
// works on every backend), yet on a gradient path from t. Indexing every axis avoids
// reshaping t first, which simplego would pay for with a full copy of t.
func firstElementZero(t *Node) *Node {
	idx := make([]int32, t.Rank())
	first := Reshape(Gather(t, Const(t.Graph(), [][]int32{idx})))
	return Sub(first, StopGradient(first))
}

// MatMulLast multiplies x [..., K] by w [K, M], giving [..., M].
//
// Its gradients are matrix products (dx = v·wᵀ, dw = xᵀ·v), themselves MatMulLast products, so they are
// cheap and correct to any order. gomlx's own DotGeneral gradient instead materialises the
// broadcast product of both operands ([..., K, M]), which is hundreds of times slower and
// takes gigabytes for a convolution layer.
func MatMulLast(x, w *Node) *Node {
	if w.Rank() != 2 {
		panic(fmt.Sprintf("nn.MatMulLast: weights must be a matrix, got %s", w.Shape()))
	}
	k := x.Shape().Dimensions[x.Rank()-1]
	if k != w.Shape().Dimensions[0] {
		panic(fmt.Sprintf("nn.MatMulLast: shapes %s and %s do not match", x.Shape(), w.Shape()))
	}
	link := func(zero *Node, in []*Node) *Node { // the zero goes into the (small) weights
		return DotGeneral(in[0], []int{x.Rank() - 1}, nil, Add(in[1], ConvertDType(zero, w.DType())), []int{0}, nil)
	}
	return withLinkedVJP([]*Node{x, w}, link, func(v *Node, i int) *Node {
		if i == 0 {
			return MatMulLast(v, Transpose(w, 0, 1))
		}
		rows := x.Shape().Size() / k
		x2 := Reshape(x, rows, k)
		v2 := Reshape(v, rows, w.Shape().Dimensions[1])
		return matMulTN(x2, v2)
	})
}

// matMulTN is aᵀ·b for matrices a [B, K] and b [B, M], giving [K, M], without materialising
// the transpose (the backend contracts the first axes directly). Gradients: da = b·vᵀ,
// db = a·v, both differentiable to any order.
func matMulTN(a, b *Node) *Node {
	value := DotGeneral(a, []int{0}, nil, b, []int{0}, nil)
	return withCustomVJP([]*Node{a, b}, value, func(v *Node, i int) *Node {
		if i == 0 {
			return MatMulLast(b, Transpose(v, 0, 1))
		}
		return MatMulLast(a, v)
	})
}

// BatchMatMul multiplies a [B, M, K] by b [B, K, N] batch by batch, giving [B, M, N], with the
// same cheap, any-order gradients as MatMulLast (da = v·bᵀ, db = aᵀ·v per batch) instead of
// gomlx's DotGeneral gradient, which materialises [B, M, K, N]. Used by attention.
func BatchMatMul(a, b *Node) *Node {
	if a.Rank() != 3 || b.Rank() != 3 || a.Shape().Dimensions[0] != b.Shape().Dimensions[0] ||
		a.Shape().Dimensions[2] != b.Shape().Dimensions[1] {
		panic(fmt.Sprintf("nn.BatchMatMul: shapes %s and %s do not match [B,M,K]·[B,K,N]", a.Shape(), b.Shape()))
	}
	value := DotGeneral(a, []int{2}, []int{0}, b, []int{1}, []int{0})
	return withCustomVJP([]*Node{a, b}, value, func(v *Node, i int) *Node {
		if i == 0 {
			return BatchMatMul(v, TransposeAllDims(b, 0, 2, 1))
		}
		return BatchMatMul(TransposeAllDims(a, 0, 2, 1), v)
	})
}
