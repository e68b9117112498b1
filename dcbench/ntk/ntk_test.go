package ntk

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/dcbench/dcbench/dcbench/internal/testkit"
)

var backend backends.Backend

func TestMain(m *testing.M) { testkit.Main(m, &backend) }

func randInputs(seed uint64, n, d int, scale float64) []float64 {
	r := rand.New(rand.NewPCG(seed, 1))
	x := make([]float64, n*d)
	for i := range x {
		x[i] = scale * r.NormFloat64()
	}
	return x
}

// graphKernels evaluates FC.Kernels on the backend in float64.
func graphKernels(t *testing.T, k FC, x1 []float64, n1 int, x2 []float64, n2, d int) (nngp, ntk []float64) {
	t.Helper()
	exec, err := NewExec(backend, func(a, b *Node) []*Node {
		s, th := k.Kernels(a, b)
		return []*Node{s, th}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer exec.Finalize()
	out, err := exec.Exec(tensors.FromFlatDataAndDimensions(x1, n1, d), tensors.FromFlatDataAndDimensions(x2, n2, d))
	if err != nil {
		t.Fatal(err)
	}
	return tensors.MustCopyFlatData[float64](out[0]), tensors.MustCopyFlatData[float64](out[1])
}

func maxRelErr(got, want []float64) float64 {
	var e float64
	for i := range got {
		e = max(e, math.Abs(got[i]-want[i])/max(1, math.Abs(want[i])))
	}
	return e
}

// TestKernelsMatchReference compares the graph kernels with the float64 reference, cross
// kernels and self kernels (whose diagonal has cos θ = 1).
func TestKernelsMatchReference(t *testing.T) {
	cases := []struct {
		name  string
		k     FC
		n1    int
		n2    int
		d     int
		scale float64
		self  bool
	}{
		{"depth0-linear", FC{Depth: 0, WStd: 1.3, BStd: 0.2}, 3, 4, 5, 1, false},
		{"depth1-default", DefaultFC(), 4, 5, 7, 1, false},
		{"depth1-self", DefaultFC(), 5, 5, 6, 1, true},
		{"depth3-nobias", FC{Depth: 3, WStd: 1.5, BStd: 0}, 3, 2, 9, 2, false},
		{"depth2-self-small", FC{Depth: 2, WStd: math.Sqrt2, BStd: 0.5}, 4, 4, 3, 0.01, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x1 := randInputs(1, c.n1, c.d, c.scale)
			x2 := randInputs(2, c.n2, c.d, c.scale)
			if c.self {
				x2 = x1
			}
			wantS, wantT, err := c.k.Reference(x1, c.n1, x2, c.n2, c.d)
			if err != nil {
				t.Fatal(err)
			}
			gotS, gotT := graphKernels(t, c.k, x1, c.n1, x2, c.n2, c.d)
			if e := maxRelErr(gotS, wantS); e > 1e-7 {
				t.Errorf("NNGP: max relative error %.3g\n got %v\nwant %v", e, gotS, wantS)
			}
			if e := maxRelErr(gotT, wantT); e > 1e-7 {
				t.Errorf("NTK: max relative error %.3g\n got %v\nwant %v", e, gotT, wantT)
			}
		})
	}
}

// TestReferenceByHand checks the reference against closed forms: depth 0 is the linear
// kernel W²x·x'/d + b², and for depth 1 on x = x' the ReLU halves the variance.
func TestReferenceByHand(t *testing.T) {
	x := []float64{1, 2, -1, 0.5}
	y := []float64{0.3, -1, 2, 1}
	k := FC{Depth: 0, WStd: 2, BStd: 0.5}
	s, th, err := k.Reference(x, 1, y, 1, 4)
	if err != nil {
		t.Fatal(err)
	}
	want := 4*(0.3-2-2+0.5)/4 + 0.25
	if math.Abs(s[0]-want) > 1e-12 || math.Abs(th[0]-want) > 1e-12 {
		t.Errorf("depth 0: got NNGP %v NTK %v, want both %v", s[0], th[0], want)
	}
	k = FC{Depth: 1, WStd: 2, BStd: 0.5}
	s, th, err = k.Reference(x, 1, x, 1, 4)
	if err != nil {
		t.Fatal(err)
	}
	q := 4*(1+4+1+0.25)/4 + 0.25 // first layer variance
	wantS := 4*q/2 + 0.25
	wantT := 4*q/2 + wantS // Θ₁ = q, ·½ by the ReLU (θ = 0), then W²Θ + Σ
	if math.Abs(s[0]-wantS) > 1e-12 || math.Abs(th[0]-wantT) > 1e-12 {
		t.Errorf("depth 1: got NNGP %v NTK %v, want %v and %v", s[0], th[0], wantS, wantT)
	}
}

// TestAcos checks the graph arccos and its gradient against math.Acos on [−1, 1].
func TestAcos(t *testing.T) {
	var xs []float64
	for i := 0; i <= 200; i++ {
		xs = append(xs, -1+float64(i)/100)
	}
	xs = append(xs, 1.0000001, -1.0000001) // clipped
	exec, err := NewExec(backend, func(x *Node) []*Node {
		y := Acos(x)
		return []*Node{y, Gradient(ReduceAllSum(y), x)[0], SinFromCos(x)}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer exec.Finalize()
	out, err := exec.Exec(xs)
	if err != nil {
		t.Fatal(err)
	}
	ys, gs, ss := tensors.MustCopyFlatData[float64](out[0]), tensors.MustCopyFlatData[float64](out[1]), tensors.MustCopyFlatData[float64](out[2])
	for i, x := range xs {
		c := max(-1, min(1, x))
		if e := math.Abs(ys[i] - math.Acos(c)); e > 3e-8 {
			t.Errorf("Acos(%v) = %v, want %v", x, ys[i], math.Acos(c))
		}
		if e := math.Abs(ss[i] - math.Sqrt(1-c*c)); e > 1e-12 {
			t.Errorf("SinFromCos(%v) = %v, want %v", x, ss[i], math.Sqrt(1-c*c))
		}
		if math.IsNaN(gs[i]) || math.IsInf(gs[i], 0) {
			t.Errorf("Acos'(%v) = %v, want finite", x, gs[i])
			continue
		}
		if math.Abs(c) < 0.99 {
			want := -1 / math.Sqrt(1-c*c)
			if e := math.Abs(gs[i]-want) / math.Abs(want); e > 1e-4 {
				t.Errorf("Acos'(%v) = %v, want %v", x, gs[i], want)
			}
		}
	}
}

// TestKernelGradient checks the gradient of Σ G⊙K(x1, x2) + Σ H⊙K(x1, x1) with respect to x1
// against central finite differences, for both kernels.
func TestKernelGradient(t *testing.T) {
	const n1, n2, d = 3, 4, 5
	for _, kind := range []Kind{NTK, NNGP} {
		t.Run(string(kind), func(t *testing.T) {
			k := FC{Depth: 2, WStd: math.Sqrt2, BStd: 0.1}
			x1 := randInputs(3, n1, d, 1)
			x2 := randInputs(4, n2, d, 1)
			g := randInputs(5, n1, n2, 1)
			h := randInputs(6, n1, n1, 1)
			exec, err := NewExec(backend, func(a, b, gg, hh *Node) []*Node {
				obj := Add(ReduceAllSum(Mul(k.Kernel(kind, a, b), gg)), ReduceAllSum(Mul(k.Kernel(kind, a, a), hh)))
				return []*Node{obj, Gradient(obj, a)[0]}
			})
			if err != nil {
				t.Fatal(err)
			}
			defer exec.Finalize()
			eval := func(x []float64) (float64, []float64) {
				out, err := exec.Exec(tensors.FromFlatDataAndDimensions(x, n1, d), tensors.FromFlatDataAndDimensions(x2, n2, d),
					tensors.FromFlatDataAndDimensions(g, n1, n2), tensors.FromFlatDataAndDimensions(h, n1, n1))
				if err != nil {
					t.Fatal(err)
				}
				return tensors.ToScalar[float64](out[0]), tensors.MustCopyFlatData[float64](out[1])
			}
			_, grad := eval(x1)
			const eps = 1e-6
			for i := range x1 {
				xp := append([]float64(nil), x1...)
				xm := append([]float64(nil), x1...)
				xp[i] += eps
				xm[i] -= eps
				fp, _ := eval(xp)
				fm, _ := eval(xm)
				fd := (fp - fm) / (2 * eps)
				if math.Abs(fd-grad[i]) > 1e-5*max(1, math.Abs(fd)) {
					t.Errorf("d/dx[%d]: gradient %v, finite difference %v", i, grad[i], fd)
				}
			}
		})
	}
}

// TestValidate rejects settings that define no kernel.
func TestValidate(t *testing.T) {
	for _, k := range []FC{{Depth: -1, WStd: 1}, {Depth: 1, WStd: 0}, {Depth: 1, WStd: math.NaN()},
		{Depth: 1, WStd: 1, BStd: -1}, {Depth: 1, WStd: 1, BStd: math.Inf(1)}} {
		if err := k.Validate(); err == nil {
			t.Errorf("%+v: no error", k)
		}
		if _, _, err := k.Reference([]float64{1}, 1, []float64{1}, 1, 1); err == nil {
			t.Errorf("%+v: Reference gave no error", k)
		}
	}
	if _, _, err := DefaultFC().Reference([]float64{1, 2}, 1, []float64{1}, 1, 2); err == nil {
		t.Error("mismatched lengths: no error")
	}
	if _, err := ParseKind("rbf"); err == nil {
		t.Error(`ParseKind("rbf"): no error`)
	}
}

// TestFloat32 checks that the float32 graph stays close to the float64 reference.
func TestFloat32(t *testing.T) {
	const n, d = 4, 6
	x := randInputs(7, n, d, 1)
	k := DefaultFC()
	_, want, _ := k.Reference(x, n, x, n, d)
	x32 := make([]float32, len(x))
	for i, v := range x {
		x32[i] = float32(v)
	}
	exec, err := NewExec(backend, func(a *Node) []*Node {
		th := k.Kernel(NTK, a, a)
		return []*Node{th, Gradient(ReduceAllSum(th), a)[0]}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer exec.Finalize()
	out, err := exec.Exec(tensors.FromFlatDataAndDimensions(x32, n, d))
	if err != nil {
		t.Fatal(err)
	}
	got := tensors.MustCopyFlatData[float32](out[0])
	for i := range got {
		if e := math.Abs(float64(got[i])-want[i]) / max(1, math.Abs(want[i])); e > 1e-5 {
			t.Errorf("entry %d: %v, want %v", i, got[i], want[i])
		}
	}
	for i, g := range tensors.MustCopyFlatData[float32](out[1]) {
		if math.IsNaN(float64(g)) || math.IsInf(float64(g), 0) {
			t.Errorf("gradient %d is %v", i, g)
		}
	}
	_ = fmt.Sprint()
}
