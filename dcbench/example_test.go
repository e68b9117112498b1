package dcbench_test

import (
	"fmt"

	"github.com/dcbench/dcbench/datasets"
	"github.com/dcbench/dcbench/dcbench"
)

// Condense a random IPC-2 set of the embedded CIFAR-10 subset.
func ExampleCondense() {
	data, err := datasets.Embedded()
	if err != nil {
		panic(err)
	}
	data.Normalize()
	set, err := dcbench.Condense(data.Train, dcbench.CondenseOptions{Method: "random", IPC: 2, Seed: 1})
	if err != nil {
		panic(err)
	}
	fmt.Println(set.Method, set.IPC, set.Data.N, set.Data.ClassCounts())
	// Output: random 2 20 [2 2 2 2 2 2 2 2 2 2]
}
