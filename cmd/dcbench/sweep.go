package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/dcbench/dcbench/dcbench/backend"
	"github.com/dcbench/dcbench/dcbench/results"
	"github.com/dcbench/dcbench/dcbench/sweep"
	"github.com/dcbench/dcbench/dcbench/train"
)

// commaList collects a comma-separated (and repeatable) flag.
type commaList []string

func (l *commaList) String() string { return strings.Join(*l, ",") }
func (l *commaList) Set(s string) error {
	*l = append(*l, splitList(s)...)
	return nil
}

func cmdSweep(args []string) error {
	fs := newFlagSet("sweep")
	var (
		specFile, resultsDir, shardStr, shardBy, device, backendName, kind string
		profile                                                            string
		presets, datasetsF, methods, ipcs, augs, modelsF, optimizers       commaList
		seeds, cseeds, retry, dataDirs                                     commaList
		epochs, batch, testN, shards                                       int
		lr                                                                 float64
		dryRun, quiet                                                      bool
		hostAug                                                            string
	)
	fs.StringVar(&specFile, "spec", "", "sweep spec file, JSON or YAML (see docs/sweeps.md)")
	fs.Var(&presets, "preset", "appendix grid(s): "+strings.Join(sweep.Presets(), ", "))
	fs.StringVar(&profile, "profile", "paper", "paper (the grid as given) or quick (cut down to minutes on a CPU: embedded data, one method, one IPC and seed, 10 epochs)")
	fs.StringVar(&kind, "kind", "", "eval (default) or cost (condense only, timed: Table 8)")
	fs.Var(&datasetsF, "datasets", "datasets (default: embedded, the CIFAR-10 subset in the repository)")
	fs.Var(&methods, "methods", "methods (registered condensers, kip/mtt (skipped until registered), full)")
	fs.Var(&ipcs, "ipc", "images per class, e.g. 1,10,50")
	fs.Var(&augs, "augment", "evaluation augmentations (default none)")
	fs.Var(&modelsF, "models", "evaluation models (default convnet)")
	fs.Var(&optimizers, "optimizers", "sgd and/or adam (default sgd)")
	fs.Var(&seeds, "seeds", "evaluation seeds: a list, a range a..b, or one number n for 0..n-1 (default 5)")
	fs.Var(&cseeds, "condense-seeds", "condensation seeds, as --seeds (default: seed 0)")
	fs.IntVar(&epochs, "epochs", 0, "training epochs (default 300, or 1000 with augmentation)")
	fs.IntVar(&batch, "batch", 0, "training batch size (default 256)")
	fs.Float64Var(&lr, "lr", 0, "learning rate (default 0.01 for sgd, 0.003 for adam as DC-Bench's evaluator)")
	fs.IntVar(&testN, "test-n", 0, "evaluate on this many test images, class-balanced; 0 = all")
	fs.StringVar(&hostAug, "host-augment", "", hostAugmentUsage+" (default: the spec's, else "+train.HostAugmentReference+")")
	fs.Var(&dataDirs, "data", "NAME=DIR: folder or archive of a dataset (repeatable)")
	fs.StringVar(&resultsDir, "results", "results", "results folder: records/*.jsonl and the condensed-set cache sets/*.dcb")
	fs.StringVar(&shardStr, "shard", "", "run only shard INDEX/COUNT of the grid (0-based), e.g. 0/4 (default: from $JOB_COMPLETION_INDEX or $SLURM_ARRAY_TASK_ID, else all)")
	fs.IntVar(&shards, "shards", 0, "number of shards when the index comes from $JOB_COMPLETION_INDEX (or $DCBENCH_SHARDS)")
	fs.StringVar(&shardBy, "shard-by", sweep.BySet, "set: the runs of one condensed set stay on one shard (each set condensed once); run: spread single runs")
	fs.StringVar(&device, "device", "", "cpu, or a GPU index (N or cuda:N: sets CUDA_VISIBLE_DEVICES=N and the GPU backend)")
	fs.StringVar(&backendName, "backend", "", "backend: cpu, gpu, go[:opts], xla:PLUGIN (default: $GOMLX_BACKEND, else a CUDA plugin if found, else cpu)")
	fs.Var(&retry, "retry", "run again the runs recorded with these statuses: failed, oom")
	fs.BoolVar(&dryRun, "dry-run", false, "list this shard's runs (done or to do) and exit")
	fs.BoolVar(&quiet, "quiet", false, "no progress output")
	if err := parse(fs, args); err != nil {
		if err == errHelp {
			return nil
		}
		return err
	}

	// The spec: a file and/or presets, overridden by the flags.
	spec := &sweep.Spec{}
	if specFile != "" {
		var err error
		if spec, err = sweep.LoadSpec(specFile); err != nil {
			return usageError{err}
		}
	}
	over := sweep.Spec{Preset: sweep.StringList(presets), Kind: kind, Datasets: sweep.StringList(datasetsF),
		Methods: sweep.StringList(methods), Augment: sweep.StringList(augs), Models: sweep.StringList(modelsF),
		Optimizers: sweep.StringList(optimizers), Epochs: epochs, Batch: batch, LR: lr, TestN: testN, HostAugment: hostAug}
	var err error
	if over.IPC, err = parseIntList("ipc", ipcs); err != nil {
		return err
	}
	if over.Seeds, err = parseSeedList("seeds", seeds); err != nil {
		return err
	}
	if over.CondenseSeeds, err = parseSeedList("condense-seeds", cseeds); err != nil {
		return err
	}
	for _, d := range dataDirs {
		name, dir, ok := strings.Cut(d, "=")
		if !ok || name == "" || dir == "" {
			return usageError{fmt.Errorf("--data %q: want NAME=DIR", d)}
		}
		if over.Data == nil {
			over.Data = map[string]string{}
		}
		over.Data[name] = dir
	}
	if len(over.Preset) > 0 {
		spec.Preset = append(spec.Preset, over.Preset...)
		over.Preset = nil
	}
	if len(spec.Preset) == 0 && len(spec.Grids) == 0 && len(spec.Methods) == 0 && len(over.Methods) == 0 {
		return usageError{fmt.Errorf("nothing to sweep: give --spec FILE, --preset NAME or --methods (see dcbench sweep -h)")}
	}
	sweep.Override(spec, over)
	if spec, err = sweep.WithProfile(spec, profile); err != nil {
		return usageError{err}
	}
	runs, err := spec.Expand()
	if err != nil {
		return usageError{err}
	}

	// The shard.
	shard := sweep.All
	source := ""
	if shardStr != "" {
		if shard, err = sweep.ParseShard(shardStr); err != nil {
			return usageError{err}
		}
		source = "--shard"
	} else {
		sh, src, ok, err := sweep.ShardFromEnv(nil, shards)
		if err != nil {
			return usageError{err}
		}
		if ok {
			shard, source = sh, src
		} else if shards > 0 {
			return usageError{fmt.Errorf("--shards %d without a shard index: give --shard i/%d, or run as a job-array task", shards, shards)}
		}
	}
	if shardBy != sweep.BySet && shardBy != sweep.ByRun {
		return usageError{fmt.Errorf("--shard-by %q: want set or run", shardBy)}
	}
	for _, s := range retry {
		if s != results.StatusFailed && s != results.StatusOOM {
			return usageError{fmt.Errorf("--retry %q: want failed and/or oom", s)}
		}
	}
	store, err := results.Open(resultsDir, shard.Writer())
	if err != nil {
		return err
	}
	if source != "" {
		logf(quiet, os.Stderr, "shard %s (from %s), by %s\n", shard, source, shardBy)
	}
	runner := &sweep.Runner{Store: store, Shard: shard, ShardBy: shardBy, Retry: retry}
	if !quiet {
		runner.Log = os.Stderr
	}

	if dryRun {
		todo, existing, sum, err := runner.Plan(runs)
		if err != nil {
			return err
		}
		for _, w := range sum.Warnings {
			fmt.Fprintf(os.Stderr, "warning: %s\n", w)
		}
		pending := map[string]bool{}
		for _, r := range todo {
			pending[r.Key] = true
		}
		tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "key\tstate\trun\n")
		for _, r := range runs {
			if !shard.Owns(sweep.Unit(r, shardBy)) {
				continue
			}
			state := "todo"
			if rec, ok := existing[r.Key]; ok && !pending[r.Key] {
				state = rec.Status
			} else if !sweep.Registered(r.Config.Method) {
				state = "todo (not registered: skipped)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Key, state, r)
		}
		tw.Flush()
		fmt.Println(sum)
		return nil
	}

	// The device and backend.
	backendName, devDesc, err := applyDevice(device, backendName)
	if err != nil {
		return usageError{err}
	}
	c := common{quiet: quiet, backendName: backendName}
	b, bdesc, err := c.backend()
	if err != nil {
		return err
	}
	logf(quiet, os.Stderr, "backend: %s; device: %s\nresults: %s (this shard writes %s)\n", bdesc, deviceOrDefault(devDesc), resultsDir, store.File())
	exec := &sweep.Executor{Backend: b, Store: store, DataDirs: spec.DataDirs()}
	if !quiet {
		exec.Log = os.Stderr
		exec.Progress = c.progress
	}
	runner.Exec, runner.Device, runner.Backend = exec.Exec, devDesc, backend.Describe(b)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sum, err := runner.Run(ctx, runs)
	fmt.Println(sum)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted; run the same command again to resume")
		}
		return err
	}
	return nil
}

