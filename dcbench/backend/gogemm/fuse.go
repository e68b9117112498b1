package gogemm

import (
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/pkg/errors"
)

// Fusion of element-wise host ops. A chain such as an instance norm's
// (x − mean)·scale + offset followed by a ReLU (a comparison and a Where) is five host ops,
// each a pass over memory that writes its result and reads its operands. Fused, it is one
// pass: the output is walked in chunks of a few thousand elements, and each op of the chain
// computes its chunk into a small per-core scratch row that the next op reads from the
// cache; only the chain's last value is written. A ReduceSum of an element-wise value (the
// variance's Σ(x − mean)²) takes the chain in the same way, so that value is never written
// either.
//
// Groups are formed from the last op back: an element-wise op joins the group of its
// consumers when all of them are element-wise ops or ReduceSums of groups that read its
// value whole, in flat order, and it is not a graph output. When its consumers are in
// several groups, it is computed in each of them if that is cheap: it reads at most one
// operand as large as its value (x − mean, recomputed from x). An op whose large operands
// take more bytes than its value (two of them, or a float32 one for a bool comparison) joins
// a group only if the group's last op was built soon after it, so that they are not kept
// alive long in its place (a ReLU's mask is kept for the backward pass, not the activations
// it was computed from). Every other element-wise op ends a group of its own, whose value is
// written.

// fuseWindow is how many recorded ops later than an op whose large operands outweigh its
// value its group's last op may come, for the op to join the group.
const fuseWindow = 16

// fusedOperand refers to an external operand (ext ≥ 0) or to an earlier instruction's value.
type fusedOperand struct {
	ext  int // index among the fused op's inputs, or -1
	temp int // instruction index when ext < 0
}

// fusedInstr is one element-wise op of a fused chain.
type fusedInstr struct {
	op     elemOp // (none for Where)
	kind   elemKind
	args   []fusedOperand
	isBool bool // its value is bool (a comparison)
}

// fusedSpec is a chain of element-wise ops computed in one pass (see the file comment),
// ending in an element-wise value (reduce nil) or in a ReduceSum of the last instruction's
// value. A single element-wise op runs as a chain of one.
type fusedSpec struct {
	dims    []int   // iteration dims (merged)
	strides [][]int // per external operand, along dims
	prog    []fusedInstr
	// reduce is set for a fused ReduceSum: the output's stride along each axis of dims (0
	// for reduced axes).
	reduce []int
}

// single is the element-wise op s as a chain of one, its operands in order.
func (s *elemSpec) single() *fusedSpec {
	s.once.Do(func() {
		in := fusedInstr{op: elemOps[s.method], kind: s.kind, isBool: s.kind == elemCompare}
		for i := range s.iterStrides {
			in.args = append(in.args, fusedOperand{ext: i})
		}
		f := &fusedSpec{prog: []fusedInstr{in}}
		f.dims, f.strides = mergeAxes(s.iterDims, s.iterStrides)
		s.fused = f
	})
	return s.fused
}

func (s *elemSpec) run(ins []any, out any) error { return s.single().run(ins, out) }

// fuseElementWise groups the live element-wise host ops and host ReduceSums (see the file
// comment) and turns each group into one fused host op at the position of its last op; the
// ops computed inside a group are no longer read by anything and drop out of the plan.
func (b *Builder) fuseElementWise(outs []*node) {
	live := b.liveCalls(outs)
	isOutput := make(map[*node]bool)
	for _, n := range outs {
		isOutput[n] = true
	}
	consumers := make(map[*node][]*call)
	pos := make(map[*call]int)
	for i, c := range b.calls {
		pos[c] = i
		if live[c] {
			for _, in := range c.inputs {
				if !slices.Contains(consumers[in], c) {
					consumers[in] = append(consumers[in], c)
				}
			}
		}
	}
	// groups[c] lists the groups (by their last op) that compute c; a group's last op is
	// in its own group only.
	groups := make(map[*call][]*call)
	isRoot := make(map[*call]bool)
	for i := len(b.calls) - 1; i >= 0; i-- {
		c := b.calls[i]
		if !live[c] {
			continue
		}
		switch c.host.(type) {
		case *reduceSumSpec:
			groups[c], isRoot[c] = []*call{c}, true
			continue
		case *elemSpec:
		default:
			continue
		}
		if gs := joinable(c, consumers[c.outs[0]], groups, pos, isOutput); gs != nil {
			groups[c] = gs
		} else {
			groups[c], isRoot[c] = []*call{c}, true
		}
	}
	for _, c := range b.calls {
		if !isRoot[c] {
			continue
		}
		if _, ok := c.host.(*reduceSumSpec); ok && !slices.Contains(groups[c.inputs[0].call], c) {
			continue // a plain ReduceSum
		}
		if spec, inputs := buildFused(c, groups, isRoot); spec != nil {
			c.host, c.inputs = spec, inputs
		}
	}
}

