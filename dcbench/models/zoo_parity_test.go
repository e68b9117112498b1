package models

import (
	"strconv"
	"strings"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/dcbench/dcbench/dcbench/internal/parity"
)

// zooUniform is the uniform of tools/parity/gen_zoo.py: splitmix64 of key·2³² + j, top 53 bits.
func zooUniform(key uint64, j int) float64 {
	z := key<<32 + uint64(j) + 0x9E3779B97F4A7C15
	z = (z ^ z>>30) * 0xBF58476D1CE4E5B9
	z = (z ^ z>>27) * 0x94D049BB133111EB
	z ^= z >> 31
	return float64(z>>11) * 0x1p-53
}

// zooFormula is the weight formula of tools/parity/gen_zoo.py: entry k, flat index j.
func zooFormula(k, n int, offset, scale float64) []float64 {
	out := make([]float64, n)
	for j := range out {
		out[j] = offset + scale*(2*zooUniform(uint64(k), j)-1)
	}
	return out
}

func zooImage(shape []int) parity.Array {
	n := 1
	for _, d := range shape {
		n *= d
	}
	a := parity.Array{Shape: shape, Data: make([]float64, n)}
	for j := range a.Data {
		a.Data[j] = (2*zooUniform(1000003, j) - 1) * 2
	}
	return a
}

// TestZooParity checks the logits (and, where the reference has embed, the features) of the
// other registry networks against the reference networks in float64, train mode (fixture
// zoo, tools/parity/gen_zoo.py; weights and images by formula, as the fixture says).
func TestZooParity(t *testing.T) {
	const tol = 1e-9
	fx := parity.Load(t, "zoo")
	for i := range fx.Cases {
		c := &fx.Cases[i]
		t.Run(c.Name, func(t *testing.T) {
			m, err := Get(c.String(t, "model"))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.New().Checked(false)
			entries, ok := c.Params["entries"].([]any)
			if !ok {
				t.Fatal("fixture case has no entries")
			}
			for _, e := range entries {
				en := e.(map[string]any)
				var shape []int
				for _, d := range en["shape"].([]any) {
					shape = append(shape, int(d.(float64)))
				}
				n := 1
				for _, d := range shape {
					n *= d
				}
				a := parity.Array{Shape: shape, Data: zooFormula(int(en["k"].(float64)), n, en["offset"].(float64), en["scale"].(float64))}
				conv := en["convert"].(string)
				switch {
				case conv == "conv":
					a = parity.OIHWToHWIO(a)
				case conv == "linear":
					a = parity.LinearToDense(a)
				case strings.HasPrefix(conv, "linear_chw:"):
					var chw []int
					for _, s := range strings.Split(strings.TrimPrefix(conv, "linear_chw:"), ",") {
						v, _ := strconv.Atoi(s)
						chw = append(chw, v)
					}
					a = parity.LinearCHWToDenseHWC(a, chw[0], chw[1], chw[2])
				case conv != "vec":
					t.Fatalf("unknown conversion %q", conv)
				}
				path := strings.Split(en["var"].(string), "/")
				scope := ctx.In(m.Name)
				for _, s := range path[:len(path)-1] {
					scope = scope.In(s)
				}
				scope.VariableWithValue(path[len(path)-1], tensorOf(a))
			}
			size, ch := c.Int(t, "size"), c.Int(t, "channel")
			x := tensorOf(parity.NCHWToNHWC(zooImage([]int{2, ch, size, size})))
			run := func(fn func(ctx *context.Context, x *Node) *Node) []float64 {
				exec, err := context.NewExec(backend, ctx, func(ctx *context.Context, x *Node) *Node {
					ctx.SetTraining(x.Graph(), true)
					return fn(ctx, x)
				})
				if err != nil {
					t.Fatal(err)
				}
				out, err := exec.Exec(x)
				if err != nil {
					t.Fatal(err)
				}
				return tensorData(out[0])
			}
			before := len(ctxVariables(ctx))
			logits := run(func(ctx *context.Context, x *Node) *Node { return m.Logits(ctx, x, c.Int(t, "classes")) })
			if after := len(ctxVariables(ctx)); after != before {
				for _, v := range ctxVariables(ctx) {
					t.Logf("variable %s", v)
				}
				t.Fatalf("the model created %d variables the fixture does not set (names differ)", after-before)
			}
			want := c.Array(t, "logits")
			t.Logf("logits max rel err %.3g", parity.MaxRelErr(logits, want.Data))
			parity.Close(t, "logits", logits, want.Data, tol)
			if e, ok := c.Arrays["embed"]; ok {
				got := run(m.Features)
				if c.String(t, "model")[:4] == "alex" { // the flatten of a 192x4x4 map
					e = parity.FlatCHWToHWC(e, 192, 4, 4)
				}
				t.Logf("embed max rel err %.3g", parity.MaxRelErr(got, e.Data))
				parity.Close(t, "embed", got, e.Data, tol)
			}
		})
	}
}

// ctxVariables lists the trainable variables of ctx (scope/name).
func ctxVariables(ctx *context.Context) []string {
	var out []string
	for v := range ctx.IterVariables() {
		if v.Trainable {
			out = append(out, v.ScopeAndName())
		}
	}
	return out
}
