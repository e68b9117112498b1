package gogemm

import (
	"os"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/graph"
)

// TestPickOpenBLASCore checks OPENBLAS_CORETYPE while the library loads, for each setting
// of DCBENCH_OPENBLAS_CORETYPE and OPENBLAS_CORETYPE, and that it is restored afterwards.
func TestPickOpenBLASCore(t *testing.T) {
	saved := hasAVX512
	defer func() { hasAVX512 = saved }()
	const unset = "<unset>"
	cases := []struct {
		ours, theirs string // "" for ours: unset
		avx512       bool
		want         string
	}{
		{"", unset, true, "SkylakeX"},
		{"", "Haswell", true, "SkylakeX"},
		{"auto", "zen", true, "SkylakeX"},
		{"", "SapphireRapids", true, "SapphireRapids"}, // an AVX-512 core: left alone
		{"", "Haswell", false, "Haswell"},              // no AVX-512: left alone
		{"", unset, false, unset},
		{"env", "Haswell", true, "Haswell"},
		{"Zen", unset, true, "Zen"},
	}
	for _, tc := range cases {
		hasAVX512 = func() bool { return tc.avx512 }
		t.Setenv(CoreEnv, tc.ours)
		t.Setenv(OpenBLASCoreEnv, "x")
		if tc.theirs == unset {
			os.Unsetenv(OpenBLASCoreEnv)
		} else {
			os.Setenv(OpenBLASCoreEnv, tc.theirs)
		}
		restore := pickOpenBLASCore()
		got, ok := os.LookupEnv(OpenBLASCoreEnv)
		if !ok {
			got = unset
		}
		restore()
		after, ok := os.LookupEnv(OpenBLASCoreEnv)
		if !ok {
			after = unset
		}
		if got != tc.want || after != tc.theirs {
			t.Errorf("%s=%q, %s=%q, AVX-512 %v: %q while loading, %q after; want %q, %q",
				CoreEnv, tc.ours, OpenBLASCoreEnv, tc.theirs, tc.avx512, got, after, tc.want, tc.theirs)
		}
	}
}

// TestSharedConstants checks that equal large constants are recorded once and that
// different ones, or small ones, are not merged.
func TestSharedConstants(t *testing.T) {
	ref, got := backendsUnderTest(t)
	big := func(shift int32) []int32 {
		x := make([]int32, minSharedConstant/4+1)
		for i := range x {
			x[i] = int32(i%97) + shift
		}
		return x
	}
	fn := func(x *graph.Node) *graph.Node {
		g := x.Graph()
		sum := func(v []int32) *graph.Node {
			return graph.ConvertDType(graph.ReduceAllSum(graph.Const(g, v)), x.DType())
		}
		return graph.Add(graph.Add(sum(big(0)), sum(big(0))), graph.Add(sum(big(1)), graph.ReduceAllSum(x)))
	}
	want := graph.MustExecOnce(ref, fn, randTensor[float32](1, 3))
	out := graph.MustExecOnce(got, fn, randTensor[float32](1, 3))
	assertClose(t, "sum", want, out, 1e-6)
	consts := 0
	b := got.Builder("count").(*Builder)
	for _, v := range [][]int32{big(0), big(0), big(1), {1, 2}, {1, 2}} {
		if _, err := b.Constant(v, len(v)); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range b.calls {
		if c.method == "Constant" {
			consts++
		}
	}
	if consts != 4 { // big(0) once, big(1), and the two small ones
		t.Errorf("%d constants recorded, want 4", consts)
	}
}
