// Command experiments compares the selection and synthesis condensers of this folder
// (K-Center, Herding, DM) with Random selection on one dataset at one IPC, under the same
// evaluation budget, and prints a table (method, iterations, accuracy mean ± std, seconds).
//
// The defaults are a CPU-sized run on MNIST: a class-balanced pool of the training set, a
// width-32 ConvNet-3 for the embeddings, DM and the evaluation, short schedules, and a
// class-balanced test subset. Every setting is a flag; with -pool 0 -test 0 -model convnet
// -epochs 300 -runs 5 -dm-iters 20000 -batch-real 256 it is the reference protocol.
//
//	go run ./dcbench/condensers/internal/experiments -data /work/shared/datasets/mnist
package main

import (
	"flag"
	"fmt"
	"log"
	"strings"

	"github.com/dcbench/dcbench/datasets"
	"github.com/dcbench/dcbench/dcbench"
	"github.com/dcbench/dcbench/dcbench/backend"
	"github.com/dcbench/dcbench/dcbench/condensers/internal/expkit"
	"github.com/dcbench/dcbench/dcbench/condensers/synth"
	"github.com/dcbench/dcbench/dcbench/train"
)

func main() {
	dataset := flag.String("dataset", "mnist", "dataset name (datasets.Load)")
	data := flag.String("data", "/work/shared/datasets/mnist", "dataset folder or archive")
	pool := flag.Int("pool", 500, "training images per class to condense from (0: all)")
	testN := flag.Int("test", 100, "test images per class to evaluate on (0: all)")
	ipc := flag.Int("ipc", 10, "images per class")
	methods := flag.String("methods", "random,kcenter,herding,dm", "methods, comma-separated")
	model := flag.String("model", "convnetw32", "network for embeddings (K-Center, Herding), DM and evaluation")
	epochs := flag.Int("epochs", 100, "evaluation epochs (the reference makes epochs+1 passes)")
	runs := flag.Int("runs", 2, "evaluation runs")
	dmIters := flag.Int("dm-iters", 200, "DM iterations")
	batchReal := flag.Int("batch-real", 64, "DM real images per class per iteration")
	dmInit := flag.String("dm-init", "real", "DM initialisation: real, kcenter or noise (DC-Bench Fig. 6)")
	dmEvalEvery := flag.Int("dm-eval-every", 0, "evaluate the DM set every N iterations (accuracy-vs-iteration curve; 0: off)")
	seed := flag.Uint64("seed", 0, "seed of the condensation and of the first evaluation run")
	out := flag.String("out", "", "append one JSON record per method to this file")
	flag.Parse()

	be, bdesc, p := expkit.Open(*dataset, *data)
	log.Printf("backend %s", bdesc)
	trainSet := expkit.Balanced(p.Train, *pool, *seed)
	testSet := expkit.Balanced(p.Test, *testN, *seed+1)
	log.Printf("condensing from %s; testing on %s", trainSet, testSet)

	type row struct {
		Method      string         `json:"method"`
		IPC         int            `json:"ipc"`
		Iterations  int            `json:"iterations"`
		Mean        float64        `json:"mean"`
		Std         float64        `json:"std"`
		Accuracies  []float64      `json:"accuracies"`
		CondenseSec float64        `json:"condense_seconds"`
		EvalSec     float64        `json:"eval_seconds"`
		Stats       *synth.Summary `json:"dm_stats,omitempty"`
		Params      map[string]any `json:"params"`
		Setting     map[string]any `json:"setting"`
	}
	var rows []row
	for _, m := range strings.Split(*methods, ",") {
		m = strings.TrimSpace(m)
		params := map[string]any{"model": *model}
		iters := 0
		var stats *synth.Stats
		switch m {
		case "kcenter":
			iters = 300 // k-means steps at most
		case "dm":
			stats = &synth.Stats{}
			params["iterations"], params["batch_real"], params["stats"] = *dmIters, *batchReal, stats
			params["init"] = *dmInit
			iters = *dmIters
			if *dmEvalEvery > 0 {
				params["eval_every"] = *dmEvalEvery
				params["eval_hook"] = synth.EvalHook(func(it int, d *datasets.Dataset) {
					opts := dcbench.EvalOptions{Config: train.Config{Model: *model, Epochs: *epochs, Seed: *seed}, NumEval: *runs, Backend: be}
					res, err := dcbench.Evaluate(&dcbench.Set{Data: d, Method: "dm", IPC: *ipc}, testSet, opts)
					if err != nil {
						log.Fatal(err)
					}
					log.Printf("dm curve: iteration %d: %s", it, res)
				})
			}
		}
		log.Printf("condensing with %s", m)
		set, err := dcbench.Condense(trainSet, dcbench.CondenseOptions{Method: m, IPC: *ipc, Seed: *seed,
			Backend: be, Params: params, Progress: expkit.Throttled(m, 0)})
		if err != nil {
			log.Fatal(err)
		}
		log.Printf("%s: condensed in %.0f s; evaluating", m, set.Seconds)
		opts := dcbench.EvalOptions{Config: train.Config{Model: *model, Epochs: *epochs, Seed: *seed}, NumEval: *runs,
			Backend: be, Progress: expkit.Throttled(m+" eval", 0)}
		res, err := dcbench.Evaluate(set, testSet, opts)
		if err != nil {
			log.Fatal(err)
		}
		r := row{Method: m, IPC: *ipc, Iterations: iters, Mean: res.Mean, Std: res.Std, Accuracies: res.Accuracies,
			CondenseSec: set.Seconds, EvalSec: res.Seconds, Params: params,
			Setting: map[string]any{"dataset": *dataset, "pool": *pool, "test": *testN, "model": *model,
				"epochs": *epochs, "runs": *runs, "seed": *seed, "backend": backend.Describe(be)}}
		if stats != nil {
			s := stats.Summary()
			r.Stats = &s
		}
		rows = append(rows, r)
		log.Printf("%s: %s", m, res)
		expkit.AppendJSON(*out, r)
	}
	fmt.Printf("\n%s, IPC %d, pool %d/class, test %d/class, %s, %d epochs, %d runs\n\n", *dataset, *ipc, *pool, *testN, *model, *epochs, *runs)
	fmt.Println("| method | iterations | accuracy (%) | condense s | eval s |")
	fmt.Println("| --- | --- | --- | --- | --- |")
	for _, r := range rows {
		it := "-"
		switch {
		case r.Method == "kcenter":
			it = "≤300 k-means steps"
		case r.Iterations > 0:
			it = fmt.Sprint(r.Iterations)
		}
		fmt.Printf("| %s | %s | %.2f ± %.2f | %.0f | %.0f |\n", r.Method, it, r.Mean, r.Std, r.CondenseSec, r.EvalSec)
	}
}
