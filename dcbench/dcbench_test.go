package dcbench

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/backends"
	_ "github.com/gomlx/gomlx/backends/simplego"

	"github.com/dcbench/dcbench/datasets"
)

var testBackend backends.Backend

func TestMain(m *testing.M) {
	if os.Getenv("GOMLX_BACKEND") == "" {
		os.Setenv("GOMLX_BACKEND", "gogemm:ops_sequential")
	}
	testBackend = backends.MustNew()
	os.Exit(m.Run())
}

func embedded(t testing.TB) *datasets.Pair {
	t.Helper()
	p, err := datasets.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	p.Normalize()
	return p
}

func TestRandomSameSeedSameSet(t *testing.T) {
	p := embedded(t)
	mk := func(seed uint64) *Set {
		s, err := Condense(p.Train, CondenseOptions{Method: "random", IPC: 3, Seed: seed, Backend: testBackend})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b, c := mk(1), mk(1), mk(2)
	if !reflect.DeepEqual(a.Data.Images, b.Data.Images) || !reflect.DeepEqual(a.Data.Labels, b.Data.Labels) {
		t.Error("same seed gave different sets")
	}
	if reflect.DeepEqual(a.Data.Images, c.Data.Images) {
		t.Error("different seeds gave the same set")
	}
	if a.Data.N != 30 {
		t.Errorf("IPC 3 × 10 classes gave %d images", a.Data.N)
	}
	for cl, n := range a.Data.ClassCounts() {
		if n != 3 {
			t.Errorf("class %d has %d images", cl, n)
		}
	}
}

func TestCondenseErrors(t *testing.T) {
	p := embedded(t)
	raw, err := datasets.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		train *datasets.Dataset
		opts  CondenseOptions
		want  string
	}{
		{"ipc too large", p.Train, CondenseOptions{IPC: 101}, "IPC 101 is larger than class 0 (airplane)"},
		{"ipc zero", p.Train, CondenseOptions{IPC: 0}, "IPC must be at least 1"},
		{"unknown method", p.Train, CondenseOptions{Method: "magic", IPC: 1}, "unknown condensation method \"magic\""},
		{"not normalised", raw.Train, CondenseOptions{IPC: 1}, "not normalised"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Backend = testBackend
			_, err := Condense(tc.train, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestSetFileRoundTripAndCorruption(t *testing.T) {
	p := embedded(t)
	s, err := Condense(p.Train, CondenseOptions{IPC: 2, Seed: 7, Backend: testBackend, Params: map[string]any{"note": "x"}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "set.dcb")
	if err := s.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := LoadSet(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Data.Images, s.Data.Images) || !reflect.DeepEqual(got.Data.Labels, s.Data.Labels) ||
		got.Method != "random" || got.IPC != 2 || got.Seed != 7 || got.Params["note"] != "x" ||
		!reflect.DeepEqual(got.Data.Classes, s.Data.Classes) || !got.Data.Normalized {
		t.Fatalf("round trip changed the set: %v vs %v", got, s)
	}
	good, _ := os.ReadFile(path)
	cases := []struct {
		name  string
		bytes []byte
		want  string
	}{
		{"truncated", good[:len(good)-100], "truncated"},
		{"flipped bit", flip(good, len(good)/2), "checksum"},
		{"foreign", []byte("hello world, not a set at all"), "bad magic"},
		{"empty", nil, "bad magic"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bad := filepath.Join(dir, tc.name)
			os.WriteFile(bad, tc.bytes, 0o644)
			_, err := LoadSet(bad)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), bad) {
				t.Fatalf("got %v, want an error naming %s and containing %q", err, bad, tc.want)
			}
		})
	}
	if _, err := LoadSet(filepath.Join(dir, "missing.dcb")); err == nil || !strings.Contains(err.Error(), "missing.dcb") {
		t.Errorf("missing file: got %v", err)
	}
}

func flip(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	c[i] ^= 0x40
	return c
}

func TestMeanStdIsPopulation(t *testing.T) {
	m, s := MeanStd([]float64{1, 2, 3, 4})
	if m != 2.5 || math.Abs(s-math.Sqrt(1.25)) > 1e-12 {
		t.Errorf("MeanStd = %g, %g; want 2.5, sqrt(1.25)", m, s)
	}
}

func TestEvaluateTinySchedule(t *testing.T) {
	p := embedded(t)
	set, err := Condense(p.Train, CondenseOptions{IPC: 1, Seed: 0, Backend: testBackend})
	if err != nil {
		t.Fatal(err)
	}
	test := p.Test.Subset([]int{0, 1, 2, 3, 4, 100, 200, 300, 400, 500, 600, 700, 800, 900})
	var calls int
	opts := EvalOptions{NumEval: 2, Backend: testBackend, Progress: func(done, total int, _ string) { calls++ }}
	opts.Epochs = 1
	opts.ModelParams = map[string]any{"convnet_width": 8}
	res, err := Evaluate(set, test, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Accuracies) != 2 || res.Seeds[0] != 0 || res.Seeds[1] != 1 {
		t.Fatalf("got %+v", res)
	}
	if calls != 4 { // 2 runs × (Epochs+1) passes
		t.Errorf("progress called %d times, want 4", calls)
	}
	for _, a := range res.Accuracies {
		if a < 0 || a > 100 {
			t.Errorf("accuracy %g out of range", a)
		}
	}
	again, err := Evaluate(set, test, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again.Accuracies, res.Accuracies) {
		t.Errorf("same seeds gave %v then %v", res.Accuracies, again.Accuracies)
	}
}

// TestCondenseResumedSeconds: a condensation resumed from a checkpoint reports the time of the
// whole condensation (the first run's seconds, carried by the checkpoint, plus its own).
func TestCondenseResumedSeconds(t *testing.T) {
	p := embedded(t)
	ck := filepath.Join(t.TempDir(), "dm.ckpt")
	run := func(iters int) *Set {
		s, err := Condense(p.Train, CondenseOptions{Method: "dm", IPC: 1, Seed: 1, Backend: testBackend,
			Params: map[string]any{"iterations": iters, "batch_real": 4, "checkpoint": ck, "checkpoint_every": 1}})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// 4 iterations, then a resumed run to 5: its own time (compile and one iteration) is less
	// than the first run's, so only the carried seconds make it report more.
	first := run(4)
	second := run(5)
	if second.Seconds <= first.Seconds {
		t.Errorf("resumed condensation reports %.3f s, the first part alone took %.3f s", second.Seconds, first.Seconds)
	}
	t.Logf("first 4 iterations %.3f s, all 5 %.3f s", first.Seconds, second.Seconds)
}
