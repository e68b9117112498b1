//go:build unix

package gogemm

import (
	"syscall"
	"unsafe"
)

// allocWords returns a zeroed block of words words, mapped from the operating system.
func allocWords(words int) []uint64 {
	b, err := syscall.Mmap(-1, 0, words*8, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return make([]uint64, words) // e.g. a mapping limit: the Go heap still works
	}
	return unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(b))), words)
}

// freeWords gives a block made by allocWords back to the operating system (or, if mmap
// failed, to the garbage collector).
func freeWords(b []uint64) {
	bytes := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(b))), cap(b)*8)
	if err := syscall.Munmap(bytes); err != nil {
		return // a Go slice made when mmap failed: the collector frees it
	}
}
