//go:build openblas && cgo

package gogemm

import "testing"

// TestOpenBLASSelected checks that the openblas tag really routes products to OpenBLAS, so
// that the tests under that tag check it.
func TestOpenBLASSelected(t *testing.T) {
	if GEMMName() != "OpenBLAS" {
		t.Fatalf("GEMM is %q with the openblas tag", GEMMName())
	}
}
