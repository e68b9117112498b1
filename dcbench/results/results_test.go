package results

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestHashStable(t *testing.T) {
	a := Config{Dataset: "cifar10", Method: "random", IPC: 10}
	b := Config{Dataset: "CIFAR10", Method: "Random", IPC: 10, Model: "convnet", Augment: "none", Epochs: 300, Batch: 256,
		Optimizer: "sgd", LR: 0.01, Momentum: 0.9, WeightDecay: 5e-4}
	if a.Hash() != b.Hash() {
		t.Errorf("defaults spelled out change the hash: %s vs %s", a.Hash(), b.Hash())
	}
	// The dsa default of 1000 epochs.
	if (Config{Dataset: "cifar10", Method: "random", IPC: 10, Augment: "dsa"}).Normalize().Epochs != 1000 {
		t.Error("dsa does not default to 1000 epochs")
	}
	// JSON numbers (float64) and Go ints give the same hash; params equal to the default drop.
	p1 := Config{Dataset: "cifar10", Method: "dc", IPC: 1, CondenseParams: map[string]any{"iterations": 100, "init": "real"}}
	p2 := Config{Dataset: "cifar10", Method: "dc", IPC: 1, CondenseParams: map[string]any{"iterations": float64(100)}}
	if p1.Hash() != p2.Hash() || p1.SetHash() != p2.SetHash() {
		t.Errorf("params: %s/%s vs %s/%s", p1.Hash(), p1.SetHash(), p2.Hash(), p2.SetHash())
	}
	// The set does not depend on the evaluation setting; the config does.
	c1 := Config{Dataset: "cifar10", Method: "dc", IPC: 1, Augment: "dsa"}
	c2 := Config{Dataset: "cifar10", Method: "dc", IPC: 1, Augment: "none", Model: "mlp"}
	if c1.SetHash() != c2.SetHash() || c1.Hash() == c2.Hash() {
		t.Error("set hash should ignore the evaluation setting, config hash should not")
	}
	// The host augmentation mode: the reference by default, spelled out or not; it changes
	// the hash of host augmentations only.
	h1 := Config{Dataset: "cifar10", Method: "dc", IPC: 1, Augment: "randaug"}
	h2 := Config{Dataset: "cifar10", Method: "dc", IPC: 1, Augment: "randaug", HostAugment: "reference"}
	h3 := Config{Dataset: "cifar10", Method: "dc", IPC: 1, Augment: "randaug", HostAugment: "per_image"}
	if h1.Hash() != h2.Hash() || h1.Hash() == h3.Hash() || h1.Normalize().HostAugment != "reference" {
		t.Errorf("host augment mode: %s %s %s", h1.Hash(), h2.Hash(), h3.Hash())
	}
	if c1.Hash() != (Config{Dataset: "cifar10", Method: "dc", IPC: 1, Augment: "dsa", HostAugment: "per_image"}).Hash() {
		t.Error("the host augmentation mode changes the hash of a dsa run")
	}
	// Golden value: a change here orphans every results folder (runs would be redone).
	if got, want := a.Hash(), goldenHash; got != want {
		b, _ := CanonicalJSON(a.Normalize())
		t.Errorf("hash of %s = %s, want %s", b, got, want)
	}
	if got := RunKey(a.Hash(), 3); got != goldenHash+"-s3" {
		t.Errorf("run key %s", got)
	}
}

const goldenHash = "b2f16c07025dc7d7"

