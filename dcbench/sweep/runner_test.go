package sweep

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dcbench/dcbench/dcbench/backend"
	"github.com/dcbench/dcbench/dcbench/results"
)

// fakeGrid is 3 registered methods × 2 IPC × 2 augmentations × 3 seeds = 36 runs, plus the
// 12 runs of MTT, which the test hides from the registry (as a build without it).
func fakeGrid(t *testing.T) []Run {
	t.Helper()
	hidden["mtt"] = true
	t.Cleanup(func() { delete(hidden, "mtt") })
	s := &Spec{Methods: StringList{"random", "kcenter", "dc", "mtt"}, IPC: IntList{1, 2}, Augment: StringList{"none", "dsa"},
		Seeds: SeedList{0, 1, 2}, Epochs: 1, TestN: 20}
	runs, err := s.Expand()
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 48 {
		t.Fatalf("%d runs", len(runs))
	}
	return runs
}

// fakeExec counts executions per run key; accuracy is a function of the run.
type fakeExec struct {
	mu    sync.Mutex
	count map[string]int
	delay time.Duration
}

func (f *fakeExec) exec(ctx context.Context, r Run) (Outcome, error) {
	f.mu.Lock()
	if f.count == nil {
		f.count = map[string]int{}
	}
	f.count[r.Key]++
	f.mu.Unlock()
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-ctx.Done():
			return Outcome{}, ctx.Err()
		}
	}
	return Outcome{Accuracy: float64(10*r.Config.IPC) + float64(r.Seed), Backend: "fake"}, nil
}

func openStore(t *testing.T, dir string, sh Shard) *results.Store {
	t.Helper()
	s, err := results.Open(dir, sh.Writer())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// checkOnce verifies that every run of the grid has exactly one record in dir.
func checkOnce(t *testing.T, dir string, runs []Run) []results.Record {
	t.Helper()
	recs, warnings, err := results.ReadPaths(dir)
	if err != nil || len(warnings) > 0 {
		t.Fatalf("read: %v %v", err, warnings)
	}
	n := map[string]int{}
	for _, r := range recs {
		n[r.Key()]++
	}
	for _, r := range runs {
		if n[r.Key] != 1 {
			t.Errorf("run %s has %d records", r, n[r.Key])
		}
	}
	if len(recs) != len(runs) {
		t.Errorf("%d records for %d runs", len(recs), len(runs))
	}
	return recs
}

func TestTwoShardsRunEachRunOnce(t *testing.T) {
	for _, by := range []string{BySet, ByRun} {
		t.Run(by, func(t *testing.T) {
			runs := fakeGrid(t)
			dir := t.TempDir()
			fe := &fakeExec{}
			var wg sync.WaitGroup
			sums := make([]Summary, 2)
			errs := make([]error, 2)
			for i := range 2 {
				wg.Add(1)
				go func() { // two independent processes writing to one folder
					defer wg.Done()
					sh := Shard{Index: i, Count: 2}
					rn := &Runner{Store: openStore(t, dir, sh), Shard: sh, ShardBy: by, Exec: fe.exec}
					sums[i], errs[i] = rn.Run(context.Background(), runs)
				}()
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("shard %d: %v", i, err)
				}
			}
			if sums[0].Mine+sums[1].Mine != len(runs) || sums[0].Mine == 0 || sums[1].Mine == 0 {
				t.Errorf("shards took %d + %d of %d runs", sums[0].Mine, sums[1].Mine, len(runs))
			}
			for k, n := range fe.count {
				if n != 1 {
					t.Errorf("run %s executed %d times", k, n)
				}
			}
			if len(fe.count) != 36 {
				t.Errorf("%d runs executed, want the 36 registered ones", len(fe.count))
			}
			recs := checkOnce(t, dir, runs)
			files, _ := filepath.Glob(filepath.Join(dir, "records", "*.jsonl"))
			if len(files) != 2 {
				t.Errorf("records files %v, want one per shard", files)
			}
			skipped := 0
			for _, r := range recs {
				if r.Status == results.StatusSkipped {
					skipped++
					if r.Method != "mtt" || !strings.Contains(r.Error, "not registered") {
						t.Errorf("skipped record %+v", r)
					}
				}
				if by == BySet && r.SetHash != "" {
					// every run of a set is on the shard that owns the set
					if want := fmt.Sprintf("%d/2", map[bool]int{true: 0, false: 1}[(Shard{0, 2}).Owns(r.SetHash)]); r.Shard != want {
						t.Errorf("set %s run on shard %s, want %s", r.SetHash, r.Shard, want)
					}
				}
			}
			if skipped != 12 {
				t.Errorf("%d skipped records, want 12", skipped)
			}
			// Running a shard again does nothing; the skipped records are not written twice.
			sh := Shard{Index: 0, Count: 2}
			rn := &Runner{Store: openStore(t, dir, sh), Shard: sh, ShardBy: by, Exec: fe.exec}
			sum, err := rn.Run(context.Background(), runs)
			if err != nil || sum.Ran[results.StatusOK] != 0 {
				t.Errorf("second run: %v %v", sum, err)
			}
			checkOnce(t, dir, runs)
		})
	}
}

