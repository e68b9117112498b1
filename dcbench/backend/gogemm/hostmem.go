package gogemm

import (
	"slices"
	"sort"
	"sync"
	"unsafe"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
)

// hostMemory holds the values that only host ops read (the output of a host op whose
// consumers are all host ops) and the host ops' scratch space. They never become simplego
// buffers: simplego keeps freed buffers in one pool per dtype and length, so a training step
// that frees buffers of twenty sizes keeps twenty sizes' worth of buffers until the garbage
// collector empties the pools, which it rarely does, and the process's memory grows to
// several times what is live at any moment. Here blocks are carved from large arenas, the
// smallest free span that fits (best fit), and a freed block is merged with the free spans
// beside it, so one class's activations reuse the memory of the class before, whatever
// their dtypes and shapes, and the memory held stays close to the most that is live at once.
//
// Arenas come straight from the operating system (mmap, where available), outside the Go
// heap: the garbage collector lets the heap grow to twice what it finds live before it runs
// again, and memory held for reuse on the heap would count as live and double the room left
// to garbage.
type hostMemory struct {
	mu     sync.Mutex
	arenas []*arena
	held   int // free words in all arenas
}

// arena is one mapping and its free spans, sorted by offset and never adjacent.
type arena struct {
	mem  []uint64
	free []span
}

// span is a run of words of an arena.
type span struct{ off, n int }

// minArenaWords is the least arena size (words of 8 bytes: 8 MiB).
const minArenaWords = 1 << 20

// maxFreeWords bounds the free memory kept for reuse (4 GiB); arenas wholly free beyond it
// are given back.
const maxFreeWords = 1 << 29

var hostMem hostMemory

// privateDType says whether values of dtype can live in hostMemory.
func privateDType(dt dtypes.DType) bool {
	switch dt {
	case dtypes.Float32, dtypes.Float64, dtypes.Bool, dtypes.Int32, dtypes.Int64:
		return true
	}
	return false
}

// get returns a block of words words (at least one; contents undefined).
func (m *hostMemory) get(words int) []uint64 {
	words = (max(words, 1) + 7) &^ 7 // 64-byte steps keep blocks aligned for the kernels
	m.mu.Lock()
	defer m.mu.Unlock()
	var best *arena
	bi := -1
	for _, a := range m.arenas {
		for i, sp := range a.free {
			if sp.n >= words && (bi < 0 || sp.n < best.free[bi].n) {
				best, bi = a, i
			}
		}
	}
	if bi < 0 {
		best = &arena{mem: allocWords(max(words, minArenaWords))}
		best.free = []span{{0, len(best.mem)}}
		m.arenas = append(m.arenas, best)
		m.held += len(best.mem)
		bi = 0
	}
	sp := &best.free[bi]
	off := sp.off
	sp.off, sp.n = sp.off+words, sp.n-words
	if sp.n == 0 {
		best.free = append(best.free[:bi], best.free[bi+1:]...)
	}
	m.held -= words
	return best.mem[off : off+words : off+words]
}

// put returns a block made by get.
func (m *hostMemory) put(b []uint64) {
	if cap(b) == 0 {
		return
	}
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b[:1])))
	m.mu.Lock()
	defer m.mu.Unlock()
	for ai, a := range m.arenas {
		base := uintptr(unsafe.Pointer(unsafe.SliceData(a.mem)))
		if p < base || p >= base+uintptr(len(a.mem))*8 {
			continue
		}
		sp := span{int(p-base) / 8, cap(b)}
		i := sort.Search(len(a.free), func(i int) bool { return a.free[i].off > sp.off })
		a.free = slices.Insert(a.free, i, sp)
		if i+1 < len(a.free) && a.free[i].off+a.free[i].n == a.free[i+1].off { // merge with the next
			a.free[i].n += a.free[i+1].n
			a.free = slices.Delete(a.free, i+1, i+2)
		}
		if i > 0 && a.free[i-1].off+a.free[i-1].n == a.free[i].off { // and with the previous
			a.free[i-1].n += a.free[i].n
			a.free = slices.Delete(a.free, i, i+1)
		}
		m.held += sp.n
		if len(a.free) == 1 && a.free[0].n == len(a.mem) && m.held > maxFreeWords {
			m.held -= len(a.mem)
			m.arenas = slices.Delete(m.arenas, ai, ai+1)
			freeWords(a.mem)
		}
		return
	}
	panic("gogemm: a block put back that hostMemory did not make")
}

// float32s returns a block of n float32s from m and the block to put back.
func (m *hostMemory) float32s(n int) ([]float32, []uint64) {
	b := m.get((n + 1) / 2)
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(b))), n), b
}

// flatView returns a flat slice of n elements of dt over block b.
func flatView(dt dtypes.DType, b []uint64, n int) any {
	p := unsafe.Pointer(unsafe.SliceData(b))
	switch dt {
	case dtypes.Float32:
		return unsafe.Slice((*float32)(p), n)
	case dtypes.Float64:
		return unsafe.Slice((*float64)(p), n)
	case dtypes.Bool:
		return unsafe.Slice((*bool)(p), n)
	case dtypes.Int32:
		return unsafe.Slice((*int32)(p), n)
	case dtypes.Int64:
		return unsafe.Slice((*int64)(p), n)
	}
	panic("gogemm: hostMemory holds no " + dt.String())
}

// words is the number of 8-byte words that n elements of dt take.
func words(dt dtypes.DType, n int) int {
	return (n*int(dt.Size()) + 7) / 8
}

// scratch hands out blocks of hostMemory for one host op's temporary use and puts them all
// back at once.
type scratch struct{ blocks [][]uint64 }

// float32s returns n float32s (contents undefined).
func (s *scratch) float32s(n int) []float32 {
	f, b := hostMem.float32s(n)
	s.blocks = append(s.blocks, b)
	return f
}

// zeroFloat32s returns n zeroed float32s.
func (s *scratch) zeroFloat32s(n int) []float32 {
	f := s.float32s(n)
	clear(f)
	return f
}

// bools returns n bools (contents undefined).
func (s *scratch) bools(n int) []bool {
	b := hostMem.get((n + 7) / 8)
	s.blocks = append(s.blocks, b)
	return unsafe.Slice((*bool)(unsafe.Pointer(unsafe.SliceData(b))), n)
}

// release puts every block back.
func (s *scratch) release() {
	for _, b := range s.blocks {
		hostMem.put(b)
	}
	s.blocks = nil
}
