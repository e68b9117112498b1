package main

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/dcbench/dcbench/datasets"
	"github.com/dcbench/dcbench/dcbench"
	"github.com/dcbench/dcbench/dcbench/backend"
	"github.com/dcbench/dcbench/dcbench/backend/gogemm"
	"github.com/dcbench/dcbench/dcbench/models"
)

func cmdInfo(args []string) error {
	fs := newFlagSet("info")
	var backendName string
	fs.StringVar(&backendName, "backend", "", "backend to describe (default: as eval would choose)")
	if err := parse(fs, args); err != nil {
		if err == errHelp {
			return nil
		}
		return err
	}
	fmt.Printf("dcbench %s %s\n\n", dcbench.Version, dcbench.Commit())
	choice, err := backend.Resolve(backendName)
	if err != nil {
		return err
	}
	fmt.Printf("backend: %s (%s)\n", choice.Spec, choice.Reason)
	if p := backend.FindCUDAPlugin(); p != "" {
		fmt.Printf("CUDA plugin: %s\n", p)
	} else {
		fmt.Printf("CUDA plugin: none found\n")
	}
	if err := gogemm.GEMMError(); err != nil {
		fmt.Printf("CPU GEMM: %v\n", err)
	} else {
		fmt.Printf("CPU GEMM: %s (gogemm's matrix products; %s=gonum or a CBLAS library path to change)\n", gogemm.GEMMName(), gogemm.GEMMEnv)
	}
	if dir, err := datasets.CacheDir(); err == nil {
		fmt.Printf("data cache: %s\n", dir)
	}
	fmt.Println()
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "dataset\tclasses\timage\ttrain\ttest\n")
	for _, n := range datasets.Names() {
		if in, err := datasets.Info(n); err == nil {
			fmt.Fprintf(tw, "%s\t%d\t%dx%dx%d\t%d\t%d\n", n, in.NumClasses, in.H, in.W, in.C, in.TrainSize, in.TestSize)
		}
	}
	fmt.Fprintf(tw, "embedded\t10\t32x32x3\t1000\t1000\n")
	tw.Flush()
	fmt.Printf("\nmethods: %s\n", strings.Join(dcbench.Methods(), ", "))
	fmt.Printf("models: %s\n", strings.Join(models.Names(), ", "))
	return nil
}
