package models

import (
	"os"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/backends"
	_ "github.com/gomlx/gomlx/backends/simplego"

	_ "github.com/dcbench/dcbench/dcbench/backend/gogemm" // the CPU backend
)

var backend backends.Backend

func TestMain(m *testing.M) {
	if os.Getenv("GOMLX_BACKEND") == "" {
		os.Setenv("GOMLX_BACKEND", "gogemm:ops_sequential")
	}
	backend = backends.MustNew()
	os.Exit(m.Run())
}

func TestParameterCounts(t *testing.T) {
	cases := []struct {
		model      string
		h, w, c, k int
		want       int
	}{
		// Reference: 3 convs (3·128·9+128, 2×(128·128·9+128)), 3 instance norms (2·128), linear 2048·10+10.
		{"convnet", 32, 32, 3, 10, 320010},
		// MNIST: first conv has padding 3, so 28 → 32 → 16 → 8 → 4 and the same 2048 features.
		{"convnet", 28, 28, 1, 10, 1*128*9 + 128 + 2*(128*128*9+128) + 3*256 + 2048*10 + 10},
		// TinyImageNet ConvNetD4: 64 → 4 after four pools, 2048 features, 200 classes.
		{"convnetd4", 64, 64, 3, 200, 3*128*9 + 128 + 3*(128*128*9+128) + 4*256 + 2048*200 + 200},
		{"convnetbn", 32, 32, 3, 10, 320010},
		// Layer norm's affine has the shape of the feature map: 128·(32² + 16² + 8²)·2.
		{"convnetln", 32, 32, 3, 10, 320010 - 3*256 + 2*128*(32*32+16*16+8*8)},
		{"mlp", 32, 32, 3, 10, 3072*128 + 128 + 128*128 + 128 + 128*10 + 10},
		{"mlp", 28, 28, 1, 10, 784*128 + 128 + 128*128 + 128 + 128*10 + 10},
	}
	for _, tc := range cases {
		t.Run(tc.model, func(t *testing.T) {
			m, err := Get(tc.model)
			if err != nil {
				t.Fatal(err)
			}
			shape, n, err := Probe(backend, m, tc.h, tc.w, tc.c, tc.k)
			if err != nil {
				t.Fatal(err)
			}
			if n != tc.want {
				t.Errorf("%s %dx%dx%d: %d parameters, want %d", tc.model, tc.h, tc.w, tc.c, n, tc.want)
			}
			if d := shape.Dimensions; len(d) != 2 || d[0] != 2 || d[1] != tc.k {
				t.Errorf("logits shape %v, want [2 %d]", d, tc.k)
			}
		})
	}
}

func TestRegistryErrors(t *testing.T) {
	_, err := Get("resnet9000")
	if err == nil || !strings.Contains(err.Error(), "resnet9000") || !strings.Contains(err.Error(), "convnet") {
		t.Fatalf("want an error naming the model and listing valid names, got %v", err)
	}
	for _, name := range []string{"ConvNet", "convnet-d4", "CONVNET_BN"} {
		if _, err := Get(name); err != nil {
			t.Errorf("Get(%q): %v", name, err)
		}
	}
}
