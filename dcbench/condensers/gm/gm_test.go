package gm

import (
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/tensors"
)

func TestLoopSchedule(t *testing.T) {
	cases := []struct{ ipc, outer, inner int }{
		{1, 1, 1}, {2, 10, 50}, {10, 10, 50}, {20, 20, 25}, {30, 30, 20}, {40, 40, 15},
		{50, 50, 10}, {51, 10, 10}, {100, 10, 10}, {1000, 10, 10},
	}
	for _, tc := range cases {
		o, i := LoopSchedule(tc.ipc)
		if o != tc.outer || i != tc.inner {
			t.Errorf("LoopSchedule(%d) = (%d, %d), want (%d, %d)", tc.ipc, o, i, tc.outer, tc.inner)
		}
	}
}

func TestConfigFrom(t *testing.T) {
	d := toyDataset(2, 3, 6, 6, 1, 1)
	req := toyRequest(d, 10, 0, nil)
	req.Params = nil
	cfg, err := ConfigFrom(req, true)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.OuterLoop != 10 || cfg.InnerLoop != 50 || cfg.BatchReal != 256 ||
		cfg.BatchTrain != 256 || cfg.LRNet != 0.01 || cfg.Model != "convnet" || !cfg.DSA || cfg.DSAConfig.Strategy != "color_crop_cutout_flip_scale_rotate" {
		t.Errorf("defaults: %+v", cfg)
	}
	req.Params = map[string]any{ParamOuterLoop: 3.0, ParamInnerLoop: "4", "convnet_width": 8.0}
	if cfg, err = ConfigFrom(req, false); err != nil {
		t.Fatal(err)
	}
	if cfg.OuterLoop != 3 || cfg.InnerLoop != 4 || cfg.ModelParams["convnet_width"] != 8 {
		t.Errorf("overrides: %+v", cfg)
	}
	req.Train = toyDataset(2, 1, 64, 64, 3, 1)
	if cfg, err = ConfigFrom(req, false); err != nil || cfg.ModelParams["convnet_depth"] != 4 {
		t.Errorf("64x64 images: %v %+v", err, cfg.ModelParams)
	}
}

func TestBadParams(t *testing.T) {
	d := toyDataset(2, 3, 6, 6, 1, 1)
	cases := []struct {
		key  string
		val  any
		want string
	}{
		{ParamIterations, -1, "iterations"},
		{ParamOuterLoop, -1, "outer_loop"},
		{ParamBatchReal, "many", "batch_real"},
		{ParamLRImg, -0.1, "lr_img"},
		{ParamMomentumImg, 1.0, "momentum_img"},
		{ParamLRNet, 0.0, "lr_net"},
		{ParamInit, "zeros", "init"},
		{ParamModel, "nonet", "model"},
		{ParamDSAStrategy, "color_blur", "blur"},
		{"convnet_width", 0, "convnet_width"},
		{"convnet_norm", 3, "convnet_norm"},
		{"convnet_norm", "batchnorm", "batch norm"},
	}
	for _, tc := range cases {
		t.Run(tc.key+"="+strings.ReplaceAll(tc.want, " ", "_"), func(t *testing.T) {
			_, err := DSA().Condense(toyRequest(d, 1, 0, map[string]any{tc.key: tc.val}))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

// TestSameSeedSameSet runs both methods twice with a seed and once with another: the same
// seed gives the very same images, another seed different ones, and the result is a valid
// set of IPC images per class grouped by class.
func TestSameSeedSameSet(t *testing.T) {
	d := toyDataset(2, 3, 6, 6, 1, 2)
	for _, m := range []Method{DC(), DSA()} {
		t.Run(m.Name(), func(t *testing.T) {
			var steps []int
			req := toyRequest(d, 2, 5, nil)
			req.Progress = func(done, total int, msg string) { steps = append(steps, done) }
			a, err := m.Condense(req)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(steps, []int{1, 2}) {
				t.Errorf("progress %v, want [1 2]", steps)
			}
			b, err := m.Condense(toyRequest(d, 2, 5, nil))
			if err != nil {
				t.Fatal(err)
			}
			c, err := m.Condense(toyRequest(d, 2, 6, nil))
			if err != nil {
				t.Fatal(err)
			}
			if err := a.Validate(); err != nil {
				t.Fatal(err)
			}
			if a.N != 4 || !slices.Equal(a.Labels, []int32{0, 0, 1, 1}) || !a.Normalized {
				t.Errorf("set: N=%d labels %v normalised %v", a.N, a.Labels, a.Normalized)
			}
			if !slices.Equal(a.Images, b.Images) {
				t.Errorf("same seed, different images")
			}
			if slices.Equal(a.Images, c.Images) {
				t.Errorf("different seeds, same images")
			}
			init, err := m.Condense(toyRequest(d, 2, 5, map[string]any{ParamIterations: 0}))
			if err != nil {
				t.Fatal(err)
			}
			if slices.Equal(a.Images, init.Images) {
				t.Errorf("the images did not change")
			}
		})
	}
}

// TestFreshNetworkAndInnerLoop checks that each outer iteration starts from a new random
// network and that the inner loop trains it on the synthetic set.
func TestFreshNetworkAndInnerLoop(t *testing.T) {
	d := toyDataset(2, 3, 6, 6, 1, 3)
	e := newTestEngine(t, d, 2, false, map[string]any{ParamLRNet: 0.2})
	weights := func() []float32 {
		v, err := e.matchVars[0].Value()
		if err != nil {
			t.Fatal(err)
		}
		return tensors.MustCopyFlatData[float32](v)
	}
	w0 := weights()
	perm := []int{3, 1, 0, 2}
	first, err := e.trainEpoch(perm)
	if err != nil {
		t.Fatal(err)
	}
	var last float64
	for range 30 {
		if last, err = e.trainEpoch(perm); err != nil {
			t.Fatal(err)
		}
	}
	if !(last < 0.5*first) {
		t.Errorf("inner-loop loss %.4f → %.4f: not trained", first, last)
	}
	w1 := weights()
	if slices.Equal(w0, w1) {
		t.Errorf("inner loop did not change the weights")
	}
	prev := w1
	for k := range 2 {
		if err := e.freshNetwork(); err != nil {
			t.Fatal(err)
		}
		w := weights()
		if slices.Equal(w, prev) {
			t.Errorf("fresh network %d has the previous weights", k+1)
		}
		prev = w
	}
}

// TestResume checks that a run resumed from synth's checkpoint gives the very set of an
// uninterrupted run.
func TestResume(t *testing.T) {
	d := toyDataset(2, 3, 6, 6, 1, 4)
	dir := t.TempDir()
	for _, m := range []Method{DC(), DSA()} {
		t.Run(m.Name(), func(t *testing.T) {
			want, err := m.Condense(toyRequest(d, 2, 9, map[string]any{ParamIterations: 3}))
			if err != nil {
				t.Fatal(err)
			}
			ck := dir + "/" + m.Name() + ".ck"
			if _, err := m.Condense(toyRequest(d, 2, 9, map[string]any{ParamIterations: 2, "checkpoint": ck})); err != nil {
				t.Fatal(err)
			}
			got, err := m.Condense(toyRequest(d, 2, 9, map[string]any{ParamIterations: 3, "checkpoint": ck}))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Images, want.Images) {
				t.Errorf("resumed run differs from the uninterrupted one")
			}
		})
	}
}
