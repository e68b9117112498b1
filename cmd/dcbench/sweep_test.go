package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcbench/dcbench/dcbench/results"
)

// tinySpec is Random at IPC 1 and 2 with two augmentations and two seeds on the embedded
// subset, with a one-block, 8-channel ConvNet and one epoch, so the test stays light; and MTT
// without expert trajectories, whose runs fail at once and must be recorded as failed with
// the reason.
const tinySpec = `name: tiny
methods: [random, mtt]
ipc: [1, 2]
augment: [none, dsa]
seeds: 2
epochs: 1
batch: 10
test_n: 20
model_params: {convnet_width: 8, convnet_depth: 1}
`

// TestSweepShardsThenReport runs a sweep as two shards into one folder, runs a shard again
// (nothing to do), and reports.
func TestSweepShardsThenReport(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "tiny.yaml")
	os.WriteFile(spec, []byte(tinySpec), 0o644)
	res := filepath.Join(dir, "results")
	for _, sh := range []string{"0/2", "1/2"} {
		code, out, stderr := runCaptured(t, "sweep", "--spec", spec, "--results", res, "--shard", sh, "--shard-by", "run", "--device", "cpu", "--quiet")
		if code != 0 {
			t.Fatalf("sweep shard %s: exit %d\n%s\n%s", sh, code, out, stderr)
		}
		if !strings.Contains(out, "16 runs in the grid") {
			t.Errorf("shard %s printed %q", sh, out)
		}
	}
	recs, warnings, err := results.ReadPaths(res)
	if err != nil || len(warnings) > 0 {
		t.Fatal(err, warnings)
	}
	keys := map[string]int{}
	for _, r := range recs {
		keys[r.Key()]++
		if r.Status == results.StatusOK && (r.Device != "cpu" || r.Shard == "" || r.PeakRSS <= 0) {
			t.Errorf("record %+v", r)
		}
	}
	if len(recs) != 16 || len(keys) != 16 {
		t.Fatalf("%d records, %d distinct runs; want 16", len(recs), len(keys))
	}
	sets, _ := filepath.Glob(filepath.Join(res, "sets", "*.dcb"))
	if len(sets) != 2 {
		t.Errorf("cached sets %v, want 2 (random IPC 1 and 2)", sets)
	}
	code, out, _ := runCaptured(t, "sweep", "--spec", spec, "--results", res, "--shard", "0/2", "--shard-by", "run", "--quiet")
	if code != 0 || !strings.Contains(out, "to run") || !strings.Contains(out, ", 0 to run") && !strings.Contains(out, "ran: 0 ok") {
		t.Errorf("second sweep: %s", out)
	}

	outDir := filepath.Join(dir, "report")
	code, md, stderr := runCaptured(t, "report", "--results", res, "--out", outDir)
	if code != 0 {
		t.Fatalf("report: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"## Leaderboard", "## Table 4", "| cifar10-embedded | random | 2 | dsa |", "**failed**",
		"param buffer: the folder of expert trajectories is required",
		"epochs 1, batch 10", "15.06 ± 0.60\\*"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	for _, f := range []string{"report.md", "report.csv", "report.html"} {
		if st, err := os.Stat(filepath.Join(outDir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	code, csv, _ := runCaptured(t, "report", "--results", res, "--format", "csv", "--tables", "table4")
	if code != 0 || !strings.HasPrefix(csv, "table,dataset,method,ipc,key") || strings.Contains(csv, "leaderboard,") {
		t.Errorf("csv report: %s", csv)
	}
}

func TestSweepReportBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"methods": ["random"], "ipc": [1], "agument": ["dsa"]}`), 0o644)
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"nothing to sweep", []string{"sweep", "--results", dir}, 2, "nothing to sweep"},
		{"bad spec", []string{"sweep", "--spec", bad}, 2, `unknown field "agument"`},
		{"missing spec", []string{"sweep", "--spec", filepath.Join(dir, "nope.yaml")}, 2, "nope.yaml"},
		{"bad shard", []string{"sweep", "--methods", "random", "--ipc", "1", "--shard", "2/2"}, 2, "want 0 ≤ index < count"},
		{"bad shard-by", []string{"sweep", "--methods", "random", "--ipc", "1", "--shard-by", "gpu"}, 2, "--shard-by"},
		{"bad device", []string{"sweep", "--methods", "random", "--ipc", "1", "--results", dir, "--device", "tpu"}, 2, `--device "tpu"`},
		{"bad preset", []string{"sweep", "--preset", "table10"}, 2, `unknown preset "table10"`},
		{"bad ipc", []string{"sweep", "--methods", "random", "--ipc", "one"}, 2, `--ipc "one"`},
		{"bad profile", []string{"sweep", "--preset", "fig8", "--profile", "fast"}, 2, `unknown profile "fast" (valid: quick, paper)`},
		{"bad seed range", []string{"sweep", "--methods", "random", "--ipc", "1", "--seeds", "3..1"}, 2, "want a range"},
		{"bad retry", []string{"sweep", "--methods", "random", "--ipc", "1", "--retry", "ok"}, 2, "--retry"},
		{"report bad table", []string{"report", "--results", dir, "--tables", "table42"}, 2, `unknown table "table42"`},
		{"report missing folder", []string{"report", "--results", filepath.Join(dir, "none")}, 1, "none"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCaptured(t, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q", code, stderr, tc.code, tc.want)
			}
		})
	}
}

func TestSeedList(t *testing.T) {
	for in, want := range map[string]string{"3": "[0 1 2]", "3..3": "[3]", "0,4": "[0 4]", "1..2,7": "[1 2 7]"} {
		got, err := parseSeedList("seeds", commaList(strings.Split(in, ",")))
		if err != nil || fmt.Sprint(got) != want {
			t.Errorf("seeds %s = %v %v, want %s", in, got, err, want)
		}
	}
}

func TestApplyDevice(t *testing.T) {
	t.Setenv("CUDA_VISIBLE_DEVICES", "")
	t.Setenv("GOMLX_BACKEND", "")
	b, d, err := applyDevice("cuda:1", "")
	if err != nil || b != "gpu" || os.Getenv("CUDA_VISIBLE_DEVICES") != "1" || !strings.Contains(d, "CUDA_VISIBLE_DEVICES=1") {
		t.Errorf("cuda:1 → %q %q %v (CUDA_VISIBLE_DEVICES=%q)", b, d, err, os.Getenv("CUDA_VISIBLE_DEVICES"))
	}
	if b, d, _ := applyDevice("cpu", ""); b != "cpu" || d != "cpu" {
		t.Errorf("cpu → %q %q", b, d)
	}
	if b, _, _ := applyDevice("0", "xla:/p.so"); b != "xla:/p.so" {
		t.Errorf("--backend lost: %q", b)
	}
}

func TestSweepProfileDryRun(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := runCaptured(t, "sweep", "--preset", "fig8", "--profile", "quick", "--results", dir, "--dry-run")
	if code != 0 || !strings.Contains(stdout, "cifar10-embedded random ipc 10 convnet/dsa/sgd seed 0") ||
		!strings.Contains(stdout, "3 runs in the grid") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}
