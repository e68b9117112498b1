package gogemm

import (
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/pkg/errors"
)

// MinHostElements is the default least size (elements of the larger side) for which a float32
// BroadcastInDim or ReduceSum runs on the host. simplego walks these element by element
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
	rank := len(dims)
	k, run := rank, 1
	for k > 0 && strides[k-1] == run {
		run *= dims[k-1]
		k--
	}
	fill := false
	if run == 1 {
		for k > 0 && strides[k-1] == 0 {
			run *= dims[k-1]
			k--
			fill = true
		}
	}
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
	rank := len(dims)
	// Inner run: trailing kept axes (dense in the output) add elementwise; trailing reduced
	// axes sum to one output element.
	k, run := rank, 1
	for k > 0 && strides[k-1] == run {
		run *= dims[k-1]
		k--
	}
	sumRun := false
	if run == 1 {
		for k > 0 && strides[k-1] == 0 {
			run *= dims[k-1]
			k--
			sumRun = true
		}
	}
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
