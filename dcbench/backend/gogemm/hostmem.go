package gogemm

import (
	"sync"
	"unsafe"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
)

// hostMemory holds the values that only host ops read (the output of a host op whose
// consumers are all host ops) and the host ops' scratch space. They never become simplego
// buffers: simplego keeps freed buffers in one pool per dtype and length, so a training step
// that frees buffers of twenty sizes keeps twenty sizes' worth of buffers until the garbage
// collector empties the pools, which it rarely does, and the process's memory grows to
// several times what is live at any moment. Here a freed block serves any later request
// that fits it (the smallest free block at least as large and at most twice as large),
// whatever the dtype or shape, so the memory held is close to the most that is live at
// once.
//
// Blocks of at least mapMinWords come straight from the operating system (mmap, where
// available), outside the Go heap: the garbage collector lets the heap grow to twice what
// it finds live before it runs again, and blocks held for reuse on the heap would count as
// live and double the room left to garbage.
type hostMemory struct {
	mu        sync.Mutex
	free      [][]uint64
	held      int // words in free
	allocated int
}

// maxFreeWords bounds the free blocks kept for reuse (words of 8 bytes: 4 GiB); beyond it
// freed blocks are given back.
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

// get returns a block of at least words words (contents undefined).
func (m *hostMemory) get(words int) []uint64 {
	words = max(words, 1)
	m.mu.Lock()
	best := -1
	for i, b := range m.free {
		if c := cap(b); c >= words && c <= 2*words && (best < 0 || c < cap(m.free[best])) {
			best = i
		}
	}
	if best >= 0 {
		b := m.free[best]
		m.free[best] = m.free[len(m.free)-1]
		m.free = m.free[:len(m.free)-1]
		m.held -= cap(b)
		m.mu.Unlock()
		return b[:words]
	}
	m.mu.Unlock()
	return allocWords(words)
}

// put returns a block for reuse.
func (m *hostMemory) put(b []uint64) {
	m.mu.Lock()
	if m.held+cap(b) > maxFreeWords {
		m.mu.Unlock()
		freeWords(b)
		return
	}
	m.free = append(m.free, b[:cap(b)])
	m.held += cap(b)
	m.mu.Unlock()
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