func deviceOrDefault(s string) string {
	if s == "" {
		return "default"
	}
	return s
}

// applyDevice turns --device into a backend choice and a description for the records:
// "cpu" picks the CPU backend; "N", "cuda:N" or "gpu:N" sets CUDA_VISIBLE_DEVICES=N (before
// the backend starts) and the GPU backend, unless --backend or an XLA $GOMLX_BACKEND names
// one. Without --device the description is $CUDA_VISIBLE_DEVICES when set (Slurm sets it).
func applyDevice(device, backendName string) (string, string, error) {
	d := strings.ToLower(strings.TrimSpace(device))
	switch {
	case d == "":
		if v := os.Getenv("CUDA_VISIBLE_DEVICES"); v != "" {
			return backendName, "CUDA_VISIBLE_DEVICES=" + v, nil
		}
		return backendName, "", nil
	case d == "cpu":
		if backendName == "" {
			backendName = "cpu"
		}
		return backendName, "cpu", nil
	}
	idx := d
	for _, p := range []string{"cuda:", "gpu:"} {
		idx = strings.TrimPrefix(idx, p)
	}
	for _, part := range strings.Split(idx, ",") {
		if _, err := strconv.Atoi(part); err != nil {
			return "", "", fmt.Errorf("--device %q: want cpu, N or cuda:N", device)
		}
	}
	if err := os.Setenv("CUDA_VISIBLE_DEVICES", idx); err != nil {
		return "", "", err
	}
	if backendName == "" && !strings.HasPrefix(os.Getenv("GOMLX_BACKEND"), "xla") {
		backendName = "gpu"
	}
	return backendName, "cuda:" + idx + " (CUDA_VISIBLE_DEVICES=" + idx + ")", nil
}

