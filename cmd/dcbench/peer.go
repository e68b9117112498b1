package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gomlx/gomlx/backends"

	"github.com/dcbench/dcbench/datasets"
	"github.com/dcbench/dcbench/dcbench"
	"github.com/dcbench/dcbench/dcbench/backend/gogemm"
	"github.com/dcbench/dcbench/dcbench/condensers/synth"
	"github.com/dcbench/dcbench/dcbench/train"
)

// The rows of `dcbench peer`: the same work timed in dcbench and in PyTorch.
var peerRows = []struct {
	name, what string
}{
	{"step", "ConvNet-3 SGD step, batch 256"},
	{"dm", "DM iteration, IPC 1 (10 classes × 256 real, DSA)"},
	{"dc", "DC iteration, IPC 1 (10 classes × 256 real, 2nd order)"},
}

// peerSample is what one side prints for one row: the seconds of each timed iteration and
// the process's peak resident memory.
type peerSample struct {
	Row     string    `json:"row"`
	Side    string    `json:"side"`
	Seconds []float64 `json:"seconds"`
	PeakMB  float64   `json:"peak_rss_mb"`
	Err     string    `json:"error,omitempty"`
}

const peerUsage = `dcbench peer: dcbench against PyTorch on this machine, side by side

Runs each row in a fresh process on each side (dcbench, and bench/pytorch/peer.py with
PyTorch), alternating the sides, --rounds times, and prints per row the median seconds per
iteration, the peak resident memory (VmHWM) of each side, their ratios (dcbench / PyTorch),
the row's FLOP count and each side's share of the machine's GEMM peak (the host GEMM's
float32 speed on a 2048³ product, all cores).

Flags:
`

func cmdPeer(args []string) error {
	fs := newFlagSet("peer")
	fs.Usage = func() { fmt.Fprint(os.Stderr, peerUsage); fs.PrintDefaults() }
	var c common
	c.register(fs)
	var rows, python, script, side, row string
	var rounds, iters, threads int
	fs.StringVar(&rows, "rows", "step,dm,dc", "comma-separated rows: step, dm, dc")
	fs.IntVar(&rounds, "rounds", 3, "rounds; each runs every row once per side, the sides alternating")
	fs.IntVar(&iters, "iterations", 3, "timed iterations per process (after one warm-up)")
	fs.IntVar(&threads, "threads", runtime.NumCPU(), "PyTorch threads (torch.set_num_threads)")
	fs.StringVar(&python, "python", "/usr/bin/python3", "Python with PyTorch (Debian: python3-torch)")
	fs.StringVar(&script, "script", "", "the PyTorch side (default: bench/pytorch/peer.py of this checkout)")
	fs.StringVar(&side, "side", "", "internal: run one row of one side in this process (dcbench)")
	fs.StringVar(&row, "row", "", "internal: the row of --side")
	if err := parse(fs, args); err != nil {
		if err == errHelp {
			return nil
		}
		return err
	}
	if iters < 1 || rounds < 1 {
		return usageError{fmt.Errorf("--iterations and --rounds must be at least 1")}
	}
	if side != "" {
		b, _, err := c.backend()
		if err != nil {
			return err
		}
		s := peerDcbench(b, row, iters, c.seed)
		js, _ := json.Marshal(s)
		fmt.Println(string(js))
		return nil
	}
	names := splitList(rows)
	for _, n := range names {
		if !slices.ContainsFunc(peerRows, func(r struct{ name, what string }) bool { return r.name == n }) {
			return usageError{fmt.Errorf("unknown row %q (valid: step, dm, dc)", n)}
		}
	}
	if script == "" {
		var err error
		if script, err = findPeerScript(); err != nil {
			return err
		}
	}
	if _, err := os.Stat(script); err != nil {
		return fmt.Errorf("the PyTorch side: %w", err)
	}
	if out, err := exec.Command(python, "-c", "import torch").CombinedOutput(); err != nil {
		return fmt.Errorf("%s cannot import torch (%v: %s); install Debian's python3-torch or pass --python",
			python, err, strings.TrimSpace(string(out)))
	}
	_, bdesc, err := c.backend()
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	peak := gogemm.MeasureSGEMM(2048, 2048, 2048, 3)
	fmt.Printf("dcbench backend: %s\n", bdesc)
	fmt.Printf("PyTorch: %s %s, %d threads\n", python, script, threads)
	fmt.Printf("GEMM peak: %.0f GFLOP/s (float32 2048³ on the host GEMM, %d cores)\n", peak, runtime.GOMAXPROCS(0))
	fmt.Printf("%d rounds × (every row on each side, sides alternating), %d timed iterations per process\n\n", rounds, iters)

	samples := map[string]map[string][]peerSample{} // row → side → one per round
	for r := 0; r < rounds; r++ {
		for _, n := range names {
			sides := []string{"dcbench", "pytorch"}
			if r%2 == 1 {
				sides[0], sides[1] = sides[1], sides[0]
			}
			for _, sd := range sides {
				var cmd *exec.Cmd
				if sd == "dcbench" {
					cmd = exec.Command(self, "peer", "--side", "dcbench", "--row", n, "--iterations", strconv.Itoa(iters),
						"--backend", c.backendName, "--seed", strconv.FormatUint(c.seed, 10))
				} else {
					cmd = exec.Command(python, script, "--row", n, "--iterations", strconv.Itoa(iters),
						"--threads", strconv.Itoa(threads), "--seed", strconv.FormatUint(c.seed, 10))
				}
				s := runPeerSide(cmd, n, sd)
				if samples[n] == nil {
					samples[n] = map[string][]peerSample{}
				}
				samples[n][sd] = append(samples[n][sd], s)
				msg := fmt.Sprintf("%.3f s/iter, %.0f MB", mean(s.Seconds), s.PeakMB)
				if s.Err != "" {
					msg = "error: " + s.Err
				}
				fmt.Fprintf(os.Stderr, "round %d/%d  %-4s %-8s %s\n", r+1, rounds, n, sd, msg)
			}
		}
	}
	fmt.Println()
	const rowFormat = "%-58s %7s  %9s %9s %6s  %9s %9s %6s  %13s %13s\n"
	fmt.Printf(rowFormat, "work", "GFLOP", "dcbench s", "PyTorch s", "ratio", "dcbench MB", "PyTorch MB", "ratio", "dcbench %peak", "PyTorch %peak")
	for _, pr := range peerRows {
		if !slices.Contains(names, pr.name) {
			continue
		}
		gflop := peerFLOPs(pr.name) / 1e9
		ds, dm, derr := summarise(samples[pr.name]["dcbench"])
		ps, pm, perr := summarise(samples[pr.name]["pytorch"])
		if derr != "" || perr != "" {
			fmt.Printf("%-58s error: dcbench %q, PyTorch %q\n", pr.what, derr, perr)
			continue
		}
		fmt.Printf(rowFormat, pr.what, fmt.Sprintf("%.0f", gflop), fmt.Sprintf("%.3f", ds), fmt.Sprintf("%.3f", ps),
			fmt.Sprintf("%.2f×", ds/ps), fmt.Sprintf("%.0f", dm), fmt.Sprintf("%.0f", pm), fmt.Sprintf("%.2f×", dm/pm),
			fmt.Sprintf("%.0f %%", 100*gflop/ds/peak), fmt.Sprintf("%.0f %%", 100*gflop/ps/peak))
	}
	fmt.Println("\nseconds: median over the rounds of each process's mean seconds per iteration; MB: the largest peak RSS;")
	fmt.Println("ratio: dcbench / PyTorch (below 1: dcbench is faster or smaller); share of peak: GFLOP / seconds / GEMM peak")
	return nil
}

