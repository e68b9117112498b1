package expert

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck

	"github.com/dcbench/dcbench/dcbench/models"
	"github.com/dcbench/dcbench/dcbench/nn"
)

// Arch is the architecture of the experts and of the MTT student: the reference ConvNet
// (Depth blocks of [conv 3x3 of Width channels with bias, normalisation, ReLU, 2x2 average
// pooling], then a linear classifier) written as a pure function of an explicit parameter
// list, so that a student network is a function of a vector that can be differentiated
// through (Logits).
type Arch struct {
	// Width is the number of channels of every convolution, Depth the number of blocks.
	Width, Depth int
	// Norm is "instancenorm" (the reference default: per-sample, per-channel normalisation
	// over height and width with a per-channel gain and offset) or "none".
	Norm string
	// H, W, C are the input image's height, width and channels; Classes the number of
	// classes.
	H, W, C, Classes int
}

// Tensor is one parameter tensor of an Arch: its name and its dimensions.
type Tensor struct {
	Name string
	Dims []int
}

// Size is the number of elements of the tensor.
func (t Tensor) Size() int {
	n := 1
	for _, d := range t.Dims {
		n *= d
	}
	return n
}

// ArchFor returns the Arch of a registered ConvNet model (convnet, convnetw32, convnetd1,
// convnetnn, ...: any model whose Embed is models.ConvNetEmbed, with instance norm or no
// norm, ReLU and average pooling) for h×w×c images and the given number of classes.
func ArchFor(modelName string, h, w, c, classes int) (Arch, error) {
	m, err := models.Get(modelName)
	if err != nil {
		return Arch{}, err
	}
	cfg := models.DefaultConvNet
	for k, v := range m.Params {
		switch k {
		case models.ParamConvNetWidth:
			cfg.Width, _ = v.(int)
		case models.ParamConvNetDepth:
			cfg.Depth, _ = v.(int)
		case models.ParamConvNetNorm:
			cfg.Norm, _ = v.(string)
		case models.ParamConvNetActivation:
			cfg.Activation, _ = v.(string)
		case models.ParamConvNetPooling:
			cfg.Pool, _ = v.(string)
		}
	}
	if !strings.HasPrefix(m.Name, "convnet") || m.Head != nil || cfg.Activation != "relu" || cfg.Pool != "avgpooling" {
		return Arch{}, fmt.Errorf("model %s: expert trajectories support the ConvNet family with ReLU and average pooling only (convnet, convnetw32/64/256, convnetd1..d4, convnetnn)", modelName)
	}
	a := Arch{Width: cfg.Width, Depth: cfg.Depth, Norm: cfg.Norm, H: h, W: w, C: c, Classes: classes}
	return a, a.Validate()
}

// Validate checks the architecture: positive sizes, a supported norm, and an image large
// enough for Depth poolings.
func (a Arch) Validate() error {
	switch {
	case a.Width < 1 || a.Depth < 1 || a.Depth > 6:
		return fmt.Errorf("expert: ConvNet width %d, depth %d out of range (width ≥ 1, depth 1..6)", a.Width, a.Depth)
	case a.H < 1 || a.W < 1 || a.C < 1 || a.Classes < 2:
		return fmt.Errorf("expert: bad input %dx%dx%d with %d classes", a.H, a.W, a.C, a.Classes)
	case a.Norm != "instancenorm" && a.Norm != "none":
		return fmt.Errorf("expert: normalisation %q not supported (instancenorm or none)", a.Norm)
	}
	h, w := a.featureSize()
	if h < 1 || w < 1 {
		return fmt.Errorf("expert: %dx%d images are too small for %d poolings", a.H, a.W, a.Depth)
	}
	return nil
}

// pad is the padding of block d (3 in the first block for 1-channel images, as the
// reference and models.ConvNetEmbed).
func (a Arch) pad(d int) int {
	if d == 0 && a.C == 1 {
		return 3
	}
	return 1
}

// featureSize is the spatial size after the last block.
func (a Arch) featureSize() (h, w int) {
	h, w = a.H, a.W
	for d := 0; d < a.Depth; d++ {
		p := a.pad(d)
		h, w = (h+2*p-2)/2, (w+2*p-2)/2
	}
	return
}

