package ntk_test

import (
	"fmt"

	"github.com/gomlx/gomlx/backends"
	_ "github.com/gomlx/gomlx/backends/simplego"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/dcbench/dcbench/dcbench/ntk"
)

// The NTK of the KIP reference network between two pairs of 3-feature inputs, in a graph
// and by the float64 reference. For x = (1, 0, 0): q = 1/3, Σ = Θ = 2/3 + 0.01 after the first
// Dense, halved by the ReLU (θ = 0), then Σ = 2·0.3383 + 0.01 and Θ = 2·0.3383 + Σ = 1.3633.
func ExampleFC_Kernels() {
	k := ntk.DefaultFC()
	x := []float64{1, 0, 0, 0, 1, 1}
	exec := MustNewExec(backends.MustNew(), func(a *Node) *Node {
		_, th := k.Kernels(a, a)
		return th
	})
	defer exec.Finalize()
	got := tensors.MustCopyFlatData[float64](exec.MustExec(tensors.FromFlatDataAndDimensions(x, 2, 3))[0])
	_, want, _ := k.Reference(x, 2, x, 2, 3)
	fmt.Printf("graph     %.4f\nreference %.4f\n", got, want)
	// Output:
	// graph     [1.3633 0.3235 0.3235 2.6967]
	// reference [1.3633 0.3235 0.3235 2.6967]
}
