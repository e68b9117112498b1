package mtt

import (
	"context"
	"fmt"
	"math"
	"slices"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/dcbench/dcbench/datasets"
	"github.com/dcbench/dcbench/dcbench/condensers/synth"
	"github.com/dcbench/dcbench/dcbench/expert"
	"github.com/dcbench/dcbench/dcbench/internal/parity"
	"github.com/dcbench/dcbench/dcbench/method"
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

// TestParityEngine checks the condenser's own path, Engine.Gradients (float32, flat parameter
// vectors in Arch.Layout order, images held by a synth.Set), in both memory modes against the
// same distill.py fixture: float32 end to end, so the tolerance is 1e-4 (not 1e-9).
func TestParityEngine(t *testing.T) {
	f := parity.Load(t, "mtt")
	for _, c := range f.Cases {
		t.Run(c.Name, func(t *testing.T) {
			imgs := c.Array(t, "images")
			n, ch, h, w := imgs.Shape[0], imgs.Shape[1], imgs.Shape[2], imgs.Shape[3]
			k, ipc := c.Int(t, "classes"), c.Int(t, "ipc")
			arch := expert.Arch{Width: c.Int(t, "width"), Depth: c.Int(t, "depth"), Norm: c.String(t, "norm"),
				H: h, W: w, C: ch, Classes: k}
			nhwc := parity.NCHWToNHWC(imgs).Data
			d := &datasets.Dataset{Name: "parity", Split: "train", N: n, H: h, W: w, C: ch, Normalized: true}
			for i := 0; i < ch; i++ {
				d.Mean, d.Std = append(d.Mean, 0), append(d.Std, 1)
			}
			for i := 0; i < n; i++ {
				d.Labels = append(d.Labels, int32(i/ipc))
			}
			for _, v := range nhwc {
				d.Images = append(d.Images, float32(v))
			}
			for i := 0; i < k; i++ {
				d.Classes = append(d.Classes, fmt.Sprintf("c%d", i))
			}
			s, err := synth.New(method.Request{Context: context.Background(), Train: d, IPC: ipc, Seed: 1, Backend: backend,
				Progress: func(int, int, string) {}}, synth.Options{Method: "mtt", Iterations: 1, LR: 1, Momentum: 0.5})
			if err != nil {
				t.Fatal(err)
			}
			size := ipc * h * w * ch
			for cl := 0; cl < k; cl++ { // the fixture's images, whatever the initialisation drew
				v := s.Context().GetVariableByScopeAndName(synth.ImagesScope, fmt.Sprintf("c%03d", cl))
				if v == nil {
					t.Fatalf("no image variable of class %d", cl)
				}
				if err := v.SetValue(tensors.FromFlatDataAndDimensions(append([]float32(nil), d.Images[cl*size:(cl+1)*size]...), ipc, h, w, ch)); err != nil {
					t.Fatal(err)
				}
			}
			flat := func(prefix string) []float32 {
				var out []float32
				for _, p := range parityParams(t, &c, arch, prefix) {
					for _, v := range tensors.MustCopyFlatData[float64](p) {
						out = append(out, float32(v))
					}
				}
				return out
			}
			start, target := flat("start."), flat("target.")
			var draw Draw
			for _, v := range c.Array(t, "steps_idx").Data {
				draw.Idx = append(draw.Idx, int32(v))
			}
			draw.RNGs = make([]uint64, 3*c.Int(t, "syn_steps"))
			for _, recompute := range []bool{false, true} {
				e, err := NewEngine(backend, s, arch, nil, c.Int(t, "syn_steps"), c.Int(t, "batch_syn"), recompute)
				if err != nil {
					t.Fatal(err)
				}
				g, err := e.Gradients(start, target, draw, c.Float(t, "syn_lr"))
				if err != nil {
					t.Fatal(err)
				}
				var gi []float64
				for _, tt := range g.Images {
					for _, v := range tensors.MustCopyFlatData[float32](tt) {
						gi = append(gi, float64(v))
					}
				}
				e.Finalize()
				grad := parity.NHWCToNCHW(parity.Array{Shape: []int{n, h, w, ch}, Data: gi}).Data
				mode := fmt.Sprintf("recompute=%v: ", recompute)
				parity.Close(t, mode+"loss", []float64{g.Loss}, c.Array(t, "loss").Data, 1e-4)
				parity.Close(t, mode+"grad images", grad, c.Array(t, "grad_images").Data, 1e-4)
				parity.Close(t, mode+"grad lr", []float64{g.LR}, c.Array(t, "grad_lr").Data, 1e-4)
				t.Logf("%sloss max rel err %.2g, grad images %.2g, grad lr %.2g", mode,
					parity.MaxRelErr([]float64{g.Loss}, c.Array(t, "loss").Data),
					parity.MaxRelErr(grad, c.Array(t, "grad_images").Data), parity.MaxRelErr([]float64{g.LR}, c.Array(t, "grad_lr").Data))
			}
		})
	}
}
