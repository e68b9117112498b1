package models

import (
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/dcbench/dcbench/dcbench/nn"
)

// ParamResNetNorm is the normalisation of the ResNets: "instancenorm" (default: PyTorch's
// GroupNorm(C, C, affine=True), the reference's default for ResNet18) or "batchnorm" (the
// reference's ResNet18BN). Any name of nn.Norms is accepted.
const ParamResNetNorm = "resnet_norm"

// ResNetConfig is the block structure of a CIFAR-style ResNet.
type ResNetConfig struct {
	// Bottleneck selects Bottleneck blocks (1x1, 3x3, 1x1 convolutions, expansion 4) instead
	// of BasicBlocks (two 3x3 convolutions, expansion 1).
	Bottleneck bool
	// Blocks is the number of blocks of each of the four stages (widths 64, 128, 256, 512,
	// strides 1, 2, 2, 2).
	Blocks [4]int
}

// The ResNets of the reference (DC/DSA/DM networks.py, used unchanged by DC-Bench).
var (
	// ResNet18Config is BasicBlock [2, 2, 2, 2].
	ResNet18Config = ResNetConfig{Blocks: [4]int{2, 2, 2, 2}}
	// ResNet34Config is BasicBlock [3, 4, 6, 3].
	ResNet34Config = ResNetConfig{Blocks: [4]int{3, 4, 6, 3}}
	// ResNet50Config is Bottleneck [3, 4, 6, 3].
	ResNet50Config = ResNetConfig{Bottleneck: true, Blocks: [4]int{3, 4, 6, 3}}
	// ResNet152Config is Bottleneck [3, 8, 36, 3].
	ResNet152Config = ResNetConfig{Bottleneck: true, Blocks: [4]int{3, 8, 36, 3}}
)

// ResNetEmbed returns the feature extractor of the reference CIFAR ResNet with the given
// blocks; the features are the 512·expansion channels after global average pooling, and
// Classifier (one linear layer, the reference's "classifier") makes the logits.
//
// Structure, as the reference: stem conv 3x3 (64, stride 1, padding 1, no bias) → norm →
// ReLU, without max-pooling; four stages of blocks at widths 64/128/256/512 and strides
// 1/2/2/2 (the stride is on the first block's first 3x3 convolution for BasicBlocks and on
// the 3x3 convolution for Bottlenecks); a shortcut of conv 1x1 (stride, no bias) → norm when
// the shape changes, identity otherwise; global average pooling. Convolutions have no bias.
// The normalisation is read from ParamResNetNorm.
//
// Deviation: the reference pools with F.avg_pool2d(out, 4), which is the global average for
// 32x32 and 28x28 inputs (4x4 final maps) but leaves 2x2 maps (and a classifier size
// mismatch) for 64x64 inputs; global average pooling gives the same result where the
// reference works and adapts to any size.
//
// Parameters for 32x32x3 images and 10 classes (batch-norm running statistics not counted;
// instance and batch norm both have 2 affine parameters per channel, so the counts agree):
// ResNet18 11,173,962; ResNet34 21,282,122; ResNet50 23,520,842; ResNet152 58,156,618.
func ResNetEmbed(cfg ResNetConfig) func(ctx *context.Context, images *Node) *Node {
	return func(ctx *context.Context, images *Node) *Node {
		norm := context.GetParamOr(ctx, ParamResNetNorm, "instancenorm")
		x := nn.Conv2D(ctx.In("conv1"), images, nn.ConvConfig{Out: 64, Kernel: 3, Padding: 1, Stride: 1})
		x = nn.Relu(must(nn.Normalize(ctx.In("norm1"), norm, x)))
		for stage, planes := range []int{64, 128, 256, 512} {
			for b := 0; b < cfg.Blocks[stage]; b++ {
				stride := 1
				if b == 0 && stage > 0 {
					stride = 2
				}
				bctx := ctx.Inf("layer%d", stage+1).Inf("block%d", b)
				if cfg.Bottleneck {
					x = bottleneckBlock(bctx, x, planes, stride, norm)
				} else {
					x = basicBlock(bctx, x, planes, stride, norm)
				}
			}
		}
		return nn.GlobalAvgPool(x)
	}
}