func parseIntList(name string, l commaList) (sweep.IntList, error) {
	var out sweep.IntList
	for _, s := range l {
		n, err := strconv.Atoi(s)
		if err != nil {
			return nil, usageError{fmt.Errorf("--%s %q: want integers", name, s)}
		}
		out = append(out, n)
	}
	return out, nil
}

// parseSeedList reads seeds: one number n means 0..n-1 (as in a spec), a list the seeds, and
// a..b the seeds a to b (so 3..3 is seed 3 alone).
func parseSeedList(name string, l commaList) (sweep.SeedList, error) {
	var out sweep.SeedList
	ranged := false
	for _, s := range l {
		if a, b, ok := strings.Cut(s, ".."); ok {
			lo, err1 := strconv.ParseUint(a, 10, 64)
			hi, err2 := strconv.ParseUint(b, 10, 64)
			if err1 != nil || err2 != nil || hi < lo || hi-lo >= 10000 {
				return nil, usageError{fmt.Errorf("--%s %q: want a range FIRST..LAST", name, s)}
			}
			for x := lo; x <= hi; x++ {
				out = append(out, x)
			}
			ranged = true
			continue
		}
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return nil, usageError{fmt.Errorf("--%s %q: want non-negative integers", name, s)}
		}
		out = append(out, n)
	}
	if len(out) == 1 && !ranged {
		if out[0] < 1 || out[0] > 10000 {
			return nil, usageError{fmt.Errorf("--%s %d: one number is a count of seeds (1 to 10000); give two or more for a list", name, out[0])}
		}
		n := out[0]
		out = make(sweep.SeedList, n)
		for i := range out {
			out[i] = uint64(i)
		}
	}
	return out, nil
}