func TestResumeAfterCancel(t *testing.T) {
	runs := fakeGrid(t)
	dir := t.TempDir()
	fe := &fakeExec{}
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	stopAfter := func(c context.Context, r Run) (Outcome, error) {
		if n++; n == 10 {
			cancel() // interrupted in the middle of the 10th run: it leaves no record
			return Outcome{}, c.Err()
		}
		return fe.exec(c, r)
	}
	rn := &Runner{Store: openStore(t, dir, All), Exec: stopAfter}
	sum, err := rn.Run(ctx, runs)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("first run: %v", err)
	}
	if sum.Ran[results.StatusOK] != 9 {
		t.Errorf("ran %v before the interruption, want 9 ok", sum.Ran)
	}
	rn = &Runner{Store: openStore(t, dir, All), Exec: fe.exec}
	sum, err = rn.Run(context.Background(), runs)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Done != 9 || sum.Ran[results.StatusOK] != 27 {
		t.Errorf("resume: %v", sum)
	}
	for k, c := range fe.count {
		if c != 1 {
			t.Errorf("run %s executed %d times", k, c)
		}
	}
	checkOnce(t, dir, runs)
}

// helperMain is the child process of TestResumeAfterKill: a sweep whose runs take 100 ms.
func helperMain() int {
	dir := os.Getenv("DCBENCH_SWEEP_HELPER")
	s := &Spec{Methods: StringList{"random", "kcenter", "dc", "mtt"}, IPC: IntList{1, 2}, Augment: StringList{"none", "dsa"},
		Seeds: SeedList{0, 1, 2}, Epochs: 1, TestN: 20}
	runs, err := s.Expand()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	store, err := results.Open(dir, All.Writer())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fe := &fakeExec{delay: 100 * time.Millisecond}
	rn := &Runner{Store: store, Exec: fe.exec}
	if _, err := rn.Run(context.Background(), runs); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// TestResumeAfterKill kills a sweep process with SIGKILL in the middle, then resumes it:
// nothing finished is run again, nothing is recorded twice.
func TestResumeAfterKill(t *testing.T) {
	runs := fakeGrid(t)
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "DCBENCH_SWEEP_HELPER="+dir)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "records", All.Writer()+".jsonl")
	deadline := time.Now().Add(60 * time.Second)
	for {
		recs, _, _ := results.ReadPaths(file)
		if len(recs) >= 10 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the sweep process wrote no records")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("the sweep process was not killed: %v", err)
	}
	before, _, err := results.ReadPaths(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(before) >= len(runs) {
		t.Fatalf("the sweep finished (%d records) before it was killed", len(before))
	}
	done := map[string]bool{}
	okBefore := 0
	for _, r := range before {
		done[r.Key()] = true
		if r.Status == results.StatusOK {
			okBefore++
		}
	}
	fe := &fakeExec{}
	rn := &Runner{Store: openStore(t, dir, All), Exec: fe.exec}
	sum, err := rn.Run(context.Background(), runs)
	if err != nil {
		t.Fatal(err)
	}
	for k := range fe.count {
		if done[k] {
			t.Errorf("run %s finished before the kill and ran again", k)
		}
	}
	if okBefore == 0 || len(fe.count)+okBefore != 36 {
		t.Errorf("%d runs before the kill, %d after; want 36 registered in all (%v)", okBefore, len(fe.count), sum)
	}
	checkOnce(t, dir, runs)
}

