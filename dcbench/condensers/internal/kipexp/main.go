// Command kipexp is a small CPU experiment for KIP (package kip) on MNIST: from a
// class-balanced pool of the training set it condenses with Random and KIP at one IPC,
// evaluates both sets with dcbench.Evaluate (the same network, epochs and runs) on a
// class-balanced subset of the test set, and reports next to it the kernel ridge regression
// accuracy of each set with KIP's kernel (the number the KIP paper reports). The Random
// set's kernel accuracy is that of KIP with 0 iterations, whose support is the Random
// selection of the same seed.
//
//	go run ./dcbench/condensers/internal/kipexp -ipc 10 -pool 300 -iters 200 -target 1000
package main

import (
	"flag"
	"fmt"
	"log"
	"math"
	"strings"
	"time"

	"github.com/dcbench/dcbench/datasets"
	"github.com/dcbench/dcbench/dcbench"
	"github.com/dcbench/dcbench/dcbench/condensers/internal/expkit"
	"github.com/dcbench/dcbench/dcbench/condensers/kip"
)

func main() {
	data := flag.String("data", "/work/shared/datasets/mnist", "MNIST folder (IDX files)")
	ipc := flag.Int("ipc", 10, "images per class")
	pool := flag.Int("pool", 300, "training images per class to condense from")
	iters := flag.Int("iters", 200, "KIP iterations")
	target := flag.Int("target", 1000, "KIP target batch (all classes)")
	lr := flag.Float64("lr", kip.DefaultLR, "KIP Adam learning rate of the images")
	learnLabels := flag.Bool("learn-labels", false, "learn the KIP labels too")
	zca := flag.Bool("zca", true, "KIP ZCA preprocessing")
	epochs := flag.Int("epochs", 100, "evaluation epochs")
	runs := flag.Int("runs", 3, "evaluation runs")
	perClass := flag.Int("test-per-class", 100, "test images per class")
	seed := flag.Uint64("seed", 0, "seed of condensation and evaluation")
	model := flag.String("model", "convnetw32", "evaluation network")
	methods := flag.String("methods", "random,kip", "methods to run, comma-separated (random, kip)")
	space := flag.String("space", "pixels", "where the networks train and test: pixels (KIP's images mapped back, raw test set) or zca (KIP's ZCA space, test set ZCA'd too, as the reference)")
	kernelOnly := flag.Bool("kernel-only", false, "skip the network evaluations (kernel regression accuracy only)")
	flag.Parse()

	be, _, pair := expkit.Open("mnist", *data)
	train := expkit.Sample(pair.Train, *pool, *seed^0x9001, 0)
	test := expkit.Sample(pair.Test, *perClass, *seed^0x7e57, 0)
	log.Printf("pool %s; test subset %d images; backend %s", train, test.N, be.Name())

	evaluate := func(name string, set *dcbench.Set, test *datasets.Dataset) *dcbench.EvalResult {
		if *kernelOnly {
			return &dcbench.EvalResult{Mean: math.NaN(), Std: math.NaN()}
		}
		opts := dcbench.EvalOptions{NumEval: *runs, Backend: be}
		opts.Epochs, opts.Model, opts.Seed = *epochs, *model, *seed
		res, err := dcbench.Evaluate(set, test, opts)
		if err != nil {
			log.Fatalf("%s: evaluate: %v", name, err)
		}
		log.Printf("%s: ConvNet accuracy %s %v (%.0f s)", name, res, res.Accuracies, res.Seconds)
		return res
	}
	condense := func(name string, n int, output string) (*dcbench.Set, *kip.Result, float64, float64) {
		res := &kip.Result{}
		params := map[string]any{kip.ParamIterations: n, kip.ParamTargetBatch: *target, kip.ParamLR: *lr,
			kip.ParamLearnLabels: *learnLabels, kip.ParamZCA: *zca, kip.ParamResult: res}
		if output != "" {
			params[kip.ParamOutput] = output
		}
		t0 := time.Now()
		last := time.Now()
		set, err := dcbench.Condense(train, dcbench.CondenseOptions{Method: "kip", IPC: *ipc, Seed: *seed, Backend: be,
			Params: params, Progress: func(done, total int, msg string) {
				if done == total || time.Since(last) > 20*time.Second {
					log.Printf("%s: %s", name, msg)
					last = time.Now()
				}
			}})
		if err != nil {
			log.Fatalf("%s: %v", name, err)
		}
		secs := time.Since(t0).Seconds()
		e, err := kip.NewEngine(be, res.Config)
		if err != nil {
			log.Fatal(err)
		}
		defer e.Finalize()
		kacc, err := res.KernelAccuracy(e, test, 500)
		if err != nil {
			log.Fatal(err)
		}
		log.Printf("%s: %d iterations in %.0f s; kernel regression test accuracy %.2f %%", name, n, secs, 100*kacc)
		return set, res, 100 * kacc, secs
	}

	type row struct {
		method, space string
		iters         int
		conv          *dcbench.EvalResult
		kernel, secs  float64
	}
	var rows []row
	var kres *kip.Result
	output, spaceName := "", pixelSpace(*zca)
	if *space == "zca" {
		if !*zca {
			log.Fatal("-space zca needs -zca")
		}
		output, spaceName = kip.OutputZCA, "ZCA (test set ZCA'd too)"
	}
	for _, m := range strings.Split(*methods, ",") {
		switch strings.TrimSpace(m) {
		case "random":
			t0 := time.Now()
			rset, err := dcbench.Condense(train, dcbench.CondenseOptions{Method: "random", IPC: *ipc, Seed: *seed, Backend: be})
			if err != nil {
				log.Fatal(err)
			}
			rsecs := time.Since(t0).Seconds()
			// KIP at 0 iterations: the Random selection in the kernel's space.
			zset, res, rk, _ := condense("random (kip, 0 iterations)", 0, output)
			kres = res
			eset, etest, sp := rset, test, "pixels"
			if *space == "zca" {
				eset, etest, sp = zset, zcaTest(test, res), spaceName
			}
			rows = append(rows, row{"Random", sp, 0, evaluate("random", eset, etest), rk, rsecs})
		case "kip":
			kset, res, kk, ksecs := condense("kip", *iters, output)
			kres = res
			etest := test
			if *space == "zca" {
				etest = zcaTest(test, res)
			}
			rows = append(rows, row{"KIP", spaceName, *iters, evaluate("kip", kset, etest), kk, ksecs})
		default:
			log.Fatalf("unknown method %q (want random, kip)", m)
		}
	}
	if kres == nil {
		log.Fatal("no methods")
	}
	fmt.Printf("\nMNIST, IPC %d, pool %d/class, KIP: FC-%d %s kernel, target batch %d, lr %g, learn_labels %v, zca %v; "+
		"evaluation: %s, %d epochs, %d runs, %d test images\n\n", *ipc, *pool, kres.Config.Kernel.Depth, kres.Config.Kind,
		*target, *lr, *learnLabels, *zca, *model, *epochs, *runs, test.N)
	fmt.Println("| method | iterations | images trained on | ConvNet accuracy (%) | kernel regression accuracy (%) | condense s | eval s |")
	fmt.Println("| --- | --- | --- | --- | --- | --- | --- |")
	for _, r := range rows {
		fmt.Printf("| %s | %d | %s | %s | %.2f | %.1f | %.0f |\n", r.method, r.iters, r.space, r.conv, r.kernel, r.secs, r.conv.Seconds)
	}
	n := len(kres.Losses)
	if n > 0 {
		fmt.Printf("\nKIP target loss: first %.5f, last %.5f; target-batch accuracy first %.3f, last %.3f\n",
			kres.Losses[0], kres.Losses[n-1], kres.Accuracies[0], kres.Accuracies[n-1])
	}
}

// zcaTest returns the test set mapped to KIP's ZCA space.
func zcaTest(test *datasets.Dataset, res *kip.Result) *datasets.Dataset {
	out := test.Subset(allIndices(test.N))
	if err := res.Transform.Apply(out.Images, out.N); err != nil {
		log.Fatal(err)
	}
	return out
}

func allIndices(n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}

func pixelSpace(zca bool) string {
	if zca {
		return "pixels (inverse ZCA)"
	}
	return "pixels"
}
