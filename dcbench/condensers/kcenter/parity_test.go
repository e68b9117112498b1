package kcenter

import (
	"slices"
	"testing"

	"github.com/dcbench/dcbench/dcbench/internal/parity"
)

// ints converts a fixture array of whole numbers.
func ints(a parity.Array) []int {
	out := make([]int, len(a.Data))
	for i, v := range a.Data {
		out[i] = int(v)
	}
	return out
}

// TestParityKMeans checks the per-class core of K-Center (KMeans from given initial centres,
// then NearestDistinct) against tools/parity/gen_selection.py, our NumPy rendering of DC-Bench's
// Algorithm 1 in float64: the same assignments, step count, picks, and centres to float32
// rounding.
func TestParityKMeans(t *testing.T) {
	f := parity.Load(t, "kcenter")
	for _, c := range f.Cases {
		t.Run(c.Name, func(t *testing.T) {
			x := c.Array(t, "x")
			n, dim := x.Shape[0], x.Shape[1]
			init := ints(c.Array(t, "init"))
			res, err := KMeans(x.Float32(), n, dim, init, c.Int(t, "max_iter"))
			if err != nil {
				t.Fatal(err)
			}
			if want := ints(c.Array(t, "assign")); !slices.Equal(res.Assign, want) {
				t.Errorf("assignments differ at %d of %d points:\n got %v\nwant %v", countDiff(res.Assign, want), n, res.Assign, want)
			}
			if want := c.Int(t, "steps"); res.Iterations != want {
				t.Errorf("%d steps, reference %d", res.Iterations, want)
			}
			if want := c.Int(t, "converged") == 1; res.Converged != want {
				t.Errorf("converged %v, reference %v", res.Converged, want)
			}
			got := make([]float64, len(res.Centres))
			for i, v := range res.Centres {
				got[i] = float64(v)
			}
			want := c.Array(t, "centres").Data
			parity.Close(t, "centres", got, want, 1e-6)
			t.Logf("centres: max rel err %.2g", parity.MaxRelErr(got, want))
			picks, err := NearestDistinct(x.Float32(), n, dim, res.Centres, len(init))
			if err != nil {
				t.Fatal(err)
			}
			if want := ints(c.Array(t, "picks")); !slices.Equal(picks, want) {
				t.Errorf("picks %v, reference %v", picks, want)
			}
		})
	}
}
