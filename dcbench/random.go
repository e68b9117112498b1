package dcbench

import (
	"math/rand/v2"

	"github.com/dcbench/dcbench/datasets"
)

// Random selects IPC real images per class uniformly at random (without replacement): the
// baseline of every condensation table. Each class draws from its own stream of the seed, so
// class c's choice does not depend on the other classes.
type Random struct{}

// Name is "random".
func (Random) Name() string { return "random" }

// Condense picks the images.
func (Random) Condense(req Request) (*datasets.Dataset, error) {
	d := req.Train
	var idx []int
	for c := 0; c < d.NumClasses(); c++ {
		rng := rand.New(rand.NewPCG(req.Seed, uint64(c)+1))
		pick, err := d.SampleClass(c, req.IPC, rng)
		if err != nil {
			return nil, err
		}
		idx = append(idx, pick...)
		req.Progress(c+1, d.NumClasses(), d.Classes[c])
	}
	return d.Subset(idx), nil
}
