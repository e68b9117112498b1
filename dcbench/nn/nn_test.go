package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/gomlx/gomlx/backends"
	_ "github.com/gomlx/gomlx/backends/simplego"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"

	_ "github.com/dcbench/dcbench/dcbench/backend/gogemm" // the CPU backend
)

var backend backends.Backend

func TestMain(m *testing.M) {
	if os.Getenv("GOMLX_BACKEND") == "" {
		// Every float product, broadcast and sum runs on gogemm's host (min_flops=0,
		// min_host_elements=0), so the finite-difference checks cover those at first and
		// second order.
		os.Setenv("GOMLX_BACKEND", "gogemm:ops_sequential,min_flops=0,min_host_elements=0")
	}
	backend = backends.MustNew()
	os.Exit(m.Run())
}

// randSlice returns n values uniform in [-1, 1) from a fixed seed.
func randSlice(seed uint64, n int) []float64 {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]float64, n)
	for i := range out {
		out[i] = 2*r.Float64() - 1
	}
	return out
}

func prod(dims []int) int {
	p := 1
	for _, d := range dims {
		p *= d
	}
	return p
}

// naiveConv is a direct NHWC cross-correlation with zero padding, float64.
func naiveConv(x []float64, n, h, w, c int, k []float64, ks, out, pad, stride int) ([]float64, int, int) {
	oh := (h+2*pad-ks)/stride + 1
	ow := (w+2*pad-ks)/stride + 1
	y := make([]float64, n*oh*ow*out)
	for b := 0; b < n; b++ {
		for i := 0; i < oh; i++ {
			for j := 0; j < ow; j++ {
				for o := 0; o < out; o++ {
					var s float64
					for di := 0; di < ks; di++ {
						for dj := 0; dj < ks; dj++ {
							yi, xj := i*stride+di-pad, j*stride+dj-pad
							if yi < 0 || yi >= h || xj < 0 || xj >= w {
								continue
							}
							for ci := 0; ci < c; ci++ {
								s += x[((b*h+yi)*w+xj)*c+ci] * k[((di*ks+dj)*c+ci)*out+o]
							}
						}
					}
					y[((b*oh+i)*ow+j)*out+o] = s
				}
			}
		}
	}
	return y, oh, ow
}

func TestConvMatchesDirect(t *testing.T) {
	cases := []struct {
		name                       string
		n, h, w, c, out, k, p, str int
	}{
		{"3x3 same", 2, 5, 6, 3, 4, 3, 1, 1},
		{"3x3 stride2 even", 1, 6, 6, 2, 3, 3, 1, 2},
		{"3x3 stride2 odd", 1, 7, 5, 2, 3, 3, 1, 2},
		{"1x1 stride2", 2, 6, 4, 3, 2, 1, 0, 2},
		{"5x5 valid", 1, 8, 7, 2, 2, 5, 0, 1},
		{"3x3 pad3 (MNIST first layer)", 1, 4, 4, 1, 2, 3, 3, 1},
		{"5x5 pad2", 1, 6, 6, 2, 2, 5, 2, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			x := randSlice(1, tc.n*tc.h*tc.w*tc.c)
			k := randSlice(2, tc.k*tc.k*tc.c*tc.out)
			want, oh, ow := naiveConv(x, tc.n, tc.h, tc.w, tc.c, k, tc.k, tc.out, tc.p, tc.str)
			xt := tensors.FromFlatDataAndDimensions(x, tc.n, tc.h, tc.w, tc.c)
			kt := tensors.FromFlatDataAndDimensions(k, tc.k, tc.k, tc.c, tc.out)
			got := MustExecOnce(backend, func(x, k *Node) *Node { return ConvWith(x, k, nil, tc.p, tc.str) }, xt, kt)
			if d := got.Shape().Dimensions; d[1] != oh || d[2] != ow || d[3] != tc.out {
				t.Fatalf("shape %v, want [%d %d %d %d]", d, tc.n, oh, ow, tc.out)
			}
			flat := got.Value().([][][][]float64)
			i := 0
			for _, a := range flat {
				for _, b := range a {
					for _, c := range b {
						for _, v := range c {
							if math.Abs(v-want[i]) > 1e-9 {
								t.Fatalf("element %d = %g, want %g", i, v, want[i])
							}
							i++
						}
					}
				}
			}
		})
	}
}

