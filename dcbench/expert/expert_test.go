package expert

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/dcbench/dcbench/datasets"
	"github.com/dcbench/dcbench/dcbench/internal/atomicfile"
	"github.com/dcbench/dcbench/dcbench/internal/testkit"
	"github.com/dcbench/dcbench/dcbench/models"
)

var backend backends.Backend

func TestMain(m *testing.M) { testkit.Main(m, &backend) }

// tinyData is testkit.StripedData: 30 grey 8×8 images of 3 classes.
func tinyData() *datasets.Dataset { return testkit.StripedData() }

func tinyConfig() Config {
	return Config{Model: "convnetd1", Experts: 2, Epochs: 2, LR: 0.01, Batch: 16, PerShard: 1, Seed: 3}
}

func TestArchLayout(t *testing.T) {
	a, err := ArchFor("convnet", 32, 32, 3, 10)
	if err != nil {
		t.Fatal(err)
	}
	if n := a.NumParams(); n != 320010 {
		t.Errorf("ConvNet-3 on CIFAR-10 has %d parameters, want 320010 (as the reference)", n)
	}
	if _, err := ArchFor("resnet18", 32, 32, 3, 10); err == nil {
		t.Error("resnet18 accepted as an expert architecture")
	}
	if _, err := ArchFor("convnetd4", 8, 8, 3, 10); err == nil {
		t.Error("8x8 images accepted by a depth-4 ConvNet")
	}
}

// TestWriteRead writes known trajectories and reads them back bit for bit.
func TestWriteRead(t *testing.T) {
	a := Arch{Width: 4, Depth: 1, Norm: "instancenorm", H: 8, W: 8, C: 1, Classes: 3}
	id := Setup{Dataset: "x", Arch: a, NumParams: a.NumParams(), Epochs: 3, LR: 0.01, Batch: 4, DSA: "none", PerShard: 2}
	r := rand.New(rand.NewPCG(5, 6))
	trajs := make([][]float32, 2)
	for i := range trajs {
		trajs[i] = make([]float32, 4*a.NumParams())
		for j := range trajs[i] {
			trajs[i][j] = float32(r.NormFloat64())
		}
	}
	dir := t.TempDir()
	data, err := encodeShard(Header{Version: Version, Setup: id, Shard: 0, Experts: []int{0, 1}}, trajs, []float64{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.Write(filepath.Join(dir, ShardName(0)), data); err != nil {
		t.Fatal(err)
	}
	b, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if b.NumExperts() != 2 || b.Epochs() != 3 || b.Arch() != a {
		t.Fatalf("read %d experts × %d epochs, arch %+v", b.NumExperts(), b.Epochs(), b.Arch())
	}
	for i := range trajs {
		tr, err := b.Trajectory(i)
		if err != nil {
			t.Fatal(err)
		}
		for e := 0; e <= 3; e++ {
			p, err := tr.Params(e)
			if err != nil {
				t.Fatal(err)
			}
			want := trajs[i][e*a.NumParams() : (e+1)*a.NumParams()]
			for j := range p {
				if p[j] != want[j] {
					t.Fatalf("expert %d epoch %d param %d: read %v, wrote %v", i, e, j, p[j], want[j])
				}
			}
		}
		if _, err := tr.Params(4); err == nil {
			t.Error("epoch past the end accepted")
		}
	}
	if _, err := b.Trajectory(7); err == nil || !strings.Contains(err.Error(), "no expert 7") {
		t.Errorf("missing expert: %v", err)
	}
}

// TestTrainResumeCorrupt trains a tiny buffer, checks determinism, resuming and the
// errors on damaged and foreign shards.
func TestTrainResumeCorrupt(t *testing.T) {
	d := tinyData()
	cfg := tinyConfig()
	dir := t.TempDir()
	b, err := Train(backend, d, dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if b.NumExperts() != 2 || b.Epochs() != 2 {
		t.Fatalf("%d experts × %d epochs", b.NumExperts(), b.Epochs())
	}
	tr, err := b.Trajectory(1)
	if err != nil {
		t.Fatal(err)
	}
	p0, _ := tr.Params(0)
	p2, _ := tr.Params(2)
	init := b.Arch().Init(mix(cfg.Seed, 1, 0x706172616d73))
	moved := 0.0
	for j := range p0 {
		if p0[j] != init[j] {
			t.Fatalf("epoch 0 is not the initialisation at %d", j)
		}
		moved += float64((p2[j] - p0[j]) * (p2[j] - p0[j]))
	}
	if moved == 0 {
		t.Fatal("training did not move the parameters")
	}

	// Resume: one shard removed is retrained identically, the other is skipped.
	shard0, _ := os.ReadFile(filepath.Join(dir, ShardName(0)))
	shard1, _ := os.ReadFile(filepath.Join(dir, ShardName(1)))
	os.Remove(filepath.Join(dir, ShardName(1)))
	var msgs []string
	cfg.Progress = func(done, total int, msg string) { msgs = append(msgs, msg) }
	if _, err := Train(backend, d, dir, cfg); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msgs[0], "already") || len(msgs) != 3 {
		t.Errorf("resume progress: %q (want the first shard skipped, 2 epochs trained)", msgs)
	}
	again, _ := os.ReadFile(filepath.Join(dir, ShardName(1)))
	if !bytes.Equal(again, shard1) {
		t.Error("retrained shard differs: training is not deterministic")
	}

	// Damage: a flipped byte in a trajectory, a truncated file, a foreign shard.
	bad := append([]byte(nil), shard0...)
	bad[len(bad)-3] ^= 0xff
	os.WriteFile(filepath.Join(dir, ShardName(0)), bad, 0o644)
	b, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Trajectory(0); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("flipped byte: %v", err)
	}
	os.WriteFile(filepath.Join(dir, ShardName(0)), shard0[:len(shard0)-10], 0o644)
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("truncated shard: %v", err)
	}
	if _, err := Train(backend, d, dir, cfg); err == nil || !strings.Contains(err.Error(), "remove the file") {
		t.Errorf("resume over a truncated shard: %v", err)
	}
	os.WriteFile(filepath.Join(dir, ShardName(0)), []byte("hello"), 0o644)
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "not an expert buffer") {
		t.Errorf("foreign file: %v", err)
	}
	os.WriteFile(filepath.Join(dir, ShardName(0)), shard0, 0o644)
	other := cfg
	other.Seed = 99
	if _, err := Train(backend, d, dir, other); err == nil || !strings.Contains(err.Error(), "different settings") {
		t.Errorf("foreign shard on resume: %v", err)
	}
	if _, err := Open(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no replay_buffer") {
		t.Errorf("empty folder: %v", err)
	}
	if _, err := Open(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing folder accepted")
	}
}

