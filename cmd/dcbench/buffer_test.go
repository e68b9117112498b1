package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBufferBadInput(t *testing.T) {
	dir := t.TempDir()
	foreign := filepath.Join(dir, "foreign")
	os.MkdirAll(foreign, 0o755)
	os.WriteFile(filepath.Join(foreign, "replay_buffer_0.bin"), []byte("not a shard"), 0o644)
	cases := []badInput{
		{"no out", []string{"buffer", "--quiet"}, 2, "--out FOLDER is required"},
		{"no experts", []string{"buffer", "--out", dir, "--experts", "0"}, 2, "--experts must be at least 1"},
		{"no epochs", []string{"buffer", "--out", dir, "--epochs", "0"}, 2, "--epochs must be at least 1"},
		{"bad lr", []string{"buffer", "--out", dir, "--lr", "-1"}, 2, "--lr must be positive"},
		{"bad model", []string{"buffer", "--out", dir, "--model", "resnet18"}, 2, "ConvNet family"},
		{"foreign shard", []string{"buffer", "--out", foreign, "--quiet", "--experts", "1", "--epochs", "1", "--pool", "2", "--model", "convnetd1"}, 1, "not an expert buffer"},
		{"bad param", []string{"condense", "--param", "nokey"}, 2, "want key=value"},
		{"mtt without buffer", []string{"condense", "--method", "mtt", "--quiet", "--ipc", "1"}, 1, "param buffer"},
		{"mtt missing buffer", []string{"condense", "--method", "mtt", "--quiet", "--ipc", "1", "--param", "buffer=" + filepath.Join(dir, "nope")}, 1, "nope"},
		{"mtt bad memory", []string{"condense", "--method", "mtt", "--quiet", "--ipc", "1", "--param", "buffer=" + dir, "--param", "memory=less"}, 1, "param memory"},
	}
	checkBadInputs(t, cases)
}

// TestBufferThenMTT writes a tiny buffer on the embedded subset and condenses with MTT from
// it through the command line. The buffer is made without ZCA (a ZCA fit at CIFAR's 3072
// features takes minutes on a CPU; the ZCA path is tested in packages expert and mtt), so
// the defaults of MTT at CIFAR-10 IPC 1 (ZCA on, as the reference) must be refused with a
// clear error, and zca=false runs.
func TestBufferThenMTT(t *testing.T) {
	dir := t.TempDir()
	buf := filepath.Join(dir, "buf")
	code, out, stderr := runCaptured(t, "buffer", "--out", buf, "--experts", "1", "--epochs", "2", "--pool", "3",
		"--model", "convnetd1", "--batch", "16", "--quiet", "--zca=false")
	if code != 0 || !strings.Contains(out, "1 experts × 2 epochs") || strings.Contains(out, "ZCA") {
		t.Fatalf("buffer: exit %d\n%s\n%s", code, out, stderr)
	}
	code, _, stderr = runCaptured(t, "condense", "--method", "mtt", "--ipc", "1", "--quiet", "--out", filepath.Join(dir, "no.dcb"),
		"--param", "buffer="+buf)
	if code != 1 || !strings.Contains(stderr, "was trained without ZCA but zca=true (the reference default for cifar10 IPC 1)") ||
		!strings.Contains(stderr, "zca=false") {
		t.Fatalf("default zca=true on a plain buffer: exit %d\n%s", code, stderr)
	}
	set := filepath.Join(dir, "set.dcb")
	code, out, stderr = runCaptured(t, "condense", "--method", "mtt", "--ipc", "1", "--quiet", "--out", set,
		"--param", "buffer="+buf, "--param", "iterations=2", "--param", "syn_steps=2", "--param", "expert_epochs=1",
		"--param", "max_start_epoch=1", "--param", "memory=recompute", "--param", "zca=false")
	if code != 0 {
		t.Fatalf("condense: exit %d\n%s\n%s", code, out, stderr)
	}
	if _, err := os.Stat(set); err != nil {
		t.Fatal(err)
	}
}

// TestBufferZCADefault: dcbench buffer whitens by default where MTT's reference table does.
func TestBufferZCADefault(t *testing.T) {
	for name, want := range map[string]bool{"cifar10": true, "cifar10-embedded": true, "cifar100": true,
		"tinyimagenet": false, "mnist": false, "fashionmnist": false} {
		if got := referenceZCA(name); got != want {
			t.Errorf("referenceZCA(%q) = %v, want %v", name, got, want)
		}
	}
}
