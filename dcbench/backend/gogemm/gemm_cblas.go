//go:build cgo

package gogemm

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>

// CBLAS entry points, found at run time with dlsym.
typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float*, int, const float*, int, float, float*, int);
typedef void (*dgemm_fn)(int, int, int, int, int, int, double, const double*, int, const double*, int, double, double*, int);
typedef void (*threads_fn)(int);
typedef char* (*corename_fn)(void);

static sgemm_fn dcb_sgemm;
static dgemm_fn dcb_dgemm;

// dcb_load opens a CBLAS library; it returns 0 on success, 1 if it could not be opened and 2
// if it lacks cblas_sgemm or cblas_dgemm. single is set when the library could be put on one
// thread per call (openblas_set_num_threads).
static int dcb_load(const char* path, int* single, const char** core) {
	void* h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) return 1;
	sgemm_fn s = (sgemm_fn)dlsym(h, "cblas_sgemm");
	dgemm_fn d = (dgemm_fn)dlsym(h, "cblas_dgemm");
	if (!s || !d) { dlclose(h); return 2; }
	threads_fn t = (threads_fn)dlsym(h, "openblas_set_num_threads");
	*single = 0;
	if (t) { t(1); *single = 1; }
	corename_fn cn = (corename_fn)dlsym(h, "openblas_get_corename");
	*core = cn ? cn() : 0;
	dcb_sgemm = s;
	dcb_dgemm = d;
	return 0;
}

// CBLAS enum values: CblasRowMajor 101, CblasNoTrans 111, CblasTrans 112.
static void dcb_sgemm_call(int ta, int tb, int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c, int ldc) {
	dcb_sgemm(101, ta ? 112 : 111, tb ? 112 : 111, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
}
static void dcb_sgemm_beta(int ta, int tb, int m, int n, int k, const float* a, int lda, const float* b, int ldb, float beta, float* c, int ldc) {
	dcb_sgemm(101, ta ? 112 : 111, tb ? 112 : 111, m, n, k, 1.0f, a, lda, b, ldb, beta, c, ldc);
}
static void dcb_dgemm_call(int ta, int tb, int m, int n, int k, const double* a, int lda, const double* b, int ldb, double* c, int ldc) {
	dcb_dgemm(101, ta ? 112 : 111, tb ? 112 : 111, m, n, k, 1.0, a, lda, b, ldb, 0.0, c, ldc);
}
*/
import "C"

import (
	"fmt"
	"path/filepath"
	"unsafe"
)

// loadCBLAS opens the CBLAS library at path (a file name is searched as dlopen does) and
// makes it the GEMM. With OpenBLAS, each call runs on one OpenBLAS thread and gogemm splits
// the rows over the cores (splitRows): OpenBLAS's own threads keep spinning in sched_yield
// after each product, which took about a tenth of a training step's CPU from the Go code
// running next.
func loadCBLAS(path string) error {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var single C.int
	var core *C.char
	restore := pickOpenBLASCore()
	defer restore()
	switch C.dcb_load(cpath, &single, &core) {
	case 1:
		return fmt.Errorf("cannot open %s", path)
	case 2:
		return fmt.Errorf("%s has no cblas_sgemm/cblas_dgemm", path)
	}
	gemmName = "CBLAS " + filepath.Base(path)
	gemm32, gemm64 = cblasGEMM32, cblasGEMM64
	serial32, serialBeta32 = nil, nil
	if single != 0 {
		gemmName = "OpenBLAS (" + filepath.Base(path) + ")"
		if core != nil {
			gemmName = "OpenBLAS (" + filepath.Base(path) + ", " + C.GoString(core) + " kernels)"
		}
		gemm32, gemm64 = splitRows(cblasGEMM32), splitRows(cblasGEMM64)
		serial32, serialBeta32 = cblasGEMM32, cblasBeta32
	}
	return nil
}

func cBool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

func cblasGEMM32(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	C.dcb_sgemm_call(cBool(transA), cBool(transB), C.int(m), C.int(n), C.int(k),
		(*C.float)(unsafe.Pointer(&a[0])), C.int(lda), (*C.float)(unsafe.Pointer(&b[0])), C.int(ldb),
		(*C.float)(unsafe.Pointer(&c[0])), C.int(ldc))
}

func cblasGEMM64(transA, transB bool, m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int) {
	C.dcb_dgemm_call(cBool(transA), cBool(transB), C.int(m), C.int(n), C.int(k),
		(*C.double)(unsafe.Pointer(&a[0])), C.int(lda), (*C.double)(unsafe.Pointer(&b[0])), C.int(ldb),
		(*C.double)(unsafe.Pointer(&c[0])), C.int(ldc))
}

func cblasBeta32(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	C.dcb_sgemm_beta(cBool(transA), cBool(transB), C.int(m), C.int(n), C.int(k),
		(*C.float)(unsafe.Pointer(&a[0])), C.int(lda), (*C.float)(unsafe.Pointer(&b[0])), C.int(ldb),
		C.float(beta), (*C.float)(unsafe.Pointer(&c[0])), C.int(ldc))
}
