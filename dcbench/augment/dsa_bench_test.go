package augment

import (
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/dcbench/dcbench/dcbench/internal/benchkit"
)

// BenchmarkDSA times the default DSA strategy (color_crop_cutout_flip_scale_rotate, one op
// drawn per call as the reference) on a batch of 64 32x32x3 images with per-sample draws:
// the forward pass alone, and with the gradient for the images (what DSA condensation
// differentiates through). Compilation happens before the timer. Note that the package's
// tests (and so this benchmark) run on the "go" backend set by TestMain. Run with
//
//	go test -run XXX -bench DSA -benchtime 3x -count 3 ./dcbench/augment/
func BenchmarkDSA(b *testing.B) {
	const n, s = 64, 32
	r := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, n*s*s*3)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	xt := tensors.FromFlatDataAndDimensions(x, n, s, s, 3)
	dsa, err := NewDSA(DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name string
		fn   func(ctx *context.Context, x *Node) *Node
	}{
		{"forward", func(ctx *context.Context, x *Node) *Node { return dsa.Augment(ctx, x) }},
		{"gradient", func(ctx *context.Context, x *Node) *Node {
			y := dsa.Augment(ctx, x)
			return Gradient(ReduceAllSum(Mul(y, y)), x)[0]
		}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			ctx := context.New()
			if err := ctx.SetRNGStateFromSeed(1); err != nil {
				b.Fatal(err)
			}
			exec, err := context.NewExec(backend, ctx, tc.fn)
			if err != nil {
				b.Fatal(err)
			}
			defer exec.Finalize()
			run := func() {
				out, err := exec.Exec(xt)
				if err != nil {
					b.Fatal(err)
				}
				out[0].FinalizeAll()
			}
			run() // compile
			b.ResetTimer()
			cpu := benchkit.CPUSeconds()
			for i := 0; i < b.N; i++ {
				run()
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "images/s")
			b.ReportMetric((benchkit.CPUSeconds()-cpu)/float64(b.N)*1e3, "cpu-ms/op")
		})
	}
}
