package gogemm

import (
	"sync"
	"sync/atomic"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/pkg/errors"
)

// A row Gather whose only consumers are host products is never materialised: each product
// gathers the rows of its operand chunk by chunk into a small per-core buffer and multiplies
// the chunk at once (gatherDotSpec). This is what im2col's patch matrix (dcbench/nn's
// Im2Col: the rows of an image table gathered nine times over, [N·H·W, 9·C]) costs then:
// no patch matrix in memory (302 MB for the second layer of a ConvNet at batch 256, kept
// until the backward pass), and the product reads its operand from the cache instead of
// from memory.

// gatherChunkFloats is the size of a per-core gathered chunk, in elements (4 MiB): large
// enough that the GEMM packing the right operand again for every chunk costs little.
const gatherChunkFloats = 1 << 20

// gatherDotSpec is a float32 product whose left operand is a row Gather of a table
// [rows, width] (out[i, :] = table[idx[i], :], indices clamped), read in place of the
// gathered matrix. Its inputs are the table, the indices and the right operand.
//
// When the left operand is read as m×k (not transposed), its row i is k/width gathered
// rows, and the product is split into chunks of output rows. When it is read as k×m
// (transposed, the weight gradient of a convolution: patchesᵀ·v), its row is m/width
// gathered rows along the contracting axis, and each core adds the products of its chunks
// of that axis into its own m×n sum; the sums are added at the end.
type gatherDotSpec struct {
	dot        *dotSpec
	tableRows  int
	width      int
	perRow     int // gathered rows per row of the stored operand
	storedRows int // rows of the stored operand: m, or k when transposed
}

// newGatherDotSpec returns the spec for product d reading gather g as its left operand, or
// nil when the layout does not allow it.
func newGatherDotSpec(d *dotSpec, g *rowGatherSpec) *gatherDotSpec {
	if d.batch != 1 || d.lhsPerm != nil || d.dtype != dtypes.Float32 {
		return nil
	}
	s := &gatherDotSpec{dot: d, tableRows: g.rows, width: g.width}
	rowLen, stored := d.k, d.m
	if d.lhsTrans {
		rowLen, stored = d.m, d.k
	}
	if g.width == 0 || rowLen%g.width != 0 {
		return nil
	}
	s.perRow, s.storedRows = rowLen/g.width, stored
	return s
}

// chunkRows is the number of stored rows gathered at a time.
func (s *gatherDotSpec) chunkRows() int {
	rowLen := s.perRow * s.width
	return max(16, min(4096, gatherChunkFloats/max(rowLen, 1)))
}

func (s *gatherDotSpec) run(ins []any, out any) error {
	table, ok1 := ins[0].([]float32)
	rhs, ok2 := ins[2].([]float32)
	y, ok3 := out.([]float32)
	if !ok1 || !ok2 || !ok3 {
		return errors.Errorf("%s: host gathered product wants float32", Name)
	}
	var at func(i int) int
	switch idx := ins[1].(type) {
	case []int32:
		at = func(i int) int { return int(idx[i]) }
	case []int64:
		at = func(i int) int { return int(idx[i]) }
	default:
		return errors.Errorf("%s: host gathered product wants int32 or int64 indices", Name)
	}
	d := s.dot
	w, rowLen := s.width, s.perRow*s.width
	chunk := s.chunkRows()
	numChunks := (s.storedRows + chunk - 1) / chunk
	gemm, workers := workerGEMM32()
	workers = max(1, min(workers, numChunks))
	// gather fills buf with stored rows lo..hi.
	gather := func(buf []float32, lo, hi int) []float32 {
		buf = buf[:(hi-lo)*rowLen]
		for r := lo * s.perRow; r < hi*s.perRow; r++ {
			i := max(0, min(s.tableRows-1, at(r)))
			o := (r - lo*s.perRow) * w
			if w <= 8 { // a few channels (the first layer's 3): no call per row
				for j := range w {
					buf[o+j] = table[i*w+j]
				}
				continue
			}
			copy(buf[o:o+w], table[i*w:(i+1)*w])
		}
		return buf
	}
	ldb := d.n
	if d.rhsTrans {
		ldb = d.k
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	var partial [][]float32
	var sc scratch
	defer sc.release()
	bufs := make([][]float32, workers)
	for wk := range bufs {
		bufs[wk] = sc.float32s(chunk * rowLen)
	}
	if d.lhsTrans {
		partial = make([][]float32, workers)
		clear(y) // every chunk's product is added to a sum
		for wk := 1; wk < workers; wk++ {
			partial[wk] = sc.zeroFloat32s(len(y))
		}
	}
	for wk := 0; wk < workers; wk++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := bufs[wk]
			var acc []float32
			if d.lhsTrans {
				acc = y
				if wk > 0 {
					acc = partial[wk]
				}
			}
			// Output rows are disjoint, so their chunks are taken as they come; the sums of
			// the transposed product take a fixed run of chunks per worker, so that every sum
			// adds the same terms in the same order whatever the timing (the same seed gives
			// the same result).
			first, last := wk*numChunks/workers, (wk+1)*numChunks/workers
			for ci := first; ; ci++ {
				c := ci
				if !d.lhsTrans {
					c = int(next.Add(1) - 1)
				} else if c >= last {
					return
				}
				if c >= numChunks {
					return
				}
				lo, hi := c*chunk, min(s.storedRows, (c+1)*chunk)
				a := gather(buf, lo, hi)
				if !d.lhsTrans {
					// Output rows lo..hi = gathered rows · rhs.
					gemm(false, d.rhsTrans, hi-lo, d.n, d.k, a, d.k, rhs, ldb, 0, y[lo*d.n:], d.n)
					continue
				}
				// Contracting rows lo..hi: acc += aᵀ·rhs[lo:hi].
				b := rhs[lo*d.n:]
				if d.rhsTrans {
					b = rhs[lo:]
				}
				gemm(true, d.rhsTrans, d.m, d.n, hi-lo, a, d.m, b, ldb, 1, acc, d.n)
			}
		}()
	}
	wg.Wait()
	if d.lhsTrans {
		for _, p := range partial[1:] {
			for i, v := range p {
				y[i] += v
			}
		}
	}
	return nil
}

// gatheredPointSpec is a single-element Gather (pointGatherSpec) of a row Gather that is not
// materialised: element pos of the gathered [R, width] matrix is table[idx[pos/width],
// pos%width]. Its inputs are the table, the row indices and the point indices.
type gatheredPointSpec struct {
	point            *pointGatherSpec
	tableRows, width int
}

func (s *gatheredPointSpec) run(ins []any, out any) error {
	table, ok1 := ins[0].([]float32)
	y, ok2 := out.([]float32)
	if !ok1 || !ok2 {
		return errors.Errorf("%s: host Gather wants float32", Name)
	}
	var row func(r int) int
	switch idx := ins[1].(type) {
	case []int32:
		row = func(r int) int { return int(idx[r]) }
	case []int64:
		row = func(r int) int { return int(idx[r]) }
	default:
		return errors.Errorf("%s: host Gather wants int32 or int64 indices", Name)
	}
	w := s.width
	return s.point.gather(ins[2], y, func(pos int) float32 {
		i := max(0, min(s.tableRows-1, row(pos/w)))
		return table[i*w+pos%w]
	})
}
