//go:build cgo && linux

package gogemm

import (
	"os"
	"strings"
	"testing"
)

// TestLoadCBLASErrors checks that a missing library and a library without CBLAS are refused
// with a message naming them, leaving the GEMM as it was.
func TestLoadCBLASErrors(t *testing.T) {
	before := GEMMName()
	for _, tc := range []struct{ path, want string }{
		{"/nonexistent/libcblas.so", "cannot open /nonexistent/libcblas.so"},
		{"libc.so.6", "libc.so.6 has no cblas_sgemm"},
	} {
		err := loadCBLAS(tc.path)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("loadCBLAS(%q) = %v, want an error containing %q", tc.path, err, tc.want)
		}
	}
	if GEMMName() != before {
		t.Errorf("a failed load changed the GEMM from %q to %q", before, GEMMName())
	}
}

// TestGEMMSelected checks, when DCBENCH_EXPECT_GEMM is set (CI sets it where OpenBLAS is
// installed, and to "gonum" where DCBENCH_GEMM=gonum), that the products really run on that
// library, so the tests of that run check it.
func TestGEMMSelected(t *testing.T) {
	want := os.Getenv("DCBENCH_EXPECT_GEMM")
	if want == "" {
		t.Skipf("GEMM is %s; set DCBENCH_EXPECT_GEMM to check it", GEMMName())
	}
	if !strings.Contains(GEMMName(), want) || GEMMError() != nil {
		t.Fatalf("GEMM is %q (error %v), want %q", GEMMName(), GEMMError(), want)
	}
}
