package gogemm

import (
	"slices"
	"unsafe"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/pkg/errors"
)

// dotSpec is a DotGeneral laid out as batch GEMMs: out[b] = op(lhs[b]) · op(rhs[b]), with
// out [batch, m, n]. An operand whose axes are not already grouped as batch, then its free
// axes and contracting axes (in either order), is first transposed on the host.
type dotSpec struct {
	dtype            dtypes.DType
	batch, m, n, k   int
	lhsPerm, rhsPerm []int // nil when the operand is used in place
	lhsDims, rhsDims []int
	lhsTrans         bool // lhs[b] is stored k×m
	rhsTrans         bool // rhs[b] is stored n×k
	outShape         shapes.Shape
}

func (s *dotSpec) flops() float64 {
	return 2 * float64(s.batch) * float64(s.m) * float64(s.n) * float64(s.k)
}

// newDotSpec lays out DotGeneral(lhs, rhs) with the given (already valid) axes.
func newDotSpec(lhs shapes.Shape, lhsC, lhsB []int, rhs shapes.Shape, rhsC, rhsB []int) (*dotSpec, error) {
	norm := func(axes []int, rank int) ([]int, error) {
		out := make([]int, len(axes))
		for i, a := range axes {
			if a < 0 {
				a += rank
			}
			if a < 0 || a >= rank {
				return nil, errors.Errorf("axis %d out of range for rank %d", axes[i], rank)
			}
			out[i] = a
		}
		return out, nil
	}
	var err error
	if lhsC, err = norm(lhsC, lhs.Rank()); err != nil {
		return nil, err
	}
	if lhsB, err = norm(lhsB, lhs.Rank()); err != nil {
		return nil, err
	}
	if rhsC, err = norm(rhsC, rhs.Rank()); err != nil {
		return nil, err
	}
	if rhsB, err = norm(rhsB, rhs.Rank()); err != nil {
		return nil, err
	}
	s := &dotSpec{dtype: lhs.DType, batch: 1, m: 1, n: 1, k: 1,
		lhsDims: slices.Clone(lhs.Dimensions), rhsDims: slices.Clone(rhs.Dimensions)}
	var outDims []int
	for _, a := range lhsB {
		s.batch *= lhs.Dimensions[a]
		outDims = append(outDims, lhs.Dimensions[a])
	}
	for _, a := range lhsC {
		s.k *= lhs.Dimensions[a]
	}
	lhsFree := freeAxes(lhs.Rank(), lhsC, lhsB)
	rhsFree := freeAxes(rhs.Rank(), rhsC, rhsB)
	for _, a := range lhsFree {
		s.m *= lhs.Dimensions[a]
		outDims = append(outDims, lhs.Dimensions[a])
	}
	for _, a := range rhsFree {
		s.n *= rhs.Dimensions[a]
		outDims = append(outDims, rhs.Dimensions[a])
	}
	s.outShape = shapes.Make(lhs.DType, outDims...)

	// lhs: [batch, free, contracting] is m×k; [batch, contracting, free] is k×m.
	s.lhsPerm, s.lhsTrans = layout(lhsB, lhsFree, lhsC)
	// rhs: [batch, contracting, free] is k×n; [batch, free, contracting] is n×k.
	s.rhsPerm, s.rhsTrans = layout(rhsB, rhsC, rhsFree)
	return s, nil
}

// layout says how an operand with axes grouped as (batch, first, second) is read: in place
// as [batch, first, second] (perm nil, swapped false), in place as [batch, second, first]
// (perm nil, swapped true), or transposed to [batch, first, second] (perm set).
func layout(batch, first, second []int) (perm []int, swapped bool) {
	want := slices.Concat(batch, first, second)
	if isIdentity(want) {
		return nil, false
	}
	if isIdentity(slices.Concat(batch, second, first)) {
		return nil, true
	}
	return want, false
}

func isIdentity(p []int) bool {
	for i, v := range p {
		if i != v {
			return false
		}
	}
	return true
}

// freeAxes lists, in increasing order, the axes that are neither contracting nor batch.
func freeAxes(rank int, contracting, batch []int) []int {
	var free []int
	for a := 0; a < rank; a++ {
		if !slices.Contains(contracting, a) && !slices.Contains(batch, a) {
			free = append(free, a)
		}
	}
	return free
}

// run computes the product into out (len batch·m·n) from the flat operands.
func (s *dotSpec) run(ins []any, outFlat any) error {
	switch s.dtype {
	case dtypes.Float32:
		runDot(s, gemm32, ins[0].([]float32), ins[1].([]float32), outFlat.([]float32))
	case dtypes.Float64:
		runDot(s, gemm64, ins[0].([]float64), ins[1].([]float64), outFlat.([]float64))
	default:
		return errors.Errorf("%s: host product for dtype %s", Name, s.dtype)
	}
	return nil
}

func runDot[T float32 | float64](s *dotSpec, f gemmFunc[T], lhs, rhs, out []T) {
	var sc scratch
	defer sc.release()
	if s.lhsPerm != nil {
		lhs = transpose(lhs, s.lhsDims, s.lhsPerm, scratchOf[T](&sc, len(lhs)))
	}
	if s.rhsPerm != nil {
		rhs = transpose(rhs, s.rhsDims, s.rhsPerm, scratchOf[T](&sc, len(rhs)))
	}
	batchGEMM(f, s, lhs, rhs, out)
}

// scratchOf returns n elements of scratch space of type T.
func scratchOf[T float32 | float64](sc *scratch, n int) []T {
	b := hostMem.get((n*int(unsafe.Sizeof(T(0))) + 7) / 8)
	sc.blocks = append(sc.blocks, b)
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), n)
}

// gemmFunc computes c = op(a)·op(b) for row-major m×k · k×n matrices, overwriting c.
type gemmFunc[T float32 | float64] func(transA, transB bool, m, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc int)

func batchGEMM[T float32 | float64](f gemmFunc[T], s *dotSpec, lhs, rhs, out []T) {
	lda, ldb := s.k, s.n
	if s.lhsTrans {
		lda = s.m
	}
	if s.rhsTrans {
		ldb = s.k
	}
	la, lb, lc := s.m*s.k, s.k*s.n, s.m*s.n
	for b := 0; b < s.batch; b++ {
		f(s.lhsTrans, s.rhsTrans, s.m, s.n, s.k, lhs[b*la:(b+1)*la], lda, rhs[b*lb:(b+1)*lb], ldb, out[b*lc:(b+1)*lc], s.n)
	}
}

// transpose writes x (row-major with dims) with its axes permuted into out (of x's length)
// and returns it: output axis i is input axis perm[i].
func transpose[T any](x []T, dims, perm []int, out []T) []T {
	rank := len(dims)
	if len(x) == 0 {
		return out
	}
	inStrides := make([]int, rank)
	st := 1
	for a := rank - 1; a >= 0; a-- {
		inStrides[a] = st
		st *= dims[a]
	}
	outDims := make([]int, rank)
	strides := make([]int, rank) // input stride of each output axis
	for i, p := range perm {
		outDims[i] = dims[p]
		strides[i] = inStrides[p]
	}
	last := rank - 1
	inner, innerStride := outDims[last], strides[last]
	idx := make([]int, last) // odometer over the outer axes
	src := 0
	for o := 0; o < len(out); o += inner {
		s := src
		for j := 0; j < inner; j++ {
			out[o+j] = x[s]
			s += innerStride
		}
		src = advance(idx, outDims, strides, src)
	}
	return out
}
