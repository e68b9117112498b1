package gogemm

import (
	"fmt"
	"hash/fnv"
	"reflect"
	"slices"
	"unsafe"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/pkg/errors"
)

// Builder implements backends.Builder. Every op is built at once on a simplego builder (the
// shadow), which validates it and gives its shape, and recorded, so that Compile can split
// the graph around the host products.
type Builder struct {
	backend  *Backend
	name     string
	shadow   backends.Builder
	calls    []*call
	nodes    []*node
	cse      map[string]*node   // pure layout ops already recorded, by method, operand and arguments
	consts   map[string][]*node // large constants already recorded, by constantKey
	params   []*call
	compiled bool
}

var _ backends.Builder = (*Builder)(nil)

// node is one output of a recorded call: the backends.Op handed to gomlx.
type node struct {
	id     int
	call   *call
	shadow backends.Op
	shape  shapes.Shape
}

// call is one recorded builder method call.
type call struct {
	method   string
	variadic bool
	args     []any   // as given, with *node in place of ops
	inputs   []*node // every *node among args, in order
	outs     []*node
	param    int      // index among the parameters, or -1
	host     hostOp   // set for ops that run on the host
	fold     *node    // a host op's output is this Reshape's value (plan)
	private  bool     // a host op's output lives in hostMemory: only host ops read it (plan)
	seg      int      // segment that runs it (plan)
	avail    int      // first segment that may use its outputs (plan)
	kind     callKind // (plan)
}

type callKind int

const (
	kindOp       callKind = iota // runs inside a simplego segment
	kindParam                    // a graph parameter
	kindFloating                 // no inputs (constants, iota): replayed where used
	kindHost                     // a host op (a product, a broadcast, a sum)
	kindFolded                   // a Reshape of a host op's value, written in its shape by the op
)

// Name implements backends.Builder.
func (b *Builder) Name() string { return b.name }

// OpShape implements backends.Builder.
func (b *Builder) OpShape(op backends.Op) (shapes.Shape, error) {
	n, err := b.own(op)
	if err != nil {
		return shapes.Invalid(), err
	}
	return n.shape, nil
}

// own checks that op was made by this builder.
func (b *Builder) own(op backends.Op) (*node, error) {
	n, ok := op.(*node)
	if !ok || n == nil || n.id >= len(b.nodes) || b.nodes[n.id] != n {
		return nil, errors.Errorf("%s builder %q: op %v was not created by this builder", Name, b.name, op)
	}
	return n, nil
}

// Parameter implements backends.Builder.
func (b *Builder) Parameter(name string, shape shapes.Shape, sharding *backends.ShardingSpec) (backends.Op, error) {
	outs, err := b.record("Parameter", false, name, shape, sharding)
	if err != nil {
		return nil, err
	}
	c := b.calls[len(b.calls)-1]
	c.param = len(b.params)
	b.params = append(b.params, c)
	return outs[0], nil
}

// Constant implements backends.Builder.
//
// A large constant equal to one already recorded (dcbench/nn's Im2Col builds the same index
// table for every class of DM and DC) is that one: each copy would be held by the graph
// and by every program that uses it.
func (b *Builder) Constant(flat any, dims ...int) (backends.Op, error) {
	key, bytes := constantKey(flat, dims)
	if key != "" {
		for _, prev := range b.consts[key] {
			if pb := flatBytes(prev.call.args[0]); string(pb) == string(bytes) {
				return prev, nil
			}
		}
	}
	outs, err := b.record("Constant", true, flat, slices.Clone(dims))
	if err != nil {
		return nil, err
	}
	if key != "" {
		if b.consts == nil {
			b.consts = make(map[string][]*node)
		}
		b.consts[key] = append(b.consts[key], outs[0].(*node))
	}
	return outs[0], nil
}

// minSharedConstant is the least size in bytes of a constant that is looked up among the
// recorded ones.
const minSharedConstant = 1 << 16

// constantKey is a hash of a large constant's dtype, dims and bytes (and its bytes), or ""
// for a small one.
func constantKey(flat any, dims []int) (string, []byte) {
	bytes := flatBytes(flat)
	if len(bytes) < minSharedConstant {
		return "", nil
	}
	h := fnv.New64a()
	h.Write(bytes)
	return fmt.Sprintf("%T%v:%x", flat, dims, h.Sum64()), bytes
}

// flatBytes views a flat slice of numbers as bytes (nil for other values).
func flatBytes(flat any) []byte {
	v := reflect.ValueOf(flat)
	if v.Kind() != reflect.Slice || v.Len() == 0 {
		return nil
	}
	switch v.Type().Elem().Kind() {
	case reflect.Bool, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int,
		reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
	default:
		return nil
	}
	return unsafe.Slice((*byte)(v.UnsafePointer()), v.Len()*int(v.Type().Elem().Size()))
}

