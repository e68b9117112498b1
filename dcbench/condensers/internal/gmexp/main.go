// Command gmexp is a small CPU experiment for DC and DSA (package gm) on MNIST: it condenses
// the training set with Random, DC and DSA at one IPC with a short schedule, evaluates each
// set with dcbench.Evaluate (ConvNet, the same epochs and runs for every method) on a
// class-balanced subset of the test set, and prints a table: method, iterations, accuracy
// mean ± std, condensation seconds and seconds per outer iteration.
//
//	go run ./dcbench/condensers/internal/gmexp -ipc 1 -iters 20 -batch-real 64
//	go run ./dcbench/condensers/internal/gmexp -measure -iters 3 -methods dc,dsa   # timing only
package main

import (
	"flag"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/dcbench/dcbench/dcbench"
	"github.com/dcbench/dcbench/dcbench/condensers/internal/expkit"
	"github.com/dcbench/dcbench/dcbench/condensers/synth"
)

func main() {
	data := flag.String("data", "/work/shared/datasets/mnist", "MNIST folder (IDX files)")
	ipc := flag.Int("ipc", 1, "images per class")
	iters := flag.Int("iters", 20, "outer iterations of DC and DSA")
	batchReal := flag.Int("batch-real", 64, "real images per class and matching step")
	outer := flag.Int("outer", 0, "outer_loop override (0: the reference schedule of the IPC)")
	inner := flag.Int("inner", -1, "inner_loop override (-1: the reference schedule of the IPC)")
	methods := flag.String("methods", "random,dc,dsa", "methods, comma-separated")
	epochs := flag.Int("epochs", 100, "evaluation epochs")
	runs := flag.Int("runs", 3, "evaluation runs")
	perClass := flag.Int("test-per-class", 100, "test images per class")
	seed := flag.Uint64("seed", 0, "seed of condensation and evaluation")
	measure := flag.Bool("measure", false, "only time the outer iterations of DC and DSA (no evaluation)")
	model := flag.String("model", "convnet", "network for matching and evaluation (e.g. convnetw32: ConvNet-3 of width 32)")
	flag.Parse()

	be, _, pair := expkit.Open("mnist", *data)
	test := expkit.Sample(pair.Test, *perClass, *seed^0x7e57, 0)
	log.Printf("train %s; test subset %d images; backend %s", pair.Train, test.N, be.Name())

	type row struct {
		method          string
		iters           int
		acc             string
		secs, perIter   float64
		evalSecsPerRun  float64
		firstIterSecs   float64
		meanIterSecs    float64
		stdIterSecs     float64
		outerLoop, innr int
	}
	var rows []row
	for _, m := range strings.Split(*methods, ",") {
		m = strings.TrimSpace(m)
		params := map[string]any{}
		stats := &synth.Stats{}
		n := 0
		if m != "random" {
			n = *iters
			params["iterations"] = n
			params["batch_real"] = *batchReal
			params["stats"] = stats
			params["model"] = *model
			if *outer > 0 {
				params["outer_loop"] = *outer
			}
			if *inner >= 0 {
				params["inner_loop"] = *inner
			}
		}
		t0 := time.Now()
		set, err := dcbench.Condense(pair.Train, dcbench.CondenseOptions{Method: m, IPC: *ipc, Seed: *seed, Backend: be,
			Params: params, Progress: func(done, total int, msg string) { log.Printf("%s: %s", m, msg) }})
		if err != nil {
			log.Fatalf("%s: %v", m, err)
		}
		secs := time.Since(t0).Seconds()
		r := row{method: m, iters: n, secs: secs}
		if n > 0 {
			sum := stats.Summary()
			rec := stats.Records()
			r.perIter = sum.TotalSeconds / float64(len(rec))
			r.firstIterSecs = rec[0].Seconds
			r.meanIterSecs, r.stdIterSecs = sum.MeanSeconds, sum.StdSeconds
			log.Printf("%s: %d iterations, %.1f s in all, first %.1f s, then %.1f ± %.1f s each", m, n, sum.TotalSeconds,
				r.firstIterSecs, sum.MeanSeconds, sum.StdSeconds)
		}
		if *measure {
			continue
		}
		opts := dcbench.EvalOptions{NumEval: *runs, Backend: be}
		opts.Epochs = *epochs
		opts.Model = *model
		opts.Seed = *seed
		res, err := dcbench.Evaluate(set, test, opts)
		if err != nil {
			log.Fatalf("%s: evaluate: %v", m, err)
		}
		r.acc = res.String()
		r.evalSecsPerRun = res.Seconds / float64(*runs)
		log.Printf("%s: accuracy %s (%v), %.0f s per evaluation run", m, res, res.Accuracies, r.evalSecsPerRun)
		rows = append(rows, r)
	}
	if *measure {
		return
	}
	fmt.Printf("\nMNIST, IPC %d, batch_real %d, network %s, evaluation: %d epochs, %d runs, %d test images\n\n",
		*ipc, *batchReal, *model, *epochs, *runs, test.N)
	fmt.Println("| method | iterations | accuracy (%) | condense s | s / outer iteration | eval s / run |")
	fmt.Println("| --- | --- | --- | --- | --- | --- |")
	for _, r := range rows {
		per := "-"
		if r.iters > 0 {
			per = fmt.Sprintf("%.1f", r.perIter)
		}
		fmt.Printf("| %s | %d | %s | %.1f | %s | %.0f |\n", r.method, r.iters, r.acc, r.secs, per, r.evalSecsPerRun)
	}
}
