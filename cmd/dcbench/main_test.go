package main

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMain(m *testing.M) {
	if os.Getenv("GOMLX_BACKEND") == "" {
		os.Setenv("GOMLX_BACKEND", "gogemm:ops_sequential")
	}
	os.Exit(m.Run())
}

// runCaptured runs the command line and returns its exit status, stdout and stderr.
func runCaptured(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	oldOut, oldErr := os.Stdout, os.Stderr
	rOut, wOut, _ := os.Pipe()
	rErr, wErr, _ := os.Pipe()
	os.Stdout, os.Stderr = wOut, wErr
	outC, errC := make(chan string), make(chan string)
	go func() { b, _ := io.ReadAll(rOut); outC <- string(b) }()
	go func() { b, _ := io.ReadAll(rErr); errC <- string(b) }()
	code := run(args)
	wOut.Close()
	wErr.Close()
	os.Stdout, os.Stderr = oldOut, oldErr
	return code, <-outC, <-errC
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt.dcb")
	os.WriteFile(corrupt, []byte("DCBSET01 but then garbage"), 0o644)
	cases := []badInput{
		{"no command", nil, 2, "Commands:"},
		{"unknown command", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"unknown flag", []string{"eval", "--colour", "red"}, 2, "flag provided but not defined: -colour"},
		{"unknown model", []string{"eval", "--model", "convnet,resnet9000"}, 2, `unknown model "resnet9000"`},
		{"unknown method", []string{"eval", "--method", "magic", "--quiet", "--results", ""}, 1, `unknown condensation method "magic"`},
		{"unknown dataset", []string{"eval", "--dataset", "imagenet21k", "--data", dir, "--quiet"}, 1, "imagenet21k"},
		{"missing data folder", []string{"eval", "--dataset", "mnist", "--data", filepath.Join(dir, "nope"), "--quiet"}, 1, "nope"},
		{"ipc too large", []string{"eval", "--ipc", "101", "--quiet", "--results", ""}, 1, "IPC 101 is larger than class 0 (airplane)"},
		{"bad optimizer", []string{"eval", "--optimizer", "rmsprop", "--ipc", "1", "--quiet", "--results", ""}, 2, `unknown optimizer "rmsprop"`},
		{"bad augmentation", []string{"eval", "--aug", "mixup", "--ipc", "1", "--quiet", "--results", ""}, 2, `unknown augmentation "mixup"`},
		{"bad host augmentation", []string{"eval", "--aug", "randaug", "--host-augment", "per_batch", "--method", "dm", "--quiet", "--results", ""}, 2, `unknown host augmentation mode "per_batch" (valid: reference, per_image)`},
		{"missing set file", []string{"eval", "--set", filepath.Join(dir, "missing.dcb"), "--quiet"}, 1, "missing.dcb"},
		{"corrupt set file", []string{"eval", "--set", corrupt, "--quiet"}, 1, "corrupt.dcb"},
		{"bad backend", []string{"eval", "--backend", "tpu9"}, 1, `unknown backend "tpu9"`},
		{"stray argument", []string{"info", "extra"}, 2, `unexpected argument "extra"`},
		{"negative test-n", []string{"eval", "--test-n", "-5", "--quiet"}, 2, "--test-n must be non-negative"},
		{"bench param without value", []string{"bench", "--param", "buffer"}, 2, `want key=value, got "buffer"`},
		{"bench unknown method", []string{"bench", "--methods", "magic"}, 2, `magic`},
		{"peer unknown row", []string{"peer", "--rows", "step,train"}, 2, `unknown row "train"`},
		{"peer missing script", []string{"peer", "--script", filepath.Join(dir, "nope.py")}, 1, "nope.py"},
		{"peer python without torch", []string{"peer", "--python", "/bin/false"}, 1, "cannot import torch"},
	}
	checkBadInputs(t, cases)
}

// TestCondenseThenEval runs the two commands end to end on the embedded subset with a tiny
// schedule and checks the saved set, the printed table and the JSON records; a second eval
// appends to the results file without touching the earlier lines.
func TestCondenseThenEval(t *testing.T) {
	dir := t.TempDir()
	setPath := filepath.Join(dir, "set.dcb")
	results := filepath.Join(dir, "results.jsonl")
	if code, out, stderr := runCaptured(t, "condense", "--ipc", "1", "--seed", "3", "--out", setPath, "--quiet"); code != 0 {
		t.Fatalf("condense: exit %d\n%s\n%s", code, out, stderr)
	}
	args := []string{"eval", "--set", setPath, "--epochs", "1", "--num-eval", "2", "--test-n", "20", "--quiet", "--results", results}
	code, out, stderr := runCaptured(t, args...)
	if code != 0 {
		t.Fatalf("eval: exit %d\n%s\n%s", code, out, stderr)
	}
	if !strings.Contains(out, "random") || !strings.Contains(out, "±") || !strings.Contains(out, "convnet") {
		t.Errorf("eval printed %q, want a table row with mean ± std", out)
	}
	if code, _, stderr := runCaptured(t, args...); code != 0 {
		t.Fatalf("second eval: %s", stderr)
	}
	f, err := os.Open(results)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []record
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("bad JSON line %q: %v", sc.Text(), err)
		}
		recs = append(recs, r)
	}
	if len(recs) != 4 {
		t.Fatalf("%d records, want 4 (2 runs × 2 evals)", len(recs))
	}
	if r := recs[1]; r.Run != 2 || r.Seed != 1 || r.Method != "random" || r.IPC != 1 || r.CondenseSeed != 3 ||
		r.Model != "convnet" || r.Epochs != 1 || r.Backend == "" || r.Accuracy < 0 || r.Accuracy > 100 {
		t.Errorf("record %+v", r)
	}
	if recs[0].Accuracy != recs[2].Accuracy || recs[1].Accuracy != recs[3].Accuracy {
		t.Errorf("same seeds gave different accuracies: %v", recs)
	}
}

// badInput is a command line that must fail with exit code code and a message on stderr
// containing want.
type badInput struct {
	name string
	args []string
	code int
	want string
}

// checkBadInputs runs each command line and checks its exit code, its message and that no
// panic trace reached stderr.
func checkBadInputs(t *testing.T, cases []badInput) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCaptured(t, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q", code, stderr, tc.code, tc.want)
			}
			if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic") {
				t.Fatalf("stderr has a panic trace: %s", stderr)
			}
		})
	}
}
