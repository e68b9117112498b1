package gm

import (
	"testing"

	"github.com/dcbench/dcbench/dcbench/condensers/synth"
	"github.com/dcbench/dcbench/dcbench/internal/benchkit"
)

// BenchmarkDCIteration times one outer iteration of DC (gradient matching) at IPC 1, where
// the reference schedule is one matching step and no inner training: a fresh ConvNet-3
// (width 128), then for each of 10 classes the gradients of the loss on 8 real images
// and on the synthetic image, their distance, its gradient for the synthetic image (a
// second-order derivative through the network), and the image update — all classes in one
// program. 32x32x3 images. Compilation happens before the timer. Run with
//
//	go test -run XXX -bench DCIteration -benchtime 1x -count 3 ./dcbench/condensers/gm/
func BenchmarkDCIteration(b *testing.B) {
	const classes, batchReal = 10, 8
	d := toyDataset(classes, batchReal, 32, 32, 3, 1)
	req := toyRequest(d, 1, 1, nil)
	req.Params = map[string]any{ParamBatchReal: batchReal}
	cfg, err := ConfigFrom(req, false)
	if err != nil {
		b.Fatal(err)
	}
	set, err := synth.New(req, synth.Options{Method: "dc", Iterations: 1, LR: DefaultLRImg, Momentum: DefaultMomentumImg, Init: synth.InitReal})
	if err != nil {
		b.Fatal(err)
	}
	e, err := newEngine(backend, set, cfg, req.Seed, cfg.BatchReal)
	if err != nil {
		b.Fatal(err)
	}
	defer e.close()
	if _, err := e.iteration(1); err != nil { // compile
		b.Fatal(err)
	}
	b.ResetTimer()
	cpu := benchkit.CPUSeconds()
	for i := 0; i < b.N; i++ {
		if _, err := e.iteration(i + 2); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(classes*(e.nReal+1)*b.N)/b.Elapsed().Seconds(), "images/s")
	b.ReportMetric((benchkit.CPUSeconds()-cpu)/float64(b.N), "cpu-s/op")
}
