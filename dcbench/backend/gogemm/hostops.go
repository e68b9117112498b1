package gogemm

import (
	"runtime"
	"sync"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/pkg/errors"
)

// MinHostElements is the default least size (elements of the larger side) for which a float32
// BroadcastInDim, ReduceSum or row Gather runs on the host. simplego walks these element by element
// through index iterators; the host versions copy or add contiguous runs, several times
// faster on the activations of a ConvNet.
var MinHostElements = 1 << 16

// hostOp is an op that runs on the host between simplego segments, on flat slices.
type hostOp interface {
	run(ins []any, out any) error
}

// hostFor returns the host version of a recorded call, or nil to keep it in simplego.
func hostFor(c *call, minElements int) hostOp {
	if len(c.outs) != 1 || len(c.inputs) == 0 {
		return nil
	}
	in, out := c.inputs[0].shape, c.outs[0].shape
	if in.DType != dtypes.Float32 || max(in.Size(), out.Size()) < minElements {
		return nil
	}
	if c.method == "Gather" {
		return newRowGatherSpec(c, out)
	}
	if binaryOps[c.method] {
		return newBinarySpec(c, out)
	}
	if len(c.inputs) != 1 {
		return nil
	}
	switch c.method {
	case "BroadcastInDim":
		return newBroadcastSpec(in, out, c.args[2].([]int))
	case "ReduceSum":
		return newReduceSumSpec(in, out, c.args[1].([]int))
	}
	return nil
}

// broadcastSpec is BroadcastInDim as a strided copy: output axis a reads the input with
// stride inStrides[a] (0 along broadcast axes).
type broadcastSpec struct {
	outDims, inStrides []int
}

func newBroadcastSpec(in, out shapes.Shape, axes []int) hostOp {
	if len(axes) != in.Rank() {
		return nil
	}
	s := &broadcastSpec{outDims: out.Dimensions, inStrides: make([]int, out.Rank())}
	stride := 1
	for i := in.Rank() - 1; i >= 0; i-- {
		a := axes[i]
		if a < 0 || a >= out.Rank() {
			return nil
		}
		if in.Dimensions[i] != 1 {
			if in.Dimensions[i] != out.Dimensions[a] {
				return nil
			}
			s.inStrides[a] = stride
		}
		stride *= in.Dimensions[i]
	}
	// The host copy needs input axes in output order (always so for gomlx's broadcasts).
	for i := 1; i < len(axes); i++ {
		if axes[i] <= axes[i-1] {
			return nil
		}
	}
	return s
}

func (s *broadcastSpec) run(ins []any, out any) error {
	x, ok1 := ins[0].([]float32)
	y, ok2 := out.([]float32)
	if !ok1 || !ok2 {
		return errors.Errorf("%s: host BroadcastInDim wants float32", Name)
	}
	stridedCopy(x, y, s.outDims, s.inStrides)
	return nil
}

// stridedCopy fills y (row-major with dims) with x[Σ idx[a]·strides[a]]: the longest suffix
// of axes that reads x densely is copied as one run, and a suffix of broadcast axes as a
// fill.
func stridedCopy(x, y []float32, dims, strides []int) {
	k, run, fill := innerRun(dims, strides)
	idx := make([]int, k)
	src := 0
	for o := 0; o < len(y); o += run {
		if fill {
			v := x[src]
			seg := y[o : o+run]
			for j := range seg {
				seg[j] = v
			}
		} else {
			copy(y[o:o+run], x[src:src+run])
		}
		src = advance(idx, dims, strides, src)
	}
}

// reduceSumSpec is ReduceSum over some axes: the input is walked in order and added into
// the output, whole runs at a time.
type reduceSumSpec struct {
	inDims, outStrides []int // outStrides[a] is 0 for reduced axes
}

func newReduceSumSpec(in, out shapes.Shape, axes []int) hostOp {
	reduced := make([]bool, in.Rank())
	if len(axes) == 0 { // no axes: gomlx's ReduceAllSum, reducing all of them
		for a := range reduced {
			reduced[a] = true
		}
	}
	for _, a := range axes {
		if a < 0 {
			a += in.Rank()
		}
		if a < 0 || a >= in.Rank() {
			return nil
		}
		reduced[a] = true
	}
	s := &reduceSumSpec{inDims: in.Dimensions, outStrides: make([]int, in.Rank())}
	stride := 1
	for a := in.Rank() - 1; a >= 0; a-- {
		if !reduced[a] {
			s.outStrides[a] = stride
			stride *= in.Dimensions[a]
		}
	}
	if stride != out.Size() {
		return nil // not the layout assumed here: leave it to simplego
	}
	return s
}

