package gogemm

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"sync"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// GEMMEnv is the environment variable that picks the GEMM: unset or empty, the first CBLAS
// library of DefaultCBLAS that loads (OpenBLAS as Debian and most Linux distributions
// install it), else gonum's pure-Go GEMM; "gonum" for the pure-Go GEMM; or the path of a
// CBLAS shared library (OpenBLAS, BLIS, MKL's libmkl_rt, ...). A library that does not load
// is an error: New fails with it (GEMMError).
const GEMMEnv = "DCBENCH_GEMM"

// DefaultCBLAS are the libraries tried, in order, when DCBENCH_GEMM is unset.
var DefaultCBLAS = []string{"libopenblas.so.0", "libopenblas.so", "libopenblas.dylib"}

// The GEMM in use (see loadGEMM): a CBLAS library, or gonum's pure-Go implementation.
var (
	gemmName                    = "gonum (pure Go)"
	gemm32    gemmFunc[float32] = gonumGEMM32
	gemm64    gemmFunc[float64] = gonumGEMM64
	gemmErr   error
	gonumImpl gonum.Implementation

	// serial32 and serialBeta32 run one float32 product on the calling goroutine only (a
	// CBLAS library put on one thread per call), for host ops that split their work over
	// the cores themselves; nil when the GEMM parallelises internally (gonum), which such
	// ops then call from one goroutine.
	serial32     gemmFunc[float32]
	serialBeta32 gemmBetaFunc[float32]
)

// gemmBetaFunc computes c = op(a)·op(b) + beta·c.
type gemmBetaFunc[T float32 | float64] func(transA, transB bool, m, n, k int, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int)

func gonumBeta32(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gonumImpl.Sgemm(trans(transA), trans(transB), m, n, k, 1, a, lda, b, ldb, beta, c, ldc)
}

// workerGEMM32 returns the float32 GEMM (with beta) for one of several goroutines that split
// a product among themselves, and how many such goroutines to use.
func workerGEMM32() (gemmBetaFunc[float32], int) {
	if serialBeta32 != nil {
		return serialBeta32, runtime.GOMAXPROCS(0)
	}
	return gonumBeta32, 1
}

// loadGEMM picks the GEMM once, when the first backend is made (or GEMMName/GEMMError is
// asked): a program that never uses the CPU backend never opens a BLAS library.
var loadGEMM = sync.OnceFunc(func() {
	switch v := os.Getenv(GEMMEnv); v {
	case "gonum":
	case "":
		for _, lib := range DefaultCBLAS {
			if loadCBLAS(lib) == nil {
				break
			}
		}
	default:
		if err := loadCBLAS(v); err != nil {
			gemmErr = fmt.Errorf("%s=%s: %w (unset it to find OpenBLAS, or set it to gonum for the pure-Go GEMM)", GEMMEnv, v, err)
		}
	}
})

// GEMMName names the matrix-product library the host products run on.
func GEMMName() string {
	loadGEMM()
	return gemmName
}

// GEMMError reports a CBLAS library named by DCBENCH_GEMM that could not be used, or nil.
func GEMMError() error {
	loadGEMM()
	return gemmErr
}

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

// splitRows runs a single-threaded GEMM on row blocks of the output in parallel, one block
// per core, for products of at least MinFLOPs.
func splitRows[T float32 | float64](f gemmFunc[T]) gemmFunc[T] {
	return func(transA, transB bool, m, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc int) {
		workers := min(runtime.GOMAXPROCS(0), m)
		if workers <= 1 || 2*float64(m)*float64(n)*float64(k) < float64(MinFLOPs) {
			f(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
			return
		}
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			lo, hi := m*w/workers, m*(w+1)/workers
			if lo == hi {
				continue
			}
			// Rows lo..hi of op(A): rows of A, or columns of A when it is transposed.
			aOff := lo * lda
			if transA {
				aOff = lo
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				f(transA, transB, hi-lo, n, k, a[aOff:], lda, b, ldb, c[lo*ldc:], ldc)
			}()
		}
		wg.Wait()
	}
}

// MeasureSGEMM times the float32 GEMM that the host products use (the library of GEMMName,
// rows split over the cores as in a product), on C[m×n] = A[m×k]·B[k×n] with no transposes,
// and returns its speed in GFLOP/s (2·m·n·k per product): the best of reps products after
// one warm-up. It is the ceiling a graph made of such products can reach on this machine.
func MeasureSGEMM(m, n, k, reps int) float64 {
	loadGEMM()
	a, b, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
	for i := range a {
		a[i] = float32(i%7) * 1e-3
	}
	for i := range b {
		b[i] = float32(i%5) * 1e-3
	}
	gemm32(false, false, m, n, k, a, k, b, n, c, n)
	best := math.Inf(1)
	for r := 0; r < max(1, reps); r++ {
		t := time.Now()
		gemm32(false, false, m, n, k, a, k, b, n, c, n)
		best = min(best, time.Since(t).Seconds())
	}
	return 2 * float64(m) * float64(n) * float64(k) / best / 1e9
}
