package gogemm

import (
	"math"
	"slices"
	"sync"
	"unsafe"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// Element-wise host ops: float32 unary and binary arithmetic, comparisons (to bool) and
// Where. simplego runs these on one core, walks broadcast operands through an index
// iterator and runs Where as a branch per element (mispredicted half of the time on ReLU
// masks); here the output is split over the cores, each operand is read through strides
// (0 along broadcast axes), a BroadcastInDim operand is read from its source instead of
// being materialised, and Where is branch-free.

// elemKinds maps each element-wise method to its kind.
var elemKinds = map[string]elemKind{
	"Add": elemBinary, "Sub": elemBinary, "Mul": elemBinary, "Div": elemBinary, "Max": elemBinary, "Min": elemBinary,
	"Neg": elemUnary, "Abs": elemUnary, "Sqrt": elemUnary,
	"GreaterThan": elemCompare, "GreaterOrEqual": elemCompare, "LessThan": elemCompare,
	"LessOrEqual": elemCompare, "Equal": elemCompare, "NotEqual": elemCompare,
	"Where": elemWhere,
}

type elemKind int

const (
	elemUnary   elemKind = iota + 1 // float32 → float32
	elemBinary                      // float32, float32 → float32
	elemCompare                     // float32, float32 → bool
	elemWhere                       // bool, float32, float32 → float32
)

// elemArity is the number of operands of each kind.
var elemArity = [...]int{elemUnary: 1, elemBinary: 2, elemCompare: 2, elemWhere: 3}

// elemChunk is about the most elements an element-wise host op handles at a time (one chunk,
// see chunkShape): operands that are not contiguous are expanded into per-worker scratch
// blocks of this length.
const elemChunk = 4096

// elemSpec is one element-wise op, as recorded: it runs fused with its neighbours (fuse.go)
// or alone.
type elemSpec struct {
	method string
	kind   elemKind
	// iterDims are the output's dims (or those of the broadcast it is walked in, see
	// iterationShape), iterStrides each operand's strides along them.
	iterDims    []int
	iterStrides [][]int
	// The op run on its own: a fused chain of one (fuse.go), made once.
	once  sync.Once
	fused *fusedSpec
}

// newElemSpec recognises an element-wise op whose operands are float32 (the condition of
// Where bool), each of the output's shape, of its rank with 1s where it is broadcast, a
// scalar, or a BroadcastInDim of the output's shape (read from its source). It rewrites
// c.inputs to the values actually read. It returns nil to leave the op to simplego.
func newElemSpec(c *call, out shapes.Shape) hostOp {
	kind := elemKinds[c.method]
	if kind == 0 || len(c.outs) != 1 || out.Rank() == 0 {
		return nil
	}
	if len(c.inputs) != elemArity[kind] {
		return nil
	}
	wantOut := dtypes.Float32
	if kind == elemCompare {
		wantOut = dtypes.Bool
	}
	if out.DType != wantOut {
		return nil
	}
	s := &elemSpec{method: c.method, kind: kind}
	ins := slices.Clone(c.inputs)
	iter := iterationShape(ins, out)
	srcs := make([]*node, len(ins))
	strides := make([][]int, len(ins))
	for i, in := range ins {
		want := dtypes.Float32
		if kind == elemWhere && i == 0 {
			want = dtypes.Bool
		}
		if in.shape.DType != want {
			return nil
		}
		srcs[i], strides[i] = elemView(in, iter)
		if srcs[i] == nil {
			return nil
		}
	}
	s.iterDims, s.iterStrides = slices.Clone(iter.Dimensions), strides
	copy(c.inputs, srcs)
	return s
}

// iterationShape returns the shape in which an element-wise op walks its output: the
// output's own, or, when an operand is a Reshape of a BroadcastInDim of the output's size
// (the gradient of a mean pool: [N, H/2, 2, W/2, 2, C] read as [N, H, W, C]) and every other
// operand is dense or a scalar, the broadcast's shape, in which that operand can be read
// from its source. The flat order is the same. It may replace that operand in ins.
func iterationShape(ins []*node, out shapes.Shape) shapes.Shape {
	for i, in := range ins {
		if in.call.method != "Reshape" || len(in.call.inputs) != 1 {
			continue
		}
		b := in.call.inputs[0]
		if b.call.method != "BroadcastInDim" || b.shape.Size() != out.Size() || slicesEqual(b.shape.Dimensions, out.Dimensions) {
			continue
		}
		ok := true
		for j, other := range ins {
			if j != i && other.shape.Rank() != 0 && !slicesEqual(other.shape.Dimensions, out.Dimensions) {
				ok = false
			}
		}
		if ok {
			ins[i] = b
			return shapes.Make(out.DType, b.shape.Dimensions...)
		}
	}
	return out
}

// elemView returns the value that operand n of an element-wise op walked in shape out is
// read from, and its strides per axis of out; nil if n has another form.
func elemView(n *node, out shapes.Shape) (*node, []int) {
	if n.call.method == "BroadcastInDim" && len(n.call.inputs) == 1 && n.call.inputs[0].shape.Size() == 1 {
		return n.call.inputs[0], make([]int, out.Rank()) // a broadcast scalar, in any shape
	}
	if n.shape.Size() == out.Size() && !slicesEqual(n.shape.Dimensions, out.Dimensions) {
		return n, denseStrides(out.Dimensions) // the same flat data in another shape
	}
	if n.shape.Rank() == out.Rank() {
		if n.call.method == "BroadcastInDim" && len(n.call.inputs) == 1 && slicesEqual(n.shape.Dimensions, out.Dimensions) {
			// The source is read as recorded (c.inputs may read through a Reshape of it).
			src, srcDims := n.call.inputs[0], n.call.args[0].(*node).shape.Dimensions
			axes := n.call.args[2].([]int)
			if len(axes) == len(srcDims) {
				st := make([]int, out.Rank())
				dense := denseStrides(srcDims)
				ok := true
				for i, a := range axes {
					if a < 0 || a >= out.Rank() || (srcDims[i] != 1 && srcDims[i] != out.Dimensions[a]) {
						ok = false
						break
					}
					if srcDims[i] != 1 {
						st[a] = dense[i]
					}
				}
				if ok {
					return src, st
				}
			}
		}
		st := denseStrides(n.shape.Dimensions)
		for a, d := range n.shape.Dimensions {
			if d != out.Dimensions[a] {
				if d != 1 {
					return nil, nil
				}
				st[a] = 0
			}
		}
		return n, st
	}
	if n.shape.Rank() == 0 {
		return n, make([]int, out.Rank())
	}
	return nil, nil
}

func slicesEqual(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// denseStrides are the row-major strides of dims.
func denseStrides(dims []int) []int {
	st := make([]int, len(dims))
	stride := 1
	for a := len(dims) - 1; a >= 0; a-- {
		st[a] = stride
		stride *= dims[a]
	}
	return st
}

// mergeAxes drops axes of size 1 and merges neighbouring axes that every operand walks as
// one (strides[a-1] = strides[a]·dims[a], which includes both being 0).
func mergeAxes(dims []int, strides [][]int) ([]int, [][]int) {
	var outDims []int
	outStrides := make([][]int, len(strides))
	for a, d := range dims {
		if d == 1 {
			continue
		}
		if k := len(outDims) - 1; k >= 0 {
			merge := true
			for i := range strides {
				if outStrides[i][k] != strides[i][a]*d {
					merge = false
					break
				}
			}
			if merge {
				outDims[k] *= d
				for i := range strides {
					outStrides[i][k] = strides[i][a]
				}
				continue
			}
		}
		outDims = append(outDims, d)
		for i := range strides {
			outStrides[i] = append(outStrides[i], strides[i][a])
		}
	}
	if len(outDims) == 0 {
		outDims = []int{1}
		for i := range strides {
			outStrides[i] = []int{0}
		}
	}
	return outDims, outStrides
}

// goUnary computes z = op(x) (equal lengths).
func goUnary(op elemOp, z, x []float32) {
	x = x[:len(z)]
	switch op {
	case opNeg:
		for j, v := range x {
			z[j] = -v
		}
	case opAbs:
		for j, v := range x {
			z[j] = math.Float32frombits(math.Float32bits(v) &^ (1 << 31))
		}
	case opSqrt:
		for j, v := range x {
			z[j] = float32(math.Sqrt(float64(v)))
		}
	}
}

// goBinary computes z = x op y; x (xs) or y (ys) may be a single element, used for every
// position.
func goBinary(op elemOp, z, x, y []float32, xs, ys bool) {
	switch {
	case xs:
		goBinaryScalarLeft(op, z, x[0], y[:len(z)])
	case ys:
		goBinaryScalarRight(op, z, x[:len(z)], y[0])
	default:
		goBinaryDense(op, z, x[:len(z)], y[:len(z)])
	}
}

func goBinaryDense(op elemOp, z, x, y []float32) {
	x, y = x[:len(z)], y[:len(z)]
	switch op {
	case opAdd:
		for j := range z {
			z[j] = x[j] + y[j]
		}
	case opSub:
		for j := range z {
			z[j] = x[j] - y[j]
		}
	case opMul:
		for j := range z {
			z[j] = x[j] * y[j]
		}
	case opDiv:
		for j := range z {
			z[j] = x[j] / y[j]
		}
	case opMax:
		for j := range z {
			z[j] = max(x[j], y[j])
		}
	case opMin:
		for j := range z {
			z[j] = min(x[j], y[j])
		}
	}
}

func goBinaryScalarRight(op elemOp, z, x []float32, b float32) {
	x = x[:len(z)]
	switch op {
	case opAdd:
		for j, v := range x {
			z[j] = v + b
		}
	case opSub:
		for j, v := range x {
			z[j] = v - b
		}
	case opMul:
		for j, v := range x {
			z[j] = v * b
		}
	case opDiv:
		for j, v := range x {
			z[j] = v / b
		}
	case opMax:
		for j, v := range x {
			z[j] = max(v, b)
		}
	case opMin:
		for j, v := range x {
			z[j] = min(v, b)
		}
	}
}

func goBinaryScalarLeft(op elemOp, z []float32, a float32, y []float32) {
	y = y[:len(z)]
	switch op {
	case opAdd:
		for j, v := range y {
			z[j] = a + v
		}
	case opSub:
		for j, v := range y {
			z[j] = a - v
		}
	case opMul:
		for j, v := range y {
			z[j] = a * v
		}
	case opDiv:
		for j, v := range y {
			z[j] = a / v
		}
	case opMax:
		for j, v := range y {
			z[j] = max(a, v)
		}
	case opMin:
		for j, v := range y {
			z[j] = min(a, v)
		}
	}
}

// goCompare computes z = x op y; y may be a single element (ys), used for every position.
func goCompare(op elemOp, z []bool, x, y []float32, ys bool) {
	x = x[:len(z)]
	if ys {
		b := y[0]
		switch op {
		case opGT:
			for j, v := range x {
				z[j] = v > b
			}
		case opGE:
			for j, v := range x {
				z[j] = v >= b
			}
		case opLT:
			for j, v := range x {
				z[j] = v < b
			}
		case opLE:
			for j, v := range x {
				z[j] = v <= b
			}
		case opEQ:
			for j, v := range x {
				z[j] = v == b
			}
		case opNE:
			for j, v := range x {
				z[j] = v != b
			}
		}
		return
	}
	y = y[:len(z)]
	switch op {
	case opGT:
		for j := range z {
			z[j] = x[j] > y[j]
		}
	case opGE:
		for j := range z {
			z[j] = x[j] >= y[j]
		}
	case opLT:
		for j := range z {
			z[j] = x[j] < y[j]
		}
	case opLE:
		for j := range z {
			z[j] = x[j] <= y[j]
		}
	case opEQ:
		for j := range z {
			z[j] = x[j] == y[j]
		}
	case opNE:
		for j := range z {
			z[j] = x[j] != y[j]
		}
	}
}

// goWhere computes z = c ? x : y without branches: each bool (0 or 1) becomes a bit mask.
// y may be a single element (ys), used for every position.
func goWhere(z []float32, c []bool, x, y []float32, ys bool) {
	if len(z) == 0 {
		return
	}
	c, x = c[:len(z)], x[:len(z)]
	cb := unsafe.Slice((*uint8)(unsafe.Pointer(&c[0])), len(c))
	if ys {
		b := math.Float32bits(y[0])
		for j, v := range x {
			m := -uint32(cb[j] & 1)
			z[j] = math.Float32frombits(math.Float32bits(v)&m | b&^m)
		}
		return
	}
	y = y[:len(z)]
	for j := range z {
		m := -uint32(cb[j] & 1)
		z[j] = math.Float32frombits(math.Float32bits(x[j])&m | math.Float32bits(y[j])&^m)
	}
}

// goAdd adds v into acc (equal lengths).
func goAdd(acc, v []float32) {
	acc = acc[:len(v)]
	for j, x := range v {
		acc[j] += x
	}
}

// goSum is the sum of v.
func goSum(v []float32) float32 {
	var a float32
	for _, x := range v {
		a += x
	}
	return a
}

// goAddRows adds each of the rows×cols rows of v into acc (cols long).
func goAddRows(acc, v []float32, rows, cols int) {
	for r := 0; r < rows; r++ {
		goAdd(acc[:cols], v[r*cols:(r+1)*cols])
	}
}