func (s *reduceSumSpec) run(ins []any, out any) error {
	x, ok1 := ins[0].([]float32)
	y, ok2 := out.([]float32)
	if !ok1 || !ok2 {
		return errors.Errorf("%s: host ReduceSum wants float32", Name)
	}
	for i := range y {
		y[i] = 0
	}
	dims, strides := s.inDims, s.outStrides
	// Inner run: trailing kept axes (dense in the output) add elementwise; trailing reduced
	// axes sum to one output element.
	k, run, sumRun := innerRun(dims, strides)
	idx := make([]int, k)
	dst := 0
	for i := 0; i < len(x); i += run {
		if sumRun {
			var acc float32
			for _, v := range x[i : i+run] {
				acc += v
			}
			y[dst] += acc
		} else {
			seg := y[dst : dst+run]
			for j, v := range x[i : i+run] {
				seg[j] += v
			}
		}
		dst = advance(idx, dims, strides, dst)
	}
	return nil
}

// innerRun finds the longest suffix of axes walked by one inner loop: axes whose strides
// are dense (strides[a] = product of the later dims), or else axes of stride 0 (constant).
// It returns the number k of outer axes left to the odometer, the run length and whether
// the run is constant.
func innerRun(dims, strides []int) (k, run int, constant bool) {
	k, run = len(dims), 1
	for k > 0 && strides[k-1] == run {
		run *= dims[k-1]
		k--
	}
	if run == 1 {
		for k > 0 && strides[k-1] == 0 {
			run *= dims[k-1]
			k--
			constant = true
		}
	}
	return k, run, constant
}

// advance steps the odometer idx over the leading len(idx) axes of dims by one and returns
// the position pos moved along by the strides of those axes.
func advance(idx, dims, strides []int, pos int) int {
	for a := len(idx) - 1; a >= 0; a-- {
		idx[a]++
		pos += strides[a]
		if idx[a] < dims[a] {
			return pos
		}
		pos -= strides[a] * dims[a]
		idx[a] = 0
	}
	return pos
}

// rowGatherSpec is a Gather of whole rows of a [rows, C] table: out[m, :] = x[idx[m], :],
// with the index clamped to the table as gomlx's Gather does. simplego copies a gather
// element by element; this copies rows.
type rowGatherSpec struct {
	rows, width int
}

// newRowGatherSpec recognises Gather(x [R, C], indices [..., 1]) with slices of one full row,
// the form graph.Gather takes for a table lookup; anything else stays in simplego.
func newRowGatherSpec(c *call, out shapes.Shape) hostOp {
	x, ind := c.inputs[0].shape, c.inputs[1].shape
	indexAxis, offsetAxes := c.args[2].(int), c.args[3].([]int)
	collapsed, startMap, sizes := c.args[4].([]int), c.args[5].([]int), c.args[6].([]int)
	if x.Rank() != 2 || ind.Rank() < 1 || indexAxis != ind.Rank()-1 || ind.Dimensions[indexAxis] != 1 ||
		(ind.DType != dtypes.Int32 && ind.DType != dtypes.Int64) ||
		len(offsetAxes) != 1 || offsetAxes[0] != out.Rank()-1 ||
		len(collapsed) != 1 || collapsed[0] != 0 || len(startMap) != 1 || startMap[0] != 0 ||
		len(sizes) != 2 || sizes[0] != 1 || sizes[1] != x.Dimensions[1] {
		return nil
	}
	return &rowGatherSpec{rows: x.Dimensions[0], width: x.Dimensions[1]}
}

func (s *rowGatherSpec) run(ins []any, out any) error {
	x, ok1 := ins[0].([]float32)
	y, ok2 := out.([]float32)
	if !ok1 || !ok2 {
		return errors.Errorf("%s: host Gather wants float32", Name)
	}
	w := s.width
	row := func(m, i int) {
		i = max(0, min(s.rows-1, i))
		copy(y[m*w:(m+1)*w], x[i*w:(i+1)*w])
	}
	switch idx := ins[1].(type) {
	case []int32:
		for m, i := range idx {
			row(m, int(i))
		}
	case []int64:
		for m, i := range idx {
			row(m, int(i))
		}
	default:
		return errors.Errorf("%s: host Gather wants int32 or int64 indices", Name)
	}
	return nil
}