// joinable returns the groups that element-wise op c can be computed in (those of its
// consumers), or nil when its value must be written.
func joinable(c *call, users []*call, groups map[*call][]*call, pos map[*call]int, isOutput map[*node]bool) []*call {
	out := c.outs[0]
	if isOutput[out] || len(users) == 0 || len(c.outs) != 1 {
		return nil
	}
	if out.shape.DType != dtypes.Float32 && out.shape.DType != dtypes.Bool {
		return nil
	}
	var gs []*call
	for _, u := range users {
		if groups[u] == nil || !readsWhole(u, out) {
			return nil
		}
		if _, ok := u.host.(*reduceSumSpec); ok && out.shape.DType != dtypes.Float32 {
			return nil // a ReduceSum adds float32 values
		}
		for _, g := range groups[u] {
			if !slices.Contains(gs, g) {
				gs = append(gs, g)
			}
		}
	}
	large, largeBytes := largeOperands(c)
	for _, g := range gs {
		dims, _ := iterOf(g)
		if _, ok := reexpress(c, dims); !ok {
			return nil
		}
		if largeBytes > int(out.shape.Memory()) && pos[g]-pos[c] > fuseWindow {
			return nil // its operands would outlive it by much and take more room
		}
	}
	if len(gs) > 1 && large > 1 {
		return nil // too dear to compute in several groups
	}
	return gs
}

// iterOf returns the iteration dims of a fusible host op and each operand's strides along
// them (a ReduceSum reads its one operand densely).
func iterOf(c *call) (dims []int, strides [][]int) {
	switch h := c.host.(type) {
	case *elemSpec:
		return h.iterDims, h.iterStrides
	case *reduceSumSpec:
		return h.inDims, [][]int{denseStrides(h.inDims)}
	}
	return nil, nil
}

// readsWhole says whether host op u reads value n only whole, in flat order.
func readsWhole(u *call, n *node) bool {
	dims, strides := iterOf(u)
	if dims == nil {
		return false
	}
	dense := denseStrides(dims)
	for i, in := range u.inputs {
		if in == n && !slices.Equal(strides[i], dense) {
			return false
		}
	}
	return true
}

// largeOperands counts the operands of element-wise op c that have as many elements as its
// value (and are not read as a single value), and their bytes.
func largeOperands(c *call) (n, bytes int) {
	e := c.host.(*elemSpec)
	for i, in := range c.inputs {
		if !allZero(e.iterStrides[i]) && in.shape.Size() >= c.outs[0].shape.Size() {
			n++
			bytes += int(in.shape.Memory())
		}
	}
	return n, bytes
}

// reexpress gives p's operand strides along dims (a shape of p's output size): its own
// when dims are its iteration dims; else, when dims split p's axes (the gradient of a
// mean pool walks [N, H/2, 2, W/2, 2, C] for [N, H, W, C]), each operand's strides along the
// split axes; else only if every operand is read whole in flat order or is a single value.
func reexpress(p *call, dims []int) ([][]int, bool) {
	e := p.host.(*elemSpec)
	if slices.Equal(e.iterDims, dims) {
		return e.iterStrides, true
	}
	dense, denseOwn := denseStrides(dims), denseStrides(e.iterDims)
	out := make([][]int, len(e.iterStrides))
	for i, st := range e.iterStrides {
		if split, ok := splitStrides(e.iterDims, st, dims); ok {
			out[i] = split
			continue
		}
		switch {
		case slices.Equal(st, denseOwn):
			out[i] = dense
		case allZero(st):
			out[i] = make([]int, len(dims))
		default:
			return nil, false
		}
	}
	return out, true
}

