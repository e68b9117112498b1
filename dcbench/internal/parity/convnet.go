package parity

import (
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// SetConvNetFeatures creates, in ctx, the float64 variables of dcbench's ConvNet feature
// blocks (scopes conv<d>, norm<d>) from the case's arrays prefix+"<i>.weight"/"<i>.bias": the
// entries of the reference's ConvNet.features nn.Sequential, where a 4-D weight is block d's
// convolution (OIHW, converted) and a 1-D weight after it is block d's norm affine (gain,
// offset). It returns the number of blocks found.
func SetConvNetFeatures(t testing.TB, ctx *context.Context, c *Case, prefix string) int {
	t.Helper()
	var idx []int
	for name := range c.Arrays {
		if rest, ok := strings.CutPrefix(name, prefix); ok && strings.HasSuffix(rest, ".weight") {
			if i, err := strconv.Atoi(strings.TrimSuffix(rest, ".weight")); err == nil {
				idx = append(idx, i) // others (classifier.weight) are not feature layers
			}
		}
	}
	sort.Ints(idx)
	block := -1
	for _, i := range idx {
		w := c.Array(t, prefix+strconv.Itoa(i)+".weight")
		b := c.Array(t, prefix+strconv.Itoa(i)+".bias")
		switch len(w.Shape) {
		case 4:
			block++
			s := ctx.Inf("conv%d", block)
			s.VariableWithValue("weights", tensors.FromFlatDataAndDimensions(OIHWToHWIO(w).Data, w.Shape[2], w.Shape[3], w.Shape[1], w.Shape[0]))
			s.VariableWithValue("biases", tensors.FromFlatDataAndDimensions(append([]float64(nil), b.Data...), b.Shape...))
		case 1:
			s := ctx.Inf("norm%d", block)
			s.VariableWithValue("gain", tensors.FromFlatDataAndDimensions(append([]float64(nil), w.Data...), w.Shape...))
			s.VariableWithValue("offset", tensors.FromFlatDataAndDimensions(append([]float64(nil), b.Data...), b.Shape...))
		default:
			t.Fatalf("parity case %q: layer %d weight of shape %v", c.Name, i, w.Shape)
		}
	}
	return block + 1
}

// LinearToNHWC converts the reference's Linear weight wt [out, C·H·W] (over PyTorch's NCHW
// flattening of a c×h×w feature map) to dcbench's dense weight [H·W·C, out] (NHWC flattening).
func LinearToNHWC(wt Array, c, h, w int) []float64 {
	out := wt.Shape[0]
	v := make([]float64, len(wt.Data))
	for o := 0; o < out; o++ {
		for ch := 0; ch < c; ch++ {
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					v[((y*w+x)*c+ch)*out+o] = wt.Data[o*c*h*w+(ch*h+y)*w+x]
				}
			}
		}
	}
	return v
}

// SetClassifier creates in ctx (the model scope) the float64 variables classifier/weights
// [H·W·C, out] and classifier/biases of dcbench's ConvNet from the reference's Linear weight
// [out, C·H·W] and bias (arrays prefix+"weight", prefix+"bias"), through LinearToNHWC. c, h,
// w are the final feature map's dimensions.
func SetClassifier(t testing.TB, ctx *context.Context, cs *Case, prefix string, c, h, w int) {
	t.Helper()
	wt, b := cs.Array(t, prefix+"weight"), cs.Array(t, prefix+"bias")
	if wt.Shape[1] != c*h*w {
		t.Fatalf("parity case %q: classifier weight %v for a %dx%dx%d feature map", cs.Name, wt.Shape, h, w, c)
	}
	s := ctx.In("classifier")
	s.VariableWithValue("weights", tensors.FromFlatDataAndDimensions(LinearToNHWC(wt, c, h, w), c*h*w, wt.Shape[0]))
	s.VariableWithValue("biases", tensors.FromFlatDataAndDimensions(append([]float64(nil), b.Data...), b.Shape...))
}
