package gogemm_test

import (
	"fmt"

	"github.com/gomlx/gomlx/pkg/core/graph"

	"github.com/dcbench/dcbench/dcbench/backend/gogemm"
)

// ExampleNew runs a matrix product on gogemm; with min_flops=0 even this small product goes
// to the host GEMM.
func ExampleNew() {
	backend, err := gogemm.New("ops_sequential,min_flops=0")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer backend.Finalize()
	out := graph.MustExecOnce(backend, func(x, w *graph.Node) *graph.Node {
		return graph.Dot(x, w)
	}, [][]float32{{1, 2}, {3, 4}}, [][]float32{{1, 0}, {0, 10}})
	fmt.Println(out.Value())
	// Output: [[1 20] [3 40]]
}
