package models

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/dcbench/dcbench/dcbench/internal/catch"
	"github.com/dcbench/dcbench/dcbench/nn"
)

// Hand-count helpers: a k×k convolution from in to out channels, a linear layer (with bias),
// and a normalisation with a per-channel affine transform (instance or batch norm).
func convP(in, out, k int, bias bool) int {
	n := in * out * k * k
	if bias {
		n += out
	}
	return n
}
func linP(in, out int) int { return in*out + out }
func normP(c int) int      { return 2 * c }

// resnetP counts a CIFAR ResNet by hand: stem conv3x3 (c→64, no bias) + norm; each block's
// convolutions (no bias) and norms, plus a 1x1 shortcut conv + norm when the stride or the
// width changes; the classifier on the 512·expansion pooled features.
func resnetP(c, classes int, bottleneck bool, blocks [4]int) int {
	n := convP(c, 64, 3, false) + normP(64)
	in := 64
	for s, planes := range []int{64, 128, 256, 512} {
		for b := 0; b < blocks[s]; b++ {
			out := planes
			if bottleneck {
				out = 4 * planes
				n += convP(in, planes, 1, false) + normP(planes) + convP(planes, planes, 3, false) + normP(planes) +
					convP(planes, out, 1, false) + normP(out)
			} else {
				n += convP(in, planes, 3, false) + normP(planes) + convP(planes, planes, 3, false) + normP(planes)
			}
			if (b == 0 && s > 0) || in != out {
				n += convP(in, out, 1, false) + normP(out)
			}
			in = out
		}
	}
	return n + linP(in, classes)
}

// lenetP: conv5x5 c→6, conv5x5 6→16, then 16·s·s features (s = 5 for 32x32 and padded
// 28x28, 13 for 64x64) → 120 → 84 → classes.
func lenetP(c, s, classes int) int {
	return convP(c, 6, 5, true) + convP(6, 16, 5, true) + linP(16*s*s, 120) + linP(120, 84) + linP(84, classes)
}

// alexnetP: conv5x5 c→128, 128→192, conv3x3 192→256, 256→192, 192→192 (biases), optional
// batch norms, then 192·s·s features (s = 4 for 32x32 and padded 28x28, 8 for 64x64).
func alexnetP(c, s, classes int, bn bool) int {
	n := convP(c, 128, 5, true) + convP(128, 192, 5, true) + convP(192, 256, 3, true) + convP(256, 192, 3, true) +
		convP(192, 192, 3, true) + linP(192*s*s, classes)
	if bn {
		n += normP(128) + normP(192) + normP(256) + normP(192) + normP(192)
	}
	return n
}

// vgg11P: eight conv3x3 (bias) each with a norm, widths 64, 128, 256, 256, 512×4, then
// 512·s·s features (s = 1 for 32x32 and padded 28x28, 2 for 64x64).
func vgg11P(c, s, classes int) int {
	n := 0
	in := c
	for _, out := range []int{64, 128, 256, 256, 512, 512, 512, 512} {
		n += convP(in, out, 3, true) + normP(out)
		in = out
	}
	return n + linP(512*s*s, classes)
}

// vitP: patch embedding Linear(p·p·c, 512); positional embedding (patches+1)·512; class token
// 512; 6 blocks of [LayerNorm, to_qkv 512→1536 without bias, to_out 512→512, LayerNorm,
// MLP 512→512→512]; head LayerNorm + Linear(512, classes).
func vitP(c, patches, classes int) int {
	block := normP(512) + 512*3*512 + linP(512, 512) + normP(512) + linP(512, 512) + linP(512, 512)
	return linP(4*4*c, 512) + (patches+1)*512 + 512 + 6*block + normP(512) + linP(512, classes)
}

// Published counts of the CIFAR ResNets (kuangliu/pytorch-cifar, the reference's source, with
// 10 classes), to cross-check the hand count.
const (
	resnet18Published  = 11_173_962
	resnet34Published  = 21_282_122
	resnet50Published  = 23_520_842
	resnet152Published = 58_156_618
)

// executedElsewhere marks the models whose forward pass at 64x64 and 28x28 is checked by
// building the graph only (shapes and parameter counts are static), because a model of the
// same code runs there: resnet18 for the ResNets, alexnet and vgg11 for their BN variants.
// It keeps the package tests short on 2 CPU cores.
var executedElsewhere = map[string]bool{"resnet18bn": true, "resnet34": true, "resnet50": true,
	"resnet152": true, "resnet152bn": true, "alexnetbn": true, "vgg11bn": true}