// runPeerSide runs one side's process for one row and reads its last line.
func runPeerSide(cmd *exec.Cmd, row, side string) peerSample {
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	var s peerSample
	if err == nil {
		err = json.Unmarshal(lastLine(out), &s)
	}
	if err == nil && s.Err == "" && len(s.Seconds) == 0 {
		err = errors.New("no timings printed")
	}
	if err != nil {
		return peerSample{Row: row, Side: side, Err: err.Error()}
	}
	return s
}

// summarise is the median over rounds of the mean seconds per iteration and the largest
// peak memory, or the first error.
func summarise(ss []peerSample) (secs, mb float64, errMsg string) {
	var means []float64
	for _, s := range ss {
		if s.Err != "" {
			return 0, 0, s.Err
		}
		means = append(means, mean(s.Seconds))
		mb = max(mb, s.PeakMB)
	}
	if len(means) == 0 {
		return 0, 0, "not run"
	}
	slices.Sort(means)
	n := len(means)
	if n%2 == 1 {
		return means[n/2], mb, ""
	}
	return (means[n/2-1] + means[n/2]) / 2, mb, ""
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// findPeerScript looks for bench/pytorch/peer.py in $DCBENCH_ROOT, the working directory
// and its parents.
func findPeerScript() (string, error) {
	rel := filepath.Join("bench", "pytorch", "peer.py")
	if root := os.Getenv("DCBENCH_ROOT"); root != "" {
		return filepath.Join(root, rel), nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, rel)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("%s not found in the working directory or above it: run from the checkout, set DCBENCH_ROOT or pass --script", rel)
		}
		dir = parent
	}
}

