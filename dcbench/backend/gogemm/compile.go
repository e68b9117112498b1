package gogemm

import (
	"fmt"

	"github.com/gomlx/gomlx/backends"
	"github.com/pkg/errors"
)

// onCompile, when set (by tests), sees every executable compiled.
var onCompile func(*Executable)

// segment is one simplego program of a split graph.
type segment struct {
	exe     backends.Executable
	inputs  []*node // values from parameters, earlier segments or host products
	outputs []*node // values used by later segments, host products or the graph outputs
	hosts   []*call // host products that run right after this segment
}

// Compile implements backends.Builder: the graph is split into segments around its host
// products (a graph without any is one segment). Programs are always rebuilt from the record
// with their parameters first: simplego sizes a program's node table by its last output, so
// a parameter declared after the last output (which aliasing Identity makes possible) would
// not fit.
func (b *Builder) Compile(outputs []backends.Op, shardings []*backends.ShardingSpec) (backends.Executable, error) {
	if b.compiled {
		return nil, errors.Errorf("%s builder %q: compiled twice", Name, b.name)
	}
	b.compiled = true
	if len(shardings) != 0 {
		return nil, errors.Errorf("%s: sharding is not supported (single device)", Name)
	}
	outs := make([]*node, len(outputs))
	for i, op := range outputs {
		n, err := b.own(op)
		if err != nil {
			return nil, errors.WithMessagef(err, "Compile output #%d", i)
		}
		outs[i] = n
	}
	b.gatherIntoProducts(outs)
	b.fuseElementWise(outs)
	return b.compileSplit(outs, b.liveCalls(outs))
}

// gatherIntoProducts makes every host product that reads a row Gather as its left operand
// gather the rows itself, chunk by chunk (gatherDotSpec), when all the Gather's consumers
// can: the Gather is then never run (nothing live reads it any more).
func (b *Builder) gatherIntoProducts(outs []*node) {
	live := b.liveCalls(outs)
	isOutput := make(map[*node]bool)
	for _, n := range outs {
		isOutput[n] = true
	}
	consumers := make(map[*node][]*call)
	for _, c := range b.calls {
		if live[c] {
			for _, in := range c.inputs {
				consumers[in] = append(consumers[in], c)
			}
		}
	}
	for _, c := range b.calls {
		g, ok := c.host.(*rowGatherSpec)
		if !ok || !live[c] || isOutput[c.outs[0]] {
			continue
		}
		users := consumers[c.outs[0]]
		specs := make([]hostOp, len(users))
		for i, u := range users {
			if len(u.inputs) == 2 && u.inputs[0] == c.outs[0] && u.inputs[1] != c.outs[0] {
				switch h := u.host.(type) {
				case *dotSpec:
					if gd := newGatherDotSpec(h, g); gd != nil {
						specs[i] = gd
					}
				case *pointGatherSpec:
					// The custom gradients' exact-zero read of one element.
					specs[i] = &gatheredPointSpec{point: h, tableRows: g.rows, width: g.width}
				}
			}
			if specs[i] == nil {
				specs = nil
				break
			}
		}
		for i, u := range users {
			if specs != nil {
				u.host = specs[i]
				u.inputs = []*node{c.inputs[0], c.inputs[1], u.inputs[1]}
			}
		}
	}
}

// liveCalls marks the calls that the outputs depend on.
func (b *Builder) liveCalls(outs []*node) map[*call]bool {
	live := make(map[*call]bool)
	var stack []*call
	for _, n := range outs {
		stack = append(stack, n.call)
	}
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if live[c] {
			continue
		}
		live[c] = true
		for _, in := range c.inputs {
			stack = append(stack, in.call)
		}
	}
	// Parameters are always part of the program's signature.
	for _, p := range b.params {
		live[p] = true
	}
	return live
}

