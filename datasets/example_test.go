package datasets_test

import (
	"fmt"
	"log"
	"math/rand/v2"
	"slices"

	"github.com/dcbench/dcbench/datasets"
)

// The embedded CIFAR-10 subset needs no files: a quick way to get real images.
func ExampleEmbedded() {
	p, err := datasets.Embedded()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.Train)
	fmt.Println(p.Test)
	fmt.Println(p.Train.Classes[:3], p.Train.ClassCounts()[0])
	// Output:
	// cifar10/train: 1000x32x32x3, 10 classes
	// cifar10/test: 1000x32x32x3, 10 classes
	// [airplane automobile bird] 100
}

// Sampling images per class, as dataset-condensation methods do, with an explicit seed.
func ExampleDataset_SampleClass() {
	p, err := datasets.Embedded()
	if err != nil {
		log.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	idx, err := p.Train.SampleClass(3, 5, rng)
	if err != nil {
		log.Fatal(err)
	}
	batch := p.Train.Batch(idx, nil)
	fmt.Println(len(idx), len(batch), p.Train.Labels32(idx))
	_, err = p.Train.SampleClass(3, 101, rng)
	fmt.Println(err)
	// Output:
	// 5 15360 [3 3 3 3 3]
	// datasets: cifar10/train: class 3 ("cat") has 100 images, cannot sample 101
}

// Normalize applies the dataset family's constants; Denormalize undoes it.
func ExampleDataset_Normalize() {
	p, err := datasets.Embedded()
	if err != nil {
		log.Fatal(err)
	}
	d := p.Test
	fmt.Printf("%.4f %.4f\n", d.Mean, d.Std)
	before := d.Images[0]
	d.Normalize()
	fmt.Printf("%.4f -> %.4f\n", before, d.Images[0])
	d.Denormalize()
	fmt.Printf("%.4f\n", d.Images[0])
	// Output:
	// [0.4914 0.4822 0.4465] [0.2023 0.1994 0.2010]
	// 0.5529 -> 0.3042
	// 0.5529
}

func ExampleInfo() {
	info, err := datasets.Info("CIFAR-100")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.Name, info.NumClasses, info.H, info.W, info.C, info.Mean)
	fmt.Println(datasets.Names())
	// Output:
	// cifar100 100 32 32 3 [0.5071 0.4866 0.4409]
	// [cifar10 cifar100 fashionmnist mnist tinyimagenet]
}

// Load reads a dataset from a folder (or archive) in its official layout.
func ExampleLoad() {
	_, err := datasets.Load("svhn", "/data")
	fmt.Println(err)
	// Output:
	// datasets: unknown dataset "svhn", valid names: cifar10, cifar100, fashionmnist, mnist, tinyimagenet
}

// Shuffle gives a reproducible epoch order: the same seed, the same permutation.
func ExampleShuffle() {
	a := datasets.Shuffle(8, rand.New(rand.NewPCG(42, 0)))
	b := datasets.Shuffle(8, rand.New(rand.NewPCG(42, 0)))
	fmt.Println(len(a), slices.Equal(a, b))
	// Output:
	// 8 true
}

// LoadOrDownload uses dir when given, else the cache ($DCBENCH_DATA or the user cache
// folder), downloading and verifying the official archive on first use.
func ExampleLoadOrDownload() {
	p, err := datasets.LoadOrDownload("cifar10", "")
	if err != nil {
		log.Fatal(err) // offline: "cannot download ...; download it by hand and pass --data DIR"
	}
	p.Normalize()
	fmt.Println(p.Train.N)
}
