package expert

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/dcbench/dcbench/datasets"
	"github.com/dcbench/dcbench/dcbench/augment"
	"github.com/dcbench/dcbench/dcbench/internal/atomicfile"
	"github.com/dcbench/dcbench/dcbench/internal/catch"
	"github.com/dcbench/dcbench/dcbench/nn"
)

// Reference settings of the expert training (buffer.py of Cazenavette et al.).
const (
	DefaultExperts  = 100
	DefaultEpochs   = 50
	DefaultLR       = 0.01
	DefaultBatch    = 256
	DefaultPerShard = 10
	DefaultModel    = "convnet"
)

// Config is the setting of Train.
type Config struct {
	// Model is the ConvNet variant (see ArchFor); "" means DefaultModel.
	Model string
	// Experts is the number of experts, Epochs the epochs each is trained for.
	Experts, Epochs int
	// LR is the SGD learning rate (no momentum, no weight decay), Batch the batch size
	// (the last batch of an epoch is smaller when Batch does not divide the set).
	LR    float64
	Batch int
	// DSA is the DSA strategy applied to every training batch (each sample its own draw);
	// "none" for no augmentation, "" for augment.DefaultStrategy.
	DSA string
	// Seed makes everything deterministic: expert i's initialisation, batch order and
	// augmentation are functions of (Seed, i) only, so experts can be trained in any order
	// and resumed.
	Seed uint64
	// PerShard is the number of experts per shard file.
	PerShard int
	// ZCA whitens the training images before training, as the reference's buffer.py --zca:
	// kornia's ZCAWhitening(eps=0.1) fitted on the normalised training set (FitZCA). The
	// buffer records it (Setup.ZCA), and MTT must distil in the same space.
	ZCA bool
	// ZCAFit, if not nil, is the normalised set the whitening is fitted on instead of the
	// training set (e.g. the whole training set when the experts train on a subset of it, so
	// that the whitening is the one MTT fits on that whole set).
	ZCAFit *datasets.Dataset
	// Progress, if not nil, is called after every epoch with the epochs done (over all
	// experts, resumed ones included) out of Experts·Epochs.
	Progress func(done, total int, msg string)
	// Context cancels the work (nil: never). A cancelled run keeps the shards already
	// written; run again to resume.
	Context context.Context
}

// DefaultConfig returns the reference setting: 100 ConvNet experts × 50 epochs, SGD lr 0.01
// without momentum or weight decay, batch 256, DSA, 10 experts per shard.
func DefaultConfig() Config {
	return Config{Model: DefaultModel, Experts: DefaultExperts, Epochs: DefaultEpochs, LR: DefaultLR,
		Batch: DefaultBatch, DSA: augment.DefaultStrategy, PerShard: DefaultPerShard}
}

func (c *Config) check() error {
	if c.Model == "" {
		c.Model = DefaultModel
	}
	if c.DSA == "" {
		c.DSA = augment.DefaultStrategy
	}
	if c.PerShard == 0 {
		c.PerShard = DefaultPerShard
	}
	switch {
	case c.Experts < 1:
		return fmt.Errorf("expert: want at least 1 expert, got %d", c.Experts)
	case c.Epochs < 1:
		return fmt.Errorf("expert: want at least 1 epoch, got %d", c.Epochs)
	case !(c.LR > 0):
		return fmt.Errorf("expert: learning rate must be > 0, got %g", c.LR)
	case c.Batch < 1:
		return fmt.Errorf("expert: batch must be ≥ 1, got %d", c.Batch)
	case c.PerShard < 1:
		return fmt.Errorf("expert: experts per shard must be ≥ 1, got %d", c.PerShard)
	}
	return nil
}

// mix derives a 64-bit seed for expert i.
func mix(seed uint64, i int, salt uint64) uint64 {
	r := rand.New(rand.NewPCG(seed^salt, uint64(i)+0x9e3779b97f4a7c15))
	return r.Uint64()
}

