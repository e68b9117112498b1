package models

import (
	"fmt"
	"math"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/dcbench/dcbench/dcbench/nn"
)

// Context parameters of ViT, with DC-Bench's defaults for 32x32 images.
const (
	// ParamViTPatch is the side of the square patches (default 4).
	ParamViTPatch = "vit_patch"
	// ParamViTDim is the token width (default 512).
	ParamViTDim = "vit_dim"
	// ParamViTDepth is the number of transformer blocks (default 6).
	ParamViTDepth = "vit_depth"
	// ParamViTHeads is the number of attention heads (default 8).
	ParamViTHeads = "vit_heads"
	// ParamViTHeadDim is the width of each head (default 64).
	ParamViTHeadDim = "vit_head_dim"
	// ParamViTMLPDim is the hidden width of the feed-forward blocks (default 512).
	ParamViTMLPDim = "vit_mlp_dim"
	// ParamViTDropout is the dropout rate inside the transformer (default 0.1).
	ParamViTDropout = "vit_dropout"
	// ParamViTEmbDropout is the dropout rate after the positional embedding (default 0.1).
	ParamViTEmbDropout = "vit_emb_dropout"
)

// ViTConfig is the architecture of a ViT, read from context params by ViTConfigFrom.
type ViTConfig struct {
	// Patch is the patch side; Dim the token width; Depth the number of blocks; Heads and
	// HeadDim the attention heads and their width; MLPDim the feed-forward hidden width.
	Patch, Dim, Depth, Heads, HeadDim, MLPDim int
	// Dropout is the rate inside the blocks, EmbDropout the rate after the embedding.
	Dropout, EmbDropout float64
}

// DefaultViT is DC-Bench's ViT for CIFAR: patch 4, dim 512, depth 6, 8 heads of 64, MLP 512,
// dropout 0.1, embedding dropout 0.1.
var DefaultViT = ViTConfig{Patch: 4, Dim: 512, Depth: 6, Heads: 8, HeadDim: 64, MLPDim: 512, Dropout: 0.1, EmbDropout: 0.1}

// ViTConfigFrom reads the ViT params of ctx, with DefaultViT for those unset.
func ViTConfigFrom(ctx *context.Context) ViTConfig {
	c := DefaultViT
	c.Patch = context.GetParamOr(ctx, ParamViTPatch, c.Patch)
	c.Dim = context.GetParamOr(ctx, ParamViTDim, c.Dim)
	c.Depth = context.GetParamOr(ctx, ParamViTDepth, c.Depth)
	c.Heads = context.GetParamOr(ctx, ParamViTHeads, c.Heads)
	c.HeadDim = context.GetParamOr(ctx, ParamViTHeadDim, c.HeadDim)
	c.MLPDim = context.GetParamOr(ctx, ParamViTMLPDim, c.MLPDim)
	c.Dropout = context.GetParamOr(ctx, ParamViTDropout, c.Dropout)
	c.EmbDropout = context.GetParamOr(ctx, ParamViTEmbDropout, c.EmbDropout)
	return c
}

