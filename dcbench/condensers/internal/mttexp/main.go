// Command mttexp compares MTT with Random selection on one dataset at one IPC under the same
// evaluation budget, on a CPU-sized schedule: it trains (or resumes) a small expert buffer
// on a class-balanced pool of the training set, distils with MTT, evaluates both sets and
// prints a table (method, iterations, accuracy mean ± std, seconds). With -mem-only it only
// distils and prints the per-iteration seconds and peak memory (run it once per -memory
// mode, in separate processes, to compare the modes' peak RSS).
//
//	go run ./dcbench/condensers/internal/mttexp -data /work/shared/datasets/mnist
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/dcbench/dcbench/dcbench"
	"github.com/dcbench/dcbench/dcbench/backend"
	"github.com/dcbench/dcbench/dcbench/condensers/internal/expkit"
	"github.com/dcbench/dcbench/dcbench/condensers/mtt"
	"github.com/dcbench/dcbench/dcbench/condensers/synth"
	"github.com/dcbench/dcbench/dcbench/expert"
	"github.com/dcbench/dcbench/dcbench/train"
)

func main() {
	dataset := flag.String("dataset", "mnist", "dataset name (datasets.Load)")
	data := flag.String("data", "/work/shared/datasets/mnist", "dataset folder or archive")
	pool := flag.Int("pool", 300, "training images per class (experts and distillation; 0: all)")
	testN := flag.Int("test", 100, "test images per class to evaluate on (0: all)")
	ipc := flag.Int("ipc", 10, "images per class")
	methods := flag.String("methods", "random,mtt", "methods, comma-separated")
	model := flag.String("model", "convnetw32", "network of the experts, the student and the evaluation")
	bufDir := flag.String("buffer", "mttexp-buffer", "expert buffer folder (trained or resumed here)")
	experts := flag.Int("experts", 2, "experts")
	trainEpochs := flag.Int("train-epochs", 5, "epochs of each expert")
	expertBatch := flag.Int("expert-batch", 256, "batch size of the experts' SGD")
	expertLR := flag.Float64("expert-lr", 0.01, "learning rate of the experts' SGD")
	iters := flag.Int("iters", 30, "MTT iterations")
	synSteps := flag.Int("syn-steps", 10, "MTT student steps per iteration")
	expertEpochs := flag.Int("expert-epochs", 1, "MTT expert epochs M")
	maxStart := flag.Int("max-start", 4, "MTT max start epoch")
	batchSyn := flag.Int("batch-syn", 0, "MTT synthetic mini-batch (0: all)")
	lrImg := flag.Float64("lr-img", 1000, "MTT image learning rate")
	lrLR := flag.Float64("lr-lr", 1e-5, "MTT learning rate of the learning rate")
	lrTeacher := flag.Float64("lr-teacher", 0.01, "MTT initial student learning rate")
	memory := flag.String("memory", "unrolled", "MTT gradient mode: unrolled or recompute")
	memOnly := flag.Bool("mem-only", false, "only distil (no buffer training, no evaluation); print time and peak memory")
	epochs := flag.Int("epochs", 50, "evaluation epochs (the reference makes epochs+1 passes)")
	runs := flag.Int("runs", 2, "evaluation runs")
	seed := flag.Uint64("seed", 0, "seed of everything")
	out := flag.String("out", "", "append one JSON record per method to this file")
	flag.Parse()

	be, bdesc, p := expkit.Open(*dataset, *data)
	log.Printf("backend %s", bdesc)
	trainSet := expkit.Balanced(p.Train, *pool, *seed)
	testSet := expkit.Balanced(p.Test, *testN, *seed+1)
	log.Printf("pool %s; testing on %s", trainSet, testSet)

	t0 := time.Now()
	if !*memOnly {
		cfg := expert.DefaultConfig()
		cfg.Model, cfg.Experts, cfg.Epochs, cfg.Seed, cfg.PerShard = *model, *experts, *trainEpochs, *seed, 1
		cfg.Batch, cfg.LR = *expertBatch, *expertLR
		cfg.Progress = func(done, total int, msg string) { log.Printf("buffer %d/%d %s", done, total, msg) }
		if _, err := expert.Train(be, trainSet, *bufDir, cfg); err != nil {
			log.Fatal(err)
		}
	}
	bufSec := time.Since(t0).Seconds()
	log.Printf("expert buffer ready in %.0f s", bufSec)

	type row struct {
		Method      string         `json:"method"`
		IPC         int            `json:"ipc"`
		Iterations  int            `json:"iterations"`
		Mean        float64        `json:"mean"`
		Std         float64        `json:"std"`
		Accuracies  []float64      `json:"accuracies"`
		CondenseSec float64        `json:"condense_seconds"`
		BufferSec   float64        `json:"buffer_seconds,omitempty"`
		EvalSec     float64        `json:"eval_seconds"`
		Stats       *synth.Summary `json:"stats,omitempty"`
		Params      map[string]any `json:"params"`
		Setting     map[string]any `json:"setting"`
	}
	var rows []row
	for _, m := range strings.Split(*methods, ",") {
		m = strings.TrimSpace(m)
		params := map[string]any{}
		it := 0
		var stats *synth.Stats
		if m == "mtt" {
			stats = &synth.Stats{}
			params = map[string]any{mtt.ParamBuffer: *bufDir, synth.ParamIterations: *iters, mtt.ParamSynSteps: *synSteps,
				mtt.ParamExpertEpochs: *expertEpochs, mtt.ParamMaxStartEpoch: *maxStart, mtt.ParamBatchSyn: *batchSyn,
				synth.ParamLR: *lrImg, mtt.ParamLRLR: *lrLR, mtt.ParamLRTeacher: *lrTeacher, mtt.ParamMemory: *memory,
				synth.ParamStats: stats}
			it = *iters
		} else if *memOnly {
			continue
		}
		log.Printf("condensing with %s", m)
		set, err := dcbench.Condense(trainSet, dcbench.CondenseOptions{Method: m, IPC: *ipc, Seed: *seed,
			Backend: be, Params: params, Progress: expkit.Throttled(m, 2)})
		if err != nil {
			log.Fatal(err)
		}
		r := row{Method: m, IPC: *ipc, Iterations: it, CondenseSec: set.Seconds, Params: params,
			Setting: map[string]any{"dataset": *dataset, "pool": *pool, "test": *testN, "model": *model,
				"epochs": *epochs, "runs": *runs, "seed": *seed, "backend": backend.Describe(be),
				"experts": *experts, "train_epochs": *trainEpochs, "expert_batch": *expertBatch, "expert_lr": *expertLR}}
		if stats != nil {
			s := stats.Summary()
			r.Stats = &s
			r.BufferSec = bufSec
			recs := stats.Records()
			log.Printf("%s: first loss %.4f, last loss %.4f", m, recs[0].Loss, recs[len(recs)-1].Loss)
		}
		if *memOnly {
			b, _ := json.MarshalIndent(r.Stats, "", "  ")
			fmt.Printf("memory=%s syn_steps=%d ipc=%d: %s\n", *memory, *synSteps, *ipc, b)
			return
		}
		log.Printf("%s: condensed in %.0f s; evaluating", m, set.Seconds)
		opts := dcbench.EvalOptions{Config: train.Config{Model: *model, Epochs: *epochs, Seed: *seed}, NumEval: *runs,
			Backend: be, Progress: expkit.Throttled(m+" eval", 2)}
		res, err := dcbench.Evaluate(set, testSet, opts)
		if err != nil {
			log.Fatal(err)
		}
		r.Mean, r.Std, r.Accuracies, r.EvalSec = res.Mean, res.Std, res.Accuracies, res.Seconds
		rows = append(rows, r)
		log.Printf("%s: %s", m, res)
		expkit.AppendJSON(*out, r)
	}
	fmt.Printf("\n%s, IPC %d, pool %d/class, test %d/class, %s, %d epochs, %d runs; buffer %d experts × %d epochs (%.0f s)\n\n",
		*dataset, *ipc, *pool, *testN, *model, *epochs, *runs, *experts, *trainEpochs, bufSec)
	fmt.Println("| method | iterations | accuracy (%) | condense s | eval s |")
	fmt.Println("| --- | --- | --- | --- | --- |")
	for _, r := range rows {
		it := "-"
		if r.Iterations > 0 {
			it = fmt.Sprint(r.Iterations)
		}
		fmt.Printf("| %s | %s | %.2f ± %.2f | %.0f | %.0f |\n", r.Method, it, r.Mean, r.Std, r.CondenseSec, r.EvalSec)
	}
}
