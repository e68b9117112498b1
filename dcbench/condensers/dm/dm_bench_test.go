package dm

import (
	"fmt"
	"testing"

	"github.com/dcbench/dcbench/dcbench/augment"
	"github.com/dcbench/dcbench/dcbench/condensers/synth"
	"github.com/dcbench/dcbench/dcbench/internal/benchkit"
	"github.com/dcbench/dcbench/dcbench/internal/testkit"
	"github.com/dcbench/dcbench/dcbench/models"
)

// BenchmarkDMStep times one DM iteration (siamese DSA on each class, ConvNet-3 embedding of
// the real and synthetic images, mean-embedding loss, gradient and update of the synthetic
// images) on 32x32x3 images of 10 classes, with 8 real images per class (the reference
// uses 256) at IPC 1 and 10. Compilation happens before the timer. Reports the images
// embedded per second and the CPU seconds per iteration. Run with
//
//	go test -run XXX -bench DMStep -benchtime 1x -count 3 ./dcbench/condensers/dm/
func BenchmarkDMStep(b *testing.B) {
	const classes, batchReal = 10, 8
	for _, ipc := range []int{1, 10} {
		b.Run(fmt.Sprintf("ipc%d", ipc), func(b *testing.B) {
			d := testkit.ToyData(classes, max(batchReal, ipc), 32, 1)
			req := testkit.Request(backend, d, ipc, 1, nil)
			s, err := synth.New(req, synth.Options{Method: "dm", Iterations: 1, LR: DefaultLR(d.Name, ipc), Momentum: DefaultMomentum})
			if err != nil {
				b.Fatal(err)
			}
			model, err := models.Get("convnet")
			if err != nil {
				b.Fatal(err)
			}
			dsa, err := augment.NewDSA(augment.DefaultConfig())
			if err != nil {
				b.Fatal(err)
			}
			br := s.RealBatchSize(batchReal)
			it, err := newIteration(req, s, model, dsa, br)
			if err != nil {
				b.Fatal(err)
			}
			defer it.exec.Finalize()
			buf, err := s.RealBatch(1, br, nil)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := it.step(buf); err != nil { // compile
				b.Fatal(err)
			}
			b.ResetTimer()
			cpu := benchkit.CPUSeconds()
			for i := 0; i < b.N; i++ {
				if _, err := it.step(buf); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(classes*(br+ipc)*b.N)/b.Elapsed().Seconds(), "images/s")
			b.ReportMetric((benchkit.CPUSeconds()-cpu)/float64(b.N), "cpu-s/op")
		})
	}
}
