//go:build openblas && cgo

package gogemm

/*
#cgo LDFLAGS: -lopenblas
#include <cblas.h>
*/
import "C"

import "unsafe"

// With the openblas tag, the host products run on OpenBLAS (Debian: libopenblas-dev), one
// OpenBLAS thread per call: gogemm splits a product's rows over the cores itself
// (splitRows). OpenBLAS's own threads keep spinning in sched_yield after each product, which
// took about a tenth of the CPU of a training step away from the Go code running next.
func init() {
	gemmName = "OpenBLAS"
	C.openblas_set_num_threads(1)
	gemm32 = splitRows(openblasGEMM32)
	gemm64 = splitRows(openblasGEMM64)
}

func cTrans(t bool) C.enum_CBLAS_TRANSPOSE {
	if t {
		return C.CblasTrans
	}
	return C.CblasNoTrans
}

func openblasGEMM32(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	C.cblas_sgemm(C.CblasRowMajor, cTrans(transA), cTrans(transB), C.blasint(m), C.blasint(n), C.blasint(k),
		1, (*C.float)(unsafe.Pointer(&a[0])), C.blasint(lda), (*C.float)(unsafe.Pointer(&b[0])), C.blasint(ldb),
		0, (*C.float)(unsafe.Pointer(&c[0])), C.blasint(ldc))
}

func openblasGEMM64(transA, transB bool, m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int) {
	C.cblas_dgemm(C.CblasRowMajor, cTrans(transA), cTrans(transB), C.blasint(m), C.blasint(n), C.blasint(k),
		1, (*C.double)(unsafe.Pointer(&a[0])), C.blasint(lda), (*C.double)(unsafe.Pointer(&b[0])), C.blasint(ldb),
		0, (*C.double)(unsafe.Pointer(&c[0])), C.blasint(ldc))
}
