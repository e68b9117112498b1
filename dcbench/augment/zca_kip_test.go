package augment

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// refLayerNorm returns the images with each one's mean subtracted and divided by its L2 norm.
func refLayerNorm(x []float32, n, d int) [][]float64 {
	out := make([][]float64, n)
	for i := range n {
		row := make([]float64, d)
		mean := 0.0
		for k := range d {
			mean += float64(x[i*d+k]) / float64(d)
		}
		ss := 0.0
		for k := range d {
			row[k] = float64(x[i*d+k]) - mean
			ss += row[k] * row[k]
		}
		for k := range d {
			row[k] /= math.Sqrt(ss)
		}
		out[i] = row
	}
	return out
}

// TestKIPZCAWhitens checks that with a tiny strength the whitened training images have the
// uncentred second moment I - 11ᵀ/d: the identity on everything but the constant image, which
// layer normalisation removes.
func TestKIPZCAWhitens(t *testing.T) {
	const n, d = 700, 6 // 700 > zcaChunk: the chunked accumulation is exercised.
	x := correlatedData(n, d, 3)
	z, err := FitZCAKIP(x, n, d, 1e-9)
	if err != nil {
		t.Fatal(err)
	}
	if z.Dim() != d || z.Strength() != 1e-9 {
		t.Errorf("Dim %d, Strength %g", z.Dim(), z.Strength())
	}
	// The images are unit-norm after layer normalisation, so tr(C) = 1 and reg = strength/d.
	if got, want := z.Regularization(), 1e-9/d; math.Abs(got-want) > 1e-12*want+1e-20 {
		t.Errorf("Regularization() = %g, want strength/d = %g", got, want)
	}
	white := append([]float32(nil), x...)
	if err := z.Apply(white, n); err != nil {
		t.Fatal(err)
	}
	for j := range d {
		for k := range d {
			m := 0.0
			for i := range n {
				m += float64(white[i*d+j]) * float64(white[i*d+k]) / n
			}
			want := -1.0 / d
			if j == k {
				want += 1
			}
			if math.Abs(m-want) > 2e-4 {
				t.Errorf("whitened second moment [%d,%d] = %.6f, want %.6f", j, k, m, want)
			}
		}
	}
	// With the default strength the whitening is partial: every direction is shrunk.
	z2, err := FitZCAKIP(x, n, d, DefaultKIPZCAStrength)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := z2.Regularization(), DefaultKIPZCAStrength/d; math.Abs(got-want) > 1e-12 {
		t.Errorf("default Regularization() = %g, want %g", got, want)
	}
	abs, err := FitZCAKIPWith(x, n, d, KIPZCAOptions{Strength: 0.25, Absolute: true})
	if err != nil {
		t.Fatal(err)
	}
	if abs.Regularization() != 0.25 || !abs.Options().Absolute {
		t.Errorf("absolute Regularization() = %g, want 0.25", abs.Regularization())
	}
}