// splitStrides maps strides along dims to strides along split, where each axis of dims is a
// run of consecutive axes of split with the same product (row-major within the run).
func splitStrides(dims, strides, split []int) ([]int, bool) {
	out := make([]int, len(split))
	j := 0
	for a, d := range dims {
		start, prod := j, 1
		for j < len(split) && prod*split[j] <= d && (prod < d || split[j] == 1) {
			prod *= split[j]
			j++
		}
		if prod != d {
			return nil, false
		}
		st := strides[a]
		for k := j - 1; k >= start; k-- {
			out[k] = st
			st *= split[k]
		}
	}
	for ; j < len(split); j++ {
		if split[j] != 1 {
			return nil, false
		}
	}
	return out, true
}

func allZero(xs []int) bool {
	for _, x := range xs {
		if x != 0 {
			return false
		}
	}
	return true
}

// buildFused makes the fused spec of the group whose last op is r (an element-wise op, or
// a ReduceSum of a group member) and its external inputs, or nil.
func buildFused(r *call, groups map[*call][]*call, isRoot map[*call]bool) (*fusedSpec, []*node) {
	dims, _ := iterOf(r)
	spec := &fusedSpec{}
	var inputs []*node
	var extStrides [][]int
	extIndex := make(map[string]int)
	memo := make(map[*call]int)
	member := func(c *call) bool { return !isRoot[c] && slices.Contains(groups[c], r) }
	addExt := func(n *node, strides []int) fusedOperand {
		key := fmt.Sprint(n.id, strides)
		if i, ok := extIndex[key]; ok {
			return fusedOperand{ext: i}
		}
		i := len(inputs)
		extIndex[key] = i
		inputs = append(inputs, n)
		extStrides = append(extStrides, strides)
		return fusedOperand{ext: i}
	}
	failed := false
	var emit func(c *call) int
	emit = func(c *call) int {
		if i, ok := memo[c]; ok {
			return i
		}
		e := c.host.(*elemSpec)
		strides, ok := reexpress(c, dims)
		if !ok {
			failed = true
			return 0
		}
		in := fusedInstr{op: elemOps[e.method], kind: e.kind, isBool: e.kind == elemCompare}
		for i, x := range c.inputs {
			if member(x.call) {
				in.args = append(in.args, fusedOperand{ext: -1, temp: emit(x.call)})
			} else {
				in.args = append(in.args, addExt(x, strides[i]))
			}
		}
		spec.prog = append(spec.prog, in)
		memo[c] = len(spec.prog) - 1
		return memo[c]
	}
	all := &extStrides
	switch h := r.host.(type) {
	case *elemSpec:
		emit(r)
	case *reduceSumSpec:
		emit(r.inputs[0].call)
		spec.reduce = h.outStrides
		withOut := append(slices.Clone(extStrides), spec.reduce)
		all = &withOut
	}
	if failed {
		return nil, nil
	}
	mdims, mstrides := mergeAxes(dims, *all)
	spec.dims = mdims
	spec.strides = mstrides[:len(extStrides)]
	if spec.reduce != nil {
		spec.reduce = mstrides[len(extStrides)]
	}
	return spec, inputs
}

// fusedInputs are the flat external operands of a fused op, by type.
type fusedInputs struct {
	f [][]float32
	b [][]bool
}

// chunkShape is how a fused op walks its dims: chunks of rows×cols elements. With a long
// innermost axis a chunk is part of one row (rows 1); with a short one, a block of whole
// rows along the axis before it, so that each chunk holds about elemChunk elements.
type chunkShape struct {
	rows, cols   int
	rowBlocks    int // chunks per plane along the row axis (short rows)
	colBlocks    int // chunks per row (long rows)
	planes       int // index count of the axes before the row axis (short rows) or of all but the last (long rows)
	short        bool
	rank, inner  int
	rowAxisLen   int
	numChunks    int
	totalElement int
}

func newChunkShape(dims []int) chunkShape {
	rank := len(dims)
	inner := dims[rank-1]
	total := 1
	for _, d := range dims {
		total *= d
	}
	cs := chunkShape{rank: rank, inner: inner, totalElement: total}
	if inner >= elemChunk || rank == 1 {
		cs.rows, cs.cols = 1, min(inner, elemChunk)
		cs.colBlocks = (inner + cs.cols - 1) / cs.cols
		cs.planes = total / inner
		cs.numChunks = cs.planes * cs.colBlocks
		return cs
	}
	cs.short = true
	cs.rowAxisLen = dims[rank-2]
	cs.cols = inner
	cs.rows = min(cs.rowAxisLen, max(1, elemChunk/inner))
	cs.rowBlocks = (cs.rowAxisLen + cs.rows - 1) / cs.rows
	cs.planes = total / (inner * cs.rowAxisLen)
	cs.numChunks = cs.planes * cs.rowBlocks
	return cs
}

