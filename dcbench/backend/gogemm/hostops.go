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
	if max(in.Size(), out.Size()) < minElements {
		return nil
	}
	if elemKinds[c.method] != 0 {
		return newElemSpec(c, out)
	}
	if in.DType != dtypes.Float32 {
		return nil
	}
	switch c.method {
	case "Gather":
		if g := newRowGatherSpec(c, out); g != nil {
			return g
		}
		return newPointGatherSpec(c, out)
	case "Concatenate":
		return newConcatSpec(c, out)
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
	x, y, err := float32InOut(ins, out, "BroadcastInDim")
	if err != nil {
		return err
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
	x, y, err := float32InOut(ins, out, "ReduceSum")
	if err != nil {
		return err
	}
	for i := range y {
		y[i] = 0
	}
	dims, strides := s.inDims, s.outStrides
	// Inner run: trailing kept axes (dense in the output) add elementwise; trailing reduced
	// axes sum to one output element.
	k, run, sumRun := innerRun(dims, strides)
	// sum adds the input rows lo ≤ i < hi of axis 0 into acc.
	sum := func(lo, hi int, acc []float32) {
		idx := make([]int, k)
		dst := 0
		if k > 0 {
			idx[0], dst = lo, lo*strides[0]
		}
		per0 := len(x) / max(dims[0], 1)
		for i := lo * per0; i < hi*per0; i += run {
			if sumRun {
				acc[dst] += sumRow(x[i : i+run])
			} else {
				addRow(acc[dst:dst+run], x[i:i+run])
			}
			dst = advance(idx, dims, strides, dst)
		}
	}
	workers := min(runtime.GOMAXPROCS(0), max(1, len(x)/(1<<16)))
	if k == 0 || dims[0] < workers {
		workers = 1 // axis 0 is inside the inner run, or too short to split
	}
	if workers == 1 {
		sum(0, max(dims[0], 1), y)
		return nil
	}
	// Axis 0 split over the workers: a kept axis 0 gives each its own outputs; a reduced
	// one, its own partial sums, added at the end.
	partial := make([][]float32, workers)
	var sc scratch
	defer sc.release()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		acc := y
		if strides[0] == 0 && w > 0 {
			acc = sc.zeroFloat32s(len(y))
			partial[w] = acc
		}
		lo, hi := dims[0]*w/workers, dims[0]*(w+1)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			sum(lo, hi, acc)
		}()
	}
	wg.Wait()
	for _, p := range partial {
		for i, v := range p {
			y[i] += v
		}
	}
	return nil
}

// float32InOut returns the first operand and the output of a float32 host op.
func float32InOut(ins []any, out any, op string) (x, y []float32, err error) {
	x, ok1 := ins[0].([]float32)
	y, ok2 := out.([]float32)
	if !ok1 || !ok2 {
		return nil, nil, errors.Errorf("%s: host %s wants float32", Name, op)
	}
	return x, y, nil
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
	x, y, err := float32InOut(ins, out, "Gather")
	if err != nil {
		return err
	}
	w := s.width
	row := func(m, i int) {
		i = max(0, min(s.rows-1, i))
		copy(y[m*w:(m+1)*w], x[i*w:(i+1)*w])
	}
	var gather func(lo, hi int)
	switch idx := ins[1].(type) {
	case []int32:
		gather = func(lo, hi int) {
			for m, i := range idx[lo:hi] {
				row(lo+m, int(i))
			}
		}
	case []int64:
		gather = func(lo, hi int) {
			for m, i := range idx[lo:hi] {
				row(lo+m, int(i))
			}
		}
	default:
		return errors.Errorf("%s: host Gather wants int32 or int64 indices", Name)
	}
	parallelRange(len(y)/max(w, 1), len(y), gather)
	return nil
}

// parallelRange calls do on consecutive parts of [0, n) on up to GOMAXPROCS goroutines, one
// per 2¹⁵ of the elements touched (one part when there are fewer).
func parallelRange(n, elements int, do func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), max(1, elements/(1<<15)), max(n, 1))
	if workers == 1 {
		do(0, n)
		return
	}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lo, hi := n*w/workers, n*(w+1)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			do(lo, hi)
		}()
	}
	wg.Wait()
}

