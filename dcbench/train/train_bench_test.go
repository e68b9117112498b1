package train

import (
	"testing"

	"github.com/dcbench/dcbench/dcbench/internal/benchkit"
)

// Benchmarks of the evaluation path. Run with
//
//	go test -run XXX -bench . -benchtime 1x -count 3 ./dcbench/train/
//
// (see docs/benchmarks.md). Besides ns/op each reports images/s, the useful GFLOP/s (the
// multiply-adds of the convolutions and the classifier, see convNetFLOPs) and the CPU
// seconds per op, which move much less than the wall time on a shared machine.

// convNetFLOPs is the floating-point work per image of the reference ConvNet (3x3
// convolutions with padding 1, 2x2 pooling after each block, width channels, a linear
// classifier) on h×w×c images: 2·M·K·N per matrix product. The forward pass has one product
// per layer; a training step adds the kernel gradients of every layer and the input
// gradients of every layer but the first (the images need none). Normalisation, activation
// and pooling are not counted.
func convNetFLOPs(h, w, c, width, depth, classes int, train bool) float64 {
	var fwd, dx float64
	in := c
	for d := 0; d < depth; d++ {
		f := 2 * float64(h*w) * float64(9*in) * float64(width)
		fwd += f
		if d > 0 {
			dx += f
		}
		in = width
		h, w = h/2, w/2
	}
	fc := 2 * float64(h*w*width) * float64(classes)
	fwd += fc
	dx += fc
	if !train {
		return fwd
	}
	return 2*fwd + dx
}

// reportRates adds images/s, GFLOP/s and cpu-s/op to b, for b.N ops of images images each
// (flops per image) that took cpu CPU seconds.
func reportRates(b *testing.B, images int, flopsPerImage, cpu float64) {
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(images*b.N)/sec, "images/s")
	b.ReportMetric(flopsPerImage*float64(images*b.N)/sec/1e9, "GFLOP/s")
	b.ReportMetric(cpu/float64(b.N), "cpu-s/op")
}

// BenchmarkEvalAccuracy times Trainer.Accuracy (the forward pass only, as after training)
// over 256 test images in one batch of 256, the evaluation protocol's batch.
func BenchmarkEvalAccuracy(b *testing.B) {
	const n = 256
	data := toyData(n, 32, 10, 1)
	tr, err := New(backend, Config{Model: "convnet", Seed: 1}, 10, 32, 32, 3, data.Mean, data.Std)
	if err != nil {
		b.Fatal(err)
	}
	defer tr.Finalize()
	if _, err := tr.Accuracy(data); err != nil { // compile
		b.Fatal(err)
	}
	b.ResetTimer()
	cpu := benchkit.CPUSeconds()
	for i := 0; i < b.N; i++ {
		if _, err := tr.Accuracy(data); err != nil {
			b.Fatal(err)
		}
	}
	reportRates(b, n, convNetFLOPs(32, 32, 3, 128, 3, 10, false), benchkit.CPUSeconds()-cpu)
}
