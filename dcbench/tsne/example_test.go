package tsne_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/dcbench/dcbench/dcbench/tsne"
)

// Two groups of 30 points in 20 dimensions, far apart, stay apart in 2-D.
func ExampleEmbed() {
	rng := rand.New(rand.NewPCG(1, 2))
	var x [][]float64
	for i := range 60 {
		row := make([]float64, 20)
		for j := range row {
			row[j] = rng.NormFloat64()
		}
		if i >= 30 {
			row[0] += 25 // the second group
		}
		x = append(x, row)
	}
	res, err := tsne.Embed(x, tsne.Options{Perplexity: 10, Iterations: 1000, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	// The first group's points all lie on one side of the second group's on the axis
	// between the groups' centres.
	var c0, c1 [2]float64
	for i, p := range res.Y {
		c := &c0
		if i >= 30 {
			c = &c1
		}
		c[0] += p[0] / 30
		c[1] += p[1] / 30
	}
	apart := true
	for i, p := range res.Y {
		s := (p[0]-(c0[0]+c1[0])/2)*(c1[0]-c0[0]) + (p[1]-(c0[1]+c1[1])/2)*(c1[1]-c0[1])
		apart = apart && (s > 0) == (i >= 30)
	}
	fmt.Println(len(res.Y), "points in", len(res.Y[0]), "dimensions; groups apart:", apart)
	fmt.Println("KL decreased:", res.KL < res.History[0].KL)
	// Output:
	// 60 points in 2 dimensions; groups apart: true
	// KL decreased: true
}
