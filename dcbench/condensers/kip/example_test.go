package kip_test

import (
	"context"
	"fmt"

	"github.com/gomlx/gomlx/backends"
	_ "github.com/gomlx/gomlx/backends/simplego"

	"github.com/dcbench/dcbench/datasets"
	"github.com/dcbench/dcbench/dcbench/condensers/kip"
	"github.com/dcbench/dcbench/dcbench/method"
)

// KIP learns 1 image per class of a two-class toy set (2×2 images: class a bright on the
// left, class b on the right), without ZCA, and reports the target loss before and after.
func ExampleKIP_Condense() {
	train := &datasets.Dataset{Name: "toy", Split: "train", H: 2, W: 2, C: 1, Classes: []string{"a", "b"},
		Mean: []float32{0}, Std: []float32{1}, Normalized: true}
	for i := range 8 {
		c := i % 2
		v := float32(i) / 10
		if c == 0 {
			train.Images = append(train.Images, 1+v, -1, 1, -1+v)
		} else {
			train.Images = append(train.Images, -1, 1+v, -1+v, 1)
		}
		train.Labels = append(train.Labels, int32(c))
		train.N++
	}
	res := &kip.Result{}
	set, err := kip.KIP{}.Condense(method.Request{Context: context.Background(), Train: train, IPC: 1, Seed: 1,
		Backend: backends.MustNew(), Progress: func(int, int, string) {},
		Params: map[string]any{kip.ParamIterations: 50, kip.ParamTargetBatch: 8, kip.ParamZCA: false, kip.ParamResult: res}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("images:", set.N, "labels:", set.Labels)
	fmt.Println("loss fell:", res.Losses[len(res.Losses)-1] < res.Losses[0])
	// Output:
	// images: 2 labels: [0 1]
	// loss fell: true
}
