package augment

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// testImages returns n×h×w×c float32 images with distinct, irregular values.
func testImages(n, h, w, c int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 7))
	x := make([]float32, n*h*w*c)
	for i := range x {
		x[i] = float32(rng.Float64()*2 - 1)
	}
	return x
}

// at returns the index of (b, i, j, k) in a flat NHWC slice.
func at(h, w, c, b, i, j, k int) int { return ((b*h+i)*w+j)*c + k }

// applyValues runs a.Apply with the fixed parameters v on x (NHWC float32) and returns the output.
func applyValues(t *testing.T, a *DSA, v ParamValues, x []float32, n, h, w, c int) []float32 {
	t.Helper()
	out := MustExecOnce(backend, func(x *Node) *Node {
		return a.Apply(v.Const(x.Graph()), x)
	}, tensors.FromFlatDataAndDimensions(x, n, h, w, c))
	return tensors.MustCopyFlatData[float32](out)
}

// maxAbsDiff returns the largest absolute difference between a and b.
func maxAbsDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	m := 0.0
	for i := range a {
		m = max(m, math.Abs(float64(a[i])-float64(b[i])))
	}
	return m
}

// refAffineTorch is an independent host implementation of torch's
// F.grid_sample(x, F.affine_grid(theta, size, align_corners=alignGrid), align_corners=alignSample)
// (bilinear, zero padding), on NHWC data, for one theta shared by all samples.
func refAffineTorch(x []float32, n, h, w, c int, theta [2][3]float64, alignGrid, alignSample bool) []float32 {
	out := make([]float32, len(x))
	norm := func(k, size int) float64 {
		if alignGrid {
			return -1 + 2*float64(k)/float64(size-1)
		}
		return (2*float64(k)+1)/float64(size) - 1
	}
	unnorm := func(u float64, size int) float64 {
		if alignSample {
			return (u + 1) / 2 * float64(size-1)
		}
		return ((u+1)*float64(size) - 1) / 2
	}
	for b := range n {
		for i := range h {
			for j := range w {
				xn, yn := norm(j, w), norm(i, h)
				gx := theta[0][0]*xn + theta[0][1]*yn + theta[0][2]
				gy := theta[1][0]*xn + theta[1][1]*yn + theta[1][2]
				ix, iy := unnorm(gx, w), unnorm(gy, h)
				x0, y0 := math.Floor(ix), math.Floor(iy)
				for k := range c {
					var v float64
					for _, cr := range [][3]float64{
						{x0, y0, (x0 + 1 - ix) * (y0 + 1 - iy)}, {x0 + 1, y0, (ix - x0) * (y0 + 1 - iy)},
						{x0, y0 + 1, (x0 + 1 - ix) * (iy - y0)}, {x0 + 1, y0 + 1, (ix - x0) * (iy - y0)},
					} {
						xi, yi := int(cr[0]), int(cr[1])
						if xi >= 0 && xi < w && yi >= 0 && yi < h {
							v += cr[2] * float64(x[at(h, w, c, b, yi, xi, k)])
						}
					}
					out[at(h, w, c, b, i, j, k)] = float32(v)
				}
			}
		}
	}
	return out
}