// DistributedSPMD implements backends.Builder (simplego runs on one device).
func (b *Builder) DistributedSPMD(numDevices int) error { return b.shadow.DistributedSPMD(numDevices) }

// DistributedAutoSharding implements backends.Builder (simplego runs on one device).
func (b *Builder) DistributedAutoSharding(meshes ...backends.Mesh) error {
	return b.shadow.DistributedAutoSharding(meshes...)
}

// DeviceAssignment implements backends.Builder (simplego runs on one device).
func (b *Builder) DeviceAssignment(devices ...backends.DeviceNum) error {
	return b.shadow.DeviceAssignment(devices...)
}

// AllReduce implements backends.CollectiveOps: not supported on one CPU device.
func (b *Builder) AllReduce(operands []backends.Op, reductionType backends.ReduceOpType, replicaGroups [][]int) ([]backends.Op, error) {
	return nil, errors.Errorf("%s: AllReduce is not supported (single device)", Name)
}

// record builds the op on the shadow builder and records the call.
func (b *Builder) record(method string, variadic bool, args ...any) ([]backends.Op, error) {
	if b.compiled {
		return nil, errors.Errorf("%s builder %q: %s called after Compile", Name, b.name, method)
	}
	if method == "Identity" && len(args) == 1 {
		// Identity is a copy in simplego whenever its operand is used again, which is always
		// the case for gomlx's custom-gradient and stop-gradient identities: alias instead.
		n, err := b.own(args[0])
		if err != nil {
			return nil, errors.WithMessagef(err, "%s", method)
		}
		return []backends.Op{n}, nil
	}
	if method == "Reshape" && len(args) > 0 {
		// A Reshape of a Reshape is one Reshape of the first one's operand (same flat data):
		// in simplego each is a full copy when it does not own its operand.
		if n, ok := args[0].(*node); ok && n.call.method == "Reshape" && len(n.call.inputs) == 1 {
			args = append([]any{n.call.inputs[0]}, args[1:]...)
		}
	}
	var cseKey string
	if cseOps[method] && len(args) > 0 {
		// The same reshape, transpose or broadcast of the same value is recorded once: a
		// second copy would make simplego copy the value (its operand is then used twice).
		if n, ok := args[0].(*node); ok {
			cseKey = fmt.Sprint(method, n.id, args[1:])
			if prev, ok := b.cse[cseKey]; ok {
				return []backends.Op{prev}, nil
			}
		}
	}
	c := &call{method: method, variadic: variadic, param: -1}
	c.args = make([]any, len(args))
	for i, a := range args {
		c.args[i] = cloneValue(a)
	}
	for _, a := range c.args {
		switch v := a.(type) {
		case *node:
			if _, err := b.own(v); err != nil {
				return nil, errors.WithMessagef(err, "%s", method)
			}
			c.inputs = append(c.inputs, v)
		case []backends.Op:
			for _, op := range v {
				n, err := b.own(op)
				if err != nil {
					return nil, errors.WithMessagef(err, "%s", method)
				}
				c.inputs = append(c.inputs, n)
			}
		}
	}
	results, err := invoke(b.shadow, c, func(n *node) backends.Op { return n.shadow })
	if err != nil {
		return nil, err
	}
	ops := make([]backends.Op, len(results))
	for i, r := range results {
		shape, err := b.shadow.OpShape(r)
		if err != nil {
			return nil, errors.WithMessagef(err, "%s: shape of output %d", method, i)
		}
		n := &node{id: len(b.nodes), call: c, shadow: r, shape: shape}
		b.nodes = append(b.nodes, n)
		c.outs = append(c.outs, n)
		ops[i] = n
	}
	if b.backend.minHost >= 0 {
		c.host = hostFor(c, b.backend.minHost)
		readThroughReshapes(c)
	}
	if cseKey != "" && len(c.outs) == 1 {
		if b.cse == nil {
			b.cse = make(map[string]*node)
		}
		b.cse[cseKey] = c.outs[0]
	}
	b.calls = append(b.calls, c)
	return ops, nil
}

// cloneValue copies slices so that later changes by the caller can't alter a recorded call.
func cloneValue(a any) any {
	switch v := a.(type) {
	case []int:
		return slices.Clone(v)
	case [][2]int:
		return slices.Clone(v)
	case []backends.PadAxis:
		return slices.Clone(v)
	case []backends.Op:
		return slices.Clone(v)
	case backends.ConvolveAxesConfig:
		return v.Clone()
	}
	return a
}