func (s *fusedSpec) run(ins []any, out any) error {
	ext := fusedInputs{f: make([][]float32, len(ins)), b: make([][]bool, len(ins))}
	for i, in := range ins {
		switch v := in.(type) {
		case []float32:
			ext.f[i] = v
		case []bool:
			ext.b[i] = v
		default:
			return errors.Errorf("%s: element-wise host op: operand %d is %T", Name, i, in)
		}
	}
	var zf []float32
	var zb []bool
	switch v := out.(type) {
	case []float32:
		zf = v
	case []bool:
		zb = v
	}
	lastBool := s.prog[len(s.prog)-1].isBool
	if zf == nil && zb == nil || s.reduce == nil && lastBool != (zb != nil) || s.reduce != nil && zf == nil {
		return errors.Errorf("%s: element-wise host op: output is %T", Name, out)
	}
	cs := newChunkShape(s.dims)
	if s.reduce == nil {
		parallelRange(cs.numChunks, cs.totalElement, func(lo, hi int) { s.chunks(cs, lo, hi, ext, zf, zb) })
		return nil
	}
	// A reduction: each worker adds its chunks into its own sums (the first into the
	// output); the sums are added at the end.
	clear(zf)
	workers := min(runtime.GOMAXPROCS(0), max(1, cs.totalElement/(1<<15)), cs.numChunks)
	sums := make([][]float32, workers)
	var sc scratch
	defer sc.release()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lo, hi := cs.numChunks*w/workers, cs.numChunks*(w+1)/workers
		acc := zf
		if w > 0 {
			acc = sc.zeroFloat32s(len(zf))
			sums[w] = acc
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.chunks(cs, lo, hi, ext, acc, nil)
		}()
	}
	wg.Wait()
	for _, p := range sums[1:] {
		for i, v := range p {
			zf[i] += v
		}
	}
	return nil
}

