package augment_test

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/dcbench/dcbench/dcbench/augment"
	"github.com/gomlx/gomlx/backends"
	_ "github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// DSA condensation augments the real and the synthetic batch of a class with the same random
// transformation (siamese), and differentiates through it to the synthetic images.
func ExampleDSA_Siamese() {
	backend := backends.MustNew() // $GOMLX_BACKEND chooses the backend, e.g. "go" or "xla:cuda".
	defer backend.Finalize()
	dsa, err := augment.NewDSA(augment.DefaultConfig())
	if err != nil {
		panic(err)
	}
	ctx := context.New()
	if err := ctx.SetRNGStateFromSeed(42); err != nil { // Repeatable augmentations.
		panic(err)
	}
	step := context.MustNewExec(backend, ctx, func(ctx *context.Context, real, syn *Node) []*Node {
		out := dsa.Siamese(ctx, real, syn)
		// A stand-in for the matching loss between the augmented batches.
		loss := ReduceAllSum(Square(Sub(ReduceMean(out[0], 0), ReduceMean(out[1], 0))))
		return []*Node{out[0], out[1], Gradient(loss, syn)[0]}
	})
	defer step.Finalize()
	real := tensors.FromShape(shapes.Make(dtypes.Float32, 8, 8, 8, 3))
	syn := tensors.FromShape(shapes.Make(dtypes.Float32, 2, 8, 8, 3))
	outs := step.MustExec(real, syn)
	fmt.Println(outs[0].Shape(), outs[1].Shape(), outs[2].Shape())
	// Output: (Float32)[8 8 8 3] (Float32)[2 8 8 3] (Float32)[2 8 8 3]
}

// The evaluation augmentations run on the host, on normalised NHWC batches.
func ExampleNewHost() {
	mean := []float32{0.4914, 0.4822, 0.4465}
	std := []float32{0.2023, 0.1994, 0.2010}
	aug, err := augment.NewHost("randaug", mean, std, augment.HostOptions{})
	if err != nil {
		panic(err)
	}
	const n, h, w, c = 4, 32, 32, 3
	images := make([]float32, n*h*w*c) // The dataset mean: a grey image.
	rng := rand.New(rand.NewPCG(1, 2))
	if err := aug.Apply(images, n, h, w, c, rng); err != nil {
		panic(err)
	}
	fmt.Println(augment.Names())

	_, err = augment.NewHost("cutmix", mean, std, augment.HostOptions{})
	fmt.Println(err)
	// Output:
	// [none imagenet_aug randaug autoaug dsa dc_aug]
	// augment: unknown augmentation "cutmix"; valid names are none, imagenet_aug, randaug, autoaug, dsa, dc_aug
}

// ZCA whitening is fitted once on the training set and applied to every image.
func ExampleFitZCA() {
	const n, d = 1000, 4
	rng := rand.New(rand.NewPCG(3, 4))
	data := make([]float32, n*d)
	for i := range n {
		z := rng.NormFloat64()
		for k := range d {
			data[i*d+k] = float32(z + 0.5*rng.NormFloat64()) // Strongly correlated features.
		}
	}
	zca, err := augment.FitZCA(data, n, d, 1e-6)
	if err != nil {
		panic(err)
	}
	if err := zca.Apply(data, n); err != nil {
		panic(err)
	}
	var cov01, var0 float64
	for i := range n {
		cov01 += float64(data[i*d]) * float64(data[i*d+1]) / (n - 1)
		var0 += float64(data[i*d]) * float64(data[i*d]) / (n - 1)
	}
	fmt.Printf("variance %.3f, |covariance| < 0.001: %v\n", var0, math.Abs(cov01) < 1e-3)
	// Output: variance 1.000, |covariance| < 0.001: true
}
