package nbkit

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/dcbench/dcbench/datasets"
)

// tinyTrain is a normalised 2-class set of 8×8×3 images, class k brighter by k.
func tinyTrain() *datasets.Dataset {
	r := rand.New(rand.NewPCG(3, 1))
	d := &datasets.Dataset{Name: "tiny", Split: "train", N: 24, H: 8, W: 8, C: 3, Classes: []string{"a", "b"},
		Mean: []float32{0, 0, 0}, Std: []float32{1, 1, 1}, Normalized: true}
	for i := 0; i < d.N; i++ {
		d.Labels = append(d.Labels, int32(i%2))
		for j := 0; j < 8*8*3; j++ {
			d.Images = append(d.Images, float32(i%2)+float32(r.NormFloat64()))
		}
	}
	return d
}

func TestCondenseMTTQuickMakesABuffer(t *testing.T) {
	if os.Getenv("GOMLX_BACKEND") == "" {
		t.Setenv("GOMLX_BACKEND", "gogemm:ops_sequential")
	}
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	p := Quick()
	p.Methods = nil // every registered method
	train := tinyTrain()
	var expertReports int
	set, err := p.Condense(train, "MTT", 1, map[string]any{"iterations": 1}, func(done, total int, msg string) {
		if total == quickExperts*quickExpertEpochs {
			expertReports++
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if set.Data.N != 2 || set.Method != "mtt" {
		t.Errorf("set of %d images by %q, want 2 by mtt", set.Data.N, set.Method)
	}
	if expertReports != quickExperts*quickExpertEpochs {
		t.Errorf("%d expert-training reports, want one per epoch (%d)", expertReports, quickExperts*quickExpertEpochs)
	}
	// The buffer is reused: its shard files are not written again.
	shards, _ := filepath.Glob(filepath.Join(os.Getenv("XDG_CACHE_HOME"), "dcbench", "notebook-buffers", "*", "*.bin"))
	if len(shards) == 0 {
		t.Fatal("no shard file in the cache folder")
	}
	before, _ := os.Stat(shards[0])
	if _, err := p.Condense(train, "MTT", 1, map[string]any{"iterations": 1}, nil); err != nil {
		t.Fatal(err)
	}
	after, err := os.Stat(shards[0])
	if err != nil || !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("shard %s rewritten (%v)", shards[0], err)
	}
}

func TestCondenseMTTPaperWithoutBuffer(t *testing.T) {
	t.Setenv(EnvMTTBuffer, "")
	p := Paper()
	_, err := p.Condense(tinyTrain(), "MTT", 1, nil, nil)
	if !errors.Is(err, ErrSkipped) || !Skipped(err) {
		t.Fatalf("paper profile without %s: %v, want a skipped row", EnvMTTBuffer, err)
	}
}
