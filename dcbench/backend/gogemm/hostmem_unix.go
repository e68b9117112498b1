//go:build unix

package gogemm

import (
	"syscall"
	"unsafe"
)

// mapMinWords is the least block mapped from the operating system (256 KiB); smaller ones
// are Go slices.
const mapMinWords = 1 << 15

// allocWords returns a zeroed block of words words.
func allocWords(words int) []uint64 {
	if words < mapMinWords {
		return make([]uint64, words)
	}
	b, err := syscall.Mmap(-1, 0, words*8, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return make([]uint64, words) // e.g. a mapping limit: the Go heap still works
	}
	return unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(b))), words)
}

// freeWords gives a block back to the operating system (a mapped one) or to the garbage
// collector.
func freeWords(b []uint64) {
	if cap(b) < mapMinWords {
		return
	}
	bytes := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(b))), cap(b)*8)
	if err := syscall.Munmap(bytes); err != nil {
		return // a Go slice made when mmap failed: the collector frees it
	}
}
