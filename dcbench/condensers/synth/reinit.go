package synth

import (
	"fmt"
	"reflect"
	"strings"
	"unsafe"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/dcbench/dcbench/dcbench/internal/catch"
)

// BuildFunc builds a network on images in ctx and returns its output (features or logits).
type BuildFunc func(ctx *context.Context, images *Node) *Node

// Materialize creates the variables of a network, with values, by building it once on
// `batch` zero images of size h×w×c (in inference mode) and running that graph: what
// ReinitVariables needs before it can redraw them inside another graph. The context's
// random number generator is left as it was (initialising the variables draws from it), so
// that a run resumed from a checkpoint continues the very same random stream.
func Materialize(backend backends.Backend, ctx *context.Context, build BuildFunc, batch, h, w, c int) error {
	return catch.Run(func() {
		rng := ctx.GetVariableByScopeAndName(context.RootScope, context.RNGStateVariableName)
		var saved *tensors.Tensor
		if rng != nil && rng.HasValue() {
			saved = must(must(rng.Value()).LocalClone())
		}
		exec := context.MustNewExec(backend, ctx, func(ctx *context.Context, x *Node) *Node {
			ctx.SetTraining(x.Graph(), false)
			return build(ctx, x)
		})
		defer exec.Finalize()
		exec.MustExec(tensors.FromShape(shapes.Make(dtypes.Float32, batch, h, w, c)))
		if saved != nil {
			if err := rng.SetValue(saved); err != nil {
				panic(err)
			}
		}
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// ReinitVariables sets the value, in graph g, of every variable under ctx's scope to a
// fresh draw of its own initializer (the one the layer that created it registered, e.g.
// nn.UniformInit: PyTorch's default), so that a network built afterwards in g is a freshly
// initialised one — a new random network per execution, drawn on the device from the
// context's random number generator, as DM and DC draw one per iteration. The variables
// must exist (see Materialize). It returns the number of variables redrawn.
//
// gomlx v0.26 does not expose a variable's initializer, so it is read from the variable's
// unexported field; an error (not a silent fallback) says when a gomlx upgrade changed that.
func ReinitVariables(ctx *context.Context, g *Graph) (int, error) {
	scope := ctx.Scope()
	prefix := strings.TrimSuffix(scope, context.ScopeSeparator) + context.ScopeSeparator
	n := 0
	for v := range ctx.IterVariables() {
		if v.Scope() != scope && !strings.HasPrefix(v.Scope(), prefix) {
			continue
		}
		init, err := initializerOf(v)
		if err != nil {
			return n, err
		}
		var value *Node
		if err := catch.Run(func() { value = init(g, v.Shape()) }); err != nil {
			return n, fmt.Errorf("redrawing variable %s: %w", v.ScopeAndName(), err)
		}
		if !value.Shape().Equal(v.Shape()) {
			return n, fmt.Errorf("redrawing variable %s: initializer gave shape %s, want %s", v.ScopeAndName(), value.Shape(), v.Shape())
		}
		v.SetValueGraph(value)
		n++
	}
	if n == 0 {
		return 0, fmt.Errorf("no variables under scope %q to redraw (build the network once first, see Materialize)", scope)
	}
	return n, nil
}

// initializerType is the type of context.Variable's unexported "initializer" field.
var initializerType = reflect.TypeFor[context.VariableInitializer]()

// initializerOf reads v's initializer.
func initializerOf(v *context.Variable) (context.VariableInitializer, error) {
	f := reflect.ValueOf(v).Elem().FieldByName("initializer")
	if !f.IsValid() || f.Type() != initializerType {
		return nil, fmt.Errorf("synth: this gomlx version keeps no field \"initializer\" of type %s in context.Variable; ReinitVariables must be updated", initializerType)
	}
	init := *(*context.VariableInitializer)(unsafe.Pointer(f.UnsafeAddr()))
	if init == nil {
		return nil, fmt.Errorf("variable %s has no initializer to redraw it with", v.ScopeAndName())
	}
	return init, nil
}
