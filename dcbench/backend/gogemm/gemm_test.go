package gogemm

import (
	"fmt"
	"math"
	"testing"
)

// TestSplitRows checks that splitting a product's rows over the cores gives the same result
// as one call, for every combination of transposes.
func TestSplitRows(t *testing.T) {
	old := MinFLOPs
	MinFLOPs = 0
	defer func() { MinFLOPs = old }()
	m, n, k := 37, 5, 300
	a, b := make([]float32, m*k), make([]float32, k*n)
	for i := range a {
		a[i] = float32(i%13) - 6
	}
	for i := range b {
		b[i] = float32(i%7) - 3
	}
	split := splitRows(gonumGEMM32)
	for _, ta := range []bool{false, true} {
		for _, tb := range []bool{false, true} {
			t.Run(fmt.Sprintf("transA=%v,transB=%v", ta, tb), func(t *testing.T) {
				lda, ldb := k, n
				if ta {
					lda = m
				}
				if tb {
					ldb = k
				}
				want, got := make([]float32, m*n), make([]float32, m*n)
				for i := range got {
					got[i] = 99 // must be overwritten
				}
				gonumGEMM32(ta, tb, m, n, k, a, lda, b, ldb, want, n)
				split(ta, tb, m, n, k, a, lda, b, ldb, got, n)
				for i := range want {
					if math.Abs(float64(want[i]-got[i])) > 1e-3 {
						t.Fatalf("element %d = %g, want %g", i, got[i], want[i])
					}
				}
			})
		}
	}
}