// The shape of the rows: ConvNet-3 (width 128) on 32×32×3 images of 10 classes.
const (
	peerClasses   = 10
	peerBatch     = 256 // the training step's batch and the real images per class
	peerSize      = 32
	peerWidth     = 128
	peerDepth     = 3
	peerChannels  = 3
	peerIPC       = 1
	peerImageSize = peerSize * peerSize * peerChannels
)

// convNetFLOPs are the multiply-add FLOPs of ConvNet-3's products for one image: the forward
// pass without and with the classifier, and the input-gradient products of every layer but
// the first (a training step needs 2·forward + those).
func convNetFLOPs() (features, forward, inputGrads float64) {
	h, in := peerSize, peerChannels
	for d := 0; d < peerDepth; d++ {
		f := 2 * float64(h*h) * float64(9*in) * peerWidth
		features += f
		if d > 0 {
			inputGrads += f
		}
		in, h = peerWidth, h/2
	}
	fc := 2 * float64(h*h*peerWidth) * peerClasses
	return features, features + fc, inputGrads + fc
}

// peerFLOPs is the product FLOP count of one iteration of a row.
func peerFLOPs(row string) float64 {
	feat, fwd, dx := convNetFLOPs()
	train := 2*fwd + dx
	syn := float64(peerClasses * peerIPC)
	switch row {
	case "step":
		return peerBatch * train
	case "dm":
		// Real images: features only; synthetic: features, then the gradient with respect
		// to the images (both products of every layer but the first's kernel gradient).
		return peerClasses*peerBatch*feat + syn*(3*feat)
	case "dc":
		// Real: a training step's products (the weight gradient); synthetic: the weight
		// gradient with the graph kept, then its gradient with respect to the images (about
		// twice a training step).
		return peerClasses*peerBatch*train + syn*3*train
	}
	return math.NaN()
}

// randomData is a normalised dataset of n Gaussian-noise images per class (the rows time the
// work, whatever the pixels).
func randomData(n int, seed uint64) *datasets.Dataset {
	r := rand.New(rand.NewPCG(seed, 7))
	d := &datasets.Dataset{Name: "noise", Split: "train", N: peerClasses * n, H: peerSize, W: peerSize, C: peerChannels,
		Mean: []float32{0, 0, 0}, Std: []float32{1, 1, 1}, Normalized: true,
		Images: make([]float32, peerClasses*n*peerImageSize), Labels: make([]int32, peerClasses*n)}
	for i := range d.Images {
		d.Images[i] = float32(r.NormFloat64())
	}
	for i := range d.Labels {
		d.Labels[i] = int32(i % peerClasses)
	}
	for k := 0; k < peerClasses; k++ {
		d.Classes = append(d.Classes, fmt.Sprintf("class%d", k))
	}
	return d
}

// peerDcbench measures one row in this process: one warm-up iteration (compilation), then
// iters timed ones.
func peerDcbench(b backends.Backend, row string, iters int, seed uint64) peerSample {
	s := peerSample{Row: row, Side: "dcbench"}
	var err error
	switch row {
	case "step":
		s.Seconds, err = peerStep(b, iters, seed)
	case "dm", "dc":
		d := randomData(peerBatch, seed)
		stats := &synth.Stats{}
		_, err = dcbench.Condense(d, dcbench.CondenseOptions{Method: row, IPC: peerIPC, Seed: seed, Backend: b,
			Params: map[string]any{"iterations": iters + 1, "batch_real": peerBatch, "stats": stats}})
		if err == nil {
			recs := stats.Records()
			if len(recs) < 2 {
				err = fmt.Errorf("%d iterations recorded", len(recs))
			}
			for _, r := range recs[1:] {
				s.Seconds = append(s.Seconds, r.Seconds)
			}
		}
	default:
		err = fmt.Errorf("unknown row %q", row)
	}
	if err != nil {
		s.Err = err.Error()
	}
	s.PeakMB = peakRSSMB()
	return s
}

// peerStep times SGD steps of ConvNet-3 on one batch of noise.
func peerStep(b backends.Backend, iters int, seed uint64) ([]float64, error) {
	d := randomData(peerBatch/peerClasses+1, seed)
	tr, err := train.New(b, train.Config{Model: "convnet", Seed: seed}, peerClasses, peerSize, peerSize, peerChannels, d.Mean, d.Std)
	if err != nil {
		return nil, err
	}
	defer tr.Finalize()
	idx := make([]int, peerBatch)
	for i := range idx {
		idx[i] = i
	}
	imgs, labels := d.Batch(idx, nil), d.Labels32(idx)
	if _, err := tr.Step(imgs, labels); err != nil {
		return nil, err
	}
	var secs []float64
	for i := 0; i < iters; i++ {
		t := time.Now()
		if _, err := tr.Step(imgs, labels); err != nil {
			return nil, err
		}
		secs = append(secs, time.Since(t).Seconds())
	}
	return secs, nil
}
