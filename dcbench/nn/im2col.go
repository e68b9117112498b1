package nn

import (
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
)

// Im2Col gathers the k×k neighbourhood of every pixel of NHWC x (zero outside the image,
// offsets -p..k-1-p) into the channel axis: out[n, h, w, (i·k+j)·C + c] = x[n, h+i−p, w+j−p, c].
// A convolution is then one matrix product of Im2Col(x) with the kernel reshaped to
// [k·k·C, out].
//
// The forward value is built from slices and concatenations (fast on every backend); the
// gradient is Col2Im, whose gradient is Im2Col again, so derivatives of every order are
// correct on every backend.
func Im2Col(x *Node, k, p int) *Node {
	if k == 1 && p == 0 {
		return x
	}
	parts := make([]*Node, 0, k*k)
	for i := 0; i < k; i++ {
		for j := 0; j < k; j++ {
			parts = append(parts, rawShift(rawShift(x, 1, p-i), 2, p-j))
		}
	}
	value := Concatenate(parts, 3)
	c := x.Shape().Dimensions[3]
	return withCustomVJP([]*Node{x}, value, func(v *Node, _ int) *Node { return Col2Im(v, k, p, c) })
}

// Col2Im is the adjoint of Im2Col: it sums every tap block of cols [N, H, W, k·k·c] back onto
// the pixel it came from, giving [N, H, W, c].
func Col2Im(cols *Node, k, p, c int) *Node {
	if k == 1 && p == 0 {
		return cols
	}
	var value *Node
	for i := 0; i < k; i++ {
		for j := 0; j < k; j++ {
			tap := (i*k + j) * c
			block := SliceAxis(cols, 3, AxisRange(tap, tap+c))
			term := rawShift(rawShift(block, 1, i-p), 2, j-p)
			if value == nil {
				value = term
			} else {
				value = Add(value, term)
			}
		}
	}
	return withCustomVJP([]*Node{cols}, value, func(v *Node, _ int) *Node { return Im2Col(v, k, p) })
}