// slowProbe marks the models whose CIFAR Probe (several seconds each) is replaced by a
// graph-only build with -short.
var slowProbe = map[string]bool{"resnet152": true, "resnet152bn": true}

var zooModels = []string{"resnet18", "resnet18bn", "resnet34", "resnet50", "resnet152", "resnet152bn",
	"vit", "lenet", "alexnet", "alexnetbn", "vgg11", "vgg11bn"}

// buildOnly builds m's graph for 2 images of h×w×c without compiling or running it, and
// returns the logits shape, the trainable parameter count (as Probe) and the number of
// batch-norm running-statistics variables.
func buildOnly(m *Model, h, w, c, classes int) (logits shapes.Shape, params, running int, err error) {
	err = catch.Run(func() {
		g := NewGraph(backend, "zoo_build_only")
		defer g.Finalize()
		ctx := context.New()
		x := Parameter(g, "images", shapes.Make(dtypes.Float32, 2, h, w, c))
		logits = m.Logits(ctx, x, classes).Shape()
		for v := range ctx.IterVariables() {
			switch {
			case v.Trainable && v.DType().IsFloat():
				params += v.Shape().Size()
			case v.Name() == "running_mean" || v.Name() == "running_var":
				running++
			}
		}
	})
	return
}

func TestZooRegistered(t *testing.T) {
	for _, name := range zooModels {
		m, err := Get(name)
		if err != nil {
			t.Fatal(err)
		}
		if m.Description == "" {
			t.Errorf("%s has no description", name)
		}
	}
	for _, alias := range []string{"ResNet-18", "resnet_18_bn", "ViT", "VGG-11", "AlexNet-BN", "ResNet-152"} {
		if _, err := Get(alias); err != nil {
			t.Errorf("Get(%q): %v", alias, err)
		}
	}
}

