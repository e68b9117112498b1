package train_test

import (
	"fmt"

	"github.com/dcbench/dcbench/dcbench/train"
)

// The evaluation protocol's defaults are the reference's.
func ExampleConfig_Defaults() {
	c := train.Config{}.Defaults()
	fmt.Println(c.Model, c.Epochs, c.BatchSize, c.Optimizer, c.LR, c.Momentum, c.WeightDecay, c.DecayEpoch(), c.NumPasses())
	a := train.Config{Augment: "dsa"}.Defaults()
	fmt.Println(a.Epochs)
	// Output:
	// convnet 300 256 sgd 0.01 0.9 0.0005 151 301
	// 1000
}
