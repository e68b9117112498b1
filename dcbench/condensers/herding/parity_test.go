package herding

import (
	"slices"
	"testing"

	"github.com/dcbench/dcbench/dcbench/internal/parity"
)

// TestParityHerd checks Herd against tools/parity/gen_selection.py, our NumPy rendering of
// greedy herding in float64 (ties to the lowest index): the same picks in the same order.
func TestParityHerd(t *testing.T) {
	f := parity.Load(t, "herding")
	for _, c := range f.Cases {
		t.Run(c.Name, func(t *testing.T) {
			x := c.Array(t, "x")
			got, err := Herd(x.Float32(), x.Shape[0], x.Shape[1], c.Int(t, "k"))
			if err != nil {
				t.Fatal(err)
			}
			want := make([]int, 0, len(c.Array(t, "picks").Data))
			for _, v := range c.Array(t, "picks").Data {
				want = append(want, int(v))
			}
			if !slices.Equal(got, want) {
				t.Errorf("picks %v, reference %v", got, want)
			}
		})
	}
}
