package main

import (
	"fmt"
	"path/filepath"

	"github.com/dcbench/dcbench/dcbench"
)

func cmdCondense(args []string) error {
	fs := newFlagSet("condense")
	var c common
	c.register(fs)
	var out string
	params := paramFlags{}
	fs.Var(params, "param", "method setting key=value, repeatable (e.g. --param buffer=DIR for mtt)")
	fs.StringVar(&out, "out", "", "file for the condensed set (default results/sets/<dataset>_<method>_ipc<k>_seed<s>.dcb)")
	if err := parse(fs, args); err != nil {
		if err == errHelp {
			return nil
		}
		return err
	}
	b, data, dname, err := c.open()
	if err != nil {
		return err
	}
	ctx, stop := interruptible()
	defer stop()
	prog, done := c.progress("condense " + c.method)
	set, err := dcbench.Condense(data.Train, dcbench.CondenseOptions{Method: c.method, IPC: c.ipc, Seed: c.seed,
		Backend: b, Progress: prog, Context: ctx, Source: dname, Params: params})
	done()
	if err != nil {
		return err
	}
	if out == "" {
		out = filepath.Join("results", "sets", fmt.Sprintf("%s_%s_ipc%d_seed%d.dcb", dname, set.Method, set.IPC, set.Seed))
	}
	if err := set.Save(out); err != nil {
		return err
	}
	fmt.Printf("%s\nsaved to %s (%.1f s)\n", set, out, set.Seconds)
	return nil
}
