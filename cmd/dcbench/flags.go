package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/gomlx/gomlx/backends"

	"github.com/dcbench/dcbench/datasets"
	"github.com/dcbench/dcbench/dcbench"
	"github.com/dcbench/dcbench/dcbench/backend"
	"github.com/dcbench/dcbench/dcbench/train"
	"github.com/dcbench/dcbench/kernelext"
)

// common holds the flags shared by the commands.
type common struct {
	dataset, data, backendName string
	method                     string
	ipc                        int
	seed                       uint64
	quiet                      bool
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.dataset, "dataset", "", "dataset: "+strings.Join(datasets.Names(), ", ")+" (default: the embedded CIFAR-10 subset)")
	fs.StringVar(&c.data, "data", "", "folder or archive with the dataset files (default: the download cache, $DCBENCH_DATA)")
	fs.StringVar(&c.backendName, "backend", "", "backend: cpu, gpu, go[:opts], xla:PLUGIN (default: $GOMLX_BACKEND, else a CUDA plugin if found, else cpu)")
	fs.StringVar(&c.method, "method", "random", "condensation method")
	fs.IntVar(&c.ipc, "ipc", 10, "images per class")
	fs.Uint64Var(&c.seed, "seed", 0, "seed of every random draw")
	fs.BoolVar(&c.quiet, "quiet", false, "no progress output")
}

func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("dcbench "+name, flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	return fs
}

// parse parses args, turning flag errors and stray arguments into usage errors.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return errHelp
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}

var errHelp = usageError{fmt.Errorf("help requested")}

// loadData loads and normalises the chosen dataset, and names it for records.
func (c *common) loadData() (*datasets.Pair, string, error) {
	var p *datasets.Pair
	var err error
	name := c.dataset
	switch {
	case c.dataset == "" && c.data == "", strings.EqualFold(c.dataset, "embedded"):
		p, err = datasets.Embedded()
		name = "cifar10-embedded"
	case c.dataset == "":
		return nil, "", usageError{fmt.Errorf("--data %s given without --dataset (one of %s)", c.data, strings.Join(datasets.Names(), ", "))}
	default:
		p, err = datasets.LoadOrDownload(c.dataset, c.data)
	}
	if err != nil {
		return nil, "", err
	}
	p.Normalize()
	return p, name, nil
}

// open starts the backend (logging it unless quiet) and loads the dataset: the set-up of
// eval, condense and buffer.
func (c *common) open() (backends.Backend, *datasets.Pair, string, error) {
	b, bdesc, err := c.backend()
	if err != nil {
		return nil, nil, "", err
	}
	logf(c.quiet, os.Stderr, "backend: %s\n", bdesc)
	data, dname, err := c.loadData()
	if err != nil {
		return nil, nil, "", err
	}
	return b, data, dname, nil
}

// backend starts the chosen backend and describes it, with why it was chosen.
func (c *common) backend() (backends.Backend, string, error) {
	b, choice, err := backend.New(c.backendName)
	if err != nil {
		return nil, "", err
	}
	return b, fmt.Sprintf("%s [%s]", backend.Describe(b), choice.Reason), nil
}

// hostAugmentUsage describes --host-augment.
const hostAugmentUsage = "how imagenet_aug, randaug and autoaug draw: " + train.HostAugmentReference +
	" (DC-Bench's evaluator: one draw per batch, uint8 images) or " + train.HostAugmentPerImage + " (one draw per image, float images)"

// progress returns a progress callback drawing a bar on stderr (nil when quiet).
func (c *common) progress(title string) (dcbench.ProgressFunc, func()) {
	if c.quiet {
		return nil, func() {}
	}
	var bar *kernelext.Progress
	return func(done, total int, msg string) {
			if bar == nil {
				// Created at the first report: the steps done by then (one, or the
				// iterations a resumed run restored) are not in the rate.
				bar = kernelext.NewProgressWith(title, total, kernelext.ProgressOptions{Writer: os.Stderr, Initial: done})
			}
			bar.Update(done, msg)
		}, func() {
			if bar != nil {
				bar.Done()
			}
		}
}

// interruptible returns a context cancelled by Ctrl-C, so long runs stop cleanly.
func interruptible() (context.Context, func()) {
	return signal.NotifyContext(context.Background(), os.Interrupt)
}

func logf(quiet bool, w io.Writer, format string, args ...any) {
	if !quiet {
		fmt.Fprintf(w, format, args...)
	}
}
