package expert_test

import (
	"fmt"

	"github.com/dcbench/dcbench/dcbench/expert"
)

// The flat parameter layout shared by the expert buffers and the MTT student: a depth-1,
// width-4 ConvNet on 8×8 grey images with 3 classes (padding 3 for one channel, as the
// reference: 12×12 after the convolution, 6×6 after pooling).
func ExampleArch_Layout() {
	a := expert.Arch{Width: 4, Depth: 1, Norm: "instancenorm", H: 8, W: 8, C: 1, Classes: 3}
	for _, t := range a.Layout() {
		fmt.Println(t.Name, t.Dims)
	}
	fmt.Println(a.NumParams(), "parameters")
	// Output:
	// conv0/weights [3 3 1 4]
	// conv0/biases [4]
	// norm0/gain [4]
	// norm0/offset [4]
	// classifier/weights [144 3]
	// classifier/biases [3]
	// 483 parameters
}