// fdCheck compares the gradient of the scalar function f at x (float64, shape dims) with
// central finite differences at up to probes coordinates.
func fdCheck(t *testing.T, name string, dims []int, f func(x *Node) *Node, probes int, tol float64) {
	t.Helper()
	x := randSlice(7, prod(dims))
	xt := tensors.FromFlatDataAndDimensions(x, dims...)
	grad := MustExecOnce(backend, func(x *Node) *Node {
		return Gradient(f(x), x)[0]
	}, xt)
	gflat := tensors.MustCopyFlatData[float64](grad)
	eval := func(v []float64) float64 {
		out := MustExecOnce(backend, f, tensors.FromFlatDataAndDimensions(v, dims...))
		return out.Value().(float64)
	}
	r := rand.New(rand.NewPCG(3, 4))
	const eps = 1e-5
	for p := 0; p < probes; p++ {
		i := r.IntN(len(x))
		if p < len(x) && len(x) <= probes {
			i = p
		}
		xp := append([]float64(nil), x...)
		xm := append([]float64(nil), x...)
		xp[i] += eps
		xm[i] -= eps
		fd := (eval(xp) - eval(xm)) / (2 * eps)
		if diff := math.Abs(fd - gflat[i]); diff > tol*(1+math.Abs(fd)) {
			t.Errorf("%s: d/dx[%d] = %.8g by autodiff, %.8g by finite differences", name, i, gflat[i], fd)
		}
	}
}

// weighted returns sum(y * fixed random weights), a scalar that depends on every output.
func weighted(y *Node) *Node {
	w := Const(y.Graph(), randSlice(11, y.Shape().Size()))
	return ReduceAllSum(Mul(y, Reshape(w, y.Shape().Dimensions...)))
}

func TestFirstOrderGradients(t *testing.T) {
	kernel := func(g *Graph, k, c, out int) *Node {
		return Reshape(Const(g, randSlice(5, k*k*c*out)), k, k, c, out)
	}
	cases := []struct {
		name string
		dims []int
		f    func(x *Node) *Node
	}{
		{"ShiftZero", []int{2, 3, 4}, func(x *Node) *Node { return weighted(ShiftZero(x, 1, 2)) }},
		{"Shift2D", []int{1, 4, 4, 2}, func(x *Node) *Node { return weighted(Shift2D(x, -1, 2)) }},
		{"CropAxis", []int{2, 5, 3}, func(x *Node) *Node { return weighted(CropAxis(x, 1, 1, 4)) }},
		{"ZeroPadAxis", []int{2, 3, 3}, func(x *Node) *Node { return weighted(ZeroPadAxis(x, 2, 1, 2)) }},
		{"Subsample2", []int{1, 5, 4, 2}, func(x *Node) *Node { return weighted(Subsample2(x, 1)) }},
		{"Conv3x3", []int{2, 5, 5, 3}, func(x *Node) *Node { return weighted(ConvWith(x, kernel(x.Graph(), 3, 3, 4), nil, 1, 1)) }},
		{"Conv3x3 stride2", []int{1, 6, 5, 2}, func(x *Node) *Node { return weighted(ConvWith(x, kernel(x.Graph(), 3, 2, 3), nil, 1, 2)) }},
		{"AvgPool2D", []int{1, 5, 4, 2}, func(x *Node) *Node { return weighted(AvgPool2D(x, 2)) }},
		{"MaxPool2D", []int{1, 4, 4, 2}, func(x *Node) *Node { return weighted(MaxPool2D(x, 2)) }},
		{"Im2Col", []int{1, 4, 3, 2}, func(x *Node) *Node { return weighted(Im2Col(x, 3, 1)) }},
		{"Col2Im", []int{1, 3, 4, 18}, func(x *Node) *Node { return weighted(Col2Im(x, 3, 1, 2)) }},
		{"MatMulLast", []int{2, 3, 4}, func(x *Node) *Node { return weighted(MatMulLast(x, Reshape(Const(x.Graph(), randSlice(9, 20)), 4, 5))) }},
		{"matMulTN", []int{6, 3}, func(x *Node) *Node { return weighted(matMulTN(x, Reshape(Const(x.Graph(), randSlice(9, 30)), 6, 5))) }},
		{"BatchMatMul", []int{2, 3, 4}, func(x *Node) *Node {
			return weighted(BatchMatMul(x, Reshape(Const(x.Graph(), randSlice(9, 40)), 2, 4, 5)))
		}},
		{"BatchMatMul rhs", []int{2, 4, 5}, func(x *Node) *Node {
			return weighted(BatchMatMul(Reshape(Const(x.Graph(), randSlice(9, 24)), 2, 3, 4), x))
		}},
		{"Relu", []int{3, 4}, func(x *Node) *Node { return weighted(Relu(x)) }},
		{"standardize", []int{2, 3, 4, 3}, func(x *Node) *Node { return weighted(standardize(x, 1, 2)) }},
		{"normAffine", []int{2, 3, 4, 3}, func(x *Node) *Node {
			gain, offset := Const(x.Graph(), randSlice(7, 3)), Const(x.Graph(), randSlice(8, 3))
			return weighted(normAffine(x, gain, offset, 1, 2))
		}},
		{"CrossEntropy", []int{4, 5}, func(x *Node) *Node {
			return CrossEntropy(x, Const(x.Graph(), []int32{0, 3, 4, 1}))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fdCheck(t, tc.name, tc.dims, tc.f, 24, 1e-6)
		})
	}
}

