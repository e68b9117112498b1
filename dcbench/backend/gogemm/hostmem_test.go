package gogemm

import "testing"

// TestHostMemoryReuse checks that a freed block serves a later request that fits it (at
// least as large, at most twice as large), that others get new blocks, and that blocks
// mapped from the operating system (large ones) are usable.
func TestHostMemoryReuse(t *testing.T) {
	var m hostMemory
	big := m.get(3 * mapMinWords) // mapped
	for i := range big {
		big[i] = uint64(i)
	}
	m.put(big)
	if r := m.get(2 * mapMinWords); &r[0] != &big[0] || len(r) != 2*mapMinWords {
		t.Errorf("a request of 2/3 of a free block got another block")
	} else {
		m.put(r)
	}
	if r := m.get(mapMinWords); &r[0] == &big[0] {
		t.Errorf("a request of a third of a free block took it")
	} else {
		m.put(r)
	}
	if r := m.get(4 * mapMinWords); &r[0] == &big[0] {
		t.Errorf("a request larger than the free block got it")
	}
	if m.held != 4*mapMinWords { // the big block and the third
		t.Errorf("%d words held, want %d", m.held, 4*mapMinWords)
	}
	var sc scratch
	f := sc.zeroFloat32s(1000)
	b := sc.bools(17)
	f[999], b[16] = 1, true
	sc.release()
	if len(sc.blocks) != 0 {
		t.Errorf("scratch kept %d blocks after release", len(sc.blocks))
	}
}
