package nn

import (
	"fmt"
	"math"
	"slices"
	"sync"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// Im2Col gathers the k×k neighbourhood of every pixel of NHWC x (zero outside the image,
// offsets -p..k-1-p) into the channel axis: out[n, h, w, (i·k+j)·C + c] = x[n, h+i−p, w+j−p, c].
// A convolution is then one matrix product of Im2Col(x) with the kernel reshaped to
// [k·k·C, out].
//
// The forward value is one row gather from the pixels of x plus a zero row (see
// im2colValue); the gradient is Col2Im, whose gradient is Im2Col again, so derivatives of
// every order are correct on every backend.
func Im2Col(x *Node, k, p int) *Node {
	if k == 1 && p == 0 {
		return x
	}
	c := x.Shape().Dimensions[3]
	link := func(zero *Node, in []*Node) *Node { return im2colValue(in[0], k, p, zero) }
	return withLinkedVJP([]*Node{x}, link, func(v *Node, _ int) *Node { return Col2Im(v, k, p, c) })
}

// im2colValue computes Im2Col's value (no gradient): the pixels of x as rows of an
// [N·H·W+1, C] table whose last row is zero, and one Gather of a constant index per output
// row (the zero row outside the image). It writes the patches once, in order, where the
// earlier form (k² shifted copies, each two slices and two concatenations, then one
// concatenation) wrote every patch five times; gogemm copies the rows on the host. The
// scalar zero (exactly 0, see withLinkedVJP) is broadcast into the zero row.
func im2colValue(x *Node, k, p int, zero *Node) *Node {
	d := x.Shape().Dimensions
	n, h, w, c := d[0], d[1], d[2], d[3]
	rows := n * h * w
	if rows+1 > math.MaxInt32 {
		panic(fmt.Sprintf("nn.Im2Col: %d pixels do not fit int32 indices", rows))
	}
	g := x.Graph()
	zeroRow := BroadcastToDims(ConvertDType(zero, x.DType()), 1, c)
	table := Concatenate([]*Node{Reshape(x, rows, c), zeroRow}, 0)
	gathered := Gather(table, ConstCachedTensor(g, im2colIndex(n, h, w, k, p)))
	return Reshape(gathered, n, h, w, k*k*c)
}

// im2colIndices caches the index tables of im2colValue (a few recent ones: DM and DC build
// the same table for every class, and every iteration's graph of a condenser again).
var im2colIndices struct {
	sync.Mutex
	keys   [][5]int
	tables []*tensors.Tensor
}

// im2colIndex is the [N·H·W·k², 1] int32 table of im2colValue: the table row of each tap of
// each pixel, N·H·W (the zero row) outside the image.
func im2colIndex(n, h, w, k, p int) *tensors.Tensor {
	key := [5]int{n, h, w, k, p}
	c := &im2colIndices
	c.Lock()
	defer c.Unlock()
	if i := slices.Index(c.keys, key); i >= 0 {
		return c.tables[i]
	}
	rows := n * h * w
	idx := make([]int32, 0, rows*k*k)
	for b := 0; b < n; b++ {
		for i := 0; i < h; i++ {
			for j := 0; j < w; j++ {
				for di := 0; di < k; di++ {
					for dj := 0; dj < k; dj++ {
						y, xx := i+di-p, j+dj-p
						if y < 0 || y >= h || xx < 0 || xx >= w {
							idx = append(idx, int32(rows))
						} else {
							idx = append(idx, int32((b*h+y)*w+xx))
						}
					}
				}
			}
		}
	}
	t := tensors.FromFlatDataAndDimensions(idx, rows*k*k, 1)
	const keep = 8
	if len(c.keys) == keep {
		c.keys, c.tables = c.keys[1:], c.tables[1:]
	}
	c.keys, c.tables = append(c.keys, key), append(c.tables, t)
	return t
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
