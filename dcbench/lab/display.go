package lab

import (
	"fmt"
	"os"

	"github.com/dcbench/dcbench/dcbench"
	"github.com/dcbench/dcbench/kernelext"
)

func init() {
	if dir := os.Getenv(EnvReportDir); dir != "" {
		nb := os.Getenv("DCBENCH_NOTEBOOK")
		if nb == "" {
			nb = "notebook"
		}
		kernelext.SetOutputDir(dir + "/" + nb)
		kernelext.SetSaveInNotebook(true)
	}
}

// Check stops the cell with err (printed) when it is not nil.
func Check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// Must returns v, or stops the cell with err.
func Must[T any](v T, err error) T {
	Check(err)
	return v
}

// Progress returns a progress function that draws progress bars titled title (a new bar
// whenever the total changes: a method's next phase) and a function that ends the last
// bar; its shape fits dcbench.CondenseOptions.Progress and EvalOptions.Progress.
func Progress(title string) (dcbench.ProgressFunc, func()) {
	var bar *kernelext.Progress
	total := -1
	progress := func(n, t int, msg string) {
		if bar == nil || t != total {
			if bar != nil {
				bar.Done()
			}
			// Created at the phase's first report: the steps done by then (one, or the
			// iterations a resumed run restored) are not in the rate.
			bar, total = kernelext.NewProgressWith(title, t, kernelext.ProgressOptions{Initial: n}), t
		}
		bar.Update(n, msg)
	}
	return progress, func() {
		if bar != nil {
			bar.Done()
		}
	}
}

// SetGridHTML draws a condensed set as an image grid, one row per class and at most perClass
// images each, zoomed 2×, titled with the set's description.
func SetGridHTML(set *dcbench.Set, perClass int) (string, error) {
	d := set.Data
	return kernelext.ImageGridHTML(d.Images, d.N, d.H, d.W, d.C, d.Labels, d.Classes, d.Mean, d.Std,
		kernelext.GridOptions{PerClass: perClass, Scale: 2, Padding: 1, Title: set.String()})
}

// ShowSet displays SetGridHTML of set.
func ShowSet(set *dcbench.Set, perClass int) error {
	h, err := SetGridHTML(set, perClass)
	if err != nil {
		return err
	}
	_, err = kernelext.DisplayHTML(fmt.Sprintf("set-%s-ipc%d", set.Method, set.IPC), h)
	return err
}