// TestZooShapesAndParameters checks the logits shape and the parameter count of every zoo
// model for CIFAR (32x32x3, 10 classes), TinyImageNet (64x64x3, 200 classes) and MNIST
// (28x28x1, 10 classes). CIFAR runs Probe (except ResNet152 with -short); the other sizes run
// Probe for one model of each family (see executedElsewhere) and build the others' graphs.
func TestZooShapesAndParameters(t *testing.T) {
	r18 := ResNet18Config.Blocks
	r34 := ResNet34Config.Blocks
	r50 := ResNet50Config.Blocks
	r152 := ResNet152Config.Blocks
	if got := resnetP(3, 10, false, r18); got != resnet18Published {
		t.Fatalf("hand count ResNet18 %d, published %d", got, resnet18Published)
	}
	if got := resnetP(3, 10, false, r34); got != resnet34Published {
		t.Fatalf("hand count ResNet34 %d, published %d", got, resnet34Published)
	}
	if got := resnetP(3, 10, true, r50); got != resnet50Published {
		t.Fatalf("hand count ResNet50 %d, published %d", got, resnet50Published)
	}
	if got := resnetP(3, 10, true, r152); got != resnet152Published {
		t.Fatalf("hand count ResNet152 %d, published %d", got, resnet152Published)
	}
	type size struct{ h, w, c, classes int }
	cifar, tiny, mnist := size{32, 32, 3, 10}, size{64, 64, 3, 200}, size{28, 28, 1, 10}
	cases := []struct {
		model string
		in    size
		want  int
	}{
		// ResNets: global average pooling makes the count independent of the image size.
		{"resnet18", cifar, 11_173_962},
		{"resnet18", tiny, resnetP(3, 200, false, r18)},
		{"resnet18", mnist, resnetP(1, 10, false, r18)},
		{"resnet18bn", cifar, 11_173_962}, // batch norm has the same 2 affine parameters per channel
		{"resnet18bn", tiny, resnetP(3, 200, false, r18)},
		{"resnet18bn", mnist, resnetP(1, 10, false, r18)},
		{"resnet34", cifar, 21_282_122},
		{"resnet34", tiny, resnetP(3, 200, false, r34)},
		{"resnet34", mnist, resnetP(1, 10, false, r34)},
		{"resnet50", cifar, 23_520_842},
		{"resnet50", tiny, resnetP(3, 200, true, r50)},
		{"resnet50", mnist, resnetP(1, 10, true, r50)},
		{"resnet152", cifar, 58_156_618},
		{"resnet152", tiny, resnetP(3, 200, true, r152)},
		{"resnet152", mnist, resnetP(1, 10, true, r152)},
		{"resnet152bn", cifar, 58_156_618},
		{"resnet152bn", tiny, resnetP(3, 200, true, r152)},
		{"resnet152bn", mnist, resnetP(1, 10, true, r152)},
		// ViT: 64 patches of 4·4·3 for CIFAR (see ViTEmbed: 9,523,722), 256 for 64x64, 49 of
		// 4·4·1 for MNIST.
		{"vit", cifar, 9_523_722},
		{"vit", tiny, vitP(3, 256, 200)},
		{"vit", mnist, vitP(1, 49, 10)},
		// LeNet: 456 + 2,416 + 48,120 + 10,164 + 850.
		{"lenet", cifar, 62_006},
		{"lenet", tiny, lenetP(3, 13, 200)},
		{"lenet", mnist, lenetP(1, 5, 10)},
		// AlexNet: 9,728 + 614,592 + 442,624 + 442,560 + 331,968 + 30,730; BN adds 2·960.
		{"alexnet", cifar, 1_872_202},
		{"alexnet", tiny, alexnetP(3, 8, 200, false)},
		{"alexnet", mnist, alexnetP(1, 4, 10, false)},
		{"alexnetbn", cifar, 1_874_122},
		{"alexnetbn", tiny, alexnetP(3, 8, 200, true)},
		{"alexnetbn", mnist, alexnetP(1, 4, 10, true)},
		// VGG11: convolutions 9,220,480, norms 5,504, linear 5,130.
		{"vgg11", cifar, 9_231_114},
		{"vgg11", tiny, vgg11P(3, 2, 200)},
		{"vgg11", mnist, vgg11P(1, 1, 10)},
		{"vgg11bn", cifar, 9_231_114},
		{"vgg11bn", tiny, vgg11P(3, 2, 200)},
		{"vgg11bn", mnist, vgg11P(1, 1, 10)},
	}
	// Cross-check the literal CIFAR numbers against the hand-count helpers.
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"vit", vitP(3, 64, 10), 9_523_722},
		{"lenet", lenetP(3, 5, 10), 62_006},
		{"alexnet", alexnetP(3, 4, 10, false), 1_872_202},
		{"alexnetbn", alexnetP(3, 4, 10, true), 1_874_122},
		{"vgg11", vgg11P(3, 1, 10), 9_231_114},
	} {
		if c.got != c.want {
			t.Errorf("hand count %s %d, literal %d", c.name, c.got, c.want)
		}
	}
	for _, tc := range cases {
		in := tc.in
		t.Run(fmt.Sprintf("%s/%dx%dx%d", tc.model, in.h, in.w, in.c), func(t *testing.T) {
			m, err := Get(tc.model)
			if err != nil {
				t.Fatal(err)
			}
			var shape shapes.Shape
			var n int
			execute := !executedElsewhere[tc.model]
			if in == cifar {
				execute = !(slowProbe[tc.model] && testing.Short())
			}
			if execute {
				shape, n, err = Probe(backend, m, in.h, in.w, in.c, in.classes)
			} else {
				shape, n, _, err = buildOnly(m, in.h, in.w, in.c, in.classes)
			}
			if err != nil {
				t.Fatal(err)
			}
			if n != tc.want {
				t.Errorf("%d parameters, want %d", n, tc.want)
			}
			if d := shape.Dimensions; len(d) != 2 || d[0] != 2 || d[1] != in.classes {
				t.Errorf("logits shape %v, want [2 %d]", d, in.classes)
			}
		})
	}
}

// TestZooNormVariables checks that exactly the batch-norm variants keep running statistics
// (two variables per norm layer) and that they are not trainable.
func TestZooNormVariables(t *testing.T) {
	// Norm layers: ResNet18 stem 1 + 8 blocks·2 + 3 shortcuts = 20; ResNet152 1 + 50·3 + 4 =
	// 155; AlexNet 5; VGG11 8.
	want := map[string]int{"resnet18bn": 2 * 20, "resnet152bn": 2 * 155, "alexnetbn": 2 * 5, "vgg11bn": 2 * 8}
	for _, name := range zooModels {
		m, _ := Get(name)
		_, _, running, err := buildOnly(m, 32, 32, 3, 10)
		if err != nil {
			t.Fatal(err)
		}
		if running != want[name] {
			t.Errorf("%s: %d running-statistics variables, want %d", name, running, want[name])
		}
	}
}

