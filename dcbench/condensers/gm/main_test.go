package gm

import (
	"context"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/gomlx/gomlx/backends"
	_ "github.com/gomlx/gomlx/backends/simplego"

	"github.com/dcbench/dcbench/datasets"
	_ "github.com/dcbench/dcbench/dcbench/backend/gogemm" // the CPU backend
	"github.com/dcbench/dcbench/dcbench/method"
)

// backend is the CPU backend shared by the package's tests.
var backend backends.Backend

func TestMain(m *testing.M) {
	// Unless GOMLX_BACKEND says otherwise, every float product, broadcast and sum runs on
	// gogemm's host (min_flops=0, min_host_elements=0), so the gradient matching checks
	// cover them at second order.
	if os.Getenv("GOMLX_BACKEND") == "" {
		_ = os.Setenv("GOMLX_BACKEND", "gogemm:ops_sequential,min_flops=0,min_host_elements=0")
	}
	backend = backends.MustNew()
	code := m.Run()
	backend.Finalize()
	os.Exit(code)
}

// toyDataset returns a normalised dataset of classes × perClass random images of h×w×c, with
// each class shifted by a different offset so that classes differ.
func toyDataset(classes, perClass, h, w, c int, seed uint64) *datasets.Dataset {
	rng := rand.New(rand.NewPCG(seed, 3))
	n := classes * perClass
	d := &datasets.Dataset{Name: "toy", Split: "train", N: n, H: h, W: w, C: c, Normalized: true}
	for k := range classes {
		d.Classes = append(d.Classes, string(rune('a'+k)))
	}
	for range c {
		d.Mean = append(d.Mean, 0.5)
		d.Std = append(d.Std, 0.25)
	}
	for i := range n {
		cl := i % classes
		d.Labels = append(d.Labels, int32(cl))
		for range h * w * c {
			d.Images = append(d.Images, float32(rng.NormFloat64()+0.5*float64(cl)))
		}
	}
	return d
}

// toyRequest is a request for the toy dataset with tiny-network params merged with extra.
func toyRequest(d *datasets.Dataset, ipc int, seed uint64, extra map[string]any) method.Request {
	params := map[string]any{
		"convnet_width": 4, "convnet_depth": 1,
		ParamIterations: 2, ParamOuterLoop: 2, ParamInnerLoop: 1, ParamBatchReal: 3,
	}
	for k, v := range extra {
		params[k] = v
	}
	return method.Request{Context: context.Background(), Train: d, IPC: ipc, Seed: seed, Backend: backend,
		Params: params, Progress: func(int, int, string) {}}
}
