package gogemm

import (
	"testing"
	"unsafe"
)

// TestHostMemory checks the arena allocator: blocks do not overlap, a freed block is reused
// by a request that fits it (best fit), freed neighbours merge back into one span (so a
// block as large as several freed ones fits again without a new arena), a request larger
// than any free span gets an arena of its own, and scratch space is given back.
func TestHostMemory(t *testing.T) {
	var m hostMemory
	addr := func(b []uint64) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }
	const w = minArenaWords / 8
	a, b, c := m.get(w), m.get(w), m.get(w)
	if len(m.arenas) != 1 || addr(b) != addr(a)+8*w || addr(c) != addr(b)+8*w {
		t.Fatalf("three small blocks: %d arenas, offsets %d, %d", len(m.arenas), addr(b)-addr(a), addr(c)-addr(a))
	}
	for i := range b {
		b[i] = 7
	}
	m.put(b)
	if r := m.get(w / 2); addr(r) != addr(b) { // the freed middle block is the best fit
		t.Errorf("a request of half a freed block went elsewhere")
	} else {
		m.put(r)
	}
	m.put(a)
	if r := m.get(2 * w); addr(r) != addr(a) || len(m.arenas) != 1 { // a and b merged
		t.Errorf("a request of two merged blocks got a new arena or another place")
	} else {
		m.put(r)
	}
	m.put(c)
	if len(m.arenas) != 1 || len(m.arenas[0].free) != 1 || m.held != len(m.arenas[0].mem) {
		t.Errorf("after every put: %d arenas, free spans %v, %d words held", len(m.arenas), m.arenas[0].free, m.held)
	}
	big := m.get(2 * minArenaWords)
	if len(m.arenas) != 2 || len(big) != 2*minArenaWords {
		t.Errorf("a request larger than any free span: %d arenas", len(m.arenas))
	}
	m.put(big)
	var sc scratch
	f := sc.zeroFloat32s(1000)
	bs := sc.bools(17)
	f[999], bs[16] = 1, true
	sc.release()
	if len(sc.blocks) != 0 {
		t.Errorf("scratch kept %d blocks after release", len(sc.blocks))
	}
}