func TestParseStrategy(t *testing.T) {
	for _, tc := range []struct {
		strategy string
		want     []Op
		wantErr  string
	}{
		{DefaultStrategy, []Op{OpColor, OpCrop, OpCutout, OpFlip, OpScale, OpRotate}, ""},
		{"", nil, ""},
		{"none", nil, ""},
		{"None", nil, ""},
		{"crop", []Op{OpCrop}, ""},
		{"flip_crop_flip", []Op{OpFlip, OpCrop, OpFlip}, ""},
		{"color_blur", nil, `unknown DSA op "blur"`},
		{"color__crop", nil, "valid ops are color, crop, cutout, flip, scale, rotate"},
	} {
		got, err := ParseStrategy(tc.strategy)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseStrategy(%q) error = %v, want one containing %q", tc.strategy, err, tc.wantErr)
			}
			continue
		}
		if err != nil || len(got) != len(tc.want) {
			t.Errorf("ParseStrategy(%q) = %v, %v; want %v", tc.strategy, got, err, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("ParseStrategy(%q) = %v, want %v", tc.strategy, got, tc.want)
			}
		}
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		modify func(c *Config)
		ok     bool
	}{
		{"default", func(c *Config) {}, true},
		{"all ops in turn", func(c *Config) { c.Mode = AllOpsInTurn }, true},
		{"bad strategy", func(c *Config) { c.Strategy = "crop_zoom" }, false},
		{"bad mode", func(c *Config) { c.Mode = 7 }, false},
		{"flip prob", func(c *Config) { c.FlipProb = 1.5 }, false},
		{"scale ratio", func(c *Config) { c.ScaleRatio = 0.8 }, false},
		{"NaN contrast", func(c *Config) { c.Contrast = math.NaN() }, false},
	} {
		cfg := DefaultConfig()
		tc.modify(&cfg)
		_, err := NewDSA(cfg)
		if (err == nil) != tc.ok {
			t.Errorf("%s: NewDSA error = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

// TestDSAOpsKnownImages checks each op, selected through the default strategy with fixed parameters,
// against the expected pixels.
func TestDSAOpsKnownImages(t *testing.T) {
	const n, h, w, c = 2, 6, 8, 3
	x := testImages(n, h, w, c, 1)
	a, err := NewDSA(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	expect := func(fn func(b, i, j, k int) float64) []float32 {
		out := make([]float32, len(x))
		for b := range n {
			for i := range h {
				for j := range w {
					for k := range c {
						out[at(h, w, c, b, i, j, k)] = float32(fn(b, i, j, k))
					}
				}
			}
		}
		return out
	}
	px := func(b, i, j, k int) float64 {
		if i < 0 || i >= h || j < 0 || j >= w {
			return 0
		}
		return float64(x[at(h, w, c, b, i, j, k)])
	}
	chanMean := func(img []float32, b, i, j int) float64 {
		s := 0.0
		for k := range c {
			s += float64(img[at(h, w, c, b, i, j, k)])
		}
		return s / c
	}
	imgMean := func(img []float32, b int) float64 {
		s := 0.0
		for i := range h * w * c {
			s += float64(img[b*h*w*c+i])
		}
		return s / (h * w * c)
	}
	cutH, cutW := a.cutoutSize(h), a.cutoutSize(w)

	for _, tc := range []struct {
		name string
		v    func(v *ParamValues)
		want []float32
		tol  float64
	}{
		{"identity color", func(v *ParamValues) { v.Op = OpColor }, x, 1e-6},
		{"brightness adds a constant", func(v *ParamValues) { v.Op = OpColor; v.Brightness = 0.3 },
			expect(func(b, i, j, k int) float64 { return px(b, i, j, k) + 0.3 }), 1e-6},
		{"saturation", func(v *ParamValues) { v.Op = OpColor; v.Saturation = 1.7 },
			expect(func(b, i, j, k int) float64 {
				m := chanMean(x, b, i, j)
				return (px(b, i, j, k)-m)*1.7 + m
			}), 1e-5},
		{"contrast", func(v *ParamValues) { v.Op = OpColor; v.Contrast = 0.6 },
			expect(func(b, i, j, k int) float64 {
				m := imgMean(x, b)
				return (px(b, i, j, k)-m)*0.6 + m
			}), 1e-5},
		{"flip reverses columns", func(v *ParamValues) { v.Op = OpFlip; v.Flip = true },
			expect(func(b, i, j, k int) float64 { return px(b, i, w-1-j, k) }), 0},
		{"no flip", func(v *ParamValues) { v.Op = OpFlip; v.Flip = false }, x, 0},
		{"crop shifts with zeros", func(v *ParamValues) { v.Op = OpCrop; v.CropX, v.CropY = 2, -1 },
			expect(func(b, i, j, k int) float64 { return px(b, i-1, j+2, k) }), 0},
		{"crop negative x", func(v *ParamValues) { v.Op = OpCrop; v.CropX, v.CropY = -3, 1 },
			expect(func(b, i, j, k int) float64 { return px(b, i+1, j-3, k) }), 0},
		{"cutout inside", func(v *ParamValues) { v.Op = OpCutout; v.CutoutX, v.CutoutY = 4, 3 },
			expect(func(b, i, j, k int) float64 {
				if i >= 3-cutH/2 && i < 3-cutH/2+cutH && j >= 4-cutW/2 && j < 4-cutW/2+cutW {
					return 0
				}
				return px(b, i, j, k)
			}), 0},
		{"cutout clipped at corner", func(v *ParamValues) { v.Op = OpCutout; v.CutoutX, v.CutoutY = 0, 6 },
			expect(func(b, i, j, k int) float64 {
				// The reference clamps the square's indices to the image: rows [6-3, 6) and columns [0, 2).
				if i >= 6-cutH/2 && j < cutW-cutW/2 {
					return 0
				}
				return px(b, i, j, k)
			}), 0},
		{"scale 1 is identity", func(v *ParamValues) { v.Op = OpScale }, x, 0},
		{"rotate 0 is identity", func(v *ParamValues) { v.Op = OpRotate }, x, 0},
		{"scale", func(v *ParamValues) { v.Op = OpScale; v.ScaleX, v.ScaleY = 1.15, 0.87 },
			refAffineTorch(x, n, h, w, c, [2][3]float64{{1.15, 0, 0}, {0, 0.87, 0}}, false, false), 1e-5},
		{"rotate", func(v *ParamValues) { v.Op = OpRotate; v.Rotate = 0.2 },
			refAffineTorch(x, n, h, w, c, [2][3]float64{
				{math.Cos(0.2), -math.Sin(0.2), 0}, {math.Sin(0.2), math.Cos(0.2), 0}}, false, false), 1e-5},
	} {
		v := IdentityValues()
		tc.v(&v)
		got := applyValues(t, a, v, x, n, h, w, c)
		if d := maxAbsDiff(got, tc.want); d > tc.tol {
			t.Errorf("%s: max |got-want| = %g > %g", tc.name, d, tc.tol)
		}
	}

	// The cutout square has the right size.
	v := IdentityValues()
	v.Op, v.CutoutX, v.CutoutY = OpCutout, 4, 3
	ones := make([]float32, len(x))
	for i := range ones {
		ones[i] = 1
	}
	zeros := 0
	for _, val := range applyValues(t, a, v, ones, n, h, w, c) {
		if val == 0 {
			zeros++
		}
	}
	if want := n * cutH * cutW * c; zeros != want {
		t.Errorf("cutout zeroed %d values, want %d", zeros, want)
	}
}

// TestDSAReferenceGrids checks the reference's mixed align_corners choices against an independent
// implementation of torch's affine_grid + grid_sample.
func TestDSAReferenceGrids(t *testing.T) {
	const n, h, w, c = 1, 7, 9, 2
	x := testImages(n, h, w, c, 2)
	cfg := DefaultConfig()
	cfg.ReferenceGrids = true
	a, err := NewDSA(cfg)
	if err != nil {
		t.Fatal(err)
	}
	v := IdentityValues()
	v.Op, v.ScaleX, v.ScaleY = OpScale, 1.1, 0.9
	got := applyValues(t, a, v, x, n, h, w, c)
	want := refAffineTorch(x, n, h, w, c, [2][3]float64{{1.1, 0, 0}, {0, 0.9, 0}}, false, true)
	if d := maxAbsDiff(got, want); d > 1e-5 {
		t.Errorf("reference scale: max diff %g", d)
	}
	v = IdentityValues()
	v.Op, v.Rotate = OpRotate, -0.25
	got = applyValues(t, a, v, x, n, h, w, c)
	cs, sn := math.Cos(-0.25), math.Sin(-0.25)
	want = refAffineTorch(x, n, h, w, c, [2][3]float64{{cs, -sn, 0}, {sn, cs, 0}}, true, false)
	if d := maxAbsDiff(got, want); d > 1e-5 {
		t.Errorf("reference rotate: max diff %g", d)
	}
	// With the reference grids a unit scale is not the identity.
	v = IdentityValues()
	v.Op = OpScale
	if d := maxAbsDiff(applyValues(t, a, v, x, n, h, w, c), x); d < 1e-3 {
		t.Errorf("reference-grid unit scale unexpectedly the identity (diff %g)", d)
	}
}

// TestDSAAllOpsInTurn checks that AllOpsInTurn composes the ops in the strategy's order.
func TestDSAAllOpsInTurn(t *testing.T) {
	const n, h, w, c = 2, 6, 6, 3
	x := testImages(n, h, w, c, 3)
	cfg := DefaultConfig()
	cfg.Strategy = "color_crop_flip"
	cfg.Mode = AllOpsInTurn
	all, err := NewDSA(cfg)
	if err != nil {
		t.Fatal(err)
	}
	v := IdentityValues()
	v.Brightness, v.CropX, v.CropY, v.Flip = 0.5, 1, 1, true
	got := applyValues(t, all, v, x, n, h, w, c)
	want := x
	for _, op := range []Op{OpColor, OpCrop, OpFlip} {
		single, err := NewDSA(Config{Strategy: op.String(), FlipProb: 0.5, ScaleRatio: 1.2, CropRatio: 0.125,
			CutoutRatio: 0.5, Brightness: 1, Saturation: 2, Contrast: 0.5})
		if err != nil {
			t.Fatal(err)
		}
		want = applyValues(t, single, v, want, n, h, w, c)
	}
	if d := maxAbsDiff(got, want); d > 1e-6 {
		t.Errorf("AllOpsInTurn differs from the ops in turn by %g", d)
	}
}

// TestDSAGradient compares the gradient of sum(wts * DSA(x)) with respect to x with central finite
// differences, in float64, for every op with fixed parameters, for drawn parameters in both modes.
func TestDSAGradient(t *testing.T) {
	const n, h, w, c = 2, 5, 6, 3
	size := n * h * w * c
	rng := rand.New(rand.NewPCG(4, 4))
	x0 := make([]float64, size)
	wts := make([]float64, size)
	for i := range x0 {
		x0[i] = rng.Float64()*2 - 1
		wts[i] = rng.Float64()*2 - 1
	}
	def, err := NewDSA(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	allCfg := DefaultConfig()
	allCfg.Mode = AllOpsInTurn
	all, err := NewDSA(allCfg)
	if err != nil {
		t.Fatal(err)
	}
	fixed := func(op Op, mod func(v *ParamValues)) func(x *Node) *Node {
		return func(x *Node) *Node {
			v := IdentityValues()
			v.Op = op
			mod(&v)
			return def.Apply(v.Const(x.Graph()), x)
		}
	}
	drawn := func(a *DSA, seed int64) func(x *Node) *Node {
		return func(x *Node) *Node {
			_, p := a.Draw(RNGStateFromSeedForGraph(x.Graph(), seed), n, h, w)
			return a.Apply(p, x)
		}
	}
	for _, tc := range []struct {
		name string
		fn   func(x *Node) *Node
	}{
		{"color", fixed(OpColor, func(v *ParamValues) { v.Brightness, v.Saturation, v.Contrast = 0.2, 1.6, 0.7 })},
		{"crop", fixed(OpCrop, func(v *ParamValues) { v.CropX, v.CropY = 1, -2 })},
		{"cutout", fixed(OpCutout, func(v *ParamValues) { v.CutoutX, v.CutoutY = 2, 1 })},
		{"flip", fixed(OpFlip, func(v *ParamValues) { v.Flip = true })},
		{"scale", fixed(OpScale, func(v *ParamValues) { v.ScaleX, v.ScaleY = 1.13, 0.91 })},
		{"rotate", fixed(OpRotate, func(v *ParamValues) { v.Rotate = 0.21 })},
		{"drawn one op per call", drawn(def, 11)},
		{"drawn all ops in turn", drawn(all, 12)},
	} {
		exec := MustNewExec(backend, func(x, wt *Node) []*Node {
			loss := ReduceAllSum(Mul(tc.fn(x), wt))
			return []*Node{loss, Gradient(loss, x)[0]}
		})
		wtT := tensors.FromFlatDataAndDimensions(wts, n, h, w, c)
		eval := func(xs []float64) (float64, []float64) {
			out := exec.MustExec(tensors.FromFlatDataAndDimensions(xs, n, h, w, c), wtT)
			return tensors.MustCopyFlatData[float64](out[0])[0], tensors.MustCopyFlatData[float64](out[1])
		}
		_, grad := eval(x0)
		const eps = 1e-4
		xs := append([]float64(nil), x0...)
		maxErr := 0.0
		for i := range size {
			xs[i] = x0[i] + eps
			lp, _ := eval(xs)
			xs[i] = x0[i] - eps
			lm, _ := eval(xs)
			xs[i] = x0[i]
			maxErr = max(maxErr, math.Abs((lp-lm)/(2*eps)-grad[i]))
		}
		if maxErr > 1e-7 {
			t.Errorf("%s: gradient differs from finite differences by %g", tc.name, maxErr)
		}
		exec.Finalize()
	}
}

// siameseOutputs runs Siamese (or Augment, if !siamese) on two batches with the context seeded by seed.
func siameseOutputs(t *testing.T, a *DSA, seed int64, siamese bool, x1, x2 []float32, n1, n2, h, w, c int) ([]float32, []float32) {
	t.Helper()
	ctx := context.New()
	if err := ctx.SetRNGStateFromSeed(seed); err != nil {
		t.Fatal(err)
	}
	exec := context.MustNewExec(backend, ctx, func(ctx *context.Context, x1, x2 *Node) []*Node {
		if siamese {
			return a.Siamese(ctx, x1, x2)
		}
		return []*Node{a.Augment(ctx, x1), a.Augment(ctx, x2)}
	})
	defer exec.Finalize()
	out := exec.MustExec(tensors.FromFlatDataAndDimensions(x1, n1, h, w, c), tensors.FromFlatDataAndDimensions(x2, n2, h, w, c))
	return tensors.MustCopyFlatData[float32](out[0]), tensors.MustCopyFlatData[float32](out[1])
}

// TestDSASiamese checks that a siamese call transforms every sample of both batches the same way,
// and that a non-siamese call draws per sample.
func TestDSASiamese(t *testing.T) {
	const h, w, c = 8, 8, 3
	img := func(k int) []float32 { return testImages(1, h, w, c, uint64(100+k)) }
	A, B := img(0), img(1)
	concat := func(imgs ...[]float32) []float32 {
		var out []float32
		for _, im := range imgs {
			out = append(out, im...)
		}
		return out
	}
	sz := h * w * c
	sample := func(batch []float32, k int) []float32 { return batch[k*sz : (k+1)*sz] }
	for _, mode := range []Mode{OneOpPerCall, AllOpsInTurn} {
		cfg := DefaultConfig()
		cfg.Mode = mode
		a, err := NewDSA(cfg)
		if err != nil {
			t.Fatal(err)
		}
		changed := 0
		for seed := int64(1); seed <= 6; seed++ {
			x1, x2 := concat(A, B, A), concat(B, A)
			o1, o2 := siameseOutputs(t, a, seed, true, x1, x2, 3, 2, h, w, c)
			if maxAbsDiff(sample(o1, 0), sample(o1, 2)) != 0 || maxAbsDiff(sample(o1, 0), sample(o2, 1)) != 0 ||
				maxAbsDiff(sample(o1, 1), sample(o2, 0)) != 0 {
				t.Errorf("%s seed %d: siamese outputs differ for the same input image", mode, seed)
			}
			if maxAbsDiff(sample(o1, 0), A) > 0 {
				changed++
			}
		}
		if changed == 0 {
			t.Errorf("%s: siamese DSA never changed the image", mode)
		}

		// Without siamese, the samples of a batch of copies of one image draw their own parameters.
		differ := false
		for seed := int64(1); seed <= 6 && !differ; seed++ {
			o1, _ := siameseOutputs(t, a, seed, false, concat(A, A, A, A), A, 4, 1, h, w, c)
			for k := 1; k < 4; k++ {
				if maxAbsDiff(sample(o1, 0), sample(o1, k)) > 0 {
					differ = true
				}
			}
		}
		if !differ {
			t.Errorf("%s: per-sample DSA gave identical samples for every seed", mode)
		}
	}
}

// TestDSASeeds checks that the same seed gives the same output and a different seed a different one,
// with the context's generator and with an explicit state.
func TestDSASeeds(t *testing.T) {
	const n, h, w, c = 4, 8, 8, 3
	x := testImages(n, h, w, c, 5)
	cfg := DefaultConfig()
	cfg.Mode = AllOpsInTurn // Every op, so that any seed changes the output.
	a, err := NewDSA(cfg)
	if err != nil {
		t.Fatal(err)
	}
	o1, _ := siameseOutputs(t, a, 42, false, x, x[:h*w*c], n, 1, h, w, c)
	o2, _ := siameseOutputs(t, a, 42, false, x, x[:h*w*c], n, 1, h, w, c)
	o3, _ := siameseOutputs(t, a, 43, false, x, x[:h*w*c], n, 1, h, w, c)
	if maxAbsDiff(o1, o2) != 0 {
		t.Error("same seed gave different outputs")
	}
	if maxAbsDiff(o1, o3) == 0 {
		t.Error("different seeds gave the same output")
	}

	explicit := func(seed int64) []float32 {
		out := MustExecOnce(backend, func(x *Node) *Node {
			_, p := a.Draw(RNGStateFromSeedForGraph(x.Graph(), seed), n, h, w)
			return a.Apply(p, x)
		}, tensors.FromFlatDataAndDimensions(x, n, h, w, c))
		return tensors.MustCopyFlatData[float32](out)
	}
	if maxAbsDiff(explicit(7), explicit(7)) != 0 || maxAbsDiff(explicit(7), explicit(8)) == 0 {
		t.Error("explicit RNG state: outputs do not follow the seed")
	}

	// Successive calls on one context advance its state.
	ctx := context.New()
	if err := ctx.SetRNGStateFromSeed(9); err != nil {
		t.Fatal(err)
	}
	exec := context.MustNewExec(backend, ctx, func(ctx *context.Context, x *Node) *Node { return a.Augment(ctx, x) })
	defer exec.Finalize()
	xt := tensors.FromFlatDataAndDimensions(x, n, h, w, c)
	s1 := tensors.MustCopyFlatData[float32](exec.MustExec(xt)[0])
	s2 := tensors.MustCopyFlatData[float32](exec.MustExec(xt)[0])
	if maxAbsDiff(s1, s2) == 0 {
		t.Error("two calls on the same context gave the same augmentation")
	}
}

// TestDSADraw checks the ranges and rough distribution of drawn parameters.
func TestDSADraw(t *testing.T) {
	const batch, h, w = 4000, 32, 32
	a, err := NewDSA(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	outs := MustExecOnceN(backend, func(g *Graph) []*Node {
		_, p := a.Draw(RNGStateFromSeedForGraph(g, 3), batch, h, w)
		return []*Node{p.Brightness, p.Saturation, p.Contrast, p.CropX, p.CropY, p.CutoutX, p.CutoutY,
			p.Flip, p.ScaleX, p.ScaleY, p.Rotate}
	})
	vals := make([][]float32, len(outs))
	for i, o := range outs {
		vals[i] = tensors.MustCopyFlatData[float32](o)
	}
	for _, tc := range []struct {
		name    string
		k       int
		lo, hi  float64
		integer bool
		mean    float64
	}{
		{"Brightness", 0, -0.5, 0.5, false, 0},
		{"Saturation", 1, 0, 2, false, 1},
		{"Contrast", 2, 0.5, 1.5, false, 1},
		{"CropX", 3, -4, 4, true, 0},
		{"CropY", 4, -4, 4, true, 0},
		{"CutoutX", 5, 0, 32, true, 16}, // side 16 is even: centres in [0, 32].
		{"CutoutY", 6, 0, 32, true, 16},
		{"Flip", 7, 0, 1, true, 0.5},
		{"ScaleX", 8, 1 / 1.2, 1.2, false, (1.2 + 1/1.2) / 2},
		{"ScaleY", 9, 1 / 1.2, 1.2, false, (1.2 + 1/1.2) / 2},
		{"Rotate", 10, -15 * math.Pi / 180, 15 * math.Pi / 180, false, 0},
	} {
		sum, lo, hi := 0.0, math.Inf(1), math.Inf(-1)
		for _, v := range vals[tc.k] {
			f := float64(v)
			sum += f
			lo, hi = min(lo, f), max(hi, f)
			if tc.integer && f != math.Round(f) {
				t.Errorf("%s: non-integer value %g", tc.name, f)
				break
			}
		}
		if lo < tc.lo-1e-6 || hi > tc.hi+1e-6 {
			t.Errorf("%s: values in [%g, %g], want within [%g, %g]", tc.name, lo, hi, tc.lo, tc.hi)
		}
		if tc.integer && (lo != tc.lo || hi != tc.hi) {
			t.Errorf("%s: integer values in [%g, %g], want every value of [%g, %g]", tc.name, lo, hi, tc.lo, tc.hi)
		}
		if mean := sum / batch; math.Abs(mean-tc.mean) > 0.05*(tc.hi-tc.lo) {
			t.Errorf("%s: mean %g, want about %g", tc.name, mean, tc.mean)
		}
	}

	// The op is drawn uniformly per call: count the draws over many calls of one graph.
	ops := MustExecOnce(backend, func(g *Graph) *Node {
		state := RNGStateFromSeedForGraph(g, 5)
		draws := make([]*Node, 600)
		for i := range draws {
			var p *Params
			state, p = a.Draw(state, 1, h, w)
			draws[i] = p.Op
		}
		return Stack(draws, 0)
	})
	counts := make([]int, numOps)
	for _, op := range tensors.MustCopyFlatData[int32](ops) {
		counts[op]++
	}
	for op, cnt := range counts {
		if cnt < 60 || cnt > 140 { // Expected 100, std ≈ 9.
			t.Errorf("op %s drawn %d times out of 600", Op(op), cnt)
		}
	}
}
