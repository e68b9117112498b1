package gogemm

import (
	"fmt"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// buildChain builds, on any backend, h = relu(x·w1 + c) (broadcasts read in place by the
// host Add and Max), out1 = tanh(h)·w2 (tanh runs in a simplego segment between host ops)
// and out2 = c2·x (a constant feeding a product), and returns the program with outputs
// [out1, x, out2, -h].
func buildChain(t *testing.T, be backends.Backend) backends.Executable {
	t.Helper()
	b := be.Builder("chain")
	must := func(op backends.Op, err error) backends.Op {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return op
	}
	f32 := dtypes.Float32
	x := must(b.Parameter("x", shapes.Make(f32, 6, 5), nil))
	w1 := must(b.Parameter("w1", shapes.Make(f32, 5, 4), nil))
	w2 := must(b.Parameter("w2", shapes.Make(f32, 4, 3), nil))
	c := must(b.Constant([]float32{0.5, -0.25, 1, 0}, 4))
	h := must(b.DotGeneral(x, []int{1}, nil, w1, []int{0}, nil))
	cb := must(b.BroadcastInDim(c, shapes.Make(f32, 6, 4), []int{1}))
	h = must(b.Add(h, cb))
	zero := must(b.Constant([]float32{0}))
	zb := must(b.BroadcastInDim(zero, shapes.Make(f32, 6, 4), nil))
	h = must(b.Max(h, zb))
	out1 := must(b.Dot(must(b.Tanh(h)), w2))
	c2 := must(b.Constant([]float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 2, 6))
	out2 := must(b.DotGeneral(c2, []int{1}, nil, x, []int{0}, nil))
	hNeg := must(b.Neg(h))
	exe, err := b.Compile([]backends.Op{out1, x, out2, hNeg}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

func bufferOf(t *testing.T, be backends.Backend, flat []float32, dims ...int) backends.Buffer {
	t.Helper()
	buf, err := be.BufferFromFlatData(0, flat, shapes.Make(dtypes.Float32, dims...))
	if err != nil {
		t.Fatal(err)
	}
	return buf
}

func flatOf(t *testing.T, be backends.Backend, buf backends.Buffer) []float32 {
	t.Helper()
	shape, err := be.BufferShape(buf)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float32, shape.Size())
	if err := be.BufferToFlatData(buf, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func seq(n int, scale float32) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = scale * float32((i*7)%11-5)
	}
	return out
}

// TestSplitProgram runs a graph with two levels of host products, element-wise host ops
// reading broadcasts in place (two of them fused), a constant feeding a product, a parameter returned as an
// output and donated inputs, against simplego.
func TestSplitProgram(t *testing.T) {
	ref, got := backendsUnderTest(t)
	refExe := buildChain(t, ref)
	gotExe := buildChain(t, got)
	ge, ok := gotExe.(*Executable)
	if !ok {
		t.Fatalf("gogemm compiled %T, want a split *Executable", gotExe)
	}
	var segs, products, broadcasts int
	var chains []int // the ops of each element-wise host op
	for _, s := range ge.segs {
		if s.exe != nil {
			segs++
		}
		for _, h := range s.hosts {
			switch h.host.(type) {
			case *dotSpec:
				products++
			case *fusedSpec:
				chains = append(chains, len(h.host.(*fusedSpec).prog))
			case *broadcastSpec:
				broadcasts++
			}
		}
	}
	// The Add is computed inside the Max (one fused op of two); the Max's value is also
	// read by the Tanh in simplego, so it is written and the Neg (a chain of one) reads it.
	if products != 3 || fmt.Sprint(chains) != "[2 1]" || broadcasts != 0 || segs != 2 {
		t.Errorf("split into %d segments, %d host products, element-wise host ops of %v ops and %d host broadcasts, want 2, 3, [2 1] and 0",
			segs, products, chains, broadcasts)
	}
	for _, donate := range [][]bool{nil, {true, true, true}, {false, true, false}} {
		inputs := func(be backends.Backend) []backends.Buffer {
			return []backends.Buffer{bufferOf(t, be, seq(30, 0.1), 6, 5), bufferOf(t, be, seq(20, 0.2), 5, 4), bufferOf(t, be, seq(12, 0.3), 4, 3)}
		}
		want, err := refExe.Execute(inputs(ref), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		out, err := gotExe.Execute(inputs(got), donate, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(out) != len(want) {
			t.Fatalf("%d outputs, want %d", len(out), len(want))
		}
		for i := range want {
			w, g := flatOf(t, ref, want[i]), flatOf(t, got, out[i])
			for j := range w {
				if d := w[j] - g[j]; d > 1e-5 || d < -1e-5 {
					t.Fatalf("donate %v: output %d element %d = %g, want %g", donate, i, j, g[j], w[j])
				}
			}
		}
	}
	refExe.Finalize()
	gotExe.Finalize()
}

// TestSmallProductsStayInGraph checks that a graph whose products are all below MinFLOPs is
// compiled as one simplego program.
func TestSmallProductsStayInGraph(t *testing.T) {
	got, err := New("ops_sequential,min_flops=1e9")
	if err != nil {
		t.Fatal(err)
	}
	defer got.Finalize()
	exe := buildChain(t, got)
	defer exe.Finalize()
	e := exe.(*Executable)
	if len(e.segs) != 1 || len(e.segs[0].hosts) != 0 || e.segs[0].exe == nil {
		t.Fatalf("small products were split out of the simplego program: %d segments", len(e.segs))
	}
}

// TestIdentityAndLateParameter covers what aliasing Identity makes possible: the same value
// returned twice, and a parameter declared after the last op that outputs use.
func TestIdentityAndLateParameter(t *testing.T) {
	ref, got := backendsUnderTest(t)
	build := func(be backends.Backend) backends.Executable {
		b := be.Builder("identity")
		x, err := b.Parameter("x", shapes.Make(dtypes.Float32, 3), nil)
		if err != nil {
			t.Fatal(err)
		}
		y, _ := b.Neg(x)
		z, err := b.Identity(y)
		if err != nil {
			t.Fatal(err)
		}
		late, _ := b.Parameter("late", shapes.Make(dtypes.Float32, 2), nil)
		exe, err := b.Compile([]backends.Op{y, z, late, x}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return exe
	}
	refExe, gotExe := build(ref), build(got)
	defer refExe.Finalize()
	defer gotExe.Finalize()
	want, err := refExe.Execute([]backends.Buffer{bufferOf(t, ref, []float32{1, 2, 3}, 3), bufferOf(t, ref, []float32{4, 5}, 2)}, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out, err := gotExe.Execute([]backends.Buffer{bufferOf(t, got, []float32{1, 2, 3}, 3), bufferOf(t, got, []float32{4, 5}, 2)}, []bool{true, false}, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		w, g := flatOf(t, ref, want[i]), flatOf(t, got, out[i])
		if fmt.Sprint(w) != fmt.Sprint(g) {
			t.Errorf("output %d = %v, want %v", i, g, w)
		}
	}
	// The two outputs of the same value must be distinct buffers.
	flatY, _ := got.BufferData(out[0])
	flatY.([]float32)[0] = 100
	if flatOf(t, got, out[1])[0] == 100 {
		t.Error("a repeated output shares its buffer with the first")
	}
}

// TestConfig checks gogemm's own option and that the rest reaches simplego.
func TestConfig(t *testing.T) {
	for _, tc := range []struct {
		config string
		ok     bool
	}{
		{"", true}, {"ops_sequential", true}, {"min_flops=0,ops_sequential", true},
		{"min_flops=-1", false}, {"min_flops=x", false}, {"no_such_option", false},
	} {
		b, err := New(tc.config)
		if (err == nil) != tc.ok {
			t.Errorf("New(%q): err=%v, want ok=%v", tc.config, err, tc.ok)
		}
		if err == nil {
			b.Finalize()
		}
	}
}
