package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/gomlx/gomlx/backends"

	"github.com/dcbench/dcbench/datasets"
	"github.com/dcbench/dcbench/dcbench"
	"github.com/dcbench/dcbench/dcbench/condensers/synth"
	"github.com/dcbench/dcbench/dcbench/reference"
	"github.com/dcbench/dcbench/dcbench/train"
)

// benchRow is one measured row of the Table-8 layout.
type benchRow struct {
	Method     string  `json:"method"`
	IPC        int     `json:"ipc"`
	Iterations int     `json:"iterations"`
	Mean, Std  float64 // seconds per iteration (after the first, which includes compilation)
	CompileSec float64 `json:"compile_seconds"` // first iteration minus the mean of the others
	PeakMB     float64 `json:"peak_rss_mb"`     // peak resident memory of the process that ran the row
	Err        string  `json:"error,omitempty"`
}

func cmdBench(args []string) error {
	fs := newFlagSet("bench")
	var c common
	c.register(fs)
	var methods, ipcs, row string
	var iters int
	fs.StringVar(&methods, "methods", "", "comma-separated methods to time (default: every registered method but random, plus \"eval\": one evaluation epoch)")
	fs.StringVar(&ipcs, "ipcs", "1,10,50", "comma-separated IPCs")
	fs.IntVar(&iters, "iterations", 5, "timed iterations per row (one more is run first, for compilation)")
	fs.StringVar(&row, "row", "", "internal: run one row (method:ipc) in this process and print it as JSON")
	params := paramFlags{}
	fs.Var(params, "param", "method setting key=value for every row, repeatable (e.g. --param buffer=DIR for mtt); each method reads the keys it knows")
	if err := parse(fs, args); err != nil {
		if err == errHelp {
			return nil
		}
		return err
	}
	if iters < 2 {
		return usageError{fmt.Errorf("--iterations must be at least 2, got %d", iters)}
	}
	if row != "" {
		return benchOneRow(&c, row, iters, params)
	}
	var ms []string
	if methods == "" {
		for _, m := range dcbench.Methods() {
			if m != "random" {
				ms = append(ms, m)
			}
		}
		ms = append(ms, "eval")
	} else {
		ms = splitList(methods)
	}
	var ipcList []int
	for _, s := range splitList(ipcs) {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return usageError{fmt.Errorf("bad IPC %q in --ipcs", s)}
		}
		ipcList = append(ipcList, n)
	}
	for _, m := range ms {
		if m != "eval" {
			if _, err := dcbench.GetCondenser(m); err != nil {
				return usageError{err}
			}
		}
	}
	_, bdesc, err := c.backend()
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	fmt.Printf("backend: %s\n", bdesc)
	fmt.Printf("each row runs in its own process (peak RSS is that process's VmHWM); %d timed iterations after one warm-up\n\n", iters)
	// Fixed-width columns, so that each row can be printed as soon as it is measured.
	const rowFormat = "%-9s %4s  %-22s %9s  %11s  %-20s %s\n"
	fmt.Printf(rowFormat, "method", "ipc", "s/iter (ours)", "compile s", "peak RSS MB", "s/iter (paper, A100)", "GPU MB (paper)")
	for _, m := range ms {
		for _, ipc := range ipcList {
			// One child process per row, so that each row's peak memory is its own.
			args := []string{"bench", "--row", fmt.Sprintf("%s:%d", m, ipc), "--iterations", strconv.Itoa(iters),
				"--dataset", c.dataset, "--data", c.data, "--backend", c.backendName, "--seed", strconv.FormatUint(c.seed, 10)}
			for k, v := range params {
				args = append(args, "--param", fmt.Sprintf("%s=%v", k, v))
			}
			cmd := exec.Command(self, args...)
			cmd.Stderr = os.Stderr
			out, err := cmd.Output()
			var r benchRow
			if err == nil {
				err = json.Unmarshal(lastLine(out), &r)
			}
			if err != nil {
				r = benchRow{Method: m, IPC: ipc, Err: err.Error()}
			}
			ours := fmt.Sprintf("%.4f ± %.4f", r.Mean, r.Std)
			if r.Err != "" {
				ours = "error: " + r.Err
			}
			paperSecs, paperMB := paperCost(m, ipc)
			fmt.Printf(rowFormat, m, strconv.Itoa(ipc), ours, fmt.Sprintf("%.2f", r.CompileSec), fmt.Sprintf("%.0f", r.PeakMB), paperSecs, paperMB)
		}
	}
	return nil
}

func lastLine(b []byte) []byte {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return []byte(lines[len(lines)-1])
}