// Layout lists the parameter tensors in the order of the flat parameter vector. For each
// block d: "convD/weights" [3, 3, in, Width] (kernel row, kernel column, input channel,
// output channel), "convD/biases" [Width], and with instance norm "normD/gain" [Width]
// and "normD/offset" [Width]; then "classifier/weights" [F, Classes] (F = h·w·Width
// features flattened in NHWC order) and "classifier/biases" [Classes]. The flat vector is
// the concatenation of these tensors, each in row-major order: the layout of the expert
// buffers and of the MTT student.
func (a Arch) Layout() []Tensor {
	var out []Tensor
	in := a.C
	for d := 0; d < a.Depth; d++ {
		out = append(out, Tensor{fmt.Sprintf("conv%d/weights", d), []int{3, 3, in, a.Width}},
			Tensor{fmt.Sprintf("conv%d/biases", d), []int{a.Width}})
		if a.Norm == "instancenorm" {
			out = append(out, Tensor{fmt.Sprintf("norm%d/gain", d), []int{a.Width}},
				Tensor{fmt.Sprintf("norm%d/offset", d), []int{a.Width}})
		}
		in = a.Width
	}
	h, w := a.featureSize()
	f := h * w * a.Width
	return append(out, Tensor{"classifier/weights", []int{f, a.Classes}}, Tensor{"classifier/biases", []int{a.Classes}})
}

// NumParams is the length of the flat parameter vector.
func (a Arch) NumParams() int {
	n := 0
	for _, t := range a.Layout() {
		n += t.Size()
	}
	return n
}

// Init draws initial parameters as PyTorch's defaults (and nn.Conv2D/nn.Dense): weights
// and biases of the convolutions and of the classifier uniform in ±1/√fan_in, gains 1,
// offsets 0; a deterministic function of seed.
func (a Arch) Init(seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 0x696e6974)) // "init"
	flat := make([]float32, 0, a.NumParams())
	in := a.C
	for _, t := range a.Layout() {
		var fill func() float32
		switch {
		case strings.HasSuffix(t.Name, "/gain"):
			fill = func() float32 { return 1 }
		case strings.HasSuffix(t.Name, "/offset"):
			fill = func() float32 { return 0 }
		default:
			fanIn := 9 * in
			if strings.HasPrefix(t.Name, "classifier") {
				fanIn = a.Layout()[len(a.Layout())-2].Dims[0]
			}
			bound := 1 / math.Sqrt(float64(fanIn))
			fill = func() float32 { return float32((2*rng.Float64() - 1) * bound) }
		}
		for range t.Size() {
			flat = append(flat, fill())
		}
		if strings.HasSuffix(t.Name, "/biases") && strings.HasPrefix(t.Name, "conv") {
			in = a.Width
		}
	}
	return flat
}

// Split cuts a flat parameter vector into the tensors of Layout (sharing its memory). It
// returns an error when the length is not NumParams.
func (a Arch) Split(flat []float32) ([][]float32, error) {
	if len(flat) != a.NumParams() {
		return nil, fmt.Errorf("expert: parameter vector of length %d, want %d", len(flat), a.NumParams())
	}
	var out [][]float32
	off := 0
	for _, t := range a.Layout() {
		out = append(out, flat[off:off+t.Size():off+t.Size()])
		off += t.Size()
	}
	return out, nil
}

// Logits is the network as a function of its parameters: params are the tensors of
// Layout (as graph nodes, any float dtype, all the same), x is an NHWC batch; it returns the
// logits [N, Classes]. Every op is from package nn (or elementwise), so derivatives of any
// order with respect to the parameters and the images are correct on every backend.
func (a Arch) Logits(params []*Node, x *Node) *Node {
	layout := a.Layout()
	if len(params) != len(layout) {
		panic(fmt.Sprintf("expert.Arch.Logits: %d parameter tensors, want %d", len(params), len(layout)))
	}
	i := 0
	next := func() *Node { p := params[i]; i++; return p }
	for d := 0; d < a.Depth; d++ {
		w, b := next(), next()
		x = nn.ConvWith(x, w, b, a.pad(d), 1)
		if a.Norm == "instancenorm" {
			gain, offset := next(), next()
			mean := ReduceAndKeep(x, ReduceMean, 1, 2)
			centred := Sub(x, mean)
			variance := ReduceAndKeep(Mul(centred, centred), ReduceMean, 1, 2)
			x = Div(centred, Sqrt(AddScalar(variance, nn.NormEpsilon)))
			x = Add(Mul(x, ExpandLeftToRank(gain, 4)), ExpandLeftToRank(offset, 4))
		}
		x = nn.Relu(x)
		x = nn.AvgPool2D(x, 2)
	}
	x = Reshape(x, x.Shape().Dimensions[0], -1)
	w, b := next(), next()
	return Add(nn.MatMulLast(x, w), ExpandLeftToRank(b, 2))
}
