package train

import (
	"fmt"
	"testing"

	"github.com/dcbench/dcbench/dcbench/internal/benchkit"
)

// BenchmarkStepConvNet times one SGD step of the reference ConvNet-3 (width 128) on 32x32x3
// images at several batch sizes on the current backend (GOMLX_BACKEND; gogemm by
// default). Compilation happens before the timer starts. Besides ns/op it reports images/s,
// the useful GFLOP/s (convNetFLOPs: about 0.30 GFLOP per image, 76 GFLOP per batch of 256)
// and the CPU seconds per step.
func BenchmarkStepConvNet(b *testing.B) {
	for _, batch := range []int{10, 100, 256} {
		b.Run(fmt.Sprintf("batch%d", batch), func(b *testing.B) {
			data := toyData(batch, 32, 10, 1)
			tr, err := New(backend, Config{Model: "convnet", Seed: 1}, 10, 32, 32, 3, data.Mean, data.Std)
			if err != nil {
				b.Fatal(err)
			}
			defer tr.Finalize()
			idx := make([]int, batch)
			for i := range idx {
				idx[i] = i
			}
			imgs, labels := data.Batch(idx, nil), data.Labels32(idx)
			if _, err := tr.Step(imgs, labels); err != nil { // compile
				b.Fatal(err)
			}
			b.ResetTimer()
			cpu := benchkit.CPUSeconds()
			for i := 0; i < b.N; i++ {
				if _, err := tr.Step(imgs, labels); err != nil {
					b.Fatal(err)
				}
			}
			reportRates(b, batch, convNetFLOPs(32, 32, 3, 128, 3, 10, true), benchkit.CPUSeconds()-cpu)
		})
	}
}
