//go:build !unix

package gogemm

// allocWords returns a zeroed block of words words.
func allocWords(words int) []uint64 { return make([]uint64, words) }

// freeWords leaves a block to the garbage collector.
func freeWords([]uint64) {}