// Train trains cfg.Experts experts on the normalised training set d and writes their
// trajectories to dir (created if needed) as shard files ShardName(k), each holding
// PerShard consecutive experts, written atomically once all its experts are trained.
// Shards already in dir with the same identity are kept (resuming an interrupted run, or
// extending a buffer with more experts); a damaged or foreign shard is an error. It
// returns the buffer opened for reading.
func Train(backend backends.Backend, d *datasets.Dataset, dir string, cfg Config) (*Buffer, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if d == nil || d.N == 0 {
		return nil, errors.New("expert: empty training set")
	}
	if !d.Normalized {
		return nil, fmt.Errorf("expert: training set %s is not normalised", d.Name)
	}
	arch, err := ArchFor(cfg.Model, d.H, d.W, d.C, d.NumClasses())
	if err != nil {
		return nil, err
	}
	dc := augment.DefaultConfig()
	dc.Strategy = cfg.DSA
	dsa, err := augment.NewDSA(dc)
	if err != nil {
		return nil, fmt.Errorf("expert: DSA strategy: %w", err)
	}
	id := Setup{Dataset: fmt.Sprintf("%s/%s %dx%dx%dx%d", d.Name, d.Split, d.N, d.H, d.W, d.C), Arch: arch,
		NumParams: arch.NumParams(), Epochs: cfg.Epochs, LR: cfg.LR, Batch: cfg.Batch, DSA: cfg.DSA, Seed: cfg.Seed, PerShard: cfg.PerShard,
		ZCA: cfg.ZCA}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("expert: %w", err)
	}
	ctx := cfg.Context
	if ctx == nil {
		ctx = context.Background()
	}
	t := &trainer{backend: backend, d: d, arch: arch, dsa: dsa, cfg: cfg}
	defer t.finalize()
	total := cfg.Experts * cfg.Epochs
	done := 0
	// whiten fits and applies the ZCA the first time an expert has to be trained (a fully
	// resumed run needs none).
	whiten := func() error {
		if !cfg.ZCA || t.d != d {
			return nil
		}
		fit := d
		if cfg.ZCAFit != nil {
			fit = cfg.ZCAFit
			if fit.ImageSize() != d.ImageSize() || !fit.Normalized {
				return fmt.Errorf("expert: the ZCA fitting set %s is not normalised images of the training set's shape", fit)
			}
		}
		if cfg.Progress != nil {
			cfg.Progress(done, total, "fitting ZCA")
		}
		z, err := FitZCA(fit)
		if err != nil {
			return err
		}
		wd, err := Whiten(d, z)
		if err != nil {
			return err
		}
		t.d = wd
		return nil
	}
	shards := (cfg.Experts + cfg.PerShard - 1) / cfg.PerShard
	for k := 0; k < shards; k++ {
		lo, hi := k*cfg.PerShard, min((k+1)*cfg.PerShard, cfg.Experts)
		path := filepath.Join(dir, ShardName(k))
		var have [][]float32
		var losses []float64
		if h, _, err := readHeader(path); err == nil {
			if h.Setup != id {
				return nil, fmt.Errorf("expert: %s was made with different settings (%+v; this run: %+v); use another folder or remove it", path, h.Setup, id)
			}
			if len(h.Experts) >= hi-lo {
				done += (hi - lo) * cfg.Epochs
				if cfg.Progress != nil {
					cfg.Progress(done, total, fmt.Sprintf("experts %d..%d already in %s", lo, hi-1, path))
				}
				continue
			}
			// A shard of a smaller run: keep its experts, train the rest.
			b := &Buffer{dir: dir, id: id, where: map[int]location{}, cacheIdx: -1}
			_, off, _ := readHeader(path)
			for i, ex := range h.Experts {
				b.where[ex] = location{path: path, off: off + int64(i)*id.trajBytes(), crc: h.Blocks[i].CRC}
			}
			for i, ex := range h.Experts {
				tr, err := b.Trajectory(ex)
				if err != nil {
					return nil, err
				}
				have = append(have, tr.data)
				losses = append(losses, h.Blocks[i].FinalLoss)
				done += cfg.Epochs
			}
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("expert: %w (remove the file to retrain it)", err)
		}
		experts := make([]int, 0, hi-lo)
		for ex := lo; ex < hi; ex++ {
			experts = append(experts, ex)
		}
		for ex := lo + len(have); ex < hi; ex++ {
			if err := whiten(); err != nil {
				return nil, err
			}
			traj, loss, err := t.trainOne(ctx, ex, func(e int, loss float64) {
				done++
				if cfg.Progress != nil {
					cfg.Progress(done, total, fmt.Sprintf("expert %d/%d epoch %d/%d loss %.4f", ex+1, cfg.Experts, e, cfg.Epochs, loss))
				}
			})
			if err != nil {
				return nil, fmt.Errorf("expert %d: %w", ex, err)
			}
			have = append(have, traj)
			losses = append(losses, loss)
		}
		data, err := encodeShard(Header{Version: Version, Setup: id, Shard: k, Experts: experts}, have, losses)
		if err != nil {
			return nil, err
		}
		if err := atomicfile.Write(path, data); err != nil {
			return nil, fmt.Errorf("expert: writing %s: %w", path, err)
		}
	}
	return Open(dir)
}

// FitZCA fits the ZCA whitening of the reference's --zca (kornia's ZCAWhitening with
// eps augment.DefaultZCARegularization = 0.1) on the normalised images of d. It is
// deterministic: the same images give the same transform.
func FitZCA(d *datasets.Dataset) (*augment.ZCA, error) {
	if d == nil || d.N < 2 {
		return nil, errors.New("expert: ZCA needs at least 2 training images")
	}
	if !d.Normalized {
		return nil, fmt.Errorf("expert: ZCA: training set %s is not normalised", d.Name)
	}
	z, err := augment.FitZCA(d.Images, d.N, d.ImageSize(), augment.DefaultZCARegularization)
	if err != nil {
		return nil, fmt.Errorf("expert: ZCA: %w", err)
	}
	return z, nil
}

