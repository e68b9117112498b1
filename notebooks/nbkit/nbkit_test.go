package nbkit

import (
	"errors"
	"strings"
	"testing"

	"github.com/dcbench/dcbench/datasets"
)

func TestSelect(t *testing.T) {
	t.Setenv(EnvProfile, "")
	p, err := Select("quick")
	if err != nil || p.Name != "quick" || !p.Embedded || p.Comparable() {
		t.Fatalf("quick: %+v, %v", p, err)
	}
	if !strings.Contains(p.Title("Table 4"), "not comparable") {
		t.Errorf("quick title %q lacks the warning", p.Title("Table 4"))
	}
	p, err = Select("paper")
	if err != nil || p.Name != "paper" || !p.Comparable() || p.Caveat() != "" {
		t.Fatalf("paper: %+v, %v (caveat %q)", p, err, p.Caveat())
	}
	t.Setenv(EnvProfile, "paper")
	if p, _ = Select("quick"); p.Name != "paper" {
		t.Errorf("%s=paper did not override: %s", EnvProfile, p.Name)
	}
	t.Setenv(EnvProfile, "nope")
	if _, err = Select("quick"); err == nil {
		t.Error("no error for an unknown profile (from the environment)")
	}
}

func TestQuickLoadAndEval(t *testing.T) {
	p := Quick()
	pair, err := p.Load()
	if err != nil {
		t.Fatal(err)
	}
	if !pair.Train.Normalized || !pair.Test.Normalized {
		t.Error("not normalised")
	}
	if pair.Test.N != 10*p.TestPerClass {
		t.Errorf("test subset has %d images, want %d", pair.Test.N, 10*p.TestPerClass)
	}
	for c, n := range pair.Test.ClassCounts() {
		if n != p.TestPerClass {
			t.Errorf("class %d has %d test images", c, n)
		}
	}
	o := p.Eval()
	if o.NumEval != 1 || o.Epochs != 10 || o.BatchSize != 100 {
		t.Errorf("eval options %+v", o)
	}
	if got, want := Passes(o), 11; got != want {
		t.Errorf("Passes = %d, want %d", got, want)
	}
}

func TestMethods(t *testing.T) {
	if RegistryName("K-Center") != "kcenter" || RegistryName(" MTT ") != "mtt" {
		t.Error("RegistryName")
	}
	if !Registered("Random") {
		t.Fatal("random is not registered")
	}
	t.Setenv(EnvMethods, "")
	run, skipped, _ := Quick().Plan(PaperMethods)
	if len(run) != 1 || run[0] != "Random" {
		t.Errorf("quick runs %v", run)
	}
	for _, m := range skipped {
		if !Registered(m) {
			t.Errorf("skipped %s is not registered", m)
		}
	}
	if q := Quick().WithMethods("K-Center"); !q.Runs("kcenter") || !q.Runs("random") || q.Runs("dc") {
		t.Errorf("WithMethods: %v", q.Methods)
	}
	t.Setenv(EnvMethods, "all")
	if q := Must(Select("quick")); q.Methods != nil || !q.Runs("dc") {
		t.Errorf("%s=all: %v", EnvMethods, q.Methods)
	}
	t.Setenv(EnvMethods, "random, dm")
	if q := Must(Select("quick")); len(q.Methods) != 2 || !q.Runs("DM") {
		t.Errorf("%s=random, dm: %v", EnvMethods, q.Methods)
	}
	data, err := datasets.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	data.Normalize()
	p := Quick()
	if _, err := p.Condense(data.Train, "no-such-method", 1, nil, nil); !errors.Is(err, ErrNotRegistered) || !Skipped(err) {
		t.Errorf("unregistered method: %v", err)
	}
	set, err := p.Condense(data.Train, "Random", 2, nil, nil)
	if err != nil || set.Data.N != 20 || set.Method != "random" {
		t.Fatalf("random: %v, %v", set, err)
	}
	if s := Stat(nil); s.Ran() {
		t.Error("nil result ran")
	}
}

func TestStore(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(EnvReportDir, dir)
	t.Setenv(EnvNotebook, "x.ipynb")
	if ReportDir() != dir+"/x" || StoreDir() != dir+"/x" {
		t.Errorf("ReportDir %q StoreDir %q", ReportDir(), StoreDir())
	}
	type rec struct{ A []float64 }
	if err := Save("r", rec{A: []float64{1, 2}}); err != nil {
		t.Fatal(err)
	}
	var got rec
	if err := Load("r", &got); err != nil || len(got.A) != 2 || got.A[1] != 2 {
		t.Fatalf("Load: %+v, %v", got, err)
	}
	if err := Load("missing", &got); err == nil || !strings.Contains(err.Error(), "run the experiment cell") {
		t.Errorf("Load of a missing name: %v", err)
	}
}

func TestEnvironment(t *testing.T) {
	e, err := Env(Quick())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"profile: quick", "backend: ", "CPU: ", "date (UTC): ", "random"} {
		if !strings.Contains(e.Text(), want) {
			t.Errorf("environment text lacks %q:\n%s", want, e.Text())
		}
	}
	if !strings.Contains(e.HTML(), "<table") {
		t.Error("no HTML table")
	}
}
