// Package gogemm is dcbench's CPU backend: gomlx's pure-Go backend (simplego) with the large
// matrix products served by an optimised GEMM instead of simplego's own kernel.
//
// Importing the package registers the backend under the name "gogemm"
// (GOMLX_BACKEND=gogemm[:simplego options], e.g. "gogemm:ops_sequential"). Graphs are built
// once on simplego, which checks every op and infers its shape, and recorded. At compile
// time each float32 or float64 DotGeneral whose work reaches MinFLOPs becomes a host
// product, and the ops between such products are compiled into simplego programs
// (segments): a graph with d levels of host products runs as at most d+1 simplego programs
// and the products in between. A graph without large products is compiled and run as a
// single simplego program, exactly as on "go".
//
// Large float32 ops run on the host too (see MinHostElements), split over the cores:
// element-wise arithmetic, comparisons and Where (branch-free), with operands broadcast
// implicitly and BroadcastInDim operands read from their source instead of materialised;
// broadcasts, sums, concatenations, row gathers and single-element gathers. Host ops read
// through Reshapes of other host values, Identity is aliased, and a Reshape of a Reshape is
// recorded as one, so the copies simplego makes of values it reshapes without owning them
// are avoided.
//
// The products run on OpenBLAS when its shared library is installed (found with dlopen when
// the first backend is made: Debian's libopenblas0, no build tag needed; DCBENCH_GEMM names another CBLAS
// library), else on gonum's pure-Go GEMM (assembly kernels, parallel over the cores). On
// the 2-core test machine gonum runs the products about 4x faster than simplego's kernel,
// OpenBLAS about 20x. Gradients are unaffected: autodiff happens in gomlx's graph package
// above the backend, so every op keeps its gradient to any order.
package gogemm

//go:generate go run ./internal/genops ops_gen.go
