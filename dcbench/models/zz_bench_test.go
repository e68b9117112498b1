package models

import (
	"testing"
	"time"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

func TestZZDot(t *testing.T) {
	cases := [][3]int{{10, 512, 1536}, {130, 512, 1536}, {512, 1536, 10}, {1536, 10, 512}, {2048, 64, 64}, {512 * 512, 9, 1}, {1, 9, 512 * 512}}
	for _, c := range cases {
		exec := MustNewExec(backend, func(a, b *Node) *Node { return DotGeneral(a, []int{1}, nil, b, []int{0}, nil) })
		a := tensors.FromShape(shapes.Make(dtypes.Float32, c[0], c[1]))
		b := tensors.FromShape(shapes.Make(dtypes.Float32, c[1], c[2]))
		exec.MustExec(a, b)
		start := time.Now()
		for i := 0; i < 3; i++ {
			exec.MustExec(a, b)
		}
		d := time.Since(start) / 3
		t.Logf("%v: %v  %.2f GMAC/s", c, d, float64(c[0]*c[1]*c[2])/d.Seconds()/1e9)
	}
}
