package lab

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcbench/dcbench/dcbench/results"
	"github.com/dcbench/dcbench/dcbench/sweep"
	"github.com/dcbench/dcbench/kernelext"
)

// A results folder written by a sweep (here: records appended by hand) is shown without
// running anything, and records of other experiments in it are left out.
func TestReportFromFolder(t *testing.T) {
	dir := t.TempDir()
	e, err := New("table4", "quick", dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Runs) != 5 {
		t.Fatalf("table4 quick: %d runs, want 5 (one per augmentation)", len(e.Runs))
	}
	w, _ := results.Open(dir, "gpu-sweep")
	for i, r := range e.Runs {
		rec := results.Record{Config: r.Config, Seed: r.Seed, Status: results.StatusOK, Accuracy: 20 + float64(i), Command: "sweep"}
		rec.Stamp()
		if err := w.Append(rec); err != nil {
			t.Fatal(err)
		}
	}
	other, _ := New("fig6", "quick", dir)
	rec := results.Record{Config: other.Runs[0].Config, Seed: 0, Status: results.StatusOK, Accuracy: 99, Command: "sweep"}
	rec.Stamp()
	_ = w.Append(rec)

	todo, _, _, err := (&sweep.Runner{Store: e.Store}).Plan(e.Runs)
	if err != nil || len(todo) != 0 {
		t.Fatalf("plan: %d runs to do (%v), want none", len(todo), err)
	}
	rep, err := e.Report()
	if err != nil {
		t.Fatal(err)
	}
	if rep.Runs != 5 || len(rep.Tables) != 1 || rep.Tables[0].ID != results.TableAugmentation {
		t.Fatalf("report: %d runs, tables %v", rep.Runs, rep.Tables)
	}
	csv := rep.CSV()
	for _, want := range []string{",ok,20,", ",ok,24,"} {
		if !strings.Contains(csv, want) {
			t.Errorf("report CSV lacks %s:\n%s", want, csv)
		}
	}
	if strings.Contains(csv, ",99,") {
		t.Errorf("report shows another experiment's record:\n%s", csv)
	}
	ch := Chart(rep, "t")
	if len(ch.Categories) == 0 || len(ch.Series) != 2 || len(ch.Series[0].Values) != len(ch.Categories) {
		t.Errorf("chart: %+v", ch)
	}
	if f := rep.Fragment(); !strings.Contains(f, `class="dcb-report"`) || strings.Contains(f, "<body") {
		t.Errorf("fragment is not a fragment: %.200s", f)
	}
}

// Run executes the quick runs once into the folder; a second Run resumes with nothing to do.
func TestRunResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a network")
	}
	dir := t.TempDir()
	kernelext.SetOutputDir(filepath.Join(dir, "out"))
	e, err := New("table6", "quick", dir) // Random at IPC 1 and 10
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := e.Run(); err != nil {
			t.Fatal(err)
		}
	}
	recs, _, err := e.Store.Read()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].Status != results.StatusOK || recs[1].Status != results.StatusOK || recs[0].Accuracy <= 0 {
		t.Fatalf("records after two Runs: %+v", recs)
	}
	if err := e.Show(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "table6-chart.svg")); err != nil {
		t.Errorf("chart not written: %v", err)
	}
	p, err := e.Provenance()
	if err != nil {
		t.Fatal(err)
	}
	if len(p.SHA256) != 64 || !strings.Contains(p.Text(), "dataset sha256: "+p.SHA256) {
		t.Errorf("provenance: %+v", p)
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := New("table42", "quick", t.TempDir()); err == nil || !strings.Contains(err.Error(), `unknown preset "table42"`) {
		t.Errorf("unknown preset: %v", err)
	}
	if _, err := New("table4", "fast", t.TempDir()); err == nil || !strings.Contains(err.Error(), `unknown profile "fast"`) {
		t.Errorf("unknown profile: %v", err)
	}
}
