package dcbench

// Imports that pin the module's dependencies in go.mod while the packages fill in.
import (
	_ "github.com/gomlx/gomlx/backends/default"
	_ "github.com/gomlx/gomlx/pkg/core/graph"
	_ "github.com/gomlx/gomlx/pkg/ml/context"
	_ "github.com/gomlx/gomlx/pkg/ml/train/optimizers"
	_ "github.com/janpfeifer/gonb/gonbui"
	_ "github.com/janpfeifer/must"
	_ "gonum.org/v1/gonum/mat"
)