func TestConfigErrors(t *testing.T) {
	d := tinyData()
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"experts", func(c *Config) { c.Experts = 0 }, "expert"},
		{"epochs", func(c *Config) { c.Epochs = 0 }, "epoch"},
		{"lr", func(c *Config) { c.LR = -1 }, "learning rate"},
		{"model", func(c *Config) { c.Model = "vgg11" }, "ConvNet"},
		{"dsa", func(c *Config) { c.DSA = "wobble" }, "DSA"},
	} {
		cfg := tinyConfig()
		tc.edit(&cfg)
		if _, err := Train(backend, d, t.TempDir(), cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v (want an error mentioning %q)", tc.name, err, tc.want)
		}
	}
}

// TestLogitsMatchModel checks that Arch.Logits computes the registry's ConvNet (the
// evaluation network) when given that network's weights.
func TestLogitsMatchModel(t *testing.T) {
	for _, name := range []string{"convnetd1", "convnetnn"} {
		m, err := models.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		a, err := ArchFor(name, 8, 8, 1, 3)
		if err != nil {
			if name == "convnetnn" { // depth 3 needs larger images
				a, err = ArchFor(name, 16, 16, 1, 3)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		r := rand.New(rand.NewPCG(2, 3))
		x := make([]float32, 2*a.H*a.W*a.C)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		xt := tensors.FromFlatDataAndDimensions(x, 2, a.H, a.W, a.C)
		ctx := context.New()
		want := context.MustExecOnce(backend, ctx, func(ctx *context.Context, x *Node) *Node {
			return m.Logits(ctx, x, a.Classes)
		}, xt)
		byName := map[string]*tensors.Tensor{}
		for v := range ctx.IterVariables() {
			val, _ := v.Value()
			byName[v.ScopeAndName()] = val
		}
		var params []*tensors.Tensor
		for _, tn := range a.Layout() {
			var found *tensors.Tensor
			for k, v := range byName {
				if strings.HasSuffix(k, "/"+tn.Name) {
					found = v
				}
			}
			if found == nil {
				t.Fatalf("%s: no variable for %s among %v", name, tn.Name, byName)
			}
			params = append(params, found)
		}
		got := MustExecOnce(backend, func(in []*Node) *Node {
			return a.Logits(in[:len(in)-1], in[len(in)-1])
		}, append(anySlice(params), xt)...)
		w, _ := tensors.CopyFlatData[float32](want)
		g, _ := tensors.CopyFlatData[float32](got)
		for i := range w {
			if math.Abs(float64(w[i]-g[i])) > 1e-4 {
				t.Fatalf("%s: logit %d = %g, model gives %g", name, i, g[i], w[i])
			}
		}
	}
}

func anySlice(ts []*tensors.Tensor) []any {
	out := make([]any, len(ts))
	for i, t := range ts {
		out[i] = t
	}
	return out
}

// TestTrainZCA checks that a buffer trained on whitened images records it, reads back with
// the flag, differs from the unwhitened experts, refuses to be resumed without ZCA, and that
// a header without the field (an older buffer) reads as no ZCA.
func TestTrainZCA(t *testing.T) {
	d := tinyData()
	cfg := tinyConfig()
	cfg.Experts, cfg.Epochs = 1, 1
	cfg.ZCA = true
	dir := t.TempDir()
	b, err := Train(backend, d, dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !b.ZCA() || !b.Setup().ZCA {
		t.Fatal("a ZCA buffer does not record ZCA")
	}
	reopened, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reopened.ZCA() {
		t.Fatal("the ZCA flag does not round-trip")
	}
	// Resuming (nothing to train) keeps the buffer.
	if _, err := Train(backend, d, dir, cfg); err != nil {
		t.Fatalf("resuming a ZCA buffer: %v", err)
	}
	plain := cfg
	plain.ZCA = false
	if _, err := Train(backend, d, dir, plain); err == nil || !strings.Contains(err.Error(), "different settings") {
		t.Fatalf("resuming a ZCA buffer without ZCA: %v", err)
	}
	pb, err := Train(backend, d, t.TempDir(), plain)
	if err != nil {
		t.Fatal(err)
	}
	if pb.ZCA() {
		t.Fatal("a plain buffer records ZCA")
	}
	tz, _ := b.Trajectory(0)
	tp, _ := pb.Trajectory(0)
	z1, _ := tz.Params(1)
	p1, _ := tp.Params(1)
	same := true
	for j := range z1 {
		if z1[j] != p1[j] {
			same = false
			break
		}
	}
	if same {
		t.Error("experts trained with and without ZCA end equal")
	}
	// The whitened training set has (regularised) identity-like covariance: at least its
	// mean is zero, and the ZCA fit is deterministic.
	z, err := FitZCA(d)
	if err != nil {
		t.Fatal(err)
	}
	z2, _ := FitZCA(tinyData())
	m1, m2 := z.Matrix(), z2.Matrix()
	for i := range m1 {
		if m1[i] != m2[i] {
			t.Fatal("FitZCA is not deterministic")
		}
	}
	wd, err := Whiten(d, z)
	if err != nil {
		t.Fatal(err)
	}
	if &wd.Images[0] == &d.Images[0] {
		t.Fatal("Whiten changed the images in place")
	}
	for k := 0; k < wd.ImageSize(); k++ {
		var mu float64
		for i := 0; i < wd.N; i++ {
			mu += float64(wd.Images[i*wd.ImageSize()+k])
		}
		if math.Abs(mu/float64(wd.N)) > 1e-4 {
			t.Fatalf("feature %d of the whitened set has mean %g", k, mu/float64(wd.N))
		}
	}
	// An older header without the field reads as no ZCA, and a plain one omits it.
	var s Setup
	if err := json.Unmarshal([]byte(`{"dataset":"x","epochs":1}`), &s); err != nil || s.ZCA {
		t.Fatalf("old header: %+v %v", s, err)
	}
	js, _ := json.Marshal(pb.Setup())
	if strings.Contains(string(js), "zca") {
		t.Errorf("a plain buffer's header mentions zca: %s", js)
	}
}
