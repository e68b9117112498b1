//go:build cgo && amd64 && linux

package gogemm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestCKernelsMatchGo checks the C row kernels against the Go ones, bit for bit (sums to
// rounding), on rows mixing ordinary values with NaN, ±0 and ±Inf, of lengths that leave
// tails after the vector loops, in every operand form.
func TestCKernelsMatchGo(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	special := []float32{float32(math.NaN()), 0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), 1, -1}
	row := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			if r.IntN(4) == 0 {
				x[i] = special[r.IntN(len(special))]
			} else {
				x[i] = float32(r.NormFloat64())
			}
		}
		return x
	}
	same := func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) || a != a && b != b }
	for _, n := range []int{64, 67, 1000, 4099} {
		x, y := row(n), row(n)
		for op := opAdd; op <= opMin; op++ {
			for form := 0; form < 3; form++ {
				xs, ys := form == 1, form == 2
				want, got := make([]float32, n), make([]float32, n)
				goBinary(op, want, x, y, xs, ys)
				binaryRow(op, got, x, y, xs, ys)
				for j := range want {
					if !same(want[j], got[j]) {
						t.Fatalf("op %d form %d n %d [%d]: %g %g → C %g, Go %g", op, form, n, j, x[j], y[j], got[j], want[j])
					}
				}
			}
		}
		for op := opNeg; op <= opSqrt; op++ {
			want, got := make([]float32, n), make([]float32, n)
			goUnary(op, want, x)
			unaryRow(op, got, x)
			for j := range want {
				if !same(want[j], got[j]) {
					t.Fatalf("op %d n %d [%d]: %g → C %g, Go %g", op, n, j, x[j], got[j], want[j])
				}
			}
		}
		c := make([]bool, n)
		for op := opGT; op <= opNE; op++ {
			for _, ys := range []bool{false, true} {
				want, got := make([]bool, n), make([]bool, n)
				goCompare(op, want, x, y, ys)
				compareRow(op, got, x, y, ys)
				for j := range want {
					if want[j] != got[j] {
						t.Fatalf("compare %d scalar %v n %d [%d]: %g %g → C %v, Go %v", op, ys, n, j, x[j], y[j], got[j], want[j])
					}
				}
				copy(c, got)
			}
		}
		for _, ys := range []bool{false, true} {
			want, got := make([]float32, n), make([]float32, n)
			goWhere(want, c, x, y, ys)
			whereRow(got, c, x, y, ys)
			for j := range want {
				if !same(want[j], got[j]) {
					t.Fatalf("where scalar %v n %d [%d]: C %g, Go %g", ys, n, j, got[j], want[j])
				}
			}
		}
		a, b := make([]float32, n), make([]float32, n)
		copy(a, y)
		copy(b, y)
		goAdd(a, x)
		addRow(b, x)
		for j := range a {
			if !same(a[j], b[j]) {
				t.Fatalf("add n %d [%d]: C %g, Go %g", n, j, b[j], a[j])
			}
		}
		rowsA, rowsB := make([]float32, 16), make([]float32, 16)
		copy(rowsA, y)
		copy(rowsB, y)
		goAddRows(rowsA, x[:n/16*16], n/16, 16)
		addRows(rowsB, x[:n/16*16], n/16, 16)
		for j := range rowsA {
			if !same(rowsA[j], rowsB[j]) {
				t.Fatalf("add rows n %d [%d]: C %g, Go %g", n, j, rowsB[j], rowsA[j])
			}
		}
		plain := row(n)
		for i := range plain {
			if plain[i] != plain[i] || math.IsInf(float64(plain[i]), 0) {
				plain[i] = 0.5
			}
		}
		if w, g := goSum(plain), sumRow(plain); math.Abs(float64(w-g)) > 1e-4*float64(n) {
			t.Fatalf("sum n %d: C %g, Go %g", n, g, w)
		}
	}
}
