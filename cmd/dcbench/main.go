// Command dcbench condenses datasets and evaluates condensed sets with the DC-Bench protocol.
//
// Usage:
//
//	dcbench eval     [flags]   condense (or load --set) and evaluate; prints mean ± std
//	dcbench condense [flags]   condense and save the set to a file
//	dcbench info     [flags]   backend, datasets, models and methods
//
// Run "dcbench <command> -h" for the flags. With no --dataset and no --data, the embedded
// CIFAR-10 subset (100 train / 100 test images per class) is used, so the command works
// offline on a fresh machine.
package main

import (
	"errors"
	"fmt"
	"os"
)

// usageError marks errors in the command line (exit status 2).
type usageError struct{ error }

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(os.Stderr, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	var err error
	switch args[0] {
	case "eval":
		err = cmdEval(args[1:])
	case "condense":
		err = cmdCondense(args[1:])
	case "info":
		err = cmdInfo(args[1:])
	case "bench":
		err = cmdBench(args[1:])
	case "augshow":
		err = cmdAugshow(args[1:])
	case "sweep":
		err = cmdSweep(args[1:])
	case "report":
		err = cmdReport(args[1:])
	case "buffer":
		err = cmdBuffer(args[1:])
	case "peer":
		err = cmdPeer(args[1:])
	default:
		err = usageError{fmt.Errorf("unknown command %q (valid: eval, condense, info, augshow, bench, peer, sweep, report, buffer)", args[0])}
	}
	if err == nil {
		return 0
	}
	fmt.Fprintf(os.Stderr, "dcbench: %v\n", err)
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

const usage = `dcbench: dataset condensation benchmark (DC-Bench protocol)

Commands:
  eval      condense a dataset (or load --set FILE) and evaluate the set: train fresh
            networks on it, report test accuracy mean ± std (population) over --num-eval runs
  condense  condense a dataset and save the set (--out FILE)
  info      show the backend, datasets, models and methods
  bench     seconds per iteration and peak memory of every method at IPC 1/10/50 and of an
            evaluation epoch, next to the paper's Table 8
  peer      dcbench against PyTorch on this machine (ConvNet-3 step, DM and DC iterations):
            seconds, peak memory, ratios and share of the GEMM peak, side by side
  augshow   render an embedded CIFAR-10 image under every DSA op and host augmentation (--out PNG)
  sweep     run a grid (--spec FILE, --preset table4..table9|fig6, or flags) into a results
            folder, skipping recorded runs; --shard i/n splits it among independent processes
  buffer    train expert trajectories for MTT into a folder (--out DIR; condense with
            --method mtt --param buffer=DIR)
  report    aggregate a results folder into the appendix tables and the leaderboard, beside the
            paper's numbers (Markdown, CSV, HTML)

Run "dcbench <command> -h" for its flags. Without --dataset/--data the embedded CIFAR-10
subset is used.
`