// binaryOps are the float32 binary ops whose implicit broadcasting runs on the host.
var binaryOps = map[string]bool{"Add": true, "Sub": true, "Mul": true, "Div": true, "Max": true, "Min": true}

// binaryRow computes z[j] = x[j·sx] op y[j·sy] (strides 0 or 1).
func binaryRow(op string, z, x, y []float32, sx, sy int) {
	switch op {
	case "Add":
		for j := range z {
			z[j] = x[j*sx] + y[j*sy]
		}
	case "Sub":
		for j := range z {
			z[j] = x[j*sx] - y[j*sy]
		}
	case "Mul":
		for j := range z {
			z[j] = x[j*sx] * y[j*sy]
		}
	case "Div":
		for j := range z {
			z[j] = x[j*sx] / y[j*sy]
		}
	case "Max":
		for j := range z {
			z[j] = max(x[j*sx], y[j*sy])
		}
	case "Min":
		for j := range z {
			z[j] = min(x[j*sx], y[j*sy])
		}
	}
}

// binarySpec is a binary op whose operands (same rank) are broadcast implicitly: simplego
// walks such ops element by element through an index iterator; here each output row (the
// last axis) is one loop over dense or constant operand rows, split over the cores, and no
// broadcast operand is materialised.
type binarySpec struct {
	op                 string
	outDims            []int
	xStrides, yStrides []int // per output axis; 0 where the operand is broadcast
}

func newBinarySpec(c *call, out shapes.Shape) hostOp {
	if len(c.inputs) != 2 {
		return nil
	}
	x, y := c.inputs[0].shape, c.inputs[1].shape
	if x.Equal(y) || x.Rank() != y.Rank() || x.Rank() == 0 || y.DType != dtypes.Float32 || !out.Equal(shapes.Make(dtypes.Float32, out.Dimensions...)) {
		return nil
	}
	strides := func(s shapes.Shape) []int {
		st := make([]int, s.Rank())
		stride := 1
		for a := s.Rank() - 1; a >= 0; a-- {
			if s.Dimensions[a] == out.Dimensions[a] {
				st[a] = stride
			}
			stride *= s.Dimensions[a]
		}
		return st
	}
	for a := range out.Dimensions {
		if (x.Dimensions[a] != out.Dimensions[a] && x.Dimensions[a] != 1) || (y.Dimensions[a] != out.Dimensions[a] && y.Dimensions[a] != 1) {
			return nil
		}
	}
	return &binarySpec{op: c.method, outDims: out.Dimensions, xStrides: strides(x), yStrides: strides(y)}
}

func (s *binarySpec) run(ins []any, out any) error {
	x, ok1 := ins[0].([]float32)
	y, ok2 := ins[1].([]float32)
	z, ok3 := out.([]float32)
	if !ok1 || !ok2 || !ok3 {
		return errors.Errorf("%s: host %s wants float32", Name, s.op)
	}
	rank := len(s.outDims)
	inner := s.outDims[rank-1]
	sx, sy := s.xStrides[rank-1], s.yStrides[rank-1]
	rowsTotal := len(z) / max(inner, 1)
	workers := min(runtime.GOMAXPROCS(0), max(1, len(z)/(1<<15)))
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lo, hi := rowsTotal*w/workers, rowsTotal*(w+1)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Position of row lo in x and y.
			idx := make([]int, rank-1)
			xo, yo := 0, 0
			r := lo
			for a := rank - 2; a >= 0; a-- {
				idx[a] = r % s.outDims[a]
				r /= s.outDims[a]
				xo += idx[a] * s.xStrides[a]
				yo += idx[a] * s.yStrides[a]
			}
			for row := lo; row < hi; row++ {
				binaryRow(s.op, z[row*inner:(row+1)*inner], x[xo:], y[yo:], sx, sy)
				for a := rank - 2; a >= 0; a-- {
					idx[a]++
					xo += s.xStrides[a]
					yo += s.yStrides[a]
					if idx[a] < s.outDims[a] {
						break
					}
					xo -= s.xStrides[a] * s.outDims[a]
					yo -= s.yStrides[a] * s.outDims[a]
					idx[a] = 0
				}
			}
		}()
	}
	wg.Wait()
	return nil
}