// Whiten returns a copy of d with every image mapped to the ZCA space of z (labels, classes
// and normalisation constants shared with d).
func Whiten(d *datasets.Dataset, z *augment.ZCA) (*datasets.Dataset, error) {
	out := &datasets.Dataset{Name: d.Name, Split: d.Split, Images: slices.Clone(d.Images), Labels: d.Labels,
		N: d.N, H: d.H, W: d.W, C: d.C, Classes: d.Classes, Mean: d.Mean, Std: d.Std, Normalized: d.Normalized}
	if err := z.Apply(out.Images, out.N); err != nil {
		return nil, fmt.Errorf("expert: ZCA: %w", err)
	}
	return out, nil
}

// trainer holds the compiled SGD step of the experts.
type trainer struct {
	backend backends.Backend
	d       *datasets.Dataset
	arch    Arch
	dsa     *augment.DSA
	cfg     Config
	exec    *Exec
}

func (t *trainer) finalize() {
	if t.exec != nil {
		t.exec.Finalize()
	}
}

// step builds the SGD step: inputs the parameter tensors, the batch x, labels and the RNG
// state; outputs the new parameters, the new RNG state and the loss.
func (t *trainer) step(in []*Node) []*Node {
	np := len(t.arch.Layout())
	params, x, labels, rng := in[:np], in[np], in[np+1], in[np+2]
	if len(t.dsa.Ops()) > 0 {
		var p *augment.Params
		d := x.Shape().Dimensions
		rng, p = t.dsa.Draw(rng, d[0], d[1], d[2])
		x = t.dsa.Apply(p, x)
	}
	loss := nn.CrossEntropy(t.arch.Logits(params, x), labels)
	grads := Gradient(loss, params...)
	out := make([]*Node, 0, np+2)
	for i, p := range params {
		out = append(out, Sub(p, MulScalar(grads[i], t.cfg.LR)))
	}
	return append(out, rng, loss)
}

// trainOne trains expert ex and returns its trajectory (Epochs+1 flat vectors) and final
// loss.
func (t *trainer) trainOne(ctx context.Context, ex int, onEpoch func(e int, loss float64)) (traj []float32, loss float64, err error) {
	if t.exec == nil {
		if err := catch.Run(func() { t.exec = MustNewExec(t.backend, t.step) }); err != nil {
			return nil, 0, err
		}
	}
	a, d, cfg := t.arch, t.d, t.cfg
	init := a.Init(mix(cfg.Seed, ex, 0x706172616d73)) // "params"
	traj = append(make([]float32, 0, (cfg.Epochs+1)*len(init)), init...)
	parts, _ := a.Split(init)
	layout := a.Layout()
	params := make([]*tensors.Tensor, len(parts))
	for i, p := range parts {
		params[i] = tensors.FromFlatDataAndDimensions(slices.Clone(p), layout[i].Dims...)
	}
	rngT, err := RNGStateFromSeed(int64(mix(cfg.Seed, ex, 0x647361)))
	if err != nil {
		return nil, 0, err
	}
	order := rand.New(rand.NewPCG(mix(cfg.Seed, ex, 0x6f72646572), 1)) // "order"
	size := d.ImageSize()
	buf := make([]float32, 0, cfg.Batch*size)
	for e := 1; e <= cfg.Epochs; e++ {
		perm := order.Perm(d.N)
		var lossT *tensors.Tensor
		for s := 0; s < d.N; s += cfg.Batch {
			if err := ctx.Err(); err != nil {
				return nil, 0, err
			}
			idx := perm[s:min(s+cfg.Batch, d.N)]
			buf = d.Batch(idx, buf)
			x := tensors.FromFlatDataAndDimensions(slices.Clone(buf), len(idx), d.H, d.W, d.C)
			y := tensors.FromFlatDataAndDimensions(d.Labels32(idx), len(idx))
			args := make([]any, 0, len(params)+3)
			for _, p := range params {
				args = append(args, p)
			}
			args = append(args, x, y, rngT)
			var outs []*tensors.Tensor
			if err := catch.Run(func() { outs = t.exec.MustExec(args...) }); err != nil {
				return nil, 0, err
			}
			copy(params, outs[:len(params)])
			rngT, lossT = outs[len(params)], outs[len(params)+1]
		}
		loss = float64(tensors.ToScalar[float32](lossT))
		for _, p := range params {
			flat, err := tensors.CopyFlatData[float32](p)
			if err != nil {
				return nil, 0, err
			}
			traj = append(traj, flat...)
		}
		onEpoch(e, loss)
	}
	return traj, loss, nil
}