func TestCanonicalJSON(t *testing.T) {
	b, err := CanonicalJSON(map[string]any{"b": 1.0, "a": []any{0, "x"}, "z": 0, "e": "", "m": map[string]any{}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"a":[0,"x"],"b":1}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func rec(method string, ipc int, aug string, seed uint64, acc float64) Record {
	return Record{Config: Config{Dataset: "cifar10", Method: method, IPC: ipc, Augment: aug, Epochs: 2, TestN: 100},
		Seed: seed, Accuracy: acc, Command: "sweep", Time: time.Date(2025, 1, 1, 0, 0, int(seed), 0, time.UTC)}
}

func TestStoreTruncatedLastLine(t *testing.T) {
	s, err := Open(t.TempDir(), "shard-0-of-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Append(rec("random", 1, "none", 0, 20), rec("random", 1, "none", 1, 30)); err != nil {
		t.Fatal(err)
	}
	// A third record cut short, as when the process is killed in the middle of a write.
	line, _ := json.Marshal(rec("random", 1, "none", 2, 40))
	f, _ := os.OpenFile(s.File(), os.O_APPEND|os.O_WRONLY, 0)
	f.Write(line[:len(line)/2])
	f.Close()
	recs, warnings, err := s.Read()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || len(warnings) != 1 || !strings.Contains(warnings[0], "truncated last record skipped") ||
		!strings.Contains(warnings[0], "shard-0-of-1.jsonl:3") {
		t.Fatalf("%d records, warnings %q", len(recs), warnings)
	}
	// Appending after the broken line starts a new line: the new record is intact.
	if err := s.Append(rec("random", 1, "none", 2, 40)); err != nil {
		t.Fatal(err)
	}
	recs, warnings, err = s.Read()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || recs[2].Accuracy != 40 || len(warnings) != 1 || !strings.Contains(warnings[0], "corrupt record skipped") {
		t.Fatalf("after append: %d records, warnings %q", len(recs), warnings)
	}
	// Records are stamped.
	r := recs[0]
	if r.Status != StatusOK || r.ConfigHash == "" || r.SetHash == "" || r.Version == "" || r.Epochs != 2 || r.Model != "convnet" {
		t.Errorf("record not stamped: %+v", r)
	}
}

func TestLatestAndOldRecords(t *testing.T) {
	ok := rec("random", 1, "none", 0, 20)
	dup := rec("random", 1, "none", 0, 20)
	dup.Time = ok.Time.Add(time.Hour)
	skipped := rec("random", 1, "none", 0, 0)
	skipped.Status, skipped.Time = StatusSkipped, ok.Time.Add(2*time.Hour)
	for _, r := range []*Record{&ok, &dup, &skipped} {
		r.Stamp()
	}
	l := Latest([]Record{ok, skipped, dup})
	if len(l) != 1 || l[ok.Key()].Time != dup.Time || l[ok.Key()].Status != StatusOK {
		t.Errorf("latest = %+v", l)
	}
	// A record of the first dcbench eval: no status, no hash, the test subset in the dataset.
	old := `{"time":"2025-01-01T00:00:00Z","command":"eval","dataset":"cifar10-embedded[test 20]","method":"random","ipc":1,` +
		`"condense_seed":3,"condense_seconds":0.01,"model":"convnet","augment":"none","epochs":1,"optimizer":"sgd","lr":0.01,` +
		`"batch":256,"run":2,"seed":1,"accuracy":15,"seconds":1.5,"seconds_per_epoch":0.7,"backend":"go","version":"0.1.0-dev"}`
	p := filepath.Join(t.TempDir(), "results.jsonl")
	os.WriteFile(p, []byte(old+"\n"), 0o644)
	recs, w, err := ReadPaths(p)
	if err != nil || len(w) != 0 || len(recs) != 1 {
		t.Fatalf("%v %v %d", err, w, len(recs))
	}
	r := recs[0]
	want := Config{Dataset: "cifar10-embedded", Method: "random", IPC: 1, CondenseSeed: 3, Epochs: 1, TestN: 20}.Hash()
	if r.Status != StatusOK || r.Dataset != "cifar10-embedded" || r.TestN != 20 || r.ConfigHash != want {
		t.Errorf("old record read as %+v (hash want %s)", r, want)
	}
}

func TestIsOOMAndProtect(t *testing.T) {
	for msg, want := range map[string]bool{
		"RESOURCE_EXHAUSTED: Out of memory while trying to allocate 42.00GiB": true,
		"CUDA_ERROR_OUT_OF_MEMORY: out of memory":                             true,
		"panic: runtime error: makeslice: len out of range":                   true,
		"training diverged at pass 3":                                         false,
		"runtime error: index out of range [3] with length 3":                 false,
	} {
		if IsOOM(msg) != want {
			t.Errorf("IsOOM(%q) = %v", msg, !want)
		}
	}
	err := Protect(func() error { panic("XLA: RESOURCE_EXHAUSTED: failed to allocate") })
	var pe *PanicError
	if !errors.As(err, &pe) || StatusOf(err) != StatusOOM {
		t.Errorf("Protect gave %v (%s)", err, StatusOf(err))
	}
	if StatusOf(Protect(func() error { var m map[string]int; m["x"] = 1; return nil })) != StatusFailed {
		t.Error("a nil-map panic should be a failed run")
	}
	if StatusOf(nil) != StatusOK {
		t.Error("nil error")
	}
}

func TestPeakRSS(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc")
	}
	if PeakRSS() <= 0 {
		t.Error("no VmHWM")
	}
}

// TestAggregation checks the cells against hand-computed means and population stds, and the
// leaderboard's Best/Avg/Transfer and DD-Ranking columns.
func TestAggregation(t *testing.T) {
	var recs []Record
	add := func(r Record) { r.Stamp(); recs = append(recs, r) }
	// random ipc 1, none: 10, 20, 30 → mean 20, std sqrt(200/3) = 8.1650.
	for i, a := range []float64{10, 20, 30} {
		add(rec("random", 1, "none", uint64(i), a))
	}
	// random ipc 1, dsa: 30, 34 → 32 ± 2. The same seed twice counts once (latest wins).
	add(rec("random", 1, "dsa", 0, 30))
	add(rec("random", 1, "dsa", 1, 34))
	again := rec("random", 1, "dsa", 1, 34)
	again.Time = again.Time.Add(time.Minute)
	add(again)
	// A second condensation seed of the same cell joins it: dc ipc 1 dsa 40 (cs 0), 50 (cs 1) → 45 ± 5.
	dc0 := rec("dc", 1, "dsa", 0, 40)
	dc1 := rec("dc", 1, "dsa", 0, 50)
	dc1.CondenseSeed = 1
	add(dc0)
	add(dc1)
	// dc ipc 1 randaug: one oom, one ok (44); imagenet_aug: failed only; autoaug: oom only.
	o := rec("dc", 1, "randaug", 0, 0)
	o.Status, o.Error = StatusOOM, "RESOURCE_EXHAUSTED: out of memory"
	add(o)
	add(rec("dc", 1, "randaug", 1, 44))
	f := rec("dc", 1, "imagenet_aug", 0, 0)
	f.Status, f.Error = StatusFailed, "training diverged at pass 3"
	add(f)
	o2 := rec("dc", 1, "autoaug", 0, 0)
	o2.Status, o2.Error = StatusOOM, "RESOURCE_EXHAUSTED: out of memory"
	add(o2)
	// Transfer: dc ipc 1 dsa on mlp 20, resnet18 30 (resnet152 missing → 2/3).
	for _, m := range []struct {
		model string
		acc   float64
	}{{"mlp", 20}, {"resnet18", 30}} {
		r := rec("dc", 1, "dsa", 0, m.acc)
		r.Model = m.model
		add(r)
	}
	// Full data at dsa: 80.
	full := rec("full", 0, "dsa", 0, 80)
	add(full)
	// A method not registered.
	s := rec("mtt", 1, "dsa", 0, 0)
	s.Status, s.Error = StatusSkipped, "method \"mtt\" is not registered"
	add(s)

	cells := Cells(recs)
	find := func(method, aug, model string) *Cell {
		for _, c := range cells {
			if c.Config.Method == method && c.Config.Augment == aug && c.Config.Model == model {
				return c
			}
		}
		t.Fatalf("no cell %s %s %s", method, aug, model)
		return nil
	}
	near := func(what string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("%s = %.10g, want %.10g", what, got, want)
		}
	}
	c := find("random", "none", "convnet").Stat()
	near("random none mean", c.Mean, 20)
	near("random none std", c.Std, math.Sqrt(200.0/3))
	if c.N != 3 {
		t.Errorf("n = %d", c.N)
	}
	c = find("random", "dsa", "convnet").Stat()
	near("random dsa mean", c.Mean, 32)
	near("random dsa std", c.Std, 2)
	if c.N != 2 {
		t.Errorf("duplicate counted: n = %d", c.N)
	}
	dc := find("dc", "dsa", "convnet")
	near("dc dsa mean (two condensation seeds)", dc.Stat().Mean, 45)
	near("dc dsa std", dc.Stat().Std, 5)
	if s := find("dc", "autoaug", "convnet").Status(); s != StatusOOM {
		t.Errorf("autoaug status %s", s)
	}
	if s := find("dc", "imagenet_aug", "convnet").Status(); s != StatusFailed {
		t.Errorf("imagenet_aug status %s", s)
	}
	if s := find("mtt", "dsa", "convnet").Status(); s != StatusSkipped {
		t.Errorf("mtt status %s", s)
	}

	rep := Build(recs, []string{"x.jsonl:3: truncated last record skipped"}, Options{Tables: []string{"all"}})
	lb := tableOf(t, rep, TableLeaderboard)
	row := rowOf(t, lb, "dc")
	// Best = dsa 45 ± 5; Avg over ok augs (dsa 45, randaug 44) = 44.5 (2/4); Transfer (20+30)/2 = 25 (2/3).
	cell := func(name string) string {
		for i, c := range lb.Columns {
			if c.Name == name {
				return row[i].Text
			}
		}
		t.Fatalf("no column %s", name)
		return ""
	}
	for col, want := range map[string]string{"Best": "45.00 ± 5.00 (dsa)", "Avg": "44.50 (2/4)", "Transfer": "25.00 (2/3)",
		"HLR": "+35.00", "IOR": "+13.00", "DDRS": fmt.Sprintf("%.3f", DDRS(35, 13, 0.5))} {
		if got := cell(col); got != want {
			t.Errorf("leaderboard %s = %q, want %q", col, got, want)
		}
	}
	near("DDRS(0, 0)", DDRS(0, 0, 0.5), (1-math.Exp(-1))/(math.E-math.Exp(-1)))
	near("DDRS(HLR 100, IOR 0, w 0)", DDRS(100, 0, 0), 0)
	near("DDRS(HLR 0, IOR 100, w 1)", DDRS(0, 100, 1), 1)

	md := rep.Markdown()
	for _, want := range []string{"**OOM**", "**failed**", "_missing_", "20.00 ± 8.16", "44.00 ± 0.00 (+1 oom)",
		"training diverged at pass 3", "> warning: x.jsonl:3: truncated last record skipped", "| 80.00 |"} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
	h := rep.HTML()
	for _, want := range []string{`<td class="num oom" title="RESOURCE_EXHAUSTED: out of memory">OOM</td>`,
		`<td class="num failed" title="training diverged at pass 3">failed</td>`, "<script>", `data-sort="20"`} {
		if !strings.Contains(h, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	if strings.Contains(h, "http://") || strings.Contains(h, "https://") || strings.Contains(h, " src=") {
		t.Error("HTML references external assets")
	}
	csv := rep.CSV()
	for _, want := range []string{"table4,cifar10,dc,1,autoaug,\"epochs 2, test 100\",oom,,,0,",
		"table4,cifar10,random,1,none,\"epochs 2, test 100\",ok,20,8.16496580927726,3,15.06,0.60,,4.9400,",
		"leaderboard,cifar10,dc,1,hlr,"} {
		if !strings.Contains(csv, want) {
			t.Errorf("CSV lacks %q:\n%s", want, csv)
		}
	}
}

func tableOf(t *testing.T, r *Report, id string) *Table {
	t.Helper()
	for _, tb := range r.Tables {
		if tb.ID == id {
			return tb
		}
	}
	t.Fatalf("no table %s", id)
	return nil
}

func rowOf(t *testing.T, tb *Table, method string) []Field {
	t.Helper()
	for _, r := range tb.Rows {
		if r[1].Text == method {
			return r
		}
	}
	t.Fatalf("no row %s in %s", method, tb.ID)
	return nil
}

func TestAutoTables(t *testing.T) {
	var recs []Record
	for i := range 2 {
		r := rec("random", 1, "dsa", uint64(i), 30)
		r.Stamp()
		recs = append(recs, r)
	}
	rep := Build(recs, nil, Options{})
	var ids []string
	for _, tb := range rep.Tables {
		ids = append(ids, tb.ID)
	}
	if got := strings.Join(ids, ","); got != "leaderboard,table4" {
		t.Errorf("auto tables %s, want leaderboard,table4", got)
	}
	if r := Build(nil, nil, Options{}); !strings.Contains(r.Markdown(), "No results") {
		t.Error("empty report")
	}
}
