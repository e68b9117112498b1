package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/dcbench/dcbench/dcbench/condensers/mtt"
	"github.com/dcbench/dcbench/dcbench/expert"
)

// cmdBuffer trains expert trajectories for MTT (package expert) into a folder of shards.
func cmdBuffer(args []string) error {
	fs := newFlagSet("buffer")
	var c common
	fs.StringVar(&c.dataset, "dataset", "", "dataset (default: the embedded CIFAR-10 subset)")
	fs.StringVar(&c.data, "data", "", "folder or archive with the dataset files (default: the download cache, $DCBENCH_DATA)")
	fs.StringVar(&c.backendName, "backend", "", "backend: cpu, gpu, go[:opts], xla:PLUGIN")
	fs.Uint64Var(&c.seed, "seed", 0, "seed of the experts' initialisation, batch order and augmentation")
	fs.BoolVar(&c.quiet, "quiet", false, "no progress output")
	def := expert.DefaultConfig()
	out := fs.String("out", "", "folder for the shards replay_buffer_K.bin (required; an interrupted run resumes there)")
	experts := fs.Int("experts", def.Experts, "number of experts")
	epochs := fs.Int("epochs", def.Epochs, "training epochs of each expert")
	model := fs.String("model", def.Model, "ConvNet variant (convnet, convnetw32, convnetd1..d4, convnetnn, ...)")
	lr := fs.Float64("lr", def.LR, "SGD learning rate (no momentum, no weight decay)")
	batch := fs.Int("batch", def.Batch, "batch size")
	dsa := fs.String("dsa", def.DSA, "DSA strategy of the training batches (none: no augmentation)")
	perShard := fs.Int("per-shard", def.PerShard, "experts per shard file")
	pool := fs.Int("pool", 0, "train on a class-balanced subset of this many images per class (0: the whole training set)")
	zca := fs.Bool("zca", false, "train on ZCA-whitened images, as buffer.py --zca (default: on for cifar10 and cifar100, "+
		"whose reference MTT settings use ZCA, off otherwise; the MTT distillation's zca param must match)")
	if err := parse(fs, args); err != nil {
		if err == errHelp {
			return nil
		}
		return err
	}
	switch {
	case *out == "":
		return usageError{fmt.Errorf("--out FOLDER is required")}
	case *experts < 1:
		return usageError{fmt.Errorf("--experts must be at least 1, got %d", *experts)}
	case *epochs < 1:
		return usageError{fmt.Errorf("--epochs must be at least 1, got %d", *epochs)}
	case *batch < 1:
		return usageError{fmt.Errorf("--batch must be at least 1, got %d", *batch)}
	case !(*lr > 0):
		return usageError{fmt.Errorf("--lr must be positive, got %g", *lr)}
	case *perShard < 1:
		return usageError{fmt.Errorf("--per-shard must be at least 1, got %d", *perShard)}
	case *pool < 0:
		return usageError{fmt.Errorf("--pool must be non-negative, got %d", *pool)}
	}
	if _, err := expert.ArchFor(*model, 32, 32, 3, 10); err != nil {
		return usageError{err}
	}
	b, data, dname, err := c.open()
	if err != nil {
		return err
	}
	train := data.Train
	if *pool > 0 {
		if train, err = train.SamplePerClass(*pool, c.seed, 0x706f6f6c); err != nil {
			return err
		}
	}
	zcaSet := false
	fs.Visit(func(f *flag.Flag) { zcaSet = zcaSet || f.Name == "zca" })
	if !zcaSet {
		*zca = referenceZCA(data.Train.Name)
	}
	if *zca {
		logf(c.quiet, os.Stderr, "ZCA whitening on (fitted on the whole training set, %d images)\n", data.Train.N)
	}
	ctx, stop := interruptible()
	defer stop()
	prog, done := c.progress("buffer " + dname)
	cfg := expert.Config{Model: *model, Experts: *experts, Epochs: *epochs, LR: *lr, Batch: *batch, DSA: *dsa,
		Seed: c.seed, PerShard: *perShard, Context: ctx, Progress: prog, ZCA: *zca}
	if *zca && train != data.Train {
		// Whiten as MTT will: with the ZCA fitted on the whole training set.
		cfg.ZCAFit = data.Train
	}
	buf, err := expert.Train(b, train, *out, cfg)
	done()
	if err != nil {
		return err
	}
	a := buf.Arch()
	whitened := ""
	if buf.ZCA() {
		whitened = " (ZCA-whitened)"
	}
	fmt.Printf("%d experts × %d epochs of %s (%d parameters, %dx%dx%d, %d classes) on %s%s in %s\n",
		buf.NumExperts(), buf.Epochs(), *model, a.NumParams(), a.H, a.W, a.C, a.Classes, train, whitened, *out)
	return nil
}

// referenceZCA is the default of --zca: whether any of the dataset's rows of MTT's reference
// table (mtt.Reference) whitens with ZCA (CIFAR-10 and CIFAR-100, the embedded subset
// included).
func referenceZCA(dataset string) bool {
	for _, ipc := range []int{1, 10, 50} {
		if s, found := mtt.Lookup(dataset, ipc); found && s.ZCA {
			return true
		}
	}
	return false
}

// paramFlags collects repeated --param key=value method settings.
type paramFlags map[string]any

// String lists the params.
func (p paramFlags) String() string {
	var parts []string
	for k, v := range p {
		parts = append(parts, fmt.Sprintf("%s=%v", k, v))
	}
	return strings.Join(parts, ",")
}

// Set adds one key=value (the value stays a string: the methods parse numbers).
func (p paramFlags) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	k = strings.TrimSpace(k)
	if !ok || k == "" {
		return fmt.Errorf("want key=value, got %q", s)
	}
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true":
		p[k] = true
	case "false":
		p[k] = false
	default:
		p[k] = v
	}
	return nil
}

var _ flag.Value = paramFlags{}