// invoke calls c's method on target, with each recorded *node replaced by mapOp(node), and
// returns the ops it made.
func invoke(target backends.Builder, c *call, mapOp func(*node) backends.Op) ([]backends.Op, error) {
	m := reflect.ValueOf(target).MethodByName(c.method)
	if !m.IsValid() {
		return nil, errors.Errorf("%s: builder %T has no method %s", Name, target, c.method)
	}
	mt := m.Type()
	in := make([]reflect.Value, len(c.args))
	for i, a := range c.args {
		var want reflect.Type
		if c.variadic && i == mt.NumIn()-1 {
			want = mt.In(i) // the slice type
		} else {
			want = mt.In(i)
		}
		switch v := a.(type) {
		case *node:
			a = mapOp(v)
		case []backends.Op:
			mapped := make([]backends.Op, len(v))
			for j, op := range v {
				mapped[j] = mapOp(op.(*node))
			}
			a = mapped
		}
		if a == nil {
			in[i] = reflect.Zero(want)
		} else {
			in[i] = reflect.ValueOf(a)
		}
	}
	var out []reflect.Value
	if c.variadic {
		out = m.CallSlice(in)
	} else {
		out = m.Call(in)
	}
	if errV := out[len(out)-1]; !errV.IsNil() {
		return nil, errV.Interface().(error)
	}
	ops := make([]backends.Op, 0, len(out)-1)
	for _, o := range out[:len(out)-1] {
		ops = append(ops, o.Interface())
	}
	return ops, nil
}

// DotGeneral implements backends.StandardOps. Float products with at least MinFLOPs of work
// are marked to run on the host GEMM.
func (b *Builder) DotGeneral(lhs backends.Op, lhsContractingAxes, lhsBatchAxes []int, rhs backends.Op, rhsContractingAxes, rhsBatchAxes []int) (backends.Op, error) {
	outs, err := b.record("DotGeneral", false, lhs, lhsContractingAxes, lhsBatchAxes, rhs, rhsContractingAxes, rhsBatchAxes)
	if err != nil {
		return nil, err
	}
	c := b.calls[len(b.calls)-1]
	l, r := c.inputs[0].shape, c.inputs[1].shape
	if l.DType == dtypes.Float32 || l.DType == dtypes.Float64 {
		spec, err := newDotSpec(l, c.args[1].([]int), c.args[2].([]int), r, c.args[4].([]int), c.args[5].([]int))
		if err != nil {
			return nil, errors.WithMessagef(err, "%s: DotGeneral(%s, %s)", Name, l, r)
		}
		if !spec.outShape.Equal(outs[0].(*node).shape) {
			return nil, errors.Errorf("%s: DotGeneral(%s, %s): host product shape %s differs from simplego's %s",
				Name, l, r, spec.outShape, outs[0].(*node).shape)
		}
		if spec.flops() >= b.backend.minFLOPs {
			c.host = spec
			readThroughReshapes(c)
		}
	}
	return outs[0], nil
}

// Dot implements backends.StandardOps as a DotGeneral, as simplego does.
func (b *Builder) Dot(lhs, rhs backends.Op) (backends.Op, error) {
	l, err := b.own(lhs)
	if err != nil {
		return nil, err
	}
	r, err := b.own(rhs)
	if err != nil {
		return nil, err
	}
	switch {
	case l.shape.Rank() == 1 && r.shape.Rank() == 1:
		return b.DotGeneral(lhs, []int{0}, nil, rhs, []int{0}, nil)
	case l.shape.Rank() == 2 && (r.shape.Rank() == 1 || r.shape.Rank() == 2):
		return b.DotGeneral(lhs, []int{1}, nil, rhs, []int{0}, nil)
	}
	return nil, fmt.Errorf("%s: Dot operands have invalid ranks: lhs=%s, rhs=%s", Name, l.shape, r.shape)
}

// readThroughReshapes makes a host op read the operand of each Reshape of a host op's value
// that it takes as an input: the flat data are the same, and the Reshape, if nothing in
// simplego uses it, is then never run (simplego copies a value that it reshapes without
// owning it, which a value coming from a host op always is).
func readThroughReshapes(c *call) {
	if c.host == nil {
		return
	}
	for i, in := range c.inputs {
		if in.call.method == "Reshape" && len(in.call.inputs) == 1 && in.call.inputs[0].call.host != nil {
			c.inputs[i] = in.call.inputs[0] // chains of Reshapes were collapsed when recorded
		}
	}
}

// cseOps are the pure layout ops recorded once per operand and arguments.
var cseOps = map[string]bool{"Reshape": true, "Transpose": true, "BroadcastInDim": true}
