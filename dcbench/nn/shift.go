package nn

import (
	"fmt"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
)

// rawShift moves x by offset positions along axis, filling with zeros: out[i] = x[i-offset].
// Its result must be wrapped in StopGradient: gomlx would differentiate Slice with Pad.
func rawShift(x *Node, axis, offset int) *Node {
	n := x.Shape().Dimensions[axis]
	if offset == 0 {
		return x
	}
	if offset >= n || -offset >= n {
		return ZerosLike(x)
	}
	zerosShape := x.Shape().Clone()
	if offset > 0 {
		zerosShape.Dimensions[axis] = offset
		kept := SliceAxis(x, axis, AxisRange(0, n-offset))
		return Concatenate([]*Node{Zeros(x.Graph(), zerosShape), kept}, axis)
	}
	zerosShape.Dimensions[axis] = -offset
	kept := SliceAxis(x, axis, AxisRange(-offset, n))
	return Concatenate([]*Node{kept, Zeros(x.Graph(), zerosShape)}, axis)
}

// ShiftZero moves x by offset positions along axis, filling the vacated positions with zeros:
// out[..., i, ...] = x[..., i-offset, ...] where the index is valid, 0 elsewhere.
//
// Its gradient is ShiftZero by -offset, so it is differentiable to any order on every backend
// (gomlx's own Slice gradient needs Pad, which the simplego backend lacks).
func ShiftZero(x *Node, axis, offset int) *Node {
	axis = normAxis(axis, x.Rank())
	if offset == 0 {
		return x
	}
	return withCustomVJP([]*Node{x}, rawShift(x, axis, offset), func(v *Node, _ int) *Node { return ShiftZero(v, axis, -offset) })
}

// Shift2D moves NHWC feature maps by (dy, dx) pixels with zero fill: out[n, h, w, c] =
// x[n, h-dy, w-dx, c]. Differentiable to any order.
func Shift2D(x *Node, dy, dx int) *Node {
	if dy == 0 && dx == 0 {
		return x
	}
	return withCustomVJP([]*Node{x}, rawShift(rawShift(x, 1, dy), 2, dx), func(v *Node, _ int) *Node { return Shift2D(v, -dy, -dx) })
}

// CropAxis keeps positions [start, end) of x along axis.
//
// It is a product with a constant 0/1 selection matrix, so its gradient (a product with the
// transposed matrix) is correct to any order on every backend; gomlx's own Slice gradient
// needs Pad, which simplego lacks. It costs n·(end-start) multiply-adds per row of the axis:
// meant for small axes (cropping a feature map by a pixel), not for hot loops.
func CropAxis(x *Node, axis, start, end int) *Node {
	axis = normAxis(axis, x.Rank())
	n := x.Shape().Dimensions[axis]
	if start < 0 || end > n || start >= end {
		panic(fmt.Sprintf("nn.CropAxis: range [%d,%d) invalid for axis %d of size %d", start, end, axis, n))
	}
	if start == 0 && end == n {
		return x
	}
	m := end - start
	sel := make([]float64, n*m)
	for j := 0; j < m; j++ {
		sel[(start+j)*m+j] = 1
	}
	return applyAxisMatrix(x, axis, sel, n, m)
}

// ZeroPadAxis adds lo zeros before and hi zeros after x along axis, as a product with a constant
// embedding matrix (see CropAxis for why).
func ZeroPadAxis(x *Node, axis, lo, hi int) *Node {
	axis = normAxis(axis, x.Rank())
	if lo < 0 || hi < 0 {
		panic(fmt.Sprintf("nn.ZeroPadAxis: negative padding %d, %d", lo, hi))
	}
	if lo == 0 && hi == 0 {
		return x
	}
	n := x.Shape().Dimensions[axis]
	m := lo + n + hi
	emb := make([]float64, n*m)
	for i := 0; i < n; i++ {
		emb[i*m+lo+i] = 1
	}
	return applyAxisMatrix(x, axis, emb, n, m)
}

// applyAxisMatrix contracts axis (size n) of x with the constant n×m matrix mat (row-major)
// and puts the new axis (size m) back in place.
func applyAxisMatrix(x *Node, axis int, mat []float64, n, m int) *Node {
	g := x.Graph()
	matNode := ConvertDType(Reshape(Const(g, mat), n, m), x.DType())
	rank := x.Rank()
	if axis == rank-1 {
		return MatMulLast(x, matNode)
	}
	// Move axis last, multiply, move it back.
	perm := make([]int, 0, rank)
	for i := 0; i < rank; i++ {
		if i != axis {
			perm = append(perm, i)
		}
	}
	perm = append(perm, axis)
	inv := make([]int, rank)
	for i, p := range perm {
		inv[p] = i
	}
	return TransposeAllDims(MatMulLast(TransposeAllDims(x, perm...), matNode), inv...)
}

// Subsample2 keeps the even positions (0, 2, 4, ...) of x along axis: the stride-2 part of a
// strided convolution. An odd size is first padded by one zero at the end, so the output has
// ceil(n/2) positions, as a stride-2 convolution with "same" padding. Built from a reshape
// and a masked sum, it is differentiable to any order.
func Subsample2(x *Node, axis int) *Node {
	axis = normAxis(axis, x.Rank())
	n := x.Shape().Dimensions[axis]
	if n%2 == 1 {
		x = ZeroPadAxis(x, axis, 0, 1)
		n++
	}
	dims := x.Shape().Dimensions
	newDims := make([]int, 0, len(dims)+1)
	newDims = append(newDims, dims[:axis]...)
	newDims = append(newDims, n/2, 2)
	newDims = append(newDims, dims[axis+1:]...)
	r := Reshape(x, newDims...)
	maskDims := make([]int, len(newDims))
	for i := range maskDims {
		maskDims[i] = 1
	}
	maskDims[axis+1] = 2
	mask := ConvertDType(Reshape(Const(x.Graph(), []float64{1, 0}), maskDims...), x.DType())
	return ReduceSum(Mul(r, mask), axis+1)
}

func normAxis(axis, rank int) int {
	if axis < 0 {
		axis += rank
	}
	if axis < 0 || axis >= rank {
		panic(fmt.Sprintf("nn: axis %d out of range for rank %d", axis, rank))
	}
	return axis
}