// TestKIPZCAPerImage checks that Apply layer-normalises each image before the matrix product:
// the result is the reference computation, and it ignores each image's offset and scale.
func TestKIPZCAPerImage(t *testing.T) {
	const n, d = 50, 5
	x := correlatedData(n, d, 4)
	z, err := FitZCAKIP(x, n, d, DefaultKIPZCAStrength)
	if err != nil {
		t.Fatal(err)
	}
	got := append([]float32(nil), x...)
	if err := z.Apply(got, n); err != nil {
		t.Fatal(err)
	}
	w := z.Matrix()
	ln := refLayerNorm(x, n, d)
	for i := range n {
		for k := range d {
			want := 0.0
			for j := range d {
				want += ln[i][j] * w[j*d+k]
			}
			if diff := math.Abs(float64(got[i*d+k]) - want); diff > 1e-4*math.Max(1, math.Abs(want)) {
				t.Fatalf("image %d feature %d: Apply gives %g, layernorm then W gives %g", i, k, got[i*d+k], want)
			}
		}
	}
	// Each image rescaled and shifted by its own amount whitens to the same thing.
	moved := append([]float32(nil), x...)
	for i := range n {
		a, b := float32(0.5+float64(i)), float32(3-float64(i))
		for k := range d {
			moved[i*d+k] = a*moved[i*d+k] + b
		}
	}
	if err := z.Apply(moved, n); err != nil {
		t.Fatal(err)
	}
	if diff := maxAbsDiff(moved, got); diff > 1e-4 {
		t.Errorf("per-image affine changes the output by %g", diff)
	}
	// LayerNorm alone: zero mean, unit norm; a constant image becomes zeros, not NaN.
	ims := []float32{1, 2, 3, 4, 9, 7, 7, 7, 7, 7}
	if err := z.LayerNorm(ims, 2); err != nil {
		t.Fatal(err)
	}
	sum, ss := 0.0, 0.0
	for _, v := range ims[:d] {
		sum += float64(v)
		ss += float64(v) * float64(v)
	}
	if math.Abs(sum) > 1e-6 || math.Abs(ss-1) > 1e-6 {
		t.Errorf("layer-normalised image has sum %g and squared norm %g, want 0 and 1", sum, ss)
	}
	for _, v := range ims[d:] {
		if v != 0 {
			t.Errorf("constant image layer-normalises to %v, want zeros", ims[d:])
			break
		}
	}
	// Inverse gives back the layer-normalised images.
	back := append([]float32(nil), got...)
	if err := z.Inverse(back, n); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		for k := range d {
			if diff := math.Abs(float64(back[i*d+k]) - ln[i][k]); diff > 1e-5 {
				t.Fatalf("Inverse: image %d feature %d is %g, want %g", i, k, back[i*d+k], ln[i][k])
			}
		}
	}
	// The linear part alone skips the per-image step.
	lin := append([]float32(nil), x...)
	if err := z.Linear().Apply(lin, n); err != nil {
		t.Fatal(err)
	}
	if maxAbsDiff(lin, got) < 1e-3 {
		t.Errorf("Linear().Apply should not layer-normalise")
	}
}

// TestKIPZCARankControl checks the reference's rank control with fewer images than features:
// a direction the training images do not span passes through unchanged with it, and is scaled
// by 1/sqrt(reg) without it.
func TestKIPZCARankControl(t *testing.T) {
	const n, d = 3, 8
	x := correlatedData(n, d, 5)
	rc, err := FitZCAKIPWith(x, n, d, KIPZCAOptions{Strength: DefaultKIPZCAStrength, RankControl: true})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := FitZCAKIP(x, n, d, DefaultKIPZCAStrength)
	if err != nil {
		t.Fatal(err)
	}
	// v: a random vector with the constant and the training images projected out.
	rng := rand.New(rand.NewPCG(6, 7))
	v := make([]float64, d)
	for k := range v {
		v[k] = rng.NormFloat64()
	}
	basis := [][]float64{}
	ones := make([]float64, d)
	for k := range ones {
		ones[k] = 1
	}
	for _, b := range append([][]float64{ones}, refLayerNorm(x, n, d)...) {
		b = append([]float64(nil), b...)
		for _, e := range basis { // Gram–Schmidt.
			dot := 0.0
			for k := range d {
				dot += b[k] * e[k]
			}
			for k := range d {
				b[k] -= dot * e[k]
			}
		}
		norm := 0.0
		for _, f := range b {
			norm += f * f
		}
		for k := range b {
			b[k] /= math.Sqrt(norm)
		}
		basis = append(basis, b)
	}
	for _, e := range basis {
		dot := 0.0
		for k := range d {
			dot += v[k] * e[k]
		}
		for k := range d {
			v[k] -= dot * e[k]
		}
	}
	mul := func(w []float64) []float64 {
		out := make([]float64, d)
		for k := range d {
			for j := range d {
				out[k] += v[j] * w[j*d+k]
			}
		}
		return out
	}
	gainRC, gainPlain := mul(rc.Matrix()), mul(plain.Matrix())
	scale := 1 / math.Sqrt(plain.Regularization())
	for k := range d {
		if math.Abs(gainRC[k]-v[k]) > 1e-9 {
			t.Errorf("rank control: W v [%d] = %g, want v = %g", k, gainRC[k], v[k])
		}
		if math.Abs(gainPlain[k]-scale*v[k]) > 1e-6*scale {
			t.Errorf("no rank control: W v [%d] = %g, want v/sqrt(reg) = %g", k, gainPlain[k], scale*v[k])
		}
	}
	// With rank control and n < d, zero strength is fine: the null directions pass through.
	if _, err := FitZCAKIPWith(x, n, d, KIPZCAOptions{RankControl: true}); err != nil {
		t.Errorf("rank control with zero strength: %v", err)
	}
}