// ViTEmbed is the encoder of lucidrains' vit_pytorch.ViT as DC-Bench uses it
// (networks/vit.py, pool='cls'): it returns the class token after the transformer, [N, Dim].
// ViTHead (LayerNorm + linear, the reference's mlp_head) makes the logits.
//
//   - Patch embedding: Rearrange('b c (h p1) (w p2) -> b (h w) (p1 p2 c)') then a plain
//     Linear(patch_dim, dim) with bias; that version has no LayerNorm before or after it.
//     Patches are cut with Reshape/Transpose, in the same (p1, p2, c) order. Sides that are not
//     multiples of the patch size are cropped to the largest multiple (the reference asserts
//     divisibility instead); 32, 64 and 28 are multiples of 4.
//   - A learned class token [1, 1, Dim] is prepended and a learned positional embedding
//     [1, patches+1, Dim] added (both initialised N(0, 1), as torch.randn), then embedding
//     dropout. The positional embedding is sized from the actual number of patches.
//   - Depth blocks of x += Attention(LayerNorm(x)); x += FeedForward(LayerNorm(x)) (pre-norm).
//     Attention: to_qkv Linear(dim, 3·heads·head_dim, no bias), softmax(q·kᵀ/√head_dim)·v,
//     to_out Linear(heads·head_dim, dim) + dropout (to_out is the identity when heads == 1
//     and head_dim == dim, as the reference). FeedForward: Linear(dim, mlp) → GELU (exact,
//     erf) → dropout → Linear(mlp, dim) → dropout.
//
// Graph-level choices for differentiability to any order on every backend: the class token
// is prepended with nn.ZeroPadAxis and a one-hot mask instead of Concatenate, read out and
// the q/k/v chunks split with one-hot masked sums instead of Slice, projections use
// nn.MatMulLast (cheap custom gradients), the two attention products (q·kᵀ and attn·v) use
// nn.BatchMatMul over N·heads, and the softmax is shifted by a max without gradient.
//
// Parameters for 32x32x3 images and 10 classes (64 patches, patch_dim 48): patch embedding
// 48·512+512 = 25,088; positional embedding 65·512 = 33,280; class token 512; per block
// 2·1,024 (LayerNorms) + 512·1,536 (to_qkv) + 512·512+512 (to_out) + 2·(512·512+512) (MLP)
// = 1,576,448, ×6 = 9,458,688; head 1,024 + 512·10+10 = 6,154: 9,523,722 in all.
func ViTEmbed(ctx *context.Context, images *Node) *Node {
	cfg := ViTConfigFrom(ctx)
	g := images.Graph()
	dt := images.DType()
	d := images.Shape().Dimensions
	n, p, c := d[0], cfg.Patch, d[3]
	gh, gw := d[1]/p, d[2]/p
	if gh == 0 || gw == 0 {
		panic(fmt.Sprintf("models.ViT: image %dx%d smaller than patch %d", d[1], d[2], p))
	}
	x := images
	if gh*p != d[1] {
		x = nn.CropAxis(x, 1, 0, gh*p)
	}
	if gw*p != d[2] {
		x = nn.CropAxis(x, 2, 0, gw*p)
	}
	// [n, gh, p1, gw, p2, c] → [n, gh, gw, p1, p2, c] → [n, gh·gw, p1·p2·c].
	x = Reshape(x, n, gh, p, gw, p, c)
	x = TransposeAllDims(x, 0, 1, 3, 2, 4, 5)
	x = Reshape(x, n, gh*gw, p*p*c)

	// Prepend the class token: zero-pad the patches to positions 1.. (padding the narrow
	// patch vectors is cheaper than padding the tokens), embed them, blank position 0 (where
	// the embedding left only its bias) and put the class token there.
	tokens := gh*gw + 1
	x = nn.Dense(ctx.In("patch_embedding"), nn.ZeroPadAxis(x, 1, 1, 0), cfg.Dim, true)
	normal := func(g *Graph, shape shapes.Shape) *Node { return ctx.RandomNormal(g, shape) }
	cls := ctx.WithInitializer(normal).VariableWithShape("cls_token", shapes.Make(dt, 1, 1, cfg.Dim)).ValueGraph(g)
	first := oneHotAxis(g, dt, tokens, 0, 3, 1)
	x = Add(Mul(x, OneMinus(first)), Mul(cls, first))
	pos := ctx.WithInitializer(normal).VariableWithShape("pos_embedding", shapes.Make(dt, 1, tokens, cfg.Dim)).ValueGraph(g)
	x = dropout(ctx, Add(x, pos), cfg.EmbDropout)

	for i := 0; i < cfg.Depth; i++ {
		block := ctx.Inf("block%d", i)
		x = Add(x, vitAttention(block.In("attention"), nn.LastAxisLayerNorm(block.In("norm1"), x), cfg))
		x = Add(x, vitFeedForward(block.In("feedforward"), nn.LastAxisLayerNorm(block.In("norm2"), x), cfg))
	}
	return ReduceSum(Mul(x, first), 1) // the class token, x[:, 0]
}