// basicBlock is the reference BasicBlock: relu(norm(conv3x3(relu(norm(conv3x3(x, stride))))) +
// shortcut(x)).
func basicBlock(ctx *context.Context, x *Node, planes, stride int, norm string) *Node {
	out := nn.Conv2D(ctx.In("conv1"), x, nn.ConvConfig{Out: planes, Kernel: 3, Padding: 1, Stride: stride})
	out = nn.Relu(must(nn.Normalize(ctx.In("norm1"), norm, out)))
	out = nn.Conv2D(ctx.In("conv2"), out, nn.ConvConfig{Out: planes, Kernel: 3, Padding: 1, Stride: 1})
	out = must(nn.Normalize(ctx.In("norm2"), norm, out))
	return nn.Relu(Add(out, resnetShortcut(ctx, x, planes, stride, norm)))
}

// bottleneckBlock is the reference Bottleneck (expansion 4): conv1x1 → norm → ReLU → conv3x3
// (stride) → norm → ReLU → conv1x1 (4·planes) → norm, plus the shortcut, then ReLU.
func bottleneckBlock(ctx *context.Context, x *Node, planes, stride int, norm string) *Node {
	out := nn.Conv2D(ctx.In("conv1"), x, nn.ConvConfig{Out: planes, Kernel: 1, Stride: 1})
	out = nn.Relu(must(nn.Normalize(ctx.In("norm1"), norm, out)))
	out = nn.Conv2D(ctx.In("conv2"), out, nn.ConvConfig{Out: planes, Kernel: 3, Padding: 1, Stride: stride})
	out = nn.Relu(must(nn.Normalize(ctx.In("norm2"), norm, out)))
	out = nn.Conv2D(ctx.In("conv3"), out, nn.ConvConfig{Out: 4 * planes, Kernel: 1, Stride: 1})
	out = must(nn.Normalize(ctx.In("norm3"), norm, out))
	return nn.Relu(Add(out, resnetShortcut(ctx, x, 4*planes, stride, norm)))
}

// resnetShortcut is the identity when x already has out channels and stride is 1, and
// conv1x1 (out, stride, no bias) → norm otherwise.
func resnetShortcut(ctx *context.Context, x *Node, out, stride int, norm string) *Node {
	if stride == 1 && x.Shape().Dimensions[3] == out {
		return x
	}
	s := nn.Conv2D(ctx.In("shortcut_conv"), x, nn.ConvConfig{Out: out, Kernel: 1, Stride: stride})
	return must(nn.Normalize(ctx.In("shortcut_norm"), norm, s))
}

func init() {
	resnets := []struct {
		name, title, blocks string
		cfg                 ResNetConfig
	}{
		{"resnet18", "ResNet18", "BasicBlock [2,2,2,2]", ResNet18Config},
		{"resnet34", "ResNet34", "BasicBlock [3,4,6,3]", ResNet34Config},
		{"resnet50", "ResNet50", "Bottleneck [3,4,6,3]", ResNet50Config},
		{"resnet152", "ResNet152", "Bottleneck [3,8,36,3]", ResNet152Config},
	}
	for _, r := range resnets {
		Register(&Model{Name: r.name, Embed: ResNetEmbed(r.cfg),
			Description: r.title + " (CIFAR) of the reference: " + r.blocks + ", widths 64-512, instance norm, global avg-pool, linear"})
		if r.name == "resnet18" || r.name == "resnet152" {
			Register(&Model{Name: r.name + "bn", Embed: ResNetEmbed(r.cfg), Params: map[string]any{ParamResNetNorm: "batchnorm"},
				Description: r.title + " with batch norm (the reference's " + r.title + "BN)"})
		}
	}
}