func TestKIPZCAGraph(t *testing.T) {
	const n, h, w, c = 12, 2, 3, 2
	d := h * w * c
	x := correlatedData(n, d, 8)
	for k := range d { // A constant image: zeros out, no NaN.
		x[5*d+k] = 0.7
	}
	z, err := FitZCAKIP(x, n, d, DefaultKIPZCAStrength)
	if err != nil {
		t.Fatal(err)
	}
	want := append([]float32(nil), x...)
	if err := z.Apply(want, n); err != nil {
		t.Fatal(err)
	}
	outs := MustExecOnceN(backend, func(x *Node) []*Node {
		white := z.ApplyGraph(x)
		return []*Node{white, Gradient(ReduceAllSum(Square(white)), x)[0]}
	}, tensors.FromFlatDataAndDimensions(x, n, h, w, c))
	got := tensors.MustCopyFlatData[float32](outs[0])
	if outs[0].Shape().Rank() != 4 {
		t.Fatalf("graph output shape %s", outs[0].Shape())
	}
	if diff := maxAbsDiff(got, want); diff > 1e-4 {
		t.Errorf("ApplyGraph differs from Apply by %g", diff)
	}
	for k := range d {
		if got[5*d+k] != 0 {
			t.Fatalf("constant image whitens to %v, want zeros", got[5*d:6*d])
		}
	}
	for i, g := range tensors.MustCopyFlatData[float32](outs[1]) {
		if math.IsNaN(float64(g)) || math.IsInf(float64(g), 0) {
			t.Fatalf("gradient[%d] = %g", i, g)
		}
	}
}

func TestKIPZCAErrors(t *testing.T) {
	x := correlatedData(10, 4, 9)
	cases := []struct {
		name    string
		images  []float32
		n, d    int
		opts    KIPZCAOptions
		wantErr string
	}{
		{"no images", nil, 0, 4, KIPZCAOptions{Strength: 0.1}, "n >= 1"},
		{"one feature", x[:10], 10, 1, KIPZCAOptions{Strength: 0.1}, "d >= 2"},
		{"wrong length", x[:39], 10, 4, KIPZCAOptions{Strength: 0.1}, "got 39 values, want n*d = 10*4 = 40"},
		{"negative strength", x, 10, 4, KIPZCAOptions{Strength: -1}, "strength must be finite and >= 0"},
		{"NaN strength", x, 10, 4, KIPZCAOptions{Strength: math.NaN()}, "strength must be finite"},
		{"infinite strength", x, 10, 4, KIPZCAOptions{Strength: math.Inf(1)}, "strength must be finite"},
		{"zero strength", x, 10, 4, KIPZCAOptions{}, "singular"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FitZCAKIPWith(tc.images, tc.n, tc.d, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
	z, err := FitZCAKIP(x, 10, 4, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	if err := z.Apply(x[:7], 2); err == nil || !strings.Contains(err.Error(), "got 7 values for n=2 images, want 8") {
		t.Errorf("Apply with a wrong length: %v", err)
	}
	if err := z.LayerNorm(x[:8], -1); err == nil {
		t.Errorf("LayerNorm with n=-1: no error")
	}
	func() {
		defer func() {
			r := recover()
			if r == nil || !strings.Contains(r.(error).Error(), "with 4 features per example") {
				t.Errorf("ApplyGraph on a wrong shape: recovered %v", r)
			}
		}()
		MustExecOnce(backend, func(x *Node) *Node { return z.ApplyGraph(x) },
			tensors.FromFlatDataAndDimensions(x[:9], 3, 3))
	}()
}
