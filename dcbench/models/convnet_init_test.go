package models

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// initDraws initialises a ConvNet (3x32x32 input, 10 classes) from each seed and returns
// the values of every variable, by scope/name, over all the seeds.
func initDraws(t *testing.T, dtype dtypes.DType, params map[string]any, seeds int) map[string][]float64 {
	t.Helper()
	draws := map[string][]float64{}
	for s := 0; s < seeds; s++ {
		ctx := context.New()
		ctx.SetParams(params)
		if err := ctx.SetRNGStateFromSeed(int64(1000 + s)); err != nil {
			t.Fatal(err)
		}
		exec, err := context.NewExec(backend, ctx, func(ctx *context.Context, x *Node) *Node {
			return ConvNet(ctx, x, 10)
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := exec.Exec(tensors.FromShape(shapes.Make(dtype, 1, 32, 32, 3))); err != nil {
			t.Fatal(err)
		}
		for v := range ctx.IterVariables() {
			if !v.Trainable {
				continue
			}
			val := v.MustValue()
			if val.DType() != dtype {
				t.Fatalf("%s has dtype %s, want %s", v.ScopeAndName(), val.DType(), dtype)
			}
			vals := make([]float64, val.Size())
			switch dtype {
			case dtypes.Float32:
				tensors.ConstFlatData(val, func(f []float32) {
					for i, x := range f {
						vals[i] = float64(x)
					}
				})
			case dtypes.Float64:
				tensors.ConstFlatData(val, func(f []float64) { copy(vals, f) })
			}
			draws[v.ScopeAndName()] = append(draws[v.ScopeAndName()], vals...)
		}
	}
	return draws
}

// TestConvNetInitMatchesPyTorch checks that every ConvNet parameter is drawn from PyTorch's
// default distribution, which the reference networks use: Conv2d and Linear weights by
// kaiming_uniform_(a=√5), i.e. U(−1/√fan_in, 1/√fan_in), biases U(−1/√fan_in, 1/√fan_in)
// (fan_in = in·k·k for convs, in for the classifier), GroupNorm/BatchNorm weight 1 and bias 0.
// Over many draws: all values inside the bound, the extremes close to it (a smaller bound
// fails), and mean 0 and variance bound²/3 within 5 standard errors (a bound off by 5% fails
// the variance test for every layer with more than a few thousand draws).
func TestConvNetInitMatchesPyTorch(t *testing.T) {
	const width = 16
	for _, dtype := range []dtypes.DType{dtypes.Float32, dtypes.Float64} {
		for _, norm := range []string{"instancenorm", "batchnorm"} {
			t.Run(fmt.Sprintf("%s/%s", dtype, norm), func(t *testing.T) {
				params := map[string]any{ParamConvNetWidth: width, ParamConvNetDepth: 3, ParamConvNetNorm: norm}
				draws := initDraws(t, dtype, params, 40)
				fanIn := map[string]int{
					"/conv0": 3 * 9, "/conv1": width * 9, "/conv2": width * 9,
					"/classifier": width * 4 * 4,
				}
				checked := 0
				for name, vals := range draws {
					scope := name[:strings.LastIndex(name, "/")]
					switch {
					case strings.HasSuffix(name, "/gain"), strings.HasSuffix(name, "/offset"):
						want := 0.0
						if strings.HasSuffix(name, "/gain") {
							want = 1
						}
						for _, v := range vals {
							if v != want {
								t.Fatalf("%s: value %v, PyTorch's norm default is %v", name, v, want)
							}
						}
						checked++
						continue
					}
					fi, ok := fanIn[scope]
					if !ok {
						t.Fatalf("unexpected variable %s", name)
					}
					bound := 1 / math.Sqrt(float64(fi))
					n := float64(len(vals))
					var sum, sq, top float64
					for _, v := range vals {
						sum += v
						sq += v * v
						top = math.Max(top, math.Abs(v))
					}
					mean, variance := sum/n, sq/n
					if top > bound*(1+1e-6) {
						t.Errorf("%s: |value| %.6g exceeds the bound 1/√%d = %.6g", name, top, fi, bound)
					}
					// The largest of n uniform |values| falls below (1-q)·bound with probability (1-q)^n.
					if q := 20 / n; top < bound*(1-q) {
						t.Errorf("%s: largest |value| %.6g, want near the bound %.6g", name, top, bound)
					}
					seMean := bound / math.Sqrt(3*n)
					if math.Abs(mean) > 5*seMean {
						t.Errorf("%s: mean %.4g, want 0 ± %.3g", name, mean, 5*seMean)
					}
					wantVar := bound * bound / 3
					seVar := bound * bound * math.Sqrt(4.0/45/n)
					if math.Abs(variance-wantVar) > 5*seVar {
						t.Errorf("%s: variance %.5g, want bound²/3 = %.5g ± %.3g (%d draws)", name, variance, wantVar, 5*seVar, len(vals))
					}
					checked++
				}
				if want := 3*2 + 3*2 + 2; checked != want {
					t.Errorf("checked %d variables, want %d", checked, want)
				}
				// Different seeds draw different weights.
				w := draws["/conv1/weights"]
				per := len(w) / 40
				if w[0] == w[per] {
					t.Errorf("seeds 1000 and 1001 drew the same first weight %v", w[0])
				}
			})
		}
	}
}
