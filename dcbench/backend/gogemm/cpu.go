package gogemm

import (
	"os"
	"slices"
	"strings"

	"golang.org/x/sys/cpu"
)

// Environment variables of the OpenBLAS kernel choice.
const (
	// OpenBLASCoreEnv is OpenBLAS's own variable that picks its kernels, read when the
	// library is loaded.
	OpenBLASCoreEnv = "OPENBLAS_CORETYPE"
	// CoreEnv is dcbench's: unset or "auto", gogemm loads OpenBLAS with its SkylakeX
	// (AVX-512) kernels on a CPU that runs them when OPENBLAS_CORETYPE is unset or names an
	// AVX2-or-older core; "env" leaves OPENBLAS_CORETYPE as it is; any other value is handed
	// to OpenBLAS as OPENBLAS_CORETYPE (e.g. "Haswell").
	CoreEnv = "DCBENCH_OPENBLAS_CORETYPE"
)

// avx2Cores are OpenBLAS core names whose kernels use at most AVX2 (lower case).
var avx2Cores = []string{"haswell", "zen", "sandybridge", "nehalem", "core2", "penryn", "dunnington",
	"prescott", "atom", "barcelona", "bulldozer", "piledriver", "steamroller", "excavator", "opteron", "katmai",
	"coppermine", "northwood", "banias", "athlon"}

// pickOpenBLASCore sets OPENBLAS_CORETYPE for the moment the library loads (see CoreEnv) and
// returns a function that restores the environment, so that child processes see it as it
// was. OpenBLAS picks its kernels by CPU model, and a release older than the CPU falls back
// to AVX2 kernels on AVX-512 machines it does not know; machines are also often configured
// with OPENBLAS_CORETYPE=Haswell as a safe default. On the 2-core development machine (AMD
// Zen 5) Debian 12's OpenBLAS 0.3.21 runs single-precision products about twice as fast
// with its SkylakeX kernels as with the Haswell ones it is given there (200 against 100
// GFLOP/s per core).
func pickOpenBLASCore() (restore func()) {
	want := strings.TrimSpace(os.Getenv(CoreEnv))
	old, had := os.LookupEnv(OpenBLASCoreEnv)
	switch strings.ToLower(want) {
	case "env":
		return func() {}
	case "", "auto":
		if !hasAVX512() || had && !slices.Contains(avx2Cores, strings.ToLower(strings.TrimSpace(old))) {
			return func() {}
		}
		want = "SkylakeX"
	}
	_ = os.Setenv(OpenBLASCoreEnv, want)
	return func() {
		if had {
			_ = os.Setenv(OpenBLASCoreEnv, old)
		} else {
			_ = os.Unsetenv(OpenBLASCoreEnv)
		}
	}
}

// hasAVX512 reports whether the CPU (and the OS) runs the AVX-512 instructions of OpenBLAS's
// SkylakeX kernels (a variable for the tests).
var hasAVX512 = func() bool {
	return cpu.X86.HasAVX512F && cpu.X86.HasAVX512CD && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512DQ && cpu.X86.HasAVX512VL
}
