package lab

import (
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/dcbench/dcbench/dcbench/results"
	"github.com/dcbench/dcbench/kernelext"
)

// tableOf maps the presets without a report table of their own to the one that shows them.
var tableOf = map[string]string{"fig5": results.TableTransfer, "fig7": results.TableAugmentation, "fig8": results.TableAugmentation}

// TableID is the `dcbench report` table that shows the experiment (e.g. "table4").
func (e *Experiment) TableID() string {
	if t, ok := tableOf[e.Name]; ok {
		return t
	}
	return e.Name
}

// Report aggregates the records of the experiment's runs in the results folder (other
// records there are left out) with `dcbench report`'s aggregation, into the experiment's
// table.
func (e *Experiment) Report() (*results.Report, error) {
	recs, warnings, err := e.Store.Read()
	if err != nil {
		return nil, err
	}
	mine := map[string]bool{}
	for _, r := range e.Runs {
		mine[r.Key] = true
	}
	var kept []results.Record
	for _, r := range recs {
		if mine[r.Key()] {
			kept = append(kept, r)
		}
	}
	title := fmt.Sprintf("%s, %s profile", e.Name, e.Profile)
	return results.Build(kept, warnings, results.Options{Title: title, Tables: []string{e.TableID()}}), nil
}

// Chart draws the experiment's table as bars, ours beside the paper's, one category per
// row and column of the table (method, IPC, then the column: augmentation, model, ...).
func Chart(rep *results.Report, title string) kernelext.BarChart {
	c := kernelext.BarChart{Title: title, YLabel: "test accuracy (%)"}
	ours := kernelext.BarSeries{Name: "ours"}
	paper := kernelext.BarSeries{Name: "paper"}
	var ms []results.Measure
	methods, ipcs, keys := map[string]bool{}, map[int]bool{}, map[string]bool{}
	for _, t := range rep.Tables {
		if t.ID == results.TableCost {
			c.YLabel = "seconds per iteration"
		}
		for _, m := range t.Measures {
			if m.Stat.Ran() || m.Paper != nil {
				ms = append(ms, m)
				methods[m.Method], ipcs[m.IPC], keys[m.Key] = true, true, true
			}
		}
	}
	// A category names only what varies: the method, the IPC, the column.
	for _, m := range ms {
		var parts []string
		if len(methods) > 1 {
			parts = append(parts, m.Method)
		}
		if len(ipcs) > 1 {
			parts = append(parts, fmt.Sprint("IPC ", m.IPC))
		}
		if len(keys) > 1 || len(parts) == 0 {
			parts = append(parts, m.Key)
		}
		c.Categories = append(c.Categories, strings.Join(parts, " "))
		o, p := math.NaN(), math.NaN()
		if m.Stat.Ran() {
			o = m.Stat.Mean
		}
		if m.Paper != nil {
			p = m.Paper.Mean
		}
		ours.Values, paper.Values = append(ours.Values, o), append(paper.Values, p)
	}
	if len(methods) == 1 && len(ms) > 0 {
		c.XLabel = ms[0].Method
		if len(ipcs) == 1 {
			c.XLabel += fmt.Sprint(", IPC ", ms[0].IPC)
		}
	}
	c.Series = []kernelext.BarSeries{ours, paper}
	c.Width = max(640, 90*len(c.Categories))
	return c
}

// Show displays the experiment's comparison with the paper: the report table (ours, the
// paper's number, Δ) and its chart. Outside a notebook both are written as files.
func (e *Experiment) Show() error {
	rep, err := e.Report()
	if err != nil {
		return err
	}
	if _, err := kernelext.DisplayHTML(e.Name+"-table", rep.Fragment()); err != nil {
		return err
	}
	if os.Getenv(EnvReportDir) != "" { // the CSV beside the HTML report, to compare runs
		if err := os.WriteFile(kernelext.OutputPath(e.Name+"-report", ".csv"), []byte(rep.CSV()), 0o644); err != nil {
			return err
		}
	}
	ch := Chart(rep, fmt.Sprintf("%s: ours vs the paper (%s profile)", e.Name, e.Profile))
	if len(ch.Categories) == 0 {
		fmt.Println("no results yet: run the experiment first")
		return nil
	}
	_, err = ch.Display(e.Name + "-chart")
	return err
}
