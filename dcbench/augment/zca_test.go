package augment

import (
	"bytes"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// correlatedData returns n samples of d correlated features: z A + b with z standard normal.
func correlatedData(n, d int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 1))
	a := make([]float64, d*d)
	for i := range a {
		a[i] = rng.NormFloat64()
	}
	x := make([]float32, n*d)
	z := make([]float64, d)
	for i := range n {
		for k := range z {
			z[k] = rng.NormFloat64()
		}
		for j := range d {
			v := float64(j) // Offset b.
			for k := range d {
				v += z[k] * a[k*d+j]
			}
			x[i*d+j] = float32(v)
		}
	}
	return x
}

// covariance returns the unbiased covariance and the mean of n samples of d features.
func covariance(x []float32, n, d int) (cov [][]float64, mean []float64) {
	mean = make([]float64, d)
	for i := range n {
		for k := range d {
			mean[k] += float64(x[i*d+k]) / float64(n)
		}
	}
	cov = make([][]float64, d)
	for j := range d {
		cov[j] = make([]float64, d)
		for k := range d {
			for i := range n {
				cov[j][k] += (float64(x[i*d+j]) - mean[j]) * (float64(x[i*d+k]) - mean[k])
			}
			cov[j][k] /= float64(n - 1)
		}
	}
	return cov, mean
}

func TestZCAWhitens(t *testing.T) {
	const n, d = 600, 6 // 600 > zcaChunk, so the chunked paths are exercised.
	x := correlatedData(n, d, 1)
	z, err := FitZCA(x, n, d, 1e-10)
	if err != nil {
		t.Fatal(err)
	}
	white := append([]float32(nil), x...)
	if err := z.Apply(white, n); err != nil {
		t.Fatal(err)
	}
	cov, mean := covariance(white, n, d)
	for j := range d {
		if math.Abs(mean[j]) > 1e-4 {
			t.Errorf("whitened mean[%d] = %g, want 0", j, mean[j])
		}
		for k := range d {
			want := 0.0
			if j == k {
				want = 1
			}
			if math.Abs(cov[j][k]-want) > 1e-4 {
				t.Errorf("whitened cov[%d][%d] = %g, want %g", j, k, cov[j][k], want)
			}
		}
	}
	// ZCA, unlike other whitenings, is symmetric: W = Wᵀ.
	w := z.Matrix()
	for j := range d {
		for k := range d {
			if w[j*d+k] != w[k*d+j] {
				t.Fatalf("W not symmetric at (%d, %d)", j, k)
			}
		}
	}

	// The inverse restores the data.
	if err := z.Inverse(white, n); err != nil {
		t.Fatal(err)
	}
	if diff := maxAbsDiff(white, x); diff > 1e-4 {
		t.Errorf("inverse round trip differs by %g", diff)
	}

	// A larger regularization shrinks the whitened variances below 1: λ/(λ+eps).
	z2, err := FitZCA(x, n, d, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	white2 := append([]float32(nil), x...)
	if err := z2.Apply(white2, n); err != nil {
		t.Fatal(err)
	}
	cov2, _ := covariance(white2, n, d)
	for j := range d {
		if cov2[j][j] >= 1 || cov2[j][j] < 0.5 {
			t.Errorf("regularised whitened variance[%d] = %g, want in [0.5, 1)", j, cov2[j][j])
		}
	}
}

func TestZCAGraph(t *testing.T) {
	const n, h, w, c = 40, 2, 3, 2
	d := h * w * c
	x := correlatedData(n, d, 2)
	z, err := FitZCA(x, n, d, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	want := append([]float32(nil), x...)
	if err := z.Apply(want, n); err != nil {
		t.Fatal(err)
	}
	outs := MustExecOnceN(backend, func(x *Node) []*Node {
		white := z.ApplyGraph(x)
		return []*Node{white, z.InverseGraph(white)}
	}, tensors.FromFlatDataAndDimensions(x, n, h, w, c))
	if !outs[0].Shape().Equal(outs[1].Shape()) || outs[0].Shape().Rank() != 4 {
		t.Fatalf("graph output shapes %s, %s", outs[0].Shape(), outs[1].Shape())
	}
	if diff := maxAbsDiff(tensors.MustCopyFlatData[float32](outs[0]), want); diff > 1e-4 {
		t.Errorf("ApplyGraph differs from Apply by %g", diff)
	}
	if diff := maxAbsDiff(tensors.MustCopyFlatData[float32](outs[1]), x); diff > 1e-4 {
		t.Errorf("InverseGraph round trip differs by %g", diff)
	}
}

func TestZCASaveLoad(t *testing.T) {
	const n, d = 50, 5
	x := correlatedData(n, d, 3)
	z, err := FitZCA(x, n, d, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "zca.bin")
	if err := z.SaveFile(path); err != nil {
		t.Fatal(err)
	}
	z2, err := LoadZCAFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if z2.Dim() != d || z2.Regularization() != 0.1 {
		t.Errorf("loaded dim %d, eps %g", z2.Dim(), z2.Regularization())
	}
	a, b := append([]float32(nil), x...), append([]float32(nil), x...)
	_ = z.Apply(a, n)
	_ = z2.Apply(b, n)
	if maxAbsDiff(a, b) != 0 {
		t.Error("loaded transform differs from the saved one")
	}

	var buf bytes.Buffer
	if err := z.Save(&buf); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"truncated", data[:len(data)-8], "loading ZCA data"},
		{"bad magic", append([]byte("NOTAZCA!"), data[8:]...), "not a ZCA file"},
		{"empty", nil, "header"},
	} {
		if _, err := LoadZCA(bytes.NewReader(tc.data)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error = %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

func TestZCAErrors(t *testing.T) {
	x := correlatedData(10, 3, 4)
	// A constant feature makes the covariance singular.
	singular := append([]float32(nil), x...)
	for i := range 10 {
		singular[i*3+1] = 5
	}
	for _, tc := range []struct {
		name string
		fn   func() error
		want string
	}{
		{"length", func() error { _, err := FitZCA(x[:29], 10, 3, 0.1); return err }, "got 29 values"},
		{"one image", func() error { _, err := FitZCA(x[:3], 1, 3, 0.1); return err }, "n >= 2"},
		{"no features", func() error { _, err := FitZCA(nil, 10, 0, 0.1); return err }, "d >= 1"},
		{"negative eps", func() error { _, err := FitZCA(x, 10, 3, -1); return err }, "regularization"},
		{"singular", func() error { _, err := FitZCA(singular, 10, 3, 0); return err }, "singular"},
		{"apply length", func() error {
			z, err := FitZCA(x, 10, 3, 0.1)
			if err != nil {
				return err
			}
			return z.Apply(x[:7], 2)
		}, "want 6"},
	} {
		if err := tc.fn(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error = %v, want one containing %q", tc.name, err, tc.want)
		}
	}
	// A singular covariance is fine with a positive regularization.
	if _, err := FitZCA(singular, 10, 3, 0.1); err != nil {
		t.Errorf("singular covariance with eps 0.1: %v", err)
	}
}