// TestSecondOrderBatchMatMul checks d/da ‖∂L/∂b‖² through BatchMatMul (attention's pattern).
func TestSecondOrderBatchMatMul(t *testing.T) {
	f := func(a *Node) *Node {
		b := Reshape(Const(a.Graph(), randSlice(5, 2*4*3)), 2, 4, 3)
		loss := weighted(Tanh(BatchMatMul(a, b)))
		gb := Gradient(loss, b)[0]
		return ReduceAllSum(Mul(gb, gb))
	}
	fdCheck(t, "BatchMatMul second order", []int{2, 3, 4}, f, 24, 1e-5)
}

// TestSecondOrderGradients checks d/dx ‖∂L/∂W‖² — the gradient-matching pattern of DC/DSA —
// against finite differences, through convolution, normalisation, pooling and ReLU.
func TestSecondOrderGradients(t *testing.T) {
	for _, pool := range []string{"avgpooling", "maxpooling"} {
		for _, stride := range []int{1, 2} {
			name := fmt.Sprintf("%s/stride%d", pool, stride)
			t.Run(name, func(t *testing.T) {
				f := func(x *Node) *Node {
					g := x.Graph()
					w := Reshape(Const(g, randSlice(5, 3*3*2*3)), 3, 3, 2, 3)
					h := ConvWith(x, w, nil, 1, stride)
					if stride == 1 {
						h = standardize(h, 1, 2)
					} else { // the instance norm of the ConvNet, with a gain and offset
						h = normAffine(h, Const(g, randSlice(7, 3)), Const(g, randSlice(8, 3)), 1, 2)
					}
					h = Relu(h)
					h, _ = Pool(pool, h)
					loss := weighted(h)
					gw := Gradient(loss, w)[0]
					return ReduceAllSum(Mul(gw, gw))
				}
				fdCheck(t, name, []int{2, 4, 4, 2}, f, 16, 1e-5)
			})
		}
	}
}

// TestNormAffineValue checks the instance norm's value against a direct float64 computation
// of PyTorch's GroupNorm(C, C): per sample and channel, (x − mean)/sqrt(var + eps)·gain +
// offset with the biased variance over height and width.
func TestNormAffineValue(t *testing.T) {
	n, h, w, c := 2, 3, 4, 3
	xs, gs, os_ := randSlice(3, n*h*w*c), randSlice(7, c), randSlice(8, c)
	for i := range xs {
		xs[i] = 3*xs[i] + float64(i%c) // channels with different means and scales
	}
	got := MustExecOnce(backend, func(x *Node) *Node {
		g := x.Graph()
		return normAffine(x, Const(g, gs), Const(g, os_), 1, 2)
	}, tensors.FromFlatDataAndDimensions(xs, n, h, w, c))
	var out []float64
	tensors.MustConstFlatData(got, func(f []float64) { out = append(out, f...) })
	for b := 0; b < n; b++ {
		for ch := 0; ch < c; ch++ {
			var mean, sq float64
			for p := 0; p < h*w; p++ {
				mean += xs[(b*h*w+p)*c+ch]
			}
			mean /= float64(h * w)
			for p := 0; p < h*w; p++ {
				d := xs[(b*h*w+p)*c+ch] - mean
				sq += d * d
			}
			std := math.Sqrt(sq/float64(h*w) + NormEpsilon)
			for p := 0; p < h*w; p++ {
				i := (b*h*w+p)*c + ch
				want := (xs[i]-mean)/std*gs[ch] + os_[ch]
				if math.Abs(out[i]-want) > 1e-9 {
					t.Fatalf("sample %d channel %d pixel %d: %g, want %g", b, ch, p, out[i], want)
				}
			}
		}
	}
}