// vitAttention is the multi-head self-attention of vit_pytorch on tokens x [N, T, Dim].
func vitAttention(ctx *context.Context, x *Node, cfg ViTConfig) *Node {
	d := x.Shape().Dimensions
	n, t, dim := d[0], d[1], d[2]
	inner := cfg.Heads * cfg.HeadDim
	wqkv := ctx.In("to_qkv").WithInitializer(nn.UniformInit(ctx, nn.FanInBound(dim))).
		VariableWithShape("weights", shapes.Make(x.DType(), dim, 3*inner)).ValueGraph(x.Graph())
	// qkv [N, T, 3, H, head_dim]: columns [q | k | v] as qkv.chunk(3, dim=-1), each split
	// into heads as 'b n (h d) -> b h n d'. The chunks are picked with one-hot masked sums
	// (Slice has no higher-order gradients on simplego).
	qkv := Reshape(nn.MatMulLast(x, wqkv), n, t, 3, cfg.Heads, cfg.HeadDim)
	chunk := func(i int) *Node { return ReduceSum(Mul(qkv, oneHotAxis(x.Graph(), x.DType(), 3, i, 5, 2)), 2) }
	q, k, v := chunk(0), chunk(1), chunk(2)
	// Heads become batch entries: [N, T, H, d] -> [N·H, T, d].
	heads := func(z *Node) *Node {
		return Reshape(TransposeAllDims(z, 0, 2, 1, 3), n*cfg.Heads, t, cfg.HeadDim)
	}
	qh, kh, vh := heads(q), heads(k), heads(v)
	// dots [N·H, T, T] = q·kᵀ/√head_dim.
	dots := MulScalar(nn.BatchMatMul(qh, TransposeAllDims(kh, 0, 2, 1)), 1/math.Sqrt(float64(cfg.HeadDim)))
	attn := stableSoftmax(dots)
	out := Reshape(nn.BatchMatMul(attn, vh), n, cfg.Heads, t, cfg.HeadDim) // [N, H, T, head_dim]
	out = Reshape(TransposeAllDims(out, 0, 2, 1, 3), n, t, inner)          // 'b h n d -> b n (h d)'
	if cfg.Heads == 1 && cfg.HeadDim == dim {
		return out
	}
	return dropout(ctx, nn.Dense(ctx.In("to_out"), out, dim, true), cfg.Dropout)
}

// vitFeedForward is Linear(dim, mlp) → GELU → dropout → Linear(mlp, dim) → dropout.
func vitFeedForward(ctx *context.Context, x *Node, cfg ViTConfig) *Node {
	dim := x.Shape().Dimensions[x.Rank()-1]
	h := dropout(ctx, gelu(nn.Dense(ctx.In("fc1"), x, cfg.MLPDim, true)), cfg.Dropout)
	return dropout(ctx, nn.Dense(ctx.In("fc2"), h, dim, true), cfg.Dropout)
}

// oneHotAxis is a constant of the given rank with size n on axis and 1 elsewhere, 1 at
// position i of axis and 0 elsewhere: a mask that picks position i with a product and a sum.
func oneHotAxis(g *Graph, dt dtypes.DType, n, i, rank, axis int) *Node {
	v := make([]float64, n)
	v[i] = 1
	dims := make([]int, rank)
	for j := range dims {
		dims[j] = 1
	}
	dims[axis] = n
	return ConvertDType(Reshape(Const(g, v), dims...), dt)
}

// ViTHead is the reference's mlp_head: LayerNorm then a linear layer (scope "classifier").
func ViTHead(ctx *context.Context, features *Node, numClasses int) *Node {
	return Classifier(ctx, nn.LastAxisLayerNorm(ctx.In("head_norm"), features), numClasses)
}

func init() {
	Register(&Model{Name: "vit", Embed: ViTEmbed, Head: ViTHead,
		Description: "ViT of DC-Bench (vit_pytorch): patch 4, dim 512, depth 6, 8 heads of 64, MLP 512, dropout 0.1, class token"})
}
