package gogemm

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// The GEMM in use: gonum's pure-Go implementation unless the openblas build tag replaced it.
var (
	gemmName                    = "gonum (pure Go)"
	gemm32    gemmFunc[float32] = gonumGEMM32
	gemm64    gemmFunc[float64] = gonumGEMM64
	gonumImpl gonum.Implementation
)

// GEMMName names the matrix-product library the host products run on.
func GEMMName() string { return gemmName }

func trans(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

func gonumGEMM32(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	gonumImpl.Sgemm(trans(transA), trans(transB), m, n, k, 1, a, lda, b, ldb, 0, c, ldc)
}

func gonumGEMM64(transA, transB bool, m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int) {
	gonumImpl.Dgemm(trans(transA), trans(transB), m, n, k, 1, a, lda, b, ldb, 0, c, ldc)
}