func TestOOMAndFailedAreResults(t *testing.T) {
	runs := fakeGrid(t)[:12] // random: 2 IPC × 2 aug × 3 seeds
	dir := t.TempDir()
	exec := func(ctx context.Context, r Run) (Outcome, error) {
		switch {
		case r.Config.IPC == 2 && r.Config.Augment == "dsa":
			return Outcome{}, errors.New("RESOURCE_EXHAUSTED: Out of memory while trying to allocate 80.00GiB")
		case r.Config.IPC == 2 && r.Seed == 1:
			panic("index out of range") // a bug in a method: a failed run, not a crash
		case r.Config.IPC == 1 && r.Config.Augment == "dsa" && r.Seed == 2:
			return Outcome{}, errors.New("training diverged at pass 1")
		}
		return Outcome{Accuracy: 30 + float64(r.Seed)}, nil
	}
	rn := &Runner{Store: openStore(t, dir, All), Exec: exec}
	sum, err := rn.Run(context.Background(), runs)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Ran[results.StatusOK] != 7 || sum.Ran[results.StatusOOM] != 3 || sum.Ran[results.StatusFailed] != 2 {
		t.Errorf("ran %v", sum.Ran)
	}
	recs := checkOnce(t, dir, runs)
	for _, r := range recs {
		if r.Status == results.StatusFailed && r.IPC == 2 && !strings.Contains(r.Error, "panic: index out of range") {
			t.Errorf("panic record %+v", r)
		}
		if r.PeakRSS <= 0 && r.Status != results.StatusSkipped {
			t.Errorf("no peak RSS in %+v", r)
		}
	}
	rep := results.Build(recs, nil, results.Options{})
	md := rep.Markdown()
	for _, want := range []string{"**OOM**", "30.50 ± 0.50 (+1 failed)", "RESOURCE\\_EXHAUSTED: Out of memory", "panic: index out of range"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	// --retry failed runs the failed ones again, and only those.
	again := 0
	rn = &Runner{Store: openStore(t, dir, All), Retry: []string{results.StatusFailed},
		Exec: func(ctx context.Context, r Run) (Outcome, error) { again++; return Outcome{Accuracy: 1}, nil }}
	if _, err := rn.Run(context.Background(), runs); err != nil || again != 2 {
		t.Errorf("retry ran %d runs (%v), want 2", again, err)
	}
}

// TestExecutor runs real (tiny) runs: Random on the embedded subset, one epoch, 20 test
// images; the condensed set is cached and reused by the other augmentation and seed, and
// by a new executor (another process).
func TestExecutor(t *testing.T) {
	dir := t.TempDir()
	store := openStore(t, dir, All)
	b, _, err := backend.New("")
	if err != nil {
		t.Fatal(err)
	}
	s := &Spec{Methods: StringList{"random"}, IPC: IntList{1}, Augment: StringList{"none", "dsa"}, Seeds: SeedList{0, 1},
		Epochs: 1, TestN: 20, Batch: 10, ModelParams: map[string]any{"convnet_width": 8, "convnet_depth": 1}}
	runs, err := s.Expand()
	if err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	ex := &Executor{Backend: b, Store: store, Log: &log}
	rn := &Runner{Store: store, Exec: ex.Exec}
	sum, err := rn.Run(context.Background(), runs)
	if err != nil || sum.Ran[results.StatusOK] != 4 {
		t.Fatalf("%v %v", sum, err)
	}
	if n := strings.Count(log.String(), "condensed"); n != 1 {
		t.Errorf("condensed %d times:\n%s", n, log.String())
	}
	setFile := store.SetPath(runs[0].SetHash)
	if _, err := os.Stat(setFile); err != nil {
		t.Fatal(err)
	}
	recs := checkOnce(t, dir, runs)
	for _, r := range recs {
		if r.Accuracy < 0 || r.Accuracy > 100 || r.SetFile != filepath.Join("sets", r.SetHash+".dcb") || r.Backend == "" || r.Seconds <= 0 {
			t.Errorf("record %+v", r)
		}
	}
	// Same seed, same accuracy, whether the set came from memory or from the file.
	log.Reset()
	ex2 := &Executor{Backend: b, Store: store, Log: &log}
	out, err := ex2.Exec(context.Background(), runs[1])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "loaded") || out.Accuracy != recs[1].Accuracy && out.Accuracy != recs[0].Accuracy {
		t.Errorf("reloaded set: %s, accuracy %v vs %v", log.String(), out.Accuracy, recs[1].Accuracy)
	}
	// The full-data pseudo-method trains on the 1000 training images (an MLP, to stay light).
	full := newRun(results.Config{Dataset: "cifar10-embedded", Method: "full", Model: "mlp", Epochs: 1, TestN: 20}, 0)
	out, err = ex2.Exec(context.Background(), full)
	if err != nil || out.Accuracy < 0 || out.Accuracy > 100 || out.SecondsPerEpoch <= 0 {
		t.Errorf("full: %+v %v", out, err)
	}
}