// chunks computes chunks lo..hi: into zf or zb for an element-wise value, added into zf
// (the sums) for a reduction.
func (s *fusedSpec) chunks(cs chunkShape, lo, hi int, ext fusedInputs, zf []float32, zb []bool) {
	rank, inner := cs.rank, cs.inner
	size := cs.rows * cs.cols
	last := len(s.prog) - 1
	// Scratch blocks: one per instruction, one per external operand not read in place.
	var sc scratch
	defer sc.release()
	tf := make([][]float32, len(s.prog))
	tb := make([][]bool, len(s.prog))
	for i, in := range s.prog {
		if in.isBool {
			tb[i] = sc.bools(size)
		} else if i != last || s.reduce != nil {
			tf[i] = sc.float32s(size)
		}
	}
	ef := make([][]float32, len(s.strides))
	eb := make([][]bool, len(s.strides))
	for i := range s.strides {
		if ext.b[i] != nil {
			eb[i] = sc.bools(size)
		} else {
			ef[i] = sc.float32s(size)
		}
	}
	// The row and column strides of each operand (and of the sums) within a chunk.
	rowSt := make([]int, len(s.strides))
	colSt := make([]int, len(s.strides))
	for i, st := range s.strides {
		colSt[i] = st[rank-1]
		if cs.short {
			rowSt[i] = st[rank-2]
		}
	}
	var outRow, outCol int
	if s.reduce != nil {
		outCol = s.reduce[rank-1]
		if cs.short {
			outRow = s.reduce[rank-2]
		}
	}
	offs := make([]int, len(s.strides))
	for ch := lo; ch < hi; ch++ {
		// The chunk's first element: the index along the leading (plane) axes, then the
		// first row or column.
		var plane, r0, c0, rows, cols int
		firstAxis := rank - 2 // the last axis of the plane index
		if cs.short {
			plane, r0 = ch/cs.rowBlocks, (ch%cs.rowBlocks)*cs.rows
			rows, cols = min(cs.rows, cs.rowAxisLen-r0), inner
			firstAxis = rank - 3
		} else {
			plane, c0 = ch/cs.colBlocks, (ch%cs.colBlocks)*cs.cols
			rows, cols = 1, min(cs.cols, inner-c0)
		}
		n := rows * cols
		outOff := r0*outRow + c0*outCol
		for i := range offs {
			offs[i] = r0*rowSt[i] + c0*colSt[i]
		}
		p := plane
		for a := firstAxis; a >= 0; a-- {
			idx := p % s.dims[a]
			p /= s.dims[a]
			for i := range offs {
				offs[i] += idx * s.strides[i][a]
			}
			if s.reduce != nil {
				outOff += idx * s.reduce[a]
			}
		}
		// Where the chunk's output starts in a written (dense) value.
		zo := plane*cs.rowAxisLen*inner + r0*inner
		if !cs.short {
			zo = plane*inner + c0
		}
		constant := func(o fusedOperand) bool { return o.ext >= 0 && colSt[o.ext] == 0 && (rows == 1 || rowSt[o.ext] == 0) }
		fget := func(o fusedOperand, scalarOK bool) ([]float32, bool) {
			if o.ext < 0 {
				return tf[o.temp][:n], false
			}
			return blockOf(ext.f[o.ext], offs[o.ext], rowSt[o.ext], colSt[o.ext], rows, cols, ef[o.ext], scalarOK)
		}
		bget := func(o fusedOperand) []bool {
			if o.ext < 0 {
				return tb[o.temp][:n]
			}
			b, _ := blockOf(ext.b[o.ext], offs[o.ext], rowSt[o.ext], colSt[o.ext], rows, cols, eb[o.ext], false)
			return b
		}
		for i, in := range s.prog {
			var zF []float32
			var zB []bool
			switch {
			case i == last && s.reduce == nil && in.isBool:
				zB = zb[zo : zo+n]
			case i == last && s.reduce == nil:
				zF = zf[zo : zo+n]
			case in.isBool:
				zB = tb[i][:n]
			default:
				zF = tf[i][:n]
			}
			switch in.kind {
			case elemUnary:
				x, _ := fget(in.args[0], false)
				unaryRow(in.op, zF, x)
			case elemBinary:
				// One operand may stay a single value; both constant are expanded.
				x, xs := fget(in.args[0], !constant(in.args[1]))
				y, ys := fget(in.args[1], !xs)
				binaryRow(in.op, zF, x, y, xs, ys)
			case elemCompare:
				x, _ := fget(in.args[0], false)
				y, ys := fget(in.args[1], true)
				compareRow(in.op, zB, x, y, ys)
			case elemWhere:
				c := bget(in.args[0])
				x, _ := fget(in.args[1], false)
				y, ys := fget(in.args[2], true)
				whereRow(zF, c, x, y, ys)
			}
		}
		if s.reduce != nil {
			addInto(zf, outOff, outRow, outCol, tf[last][:n], rows, cols)
		}
	}
}

// addInto adds the rows×cols block v into the sums acc, whose element for (r, c) is at
// off + r·rowSt + c·colSt.
func addInto(acc []float32, off, rowSt, colSt int, v []float32, rows, cols int) {
	if rowSt == 0 && colSt == 1 { // every row into the same sums
		addRows(acc[off:off+cols], v, rows, cols)
		return
	}
	for r := 0; r < rows; r++ {
		row, base := v[r*cols:(r+1)*cols], off+r*rowSt
		switch colSt {
		case 0:
			acc[base] += sumRow(row)
		case 1:
			addRow(acc[base:base+cols], row)
		default:
			for j, x := range row {
				acc[base+j*colSt] += x
			}
		}
	}
}

// blockOf returns the rows×cols block of src whose element (r, c) is at off + r·rowSt +
// c·colSt: a slice of src when the block is contiguous, the one element src[off] (and
// true) when it is constant and scalarOK, and else the elements copied into tmp.
func blockOf[T any](src []T, off, rowSt, colSt, rows, cols int, tmp []T, scalarOK bool) ([]T, bool) {
	n := rows * cols
	switch {
	case colSt == 1 && (rows == 1 || rowSt == cols):
		return src[off : off+n], false
	case colSt == 0 && (rows == 1 || rowSt == 0) && scalarOK:
		return src[off : off+1], true
	}
	tmp = tmp[:n]
	for r := 0; r < rows; r++ {
		seg, base := tmp[r*cols:(r+1)*cols], off+r*rowSt
		switch colSt {
		case 1:
			copy(seg, src[base:base+cols])
		case 0:
			v := src[base]
			for j := range seg {
				seg[j] = v
			}
		default:
			for j := range seg {
				seg[j] = src[base+j*colSt]
			}
		}
	}
	return tmp, false
}
