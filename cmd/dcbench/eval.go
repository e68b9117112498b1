package main

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/dcbench/dcbench/dcbench"
	"github.com/dcbench/dcbench/dcbench/models"
	"github.com/dcbench/dcbench/dcbench/reference"
	"github.com/dcbench/dcbench/dcbench/train"
)

func cmdEval(args []string) error {
	fs := newFlagSet("eval")
	var c common
	c.register(fs)
	var (
		setFile, modelList, optimizer, augment, results, hostAug string
		numEval, epochs, batch, testN                            int
		lr                                                       float64
	)
	fs.StringVar(&setFile, "set", "", "evaluate this saved condensed set instead of condensing")
	fs.StringVar(&modelList, "model", "convnet", "comma-separated models to train on the set: "+strings.Join(models.Names(), ", "))
	fs.IntVar(&numEval, "num-eval", 5, "independent runs per model (seeds seed..seed+n-1)")
	fs.IntVar(&epochs, "epochs", 0, "training epochs (default 300, or 1000 with --augment)")
	fs.StringVar(&optimizer, "optimizer", "sgd", "sgd (momentum 0.9, weight decay 5e-4) or adam")
	fs.Float64Var(&lr, "lr", 0, "learning rate (default 0.01 for sgd, 0.003 for adam as DC-Bench's evaluator)")
	fs.IntVar(&batch, "batch", 256, "training batch size")
	fs.StringVar(&augment, "augment", "none", "training augmentation: none, dsa, imagenet_aug, randaug, autoaug, or dc_aug (DC's crop/scale/rotate, DC-Bench's evaluator default on MNIST)")
	fs.StringVar(&augment, "aug", "none", "alias of --augment")
	fs.IntVar(&testN, "test-n", 0, "evaluate on this many test images, class-balanced (the first n/classes of each class); 0 = all")
	fs.StringVar(&hostAug, "host-augment", train.HostAugmentReference, hostAugmentUsage)
	fs.StringVar(&results, "results", "results/results.jsonl", "append one JSON record per run to this file (\"\" for none)")
	if err := parse(fs, args); err != nil {
		if err == errHelp {
			return nil
		}
		return err
	}
	names := splitList(modelList)
	for _, m := range names {
		if _, err := models.Get(m); err != nil {
			return usageError{err}
		}
	}
	if numEval < 1 {
		return usageError{fmt.Errorf("--num-eval must be at least 1, got %d", numEval)}
	}
	// The evaluation setting is checked before any data is read or condensed.
	cfg := train.Config{Epochs: epochs, BatchSize: batch, Optimizer: optimizer, LR: lr, Augment: augment,
		HostAugment: hostAug, Seed: c.seed}
	if err := cfg.Defaults().Validate(); err != nil {
		return usageError{err}
	}
	b, data, dname, err := c.open()
	if err != nil {
		return err
	}
	testNote := ""
	if testN < 0 {
		return usageError{fmt.Errorf("--test-n must be non-negative, got %d", testN)}
	}
	if testN > 0 && testN < data.Test.N {
		data.Test = data.Test.HeadPerClass(max(1, testN/data.Test.NumClasses()))
		testNote = fmt.Sprintf("[test %d]", data.Test.N)
	}
	logf(c.quiet, os.Stderr, "data: %s (%d train, %d test images, %d classes)\n", dname, data.Train.N, data.Test.N, data.Train.NumClasses())
	ctx, stop := interruptible()
	defer stop()

	var set *dcbench.Set
	if setFile != "" {
		if set, err = dcbench.LoadSet(setFile); err != nil {
			return err
		}
		if set.Data.H != data.Test.H || set.Data.W != data.Test.W || set.Data.C != data.Test.C {
			return fmt.Errorf("set %s holds %dx%dx%d images, but %s has %dx%dx%d", setFile,
				set.Data.H, set.Data.W, set.Data.C, dname, data.Test.H, data.Test.W, data.Test.C)
		}
	} else {
		prog, done := c.progress("condense " + c.method)
		set, err = dcbench.Condense(data.Train, dcbench.CondenseOptions{Method: c.method, IPC: c.ipc, Seed: c.seed,
			Backend: b, Progress: prog, Context: ctx, Source: dname})
		done()
		if err != nil {
			return err
		}
	}
	logf(c.quiet, os.Stderr, "condensed set: %s\n", set)

	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "dataset\tmethod\tipc\tmodel\taugment\tepochs\truns\taccuracy %%\tpaper %%\ts/epoch\n")
	for _, m := range names {
		opts := dcbench.EvalOptions{Config: cfg, NumEval: numEval, Backend: b, Context: ctx}
		opts.Model = m
		prog, done := c.progress(fmt.Sprintf("eval %s on %s", set.Method, m))
		opts.Progress = prog
		res, err := dcbench.Evaluate(set, data.Test, opts)
		done()
		if err != nil {
			return err
		}
		if err := appendRecords(results, recordsOf(dname+testNote, set, setFile, res)); err != nil {
			return err
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%d\t%d\t%s\t%s\t%.3f\n", dname+testNote, set.Method, set.IPC, m, res.Augment,
			res.Config.Epochs, len(res.Accuracies), res, paperValue(dname+testNote, set.Method, set.IPC, m, res.Augment), res.EpochSecs)
		if len(names) > 1 {
			logf(c.quiet, os.Stderr, "%s: %s %%\n", m, res)
		}
	}
	tw.Flush() // one aligned table at the end
	if results != "" {
		logf(c.quiet, os.Stderr, "records appended to %s\n", results)
	}
	return nil
}

// paperValue is the DC-Bench number for the same setting (Table 4 for ConvNet by
// augmentation, Table 5 for other models, which used DSA), or "—". For the embedded subset the
// paper's full-CIFAR-10 value is shown, marked with "*".
func paperValue(dataset, method string, ipc int, model, augment string) string {
	mark := ""
	if i := strings.Index(dataset, "["); i >= 0 {
		dataset, mark = dataset[:i], "*"
	}
	if strings.HasSuffix(dataset, "-embedded") {
		dataset = strings.TrimSuffix(dataset, "-embedded")
		mark = "*"
	}
	var e reference.Entry
	var ok bool
	if strings.EqualFold(model, "convnet") {
		e, ok = reference.Lookup(reference.TableAugmentation, dataset, method, ipc, augment)
	} else if strings.EqualFold(augment, "dsa") {
		e, ok = reference.Lookup(reference.TableTransfer, dataset, method, ipc, model)
	}
	if !ok {
		return "—"
	}
	return e.String() + mark
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