// compileSplit assigns every live call to a segment and compiles the segments.
func (b *Builder) compileSplit(outs []*node, live map[*call]bool) (backends.Executable, error) {
	isOutput := make(map[*node]bool)
	for _, n := range outs {
		isOutput[n] = true
	}
	// Segments follow the order in which the graph was built: an op runs in the current
	// segment, or in the first one where all its inputs exist if that is later, and the
	// current segment never moves back; a host op runs after the segment that completes its
	// inputs and its result exists from the next. Independent chains built one after the
	// other (DM's and DC's classes) therefore run one after the other, so that each one's
	// intermediate values are freed before the next starts, rather than all side by side
	// (which is what placing every op as early as possible did: with 256 real images per
	// class, about 10 GB at once).
	consumers := make(map[*node]int)
	for _, c := range b.calls {
		if live[c] {
			for _, in := range c.inputs {
				consumers[in]++
			}
		}
	}
	for _, n := range outs {
		consumers[n]++
	}
	numSegs := 1
	var order []*call
	cur := 0 // the current segment
	for _, c := range b.calls {
		if !live[c] {
			continue
		}
		order = append(order, c)
		level := 0
		for _, in := range c.inputs {
			level = max(level, in.call.avail)
		}
		if c.param < 0 && len(c.inputs) > 0 {
			level = max(level, cur)
			cur = level
		}
		switch {
		case c.param >= 0:
			c.kind, c.avail = kindParam, 0
		case c.host != nil:
			c.kind, c.seg, c.avail = kindHost, level, level+1
			numSegs = max(numSegs, level+2)
		case c.method == "Reshape" && len(c.inputs) == 1 && c.inputs[0].call.kind == kindHost &&
			len(c.inputs[0].call.outs) == 1 && consumers[c.inputs[0]] == 1:
			// The host op writes its flat result straight into the reshaped value: in
			// simplego a Reshape whose operand it does not own is a full copy.
			c.kind, c.avail = kindFolded, c.inputs[0].call.avail
			c.inputs[0].call.fold = c.outs[0]
		case len(c.inputs) == 0 && !anyOutput(c, isOutput):
			c.kind, c.avail = kindFloating, 0
		default:
			c.kind, c.seg, c.avail = kindOp, level, level
		}
	}
	// A host op reads flat data only, so it may read a Reshape of its operand made in the
	// operand's own segment instead of the operand: the operand is then used only inside
	// its segment, where simplego reshapes it in place rather than copying it.
	reshapes := make(map[*node]*node)
	for _, c := range order {
		if c.kind == kindOp && c.method == "Reshape" && c.inputs[0].call.kind == kindOp && c.seg == c.inputs[0].call.seg {
			if _, seen := reshapes[c.inputs[0]]; !seen {
				reshapes[c.inputs[0]] = c.outs[0]
			}
		}
	}
	for _, c := range order {
		if c.kind != kindHost {
			continue
		}
		for i, in := range c.inputs {
			if r, ok := reshapes[in]; ok && !isOutput[in] {
				c.inputs[i] = r
			}
		}
	}
	// A constant feeding a host product must exist as a value: compute it in segment 0.
	for _, c := range order {
		if c.kind == kindHost {
			for _, in := range c.inputs {
				if in.call.kind == kindFloating {
					in.call.kind, in.call.seg = kindOp, 0
				}
			}
		}
	}
	segs := make([]*segment, numSegs)
	for i := range segs {
		segs[i] = &segment{}
	}
	// Who needs each value from outside its own segment.
	external := make(map[*node]bool)
	isInput := make(map[*node]map[int]bool) // value → segments that take it as an input
	for _, c := range order {
		switch c.kind {
		case kindHost:
			segs[c.seg].hosts = append(segs[c.seg].hosts, c)
			for _, in := range c.inputs {
				external[in] = true
			}
		case kindOp:
			for _, in := range c.inputs {
				if in.call.kind != kindFloating && (in.call.kind != kindOp || in.call.seg != c.seg) {
					external[in] = true
					if isInput[in] == nil {
						isInput[in] = make(map[int]bool)
					}
					if !isInput[in][c.seg] {
						isInput[in][c.seg] = true
						segs[c.seg].inputs = append(segs[c.seg].inputs, in)
					}
				}
			}
		}
	}
	for _, n := range outs {
		external[n] = true
	}
	// A host op's value that only host ops read stays in gogemm's own memory (hostMemory):
	// simplego is never handed it.
	for _, c := range order {
		if c.kind == kindHost {
			out := c.outs[0]
			if c.fold != nil {
				out = c.fold
			}
			c.private = !isOutput[out] && len(isInput[out]) == 0 && privateDType(out.shape.DType)
		}
	}
	for _, c := range order {
		if c.kind != kindOp {
			continue
		}
		for _, n := range c.outs {
			if external[n] {
				segs[c.seg].outputs = append(segs[c.seg].outputs, n)
			}
		}
	}
	for i, s := range segs {
		if len(s.outputs) == 0 {
			continue
		}
		exe, err := b.compileSegment(i, s, order)
		if err != nil {
			for _, done := range segs[:i] {
				if done.exe != nil {
					done.exe.Finalize()
				}
			}
			return nil, err
		}
		s.exe = exe
	}
	e := newExecutable(b, segs, outs)
	if onCompile != nil {
		onCompile(e)
	}
	return e, nil
}

func anyOutput(c *call, isOutput map[*node]bool) bool {
	for _, n := range c.outs {
		if isOutput[n] {
			return true
		}
	}
	return false
}

// compileSegment replays segment i's calls (and the floating calls they use) on a fresh
// simplego builder.
func (b *Builder) compileSegment(i int, s *segment, order []*call) (backends.Executable, error) {
	sb := b.backend.sg.Builder(fmt.Sprintf("%s#%d", b.name, i))
	ops := make(map[*node]backends.Op)
	for j, in := range s.inputs {
		op, err := sb.Parameter(fmt.Sprintf("v%d", in.id), in.shape, nil)
		if err != nil {
			return nil, errors.WithMessagef(err, "%s: segment %d input %d", Name, i, j)
		}
		ops[in] = op
	}
	var replay func(c *call) error
	replay = func(c *call) error {
		for _, in := range c.inputs {
			if _, ok := ops[in]; ok {
				continue
			}
			if in.call.kind != kindFloating {
				return errors.Errorf("%s: segment %d: input %d of %s is not available (bug)", Name, i, in.id, c.method)
			}
			if err := replay(in.call); err != nil {
				return err
			}
		}
		results, err := invoke(sb, c, func(n *node) backends.Op { return ops[n] })
		if err != nil {
			return errors.WithMessagef(err, "%s: replaying %s in segment %d", Name, c.method, i)
		}
		for k, n := range c.outs {
			ops[n] = results[k]
		}
		return nil
	}
	for _, c := range order {
		if c.kind == kindOp && c.seg == i {
			if err := replay(c); err != nil {
				return nil, err
			}
		}
	}
	outOps := make([]backends.Op, len(s.outputs))
	for j, n := range s.outputs {
		outOps[j] = ops[n]
	}
	return sb.Compile(outOps, nil)
}
