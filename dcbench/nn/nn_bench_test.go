package nn

import (
	"fmt"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/dcbench/dcbench/dcbench/internal/benchkit"
)

// Micro-benchmarks of the ops that dominate a ConvNet-3 step, at the reference layer shapes
// (CIFAR-10, width 128) and batch 10, on the current backend ($GOMLX_BACKEND; simplego op by
// op by default). Each compiles once before the timer starts. Run with
//
//	go test -run XXX -bench . -benchtime 3x -count 3 ./dcbench/nn/

// benchBatch is the batch of the micro-benchmarks.
const benchBatch = 10

// float32Tensor returns a tensor of the given shape with values uniform in [-1, 1).
func float32Tensor(seed uint64, dims ...int) *tensors.Tensor {
	v := randSlice(seed, prod(dims))
	f := make([]float32, len(v))
	for i, x := range v {
		f[i] = float32(x)
	}
	return tensors.FromFlatDataAndDimensions(f, dims...)
}

// cpuSeconds is the user+system CPU time of this process so far. Reported per op next to the
// wall time: on a shared machine it moves much less with the load.
// runExec compiles fn for the inputs, runs it once, then b.N times under the timer, and
// reports the CPU milliseconds per run.
func runExec(b *testing.B, fn any, inputs ...any) {
	b.Helper()
	exec, err := NewExecAny(backend, fn)
	if err != nil {
		b.Fatal(err)
	}
	defer exec.Finalize()
	run := func() {
		out, err := exec.Exec(inputs...)
		if err != nil {
			b.Fatal(err)
		}
		for _, t := range out {
			t.FinalizeAll()
		}
	}
	run() // compile
	b.ResetTimer()
	cpu := benchkit.CPUSeconds()
	for i := 0; i < b.N; i++ {
		run()
	}
	b.ReportMetric((benchkit.CPUSeconds()-cpu)/float64(b.N)*1e3, "cpu-ms/op")
}

// convLayers are the three convolutions of ConvNet-3 on 32x32x3 images.
var convLayers = []struct {
	name        string
	size, in, k int
}{
	{"conv1_32x32x3", 32, 3, 3},
	{"conv2_16x16x128", 16, 128, 3},
	{"conv3_8x8x128", 8, 128, 3},
}

// BenchmarkConv times a 3x3, padding-1 convolution to 128 channels (forward, and forward plus
// the gradients for the input and the kernel) and reports the useful GFLOP/s (2·M·K·N per
// product; the backward pass has two more such products).
func BenchmarkConv(b *testing.B) {
	const out = 128
	for _, l := range convLayers {
		x := float32Tensor(1, benchBatch, l.size, l.size, l.in)
		w := float32Tensor(2, l.k, l.k, l.in, out)
		flops := 2 * float64(benchBatch*l.size*l.size) * float64(l.k*l.k*l.in) * out
		b.Run(l.name+"/forward", func(b *testing.B) {
			runExec(b, func(x, w *Node) *Node { return ConvWith(x, w, nil, 1, 1) }, x, w)
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run(l.name+"/backward", func(b *testing.B) {
			runExec(b, func(x, w *Node) []*Node {
				y := ConvWith(x, w, nil, 1, 1)
				return Gradient(ReduceAllSum(Mul(y, y)), x, w)
			}, x, w)
			b.ReportMetric(3*flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkMatMulLast times the conv2 product alone, [B·16·16, 1152] × [1152, 128], and its
// two gradient products.
func BenchmarkMatMulLast(b *testing.B) {
	m, k, n := benchBatch*16*16, 9*128, 128
	x, w := float32Tensor(1, m, k), float32Tensor(2, k, n)
	flops := 2 * float64(m) * float64(k) * float64(n)
	b.Run(fmt.Sprintf("%dx%dx%d/forward", m, k, n), func(b *testing.B) {
		runExec(b, func(x, w *Node) *Node { return MatMulLast(x, w) }, x, w)
		b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
	b.Run(fmt.Sprintf("%dx%dx%d/backward", m, k, n), func(b *testing.B) {
		runExec(b, func(x, w *Node) []*Node {
			y := MatMulLast(x, w)
			return Gradient(ReduceAllSum(Mul(y, y)), x, w)
		}, x, w)
		b.ReportMetric(3*flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
}

// BenchmarkIm2Col times the patch extraction of conv2 ([B,16,16,128] → [B,16,16,1152]) and its
// adjoint (Col2Im), reported as GB/s of patches written.
func BenchmarkIm2Col(b *testing.B) {
	x := float32Tensor(1, benchBatch, 16, 16, 128)
	bytes := float64(benchBatch*16*16*9*128) * 4
	b.Run("forward", func(b *testing.B) {
		runExec(b, func(x *Node) *Node { return Im2Col(x, 3, 1) }, x)
		b.ReportMetric(bytes*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
	})
	b.Run("backward", func(b *testing.B) {
		runExec(b, func(x *Node) *Node {
			c := Im2Col(x, 3, 1)
			return Gradient(ReduceAllSum(Mul(c, c)), x)[0]
		}, x)
		b.ReportMetric(2*bytes*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
	})
}

// BenchmarkPool times 2x2 average and max pooling of the first block's output
// [B,32,32,128], forward and with the input gradient.
func BenchmarkPool(b *testing.B) {
	x := float32Tensor(1, benchBatch, 32, 32, 128)
	for _, name := range []string{"avgpooling", "maxpooling"} {
		pool := func(x *Node) *Node {
			y, err := Pool(name, x)
			if err != nil {
				panic(err)
			}
			return y
		}
		b.Run(name+"/forward", func(b *testing.B) {
			runExec(b, pool, x)
		})
		b.Run(name+"/backward", func(b *testing.B) {
			runExec(b, func(x *Node) *Node {
				y := pool(x)
				return Gradient(ReduceAllSum(Mul(y, y)), x)[0]
			}, x)
		})
	}
}

// BenchmarkNormRelu times instance norm (without the affine part, which needs a context)
// followed by ReLU on [B,32,32,128], forward and with the input gradient; and ReLU alone.
func BenchmarkNormRelu(b *testing.B) {
	x := float32Tensor(1, benchBatch, 32, 32, 128)
	b.Run("instancenorm/forward", func(b *testing.B) {
		runExec(b, func(x *Node) *Node { return standardize(x, 1, 2) }, x)
	})
	b.Run("instancenorm/backward", func(b *testing.B) {
		runExec(b, func(x *Node) *Node {
			y := standardize(x, 1, 2)
			return Gradient(ReduceAllSum(Mul(y, y)), x)[0]
		}, x)
	})
	b.Run("relu/forward", func(b *testing.B) {
		runExec(b, func(x *Node) *Node { return Relu(x) }, x)
	})
	b.Run("relu/backward", func(b *testing.B) {
		runExec(b, func(x *Node) *Node {
			y := Relu(x)
			return Gradient(ReduceAllSum(Mul(y, y)), x)[0]
		}, x)
	})
}
