// Package testkit holds what the condensers' tests share: the CPU backend set up once per
// test binary, a toy dataset whose classes differ in brightness, and a Request for it.
package testkit

import (
	stdctx "context"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/gomlx/gomlx/backends"
	_ "github.com/gomlx/gomlx/backends/simplego"

	"github.com/dcbench/dcbench/datasets"
	_ "github.com/dcbench/dcbench/dcbench/backend/gogemm" // the CPU backend
	"github.com/dcbench/dcbench/dcbench/method"
)

// Main is a TestMain body: it makes the backend (gogemm op by op unless $GOMLX_BACKEND
// says otherwise, since simplego's parallel scheduler can deadlock on 2 cores), stores it
// in *b, runs the tests and exits.
func Main(m *testing.M, b *backends.Backend) {
	if os.Getenv("GOMLX_BACKEND") == "" {
		os.Setenv("GOMLX_BACKEND", "gogemm:ops_sequential")
	}
	os.Setenv("GOMLX_NO_AUTO_INSTALL", "1")
	*b = backends.MustNew()
	os.Exit(m.Run())
}

// ToyData is a normalised set of n images per class of size s×s×3, interleaved by class
// (image i has label i mod classes), class k brighter by k, with unit Gaussian noise drawn
// from seed. Classes are named "a", "b", ...
func ToyData(classes, n, s int, seed uint64) *datasets.Dataset {
	r := rand.New(rand.NewPCG(seed, 1))
	d := &datasets.Dataset{Name: "toy", Split: "train", N: classes * n, H: s, W: s, C: 3,
		Mean: []float32{0, 0, 0}, Std: []float32{1, 1, 1}, Normalized: true}
	for i := 0; i < d.N; i++ {
		k := i % classes
		d.Labels = append(d.Labels, int32(k))
		for j := 0; j < s*s*3; j++ {
			d.Images = append(d.Images, float32(k)+float32(r.NormFloat64()))
		}
	}
	for k := 0; k < classes; k++ {
		d.Classes = append(d.Classes, string(rune('a'+k)))
	}
	return d
}

// Request is a condensation request for d on backend b, with a background context and no
// progress output.
func Request(b backends.Backend, d *datasets.Dataset, ipc int, seed uint64, params map[string]any) method.Request {
	return method.Request{Context: stdctx.Background(), Train: d, IPC: ipc, Seed: seed, Backend: b,
		Params: params, Progress: func(int, int, string) {}}
}

// StripedData is a normalised set of 30 grey 8×8 images of 3 classes ("a", "b", "c"),
// interleaved by class, with unit Gaussian noise; class c adds 1.5 to the pixels p with
// p mod 3 = c, so a small ConvNet can tell the classes apart. It is the same for every call.
func StripedData() *datasets.Dataset {
	r := rand.New(rand.NewPCG(1, 2))
	d := &datasets.Dataset{Name: "tiny", Split: "train", N: 30, H: 8, W: 8, C: 1,
		Classes: []string{"a", "b", "c"}, Mean: []float32{0}, Std: []float32{1}, Normalized: true}
	for i := 0; i < d.N; i++ {
		c := i % 3
		d.Labels = append(d.Labels, int32(c))
		for p := 0; p < 64; p++ {
			v := float32(r.NormFloat64())
			if p%3 == c {
				v += 1.5
			}
			d.Images = append(d.Images, v)
		}
	}
	return d
}