// paperCost is Table 8's seconds per iteration and GPU memory for the method, or dashes.
func paperCost(method string, ipc int) (secs, mb string) {
	key := strings.ToLower(strings.ReplaceAll(method, "-", ""))
	for _, r := range reference.Table8() {
		if strings.ToLower(strings.ReplaceAll(r.Method, "-", "")) == key && r.IPC == ipc {
			if r.OOM {
				return "OOM", "OOM"
			}
			return fmt.Sprintf("%.4g ± %.2g", r.SecondsPerIter, r.SecondsPerIterStd), fmt.Sprintf("%.0f", r.GPUMemoryMB)
		}
	}
	return "—", "—"
}

// benchOneRow measures one row in this process and prints it as one JSON line.
func benchOneRow(c *common, row string, iters int, params map[string]any) error {
	parts := strings.SplitN(row, ":", 2)
	if len(parts) != 2 {
		return usageError{fmt.Errorf("bad --row %q", row)}
	}
	ipc, err := strconv.Atoi(parts[1])
	if err != nil {
		return usageError{fmt.Errorf("bad --row %q", row)}
	}
	m := parts[0]
	b, _, err := c.backend()
	if err != nil {
		return err
	}
	data, _, err := c.loadData()
	if err != nil {
		return err
	}
	var stamps []time.Time
	stats := &synth.Stats{}
	start := time.Now()
	tick := func() { stamps = append(stamps, time.Now()) }
	if m == "eval" {
		err = benchEval(b, data, ipc, iters, c.seed, tick)
	} else {
		// Methods that take param "stats" (the synthesis methods, K-Center and Herding) record
		// each iteration's seconds there (K-Center and Herding: per class, the seconds of one
		// k-means or greedy step); for the others the time between two progress reports is
		// taken as one iteration.
		ps := rowParams(params, iters+1)
		ps["stats"] = stats
		_, err = dcbench.Condense(data.Train, dcbench.CondenseOptions{Method: m, IPC: ipc, Seed: c.seed, Backend: b,
			Params:   ps,
			Progress: func(done, total int, msg string) { tick() }})
	}
	r := benchRow{Method: m, IPC: ipc, Iterations: iters, PeakMB: peakRSSMB()}
	switch {
	case err != nil:
		r.Err = err.Error()
	case len(stats.Records()) >= 2:
		recs := stats.Records()
		sum := stats.Summary()
		r.Iterations = len(recs) - 1
		r.Mean, r.Std = sum.MeanSeconds, sum.StdSeconds
		r.CompileSec = max(0, recs[0].Seconds-sum.MeanSeconds)
	default:
		r.Mean, r.Std, r.CompileSec = iterationTimes(start, stamps)
	}
	js, _ := json.Marshal(r)
	fmt.Println(string(js))
	return nil
}

// rowParams is the --param settings plus the number of iterations of a row.
func rowParams(params map[string]any, iterations int) map[string]any {
	out := map[string]any{}
	for k, v := range params {
		out[k] = v
	}
	out["iterations"] = iterations
	return out
}

// benchEval times evaluation epochs of ConvNet on a Random set of the given IPC.
func benchEval(b backends.Backend, data *datasets.Pair, ipc, iters int, seed uint64, tick func()) error {
	set, err := dcbench.Condense(data.Train, dcbench.CondenseOptions{IPC: ipc, Seed: seed, Backend: b})
	if err != nil {
		return err
	}
	cfg := train.Config{Epochs: iters, Seed: seed}
	d := set.Data
	tr, err := train.New(b, cfg, d.NumClasses(), d.H, d.W, d.C, d.Mean, d.Std)
	if err != nil {
		return err
	}
	defer tr.Finalize()
	return tr.Fit(nil, d, func(int, int, float64) { tick() })
}

// iterationTimes turns progress timestamps into seconds per iteration (mean and population
// std over all but the first) and the compile overhead of the first.
func iterationTimes(start time.Time, stamps []time.Time) (mean, std, compile float64) {
	if len(stamps) < 2 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	var ds []float64
	prev := stamps[0]
	for _, s := range stamps[1:] {
		ds = append(ds, s.Sub(prev).Seconds())
		prev = s
	}
	mean, std = dcbench.MeanStd(ds)
	compile = stamps[0].Sub(start).Seconds() - mean
	return
}

// peakRSSMB reads the process's peak resident set (VmHWM) on Linux, or NaN elsewhere.
func peakRSSMB() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return math.NaN()
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "VmHWM:") {
			var kb float64
			fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(sc.Text(), "VmHWM:")), "%f", &kb)
			return kb / 1024
		}
	}
	return math.NaN()
}
