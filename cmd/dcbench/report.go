package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/dcbench/dcbench/dcbench/results"
)

func cmdReport(args []string) error {
	fs := newFlagSet("report")
	var (
		paths, tables      commaList
		out, format, title string
		weight             float64
		quiet              bool
	)
	fs.Var(&paths, "results", "results folder(s) or .jsonl file(s) to read (default: results)")
	fs.StringVar(&out, "out", "", "write report.md, report.csv and report.html to this folder")
	fs.StringVar(&format, "format", "md", "what to print on stdout: md, csv, html or none")
	fs.Var(&tables, "tables", "tables to show: auto (default), all, or a list of "+strings.Join(results.TableIDs, ", "))
	fs.StringVar(&title, "title", "dcbench results", "report title")
	fs.Float64Var(&weight, "weight", 0.5, "DD-Ranking weight w in α = w·IOR − (1−w)·HLR")
	fs.BoolVar(&quiet, "quiet", false, "no warnings on stderr")
	if err := parse(fs, args); err != nil {
		if err == errHelp {
			return nil
		}
		return err
	}
	if len(paths) == 0 {
		paths = commaList{"results"}
	}
	for _, t := range tables {
		if t != "auto" && t != "all" && !slices.Contains(results.TableIDs, t) {
			return usageError{fmt.Errorf("--tables: unknown table %q (valid: auto, all, %s)", t, strings.Join(results.TableIDs, ", "))}
		}
	}
	if weight < 0 || weight > 1 {
		return usageError{fmt.Errorf("--weight must be in [0, 1], got %g", weight)}
	}
	format = strings.ToLower(format)
	if format != "md" && format != "csv" && format != "html" && format != "none" {
		return usageError{fmt.Errorf("--format %q: want md, csv, html or none", format)}
	}
	recs, warnings, err := results.ReadPaths(paths...)
	if err != nil {
		return err
	}
	for _, w := range warnings {
		logf(quiet, os.Stderr, "warning: %s\n", w)
	}
	rep := results.Build(recs, warnings, results.Options{Title: title, Tables: tables, Weight: weight,
		Generated: time.Now()})
	if out != "" {
		if err := os.MkdirAll(out, 0o755); err != nil {
			return err
		}
		for _, f := range []struct{ name, text string }{
			{"report.md", rep.Markdown()}, {"report.csv", rep.CSV()}, {"report.html", rep.HTML()},
		} {
			p := filepath.Join(out, f.name)
			if err := writeReportFile(p, []byte(f.text)); err != nil {
				return err
			}
			logf(quiet, os.Stderr, "wrote %s\n", p)
		}
	}
	switch format {
	case "md":
		fmt.Print(rep.Markdown())
	case "csv":
		fmt.Print(rep.CSV())
	case "html":
		fmt.Print(rep.HTML())
	}
	return nil
}

// writeReportFile writes a temporary file in the same folder and renames it over path.
func writeReportFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