// concatSpec is Concatenate as block copies: for each index of the axes before the
// concatenation axis, each operand's block (its part of that axis and everything after)
// is copied in turn.
type concatSpec struct {
	outer  int   // product of the dimensions before the axis
	blocks []int // elements per block, per operand
}

func newConcatSpec(c *call, out shapes.Shape) hostOp {
	axis := c.args[0].(int)
	if axis < 0 || axis >= out.Rank() || out.DType != dtypes.Float32 {
		return nil
	}
	s := &concatSpec{outer: 1}
	for _, d := range out.Dimensions[:axis] {
		s.outer *= d
	}
	for _, in := range c.inputs {
		if in.shape.DType != dtypes.Float32 {
			return nil
		}
		s.blocks = append(s.blocks, in.shape.Size()/max(s.outer, 1))
	}
	return s
}

func (s *concatSpec) run(ins []any, out any) error {
	y, ok := out.([]float32)
	if !ok {
		return errors.Errorf("%s: host Concatenate wants float32", Name)
	}
	xs := make([][]float32, len(ins))
	for i, in := range ins {
		if xs[i], ok = in.([]float32); !ok {
			return errors.Errorf("%s: host Concatenate wants float32", Name)
		}
	}
	total := 0
	for _, b := range s.blocks {
		total += b
	}
	parallelRange(s.outer, len(y), func(lo, hi int) {
		pos := lo * total
		for o := lo; o < hi; o++ {
			for i, x := range xs {
				b := s.blocks[i]
				pos += copy(y[pos:pos+b], x[o*b:(o+1)*b])
			}
		}
	})
	return nil
}

// pointGatherSpec is a Gather of single elements by full-rank indices (indices [..., rank]):
// out[m] = x[idx[m]], each coordinate clamped to the operand as gomlx's Gather does. Run on
// the host, it reads a large operand (or, through a Reshape, the value it reshapes) in place.
type pointGatherSpec struct {
	dims, strides []int
}

func newPointGatherSpec(c *call, out shapes.Shape) hostOp {
	x, ind := c.inputs[0].shape, c.inputs[1].shape
	indexAxis, offsetAxes := c.args[2].(int), c.args[3].([]int)
	collapsed, startMap, sizes := c.args[4].([]int), c.args[5].([]int), c.args[6].([]int)
	r := x.Rank()
	if r == 0 || ind.Rank() < 1 || indexAxis != ind.Rank()-1 || ind.Dimensions[indexAxis] != r ||
		(ind.DType != dtypes.Int32 && ind.DType != dtypes.Int64) || len(offsetAxes) != 0 ||
		len(collapsed) != r || len(startMap) != r || len(sizes) != r || out.Size() != ind.Size()/r {
		return nil
	}
	for a := 0; a < r; a++ {
		if collapsed[a] != a || startMap[a] != a || sizes[a] != 1 {
			return nil
		}
	}
	return &pointGatherSpec{dims: x.Dimensions, strides: denseStrides(x.Dimensions)}
}

func (s *pointGatherSpec) run(ins []any, out any) error {
	x, y, err := float32InOut(ins, out, "Gather")
	if err != nil {
		return err
	}
	return s.gather(ins[1], y, func(pos int) float32 { return x[pos] })
}

// gather sets y[m] = read(position of index m) for the full-rank indices in indices.
func (s *pointGatherSpec) gather(indices any, y []float32, read func(pos int) float32) error {
	r := len(s.dims)
	at := func(coord func(a int) int) float32 {
		pos := 0
		for a := 0; a < r; a++ {
			pos += max(0, min(s.dims[a]-1, coord(a))) * s.strides[a]
		}
		return read(pos)
	}
	switch idx := indices.(type) {
	case []int32:
		for m := range y {
			y[m] = at(func(a int) int { return int(idx[m*r+a]) })
		}
	case []int64:
		for m := range y {
			y[m] = at(func(a int) int { return int(idx[m*r+a]) })
		}
	default:
		return errors.Errorf("%s: host Gather wants int32 or int64 indices", Name)
	}
	return nil
}