// randomImages returns n fixed pseudo-random NHWC images with values in [-1, 1).
func randomImages(seed uint64, n, h, w, c int) *tensors.Tensor {
	r := rand.New(rand.NewPCG(seed, 7))
	data := make([]float32, n*h*w*c)
	for i := range data {
		data[i] = float32(2*r.Float64() - 1)
	}
	return tensors.FromFlatDataAndDimensions(data, n, h, w, c)
}

// stack concatenates batches of images (on the host).
func stack(ts ...*tensors.Tensor) *tensors.Tensor {
	var data []float32
	dims := ts[0].Shape().Clone().Dimensions
	dims[0] = 0
	for _, t := range ts {
		data = append(data, tensors.MustCopyFlatData[float32](t)...)
		dims[0] += t.Shape().Dimensions[0]
	}
	return tensors.FromFlatDataAndDimensions(data, dims...)
}

func flat(t *tensors.Tensor) []float32 { return tensors.MustCopyFlatData[float32](t) }

// maxAbsDiff is the largest |a[i] - b[i]| over the first n elements.
func maxAbsDiff(a, b []float32, n int) float64 {
	d := 0.0
	for i := 0; i < n; i++ {
		d = math.Max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

// TestBatchNormArithmetic checks nn.BatchNorm numerically as the zoo's BN models use it:
// batch statistics and a momentum-0.1 update of the running statistics (unbiased variance)
// in training mode; the running statistics in inference mode.
func TestBatchNormArithmetic(t *testing.T) {
	// x [N=2, H=1, W=2, C=2]: channel 0 holds 1, 2, 3, 4 (mean 2.5, biased var 1.25, unbiased
	// 5/3); channel 1 holds 0, 0, 2, 2 (mean 1, biased var 1, unbiased 4/3).
	x := tensors.FromFlatDataAndDimensions([]float32{1, 0, 2, 0, 3, 2, 4, 2}, 2, 1, 2, 2)
	ctx := context.New().Checked(false) // the inference graph reuses the training graph's variables
	run := func(training bool) []float32 {
		exec := context.MustNewExec(backend, ctx, func(ctx *context.Context, x *Node) *Node {
			ctx.SetTraining(x.Graph(), training)
			return nn.BatchNorm(ctx.In("bn"), x)
		})
		defer exec.Finalize()
		return flat(exec.MustExec(x)[0])
	}
	stats := func() (mean, variance []float32) {
		for v := range ctx.IterVariables() {
			switch v.Name() {
			case "running_mean":
				mean = flat(v.MustValue())
			case "running_var":
				variance = flat(v.MustValue())
			}
		}
		return
	}
	eps := nn.NormEpsilon
	train := run(true)
	mean, variance := []float64{2.5, 1}, []float64{1.25, 1}
	xs := []float64{1, 0, 2, 0, 3, 2, 4, 2}
	for i, v := range xs {
		c := i % 2
		want := (v - mean[c]) / math.Sqrt(variance[c]+eps)
		if math.Abs(float64(train[i])-want) > 1e-5 {
			t.Errorf("training output[%d] = %g, want %g (batch statistics)", i, train[i], want)
		}
	}
	rm, rv := stats()
	wantRM := []float64{0.1 * 2.5, 0.1 * 1}
	wantRV := []float64{0.9 + 0.1*5.0/3, 0.9 + 0.1*4.0/3}
	for c := 0; c < 2; c++ {
		if math.Abs(float64(rm[c])-wantRM[c]) > 1e-6 || math.Abs(float64(rv[c])-wantRV[c]) > 1e-6 {
			t.Errorf("running stats channel %d: mean %g var %g, want %g %g", c, rm[c], rv[c], wantRM[c], wantRV[c])
		}
	}
	eval := run(false)
	for i, v := range xs {
		c := i % 2
		want := (v - wantRM[c]) / math.Sqrt(wantRV[c]+eps)
		if math.Abs(float64(eval[i])-want) > 1e-5 {
			t.Errorf("inference output[%d] = %g, want %g (running statistics)", i, eval[i], want)
		}
	}
	if rm2, _ := stats(); rm2[0] != rm[0] {
		t.Errorf("inference changed the running mean: %g → %g", rm[0], rm2[0])
	}
}

// TestBatchNormModelTrainEval checks a BN model end to end: a training-mode call moves every
// running statistic; in inference mode a sample's logits do not depend on the rest of the
// batch (running statistics), while in training mode they do (batch statistics).
func TestBatchNormModelTrainEval(t *testing.T) {
	m, _ := Get("alexnetbn")
	a, b, c := randomImages(1, 1, 16, 16, 3), randomImages(2, 1, 16, 16, 3), randomImages(3, 1, 16, 16, 3)
	ab, ac := stack(a, b), stack(a, c)
	ctx := context.New().Checked(false) // both graphs share the variables
	logits := func(training bool) *context.Exec {
		return context.MustNewExec(backend, ctx, func(ctx *context.Context, x *Node) *Node {
			ctx.SetTraining(x.Graph(), training)
			return m.Logits(ctx, x, 10)
		})
	}
	trainExec, evalExec := logits(true), logits(false)
	defer trainExec.Finalize()
	defer evalExec.Finalize()
	trainAB := flat(trainExec.MustExec(ab)[0])
	moved := 0
	for v := range ctx.IterVariables() {
		if v.Name() != "running_mean" && v.Name() != "running_var" {
			continue
		}
		if v.Trainable {
			t.Errorf("%s is trainable", v.ScopeAndName())
		}
		init := float32(0)
		if v.Name() == "running_var" {
			init = 1
		}
		for _, x := range flat(v.MustValue()) {
			if x != init {
				moved++
				break
			}
		}
	}
	if moved != 10 {
		t.Errorf("%d of 10 running statistics moved after a training-mode call", moved)
	}
	evalAB, evalAC := flat(evalExec.MustExec(ab)[0]), flat(evalExec.MustExec(ac)[0])
	if d := maxAbsDiff(evalAB, evalAC, 10); d > 1e-5 {
		t.Errorf("inference logits of image A depend on the batch (max diff %g)", d)
	}
	if d := maxAbsDiff(evalAB, trainAB, 10); d < 1e-4 {
		t.Errorf("inference and training logits agree (max diff %g): running statistics unused", d)
	}
	trainAC := flat(trainExec.MustExec(ac)[0])
	if d := maxAbsDiff(trainAB, trainAC, 10); d < 1e-4 {
		t.Errorf("training logits of image A do not depend on the batch (max diff %g)", d)
	}
}

// TestViTDropout checks, on a small ViT (same code, dim 32), that dropout is random in
// training mode and off in inference mode, and that it is the only train/eval difference.
func TestViTDropout(t *testing.T) {
	m, _ := Get("vit")
	x := randomImages(4, 2, 8, 8, 3)
	run := func(rate float64, training bool, calls int) [][]float32 {
		ctx := context.New()
		ctx.SetParams(map[string]any{ParamViTDim: 32, ParamViTDepth: 2, ParamViTHeads: 2, ParamViTHeadDim: 16,
			ParamViTMLPDim: 64, ParamViTDropout: rate, ParamViTEmbDropout: rate})
		if err := ctx.SetRNGStateFromSeed(7); err != nil {
			t.Fatal(err)
		}
		exec := context.MustNewExec(backend, ctx, func(ctx *context.Context, x *Node) *Node {
			ctx.SetTraining(x.Graph(), training)
			return m.Logits(ctx, x, 10)
		})
		defer exec.Finalize()
		var out [][]float32
		for i := 0; i < calls; i++ {
			out = append(out, flat(exec.MustExec(x)[0]))
		}
		return out
	}
	train := run(0.1, true, 2)
	if d := maxAbsDiff(train[0], train[1], 20); d < 1e-6 {
		t.Errorf("two training-mode calls agree (max diff %g): no dropout", d)
	}
	eval := run(0.1, false, 2)
	if d := maxAbsDiff(eval[0], eval[1], 20); d != 0 {
		t.Errorf("two inference calls differ (max diff %g)", d)
	}
	noDrop := run(0, true, 1)
	if d := maxAbsDiff(noDrop[0], eval[0], 20); d > 1e-6 {
		t.Errorf("without dropout, training and inference differ (max diff %g)", d)
	}
}

// sgdLosses trains m with plain SGD (learning rate lr) on the fixed batch (images, labels),
// in training mode, and returns the loss before each of steps updates and after the last one
// (steps+1 values). The step graph computes the cross-entropy, its gradient with respect to
// every trainable variable, and the update v ← v − lr·∂loss/∂v.
func sgdLosses(t *testing.T, m *Model, images, labels *tensors.Tensor, numClasses, steps int, lr float64) []float64 {
	t.Helper()
	ctx := context.New()
	if err := ctx.SetRNGStateFromSeed(42); err != nil {
		t.Fatal(err)
	}
	exec, err := context.NewExec(backend, ctx, func(ctx *context.Context, x, y *Node) *Node {
		g := x.Graph()
		ctx.SetTraining(g, true)
		loss := nn.CrossEntropy(m.Logits(ctx, x, numClasses), y)
		var vars []*context.Variable
		var values []*Node
		for v := range ctx.IterVariables() {
			if v.Trainable && v.DType().IsFloat() && v.InUseByGraph(g) {
				vars = append(vars, v)
				values = append(values, v.ValueGraph(g))
			}
		}
		grads := Gradient(loss, values...)
		for i, v := range vars {
			v.SetValueGraph(Sub(values[i], MulScalar(grads[i], lr)))
		}
		return loss
	})
	if err != nil {
		t.Fatal(err)
	}
	defer exec.Finalize()
	losses := make([]float64, 0, steps+1)
	for i := 0; i <= steps; i++ {
		out, err := exec.Exec(images, labels)
		if err != nil {
			t.Fatal(err)
		}
		losses = append(losses, float64(tensors.ToScalar[float32](out[0])))
	}
	return losses
}

// TestZooTrainingStep runs SGD steps of every zoo model on 2 fixed random images and checks
// that the loss went down. The ResNets and the ViT train on 16x16 images (global pooling and
// the positional embedding adapt), the others at 32x32 (VGG11 needs 32 for its five
// poolings). The ResNet152 steps (one each) take about half the package's test time on 2
// cores and are skipped with -short.
func TestZooTrainingStep(t *testing.T) {
	cases := []struct {
		model string
		size  int
		lr    float64
		steps int
		slow  bool
	}{
		{"lenet", 32, 0.01, 2, false},
		{"alexnet", 32, 0.01, 2, false},
		{"alexnetbn", 32, 0.01, 2, false},
		{"vgg11", 32, 0.005, 2, false},
		{"vgg11bn", 32, 0.01, 2, false},
		{"vit", 16, 0.01, 2, false},
		{"resnet18", 16, 0.01, 2, false},
		{"resnet18bn", 16, 0.01, 2, false},
		{"resnet34", 16, 0.005, 2, false},
		{"resnet50", 16, 0.002, 2, false},
		{"resnet152", 16, 0.002, 1, true},
		{"resnet152bn", 16, 0.002, 1, true},
	}
	labels := tensors.FromValue([]int32{3, 7})
	for _, tc := range cases {
		t.Run(tc.model, func(t *testing.T) {
			if tc.slow && testing.Short() {
				t.Skip("slow on the pure-Go backend; runs without -short")
			}
			m, err := Get(tc.model)
			if err != nil {
				t.Fatal(err)
			}
			losses := sgdLosses(t, m, randomImages(11, 2, tc.size, tc.size, 3), labels, 10, tc.steps, tc.lr)
			for _, l := range losses {
				if math.IsNaN(l) || math.IsInf(l, 0) {
					t.Fatalf("non-finite loss: %v", losses)
				}
			}
			if !(losses[tc.steps] < losses[0]) {
				t.Errorf("loss did not decrease over %d SGD steps: %v", tc.steps, losses)
			}
			t.Logf("losses %v", losses)
		})
	}
}

// TestZooSecondOrder differentiates a gradient-matching objective, Σ (∂loss/∂θ)², with respect
// to the images (what DC/DSA do through the network) for one model of each family, on small
// inputs, and checks that the result is finite and not zero: every op of the zoo has
// gradients of second order on the pure-Go backend.
func TestZooSecondOrder(t *testing.T) {
	cases := []struct {
		model  string
		size   int
		params map[string]any
	}{
		{"lenet", 32, nil},
		{"alexnetbn", 16, nil}, // batch norm in training mode, max pooling
		{"vgg11", 32, map[string]any{}},
		{"resnet18bn", 8, nil}, // batch norm over 2 images still has 2 values at the 1x1 last stage
		{"vit", 8, map[string]any{ParamViTDim: 32, ParamViTDepth: 1, ParamViTHeads: 2, ParamViTHeadDim: 16, ParamViTMLPDim: 64}},
	}
	labels := tensors.FromValue([]int32{1, 4})
	for _, tc := range cases {
		t.Run(tc.model, func(t *testing.T) {
			m, _ := Get(tc.model)
			ctx := context.New()
			ctx.SetParams(tc.params)
			if err := ctx.SetRNGStateFromSeed(5); err != nil {
				t.Fatal(err)
			}
			exec, err := context.NewExec(backend, ctx, func(ctx *context.Context, x, y *Node) *Node {
				g := x.Graph()
				ctx.SetTraining(g, true)
				loss := nn.CrossEntropy(m.Logits(ctx, x, 10), y)
				var values []*Node
				for v := range ctx.IterVariables() {
					if v.Trainable && v.DType().IsFloat() && v.InUseByGraph(g) {
						values = append(values, v.ValueGraph(g))
					}
				}
				var match *Node
				for _, gr := range Gradient(loss, values...) {
					s := ReduceAllSum(Mul(gr, gr))
					if match == nil {
						match = s
					} else {
						match = Add(match, s)
					}
				}
				return Gradient(match, x)[0]
			})
			if err != nil {
				t.Fatal(err)
			}
			defer exec.Finalize()
			out, err := exec.Exec(randomImages(9, 2, tc.size, tc.size, 3), labels)
			if err != nil {
				t.Fatal(err)
			}
			norm := 0.0
			for _, v := range flat(out[0]) {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					t.Fatalf("non-finite second-order gradient")
				}
				norm += float64(v) * float64(v)
			}
			if norm == 0 {
				t.Errorf("second-order gradient with respect to the images is zero")
			}
			t.Logf("|∂/∂images Σ(∂loss/∂θ)²| = %.4g", math.Sqrt(norm))
		})
	}
}

// TestViTMatchesDirect compares a small ViT (patch 2, dim 8, 2 heads of 4, MLP 16, depth 2)
// on 4x4x2 images with a direct float64 implementation of vit_pytorch's forward pass written
// from the reference code, using the same weights: this pins the patch order
// ('b c (h p1) (w p2) -> b (h w) (p1 p2 c)'), the class token at position 0, the q/k/v chunk
// and head order ('b n (h d)'), pre-norm residuals, exact GELU and the LayerNorm + linear head.
func TestViTMatchesDirect(t *testing.T) {
	const (
		n, side, ch, patch    = 2, 4, 2, 2
		dim, heads, hd, mlp   = 8, 2, 4, 16
		depth, classes, inner = 2, 3, heads * hd
	)
	m, _ := Get("vit")
	ctx := context.New()
	ctx.SetParams(map[string]any{ParamViTPatch: patch, ParamViTDim: dim, ParamViTDepth: depth, ParamViTHeads: heads,
		ParamViTHeadDim: hd, ParamViTMLPDim: mlp})
	images := randomImages(21, n, side, side, ch)
	exec := context.MustNewExec(backend, ctx, func(ctx *context.Context, x *Node) *Node { return m.Logits(ctx, x, classes) })
	defer exec.Finalize()
	got := flat(exec.MustExec(images)[0])

	vars := map[string][]float64{}
	for v := range ctx.IterVariables() {
		if !v.DType().IsFloat() {
			continue
		}
		var vals []float64
		for _, x := range flat(v.MustValue()) {
			vals = append(vals, float64(x))
		}
		vars[v.Scope()+"/"+v.Name()] = vals
	}
	w := func(name string) []float64 {
		vals, ok := vars["/vit/"+name]
		if !ok {
			t.Fatalf("no variable /vit/%s", name)
		}
		return vals
	}
	// linear maps rows x [r][in] with weights [in·out] (row-major [in, out]) and optional bias.
	linear := func(x [][]float64, wt, b []float64, out int) [][]float64 {
		y := make([][]float64, len(x))
		for r, row := range x {
			y[r] = make([]float64, out)
			for o := 0; o < out; o++ {
				s := 0.0
				if b != nil {
					s = b[o]
				}
				for i, xi := range row {
					s += xi * wt[i*out+o]
				}
				y[r][o] = s
			}
		}
		return y
	}
	layerNorm := func(x [][]float64, gain, offset []float64) [][]float64 {
		y := make([][]float64, len(x))
		for r, row := range x {
			mean, variance := 0.0, 0.0
			for _, v := range row {
				mean += v / float64(len(row))
			}
			for _, v := range row {
				variance += (v - mean) * (v - mean) / float64(len(row))
			}
			y[r] = make([]float64, len(row))
			for i, v := range row {
				y[r][i] = (v-mean)/math.Sqrt(variance+nn.NormEpsilon)*gain[i] + offset[i]
			}
		}
		return y
	}
	img := flat(images)
	gw := side / patch
	tokens := gw*gw + 1
	for b := 0; b < n; b++ {
		// Patches in (h w) order, features in (p1 p2 c) order.
		var patches [][]float64
		for ph := 0; ph < gw; ph++ {
			for pw := 0; pw < gw; pw++ {
				var f []float64
				for p1 := 0; p1 < patch; p1++ {
					for p2 := 0; p2 < patch; p2++ {
						for c := 0; c < ch; c++ {
							f = append(f, float64(img[((b*side+ph*patch+p1)*side+pw*patch+p2)*ch+c]))
						}
					}
				}
				patches = append(patches, f)
			}
		}
		x := append([][]float64{append([]float64(nil), w("cls_token")...)},
			linear(patches, w("patch_embedding/weights"), w("patch_embedding/biases"), dim)...)
		pos := w("pos_embedding")
		for i := range x {
			for j := range x[i] {
				x[i][j] += pos[i*dim+j]
			}
		}
		for l := 0; l < depth; l++ {
			p := fmt.Sprintf("block%d/", l)
			y := layerNorm(x, w(p+"norm1/gain"), w(p+"norm1/offset"))
			qkv := linear(y, w(p+"attention/to_qkv/weights"), nil, 3*inner)
			att := make([][]float64, tokens)
			for i := range att {
				att[i] = make([]float64, inner)
			}
			for h := 0; h < heads; h++ {
				for i := 0; i < tokens; i++ {
					scores := make([]float64, tokens)
					mx := math.Inf(-1)
					for j := 0; j < tokens; j++ {
						for d := 0; d < hd; d++ {
							scores[j] += qkv[i][h*hd+d] * qkv[j][inner+h*hd+d]
						}
						scores[j] /= math.Sqrt(hd)
						mx = math.Max(mx, scores[j])
					}
					sum := 0.0
					for j := range scores {
						scores[j] = math.Exp(scores[j] - mx)
						sum += scores[j]
					}
					for j := range scores {
						for d := 0; d < hd; d++ {
							att[i][h*hd+d] += scores[j] / sum * qkv[j][2*inner+h*hd+d]
						}
					}
				}
			}
			out := linear(att, w(p+"attention/to_out/weights"), w(p+"attention/to_out/biases"), dim)
			for i := range x {
				for j := range x[i] {
					x[i][j] += out[i][j]
				}
			}
			y = layerNorm(x, w(p+"norm2/gain"), w(p+"norm2/offset"))
			hdn := linear(y, w(p+"feedforward/fc1/weights"), w(p+"feedforward/fc1/biases"), mlp)
			for i := range hdn {
				for j, v := range hdn[i] {
					hdn[i][j] = v * 0.5 * (1 + math.Erf(v/math.Sqrt2))
				}
			}
			ff := linear(hdn, w(p+"feedforward/fc2/weights"), w(p+"feedforward/fc2/biases"), dim)
			for i := range x {
				for j := range x[i] {
					x[i][j] += ff[i][j]
				}
			}
		}
		cls := layerNorm(x[:1], w("head_norm/gain"), w("head_norm/offset"))
		logits := linear(cls, w("classifier/weights"), w("classifier/biases"), classes)[0]
		for k, want := range logits {
			if d := math.Abs(float64(got[b*classes+k]) - want); d > 1e-4 {
				t.Errorf("image %d logit %d: %g, direct %g", b, k, got[b*classes+k], want)
			}
		}
	}
}

// TestViTCropsToPatches checks that a side that is not a multiple of the patch size is
// cropped to the largest multiple (30 → 28: 7×7 patches), where the reference would refuse.
func TestViTCropsToPatches(t *testing.T) {
	m, _ := Get("vit")
	shape, n, _, err := buildOnly(m, 30, 30, 3, 10)
	if err != nil {
		t.Fatal(err)
	}
	if want := vitP(3, 49, 10); n != want {
		t.Errorf("%d parameters, want %d (49 patches)", n, want)
	}
	if d := shape.Dimensions; len(d) != 2 || d[0] != 2 || d[1] != 10 {
		t.Errorf("logits shape %v, want [2 10]", d)
	}
}
