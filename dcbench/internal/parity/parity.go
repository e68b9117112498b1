// Package parity loads the fixtures that tools/parity writes: numbers computed by the
// reference implementations (DC/DSA, DM, MTT, DC-Bench's evaluator) in float64 on small
// fixed inputs, for the Go tests that check dcbench computes the same numbers.
//
// A fixture is a JSON file in testdata/ (embedded, so tests of any package can load it):
//
//	{
//	  "reference": "DatasetCondensation/networks.py:ConvNet.forward",
//	  "generator": "tools/parity/gen_models.py",
//	  "note": "free text: inputs, settings, quirks",
//	  "cases": [{"name": "...", "params": {...}, "arrays": {"x": {"shape": [2, 3], "data": [...]}}}]
//	}
//
// Arrays are row-major float64 in the layout the reference uses (NCHW images, OIHW kernels);
// tests convert layouts themselves.
package parity

import (
	"embed"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"testing"
)

//go:embed testdata
var files embed.FS

// Array is one row-major float64 array of a fixture.
type Array struct {
	// Shape is the array's dimensions (empty for a scalar).
	Shape []int `json:"shape"`
	// Data holds the values, row-major.
	Data []float64 `json:"data"`
}

// Size is the number of elements the shape holds.
func (a Array) Size() int {
	n := 1
	for _, d := range a.Shape {
		n *= d
	}
	return n
}

// Float32 returns the data converted to float32.
func (a Array) Float32() []float32 {
	out := make([]float32, len(a.Data))
	for i, v := range a.Data {
		out[i] = float32(v)
	}
	return out
}

// Case is one set of inputs and the reference's outputs on them.
type Case struct {
	// Name identifies the case in test names.
	Name string `json:"name"`
	// Params holds scalar settings (depth, norm, lr, ...).
	Params map[string]any `json:"params"`
	// Arrays holds inputs and outputs by name.
	Arrays map[string]Array `json:"arrays"`
}

// Fixture is one fixture file.
type Fixture struct {
	// Reference names the reference file and function that produced the outputs.
	Reference string `json:"reference"`
	// Generator is the tools/parity script that wrote the file.
	Generator string `json:"generator"`
	// Note describes inputs, settings and quirks.
	Note string `json:"note"`
	// Cases are the cases, in the order the generator wrote them.
	Cases []Case `json:"cases"`
}

// Names lists the embedded fixture files (without the .json suffix).
func Names() []string {
	entries, _ := files.ReadDir("testdata")
	var names []string
	for _, e := range entries {
		if n := e.Name(); len(n) > 5 && n[len(n)-5:] == ".json" {
			names = append(names, n[:len(n)-5])
		}
	}
	sort.Strings(names)
	return names
}

// Read parses the embedded fixture testdata/<name>.json.
func Read(name string) (*Fixture, error) {
	raw, err := files.ReadFile("testdata/" + name + ".json")
	if err != nil {
		return nil, fmt.Errorf("parity: no fixture %q (run tools/parity to write it): %w", name, err)
	}
	var f Fixture
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("parity: fixture %q: %w", name, err)
	}
	for _, c := range f.Cases {
		for an, a := range c.Arrays {
			if a.Size() != len(a.Data) {
				return nil, fmt.Errorf("parity: fixture %q case %q array %q: shape %v holds %d values, data has %d",
					name, c.Name, an, a.Shape, a.Size(), len(a.Data))
			}
		}
	}
	if f.Reference == "" || len(f.Cases) == 0 {
		return nil, fmt.Errorf("parity: fixture %q names no reference or has no cases", name)
	}
	return &f, nil
}

// Load is Read for tests: it fails the test on error.
func Load(t testing.TB, name string) *Fixture {
	t.Helper()
	f, err := Read(name)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// Array returns the named array of the case, failing the test if it is missing.
func (c *Case) Array(t testing.TB, name string) Array {
	t.Helper()
	a, ok := c.Arrays[name]
	if !ok {
		t.Fatalf("parity case %q has no array %q", c.Name, name)
	}
	return a
}

// Int returns the named integer param, failing the test if it is missing or not a whole number.
func (c *Case) Int(t testing.TB, name string) int {
	t.Helper()
	v := c.Float(t, name)
	if v != math.Trunc(v) {
		t.Fatalf("parity case %q param %q = %v is not an integer", c.Name, name, v)
	}
	return int(v)
}

// Float returns the named numeric param, failing the test if it is missing.
func (c *Case) Float(t testing.TB, name string) float64 {
	t.Helper()
	v, ok := c.Params[name].(float64)
	if !ok {
		t.Fatalf("parity case %q has no numeric param %q (has %v)", c.Name, name, c.Params)
	}
	return v
}

// String returns the named string param, failing the test if it is missing.
func (c *Case) String(t testing.TB, name string) string {
	t.Helper()
	v, ok := c.Params[name].(string)
	if !ok {
		t.Fatalf("parity case %q has no string param %q (has %v)", c.Name, name, c.Params)
	}
	return v
}

// MaxRelErr is max_i |got_i - want_i| / max(max_j |want_j|, tiny): the error relative to the
// largest reference magnitude, so entries near zero do not blow it up. It reports a length
// mismatch as +Inf.
func MaxRelErr(got, want []float64) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	scale := 1e-300
	for _, w := range want {
		scale = math.Max(scale, math.Abs(w))
	}
	worst := 0.0
	for i := range got {
		d := math.Abs(got[i] - want[i])
		if math.IsNaN(d) {
			return math.Inf(1)
		}
		worst = math.Max(worst, d/scale)
	}
	return worst
}

// Close fails the test when MaxRelErr(got, want) exceeds tol, naming what differs and where.
func Close(t testing.TB, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d values, reference has %d", what, len(got), len(want))
		return
	}
	if e := MaxRelErr(got, want); e > tol {
		worst, at := 0.0, 0
		for i := range got {
			if d := math.Abs(got[i] - want[i]); d > worst {
				worst, at = d, i
			}
		}
		t.Errorf("%s: max relative error %.3g > %.3g (at %d: got %.17g, reference %.17g)", what, e, tol, at, got[at], want[at])
	}
}
