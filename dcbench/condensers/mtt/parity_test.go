package mtt

import (
	"fmt"
	"math"
	"slices"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/dcbench/dcbench/dcbench/expert"
	"github.com/dcbench/dcbench/dcbench/internal/parity"
)

// parityParams converts a fixture's reference parameters (prefix+"features.<i>.weight", ...,
// prefix+"classifier.weight", in PyTorch layouts) to the tensors of arch.Layout(), in order.
func parityParams(t *testing.T, c *parity.Case, arch expert.Arch, prefix string) []*tensors.Tensor {
	t.Helper()
	perBlock := 3 // conv, ReLU, pooling
	if arch.Norm == "instancenorm" {
		perBlock = 4 // conv, GroupNorm, ReLU, pooling
	}
	var out []*tensors.Tensor
	for _, l := range arch.Layout() {
		var d, at int
		var kind string
		var data []float64
		switch {
		case l.Name == "classifier/weights":
			wt := c.Array(t, prefix+"classifier.weight")
			side := int(math.Round(math.Sqrt(float64(wt.Shape[1] / arch.Width))))
			data = parity.LinearToNHWC(wt, arch.Width, side, side)
		case l.Name == "classifier/biases":
			data = c.Array(t, prefix+"classifier.bias").Data
		default:
			if _, err := fmt.Sscanf(l.Name, "conv%d/%s", &d, &kind); err == nil {
				at = d * perBlock
				if kind == "weights" {
					data = parity.OIHWToHWIO(c.Array(t, fmt.Sprintf("%sfeatures.%d.weight", prefix, at))).Data
				} else {
					data = c.Array(t, fmt.Sprintf("%sfeatures.%d.bias", prefix, at)).Data
				}
			} else if _, err := fmt.Sscanf(l.Name, "norm%d/%s", &d, &kind); err == nil {
				at = d*perBlock + 1
				name := "weight"
				if kind == "offset" {
					name = "bias"
				}
				data = c.Array(t, fmt.Sprintf("%sfeatures.%d.%s", prefix, at, name)).Data
			} else {
				t.Fatalf("unknown parameter tensor %s", l.Name)
			}
		}
		if len(data) != l.Size() {
			t.Fatalf("%s: %d values from the fixture, layout wants %v", l.Name, len(data), l.Dims)
		}
		out = append(out, tensors.FromFlatDataAndDimensions(append([]float64(nil), data...), l.Dims...))
	}
	return out
}

// TestParityUnrolled checks MTT's loss (Unrolled: N student steps from the start parameters
// with learnable lr, then Distance) and its gradients w.r.t. the synthetic images and the
// lr against mtt/distill.py with reparam_module.py (tools/parity/gen_mtt.py) in float64,
// without augmentation, on the mini-batches the reference used; and that NewPlan gives the
// reference's chunk sizes step by step (the last, smaller chunk of each permutation first).
func TestParityUnrolled(t *testing.T) {
	f := parity.Load(t, "mtt")
	for _, c := range f.Cases {
		t.Run(c.Name, func(t *testing.T) {
			imgs := c.Array(t, "images")
			n, ch, h, w := imgs.Shape[0], imgs.Shape[1], imgs.Shape[2], imgs.Shape[3]
			arch := expert.Arch{Width: c.Int(t, "width"), Depth: c.Int(t, "depth"), Norm: c.String(t, "norm"),
				H: h, W: w, C: ch, Classes: c.Int(t, "classes")}
			if err := arch.Validate(); err != nil {
				t.Fatal(err)
			}
			steps := c.Int(t, "syn_steps")
			plan := NewPlan(n, c.Int(t, "batch_syn"), steps)
			var want []int
			for _, v := range c.Array(t, "chunk_sizes").Data {
				want = append(want, int(v))
			}
			if !slices.Equal(plan.Chunks, want) {
				t.Fatalf("plan chunks %v, reference %v", plan.Chunks, want)
			}
			idx := make([]int32, 0, plan.Total)
			for _, v := range c.Array(t, "steps_idx").Data {
				idx = append(idx, int32(v))
			}
			labels := make([]int32, n)
			for i, v := range c.Array(t, "labels").Data {
				labels[i] = int32(v)
			}
			start := parityParams(t, &c, arch, "start.")
			target := parityParams(t, &c, arch, "target.")
			np := len(start)
			exec := MustNewExec(backend, func(in []*Node) []*Node {
				st, tg := in[:np], in[np:2*np]
				images, lab, ix, rngs, lr := in[2*np], in[2*np+1], in[2*np+2], in[2*np+3], in[2*np+4]
				loss := Unrolled(arch, nil, plan, st, tg, images, lab, ix, rngs, lr)
				return append([]*Node{loss}, Gradient(loss, images, lr)...)
			})
			var args []any
			for _, p := range append(start, target...) {
				args = append(args, p)
			}
			args = append(args, tensors.FromFlatDataAndDimensions(parity.NCHWToNHWC(imgs).Data, n, h, w, ch), labels, idx,
				tensors.FromFlatDataAndDimensions(make([]uint64, steps*3), steps, 3), c.Float(t, "syn_lr"))
			out := exec.MustExec(args...)
			loss := []float64{tensors.ToScalar[float64](out[0])}
			grad := parity.NHWCToNCHW(parity.Array{Shape: []int{n, h, w, ch}, Data: tensors.MustCopyFlatData[float64](out[1])}).Data
			dlr := []float64{tensors.ToScalar[float64](out[2])}
			parity.Close(t, "loss", loss, c.Array(t, "loss").Data, 1e-9)
			parity.Close(t, "grad images", grad, c.Array(t, "grad_images").Data, 1e-9)
			parity.Close(t, "grad lr", dlr, c.Array(t, "grad_lr").Data, 1e-9)
			t.Logf("loss max rel err %.2g, grad images %.2g, grad lr %.2g", parity.MaxRelErr(loss, c.Array(t, "loss").Data),
				parity.MaxRelErr(grad, c.Array(t, "grad_images").Data), parity.MaxRelErr(dlr, c.Array(t, "grad_lr").Data))
		})
	}
}
