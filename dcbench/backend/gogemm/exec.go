package gogemm

import (
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/pkg/errors"
)

// Executable runs a split graph: each segment's simplego program, then the host products
// that follow it. Values are simplego buffers throughout; each intermediate is released (or
// donated to the program that uses it last) as soon as nothing else needs it.
type Executable struct {
	backend    *Backend
	name       string
	params     []*node
	paramNames []string
	segs       []*segment
	outs       []*node
	uses       map[*node]int // consumers of each value: segments, host products, graph outputs
}

var _ backends.Executable = (*Executable)(nil)

func newExecutable(b *Builder, segs []*segment, outs []*node) *Executable {
	e := &Executable{backend: b.backend, name: b.name, segs: segs, outs: outs, uses: make(map[*node]int)}
	for _, p := range b.params {
		e.params = append(e.params, p.outs[0])
		e.paramNames = append(e.paramNames, p.args[0].(string))
	}
	for _, s := range segs {
		if s.exe != nil {
			for _, in := range s.inputs {
				e.uses[in]++
			}
		}
		for _, h := range s.hosts {
			for _, in := range h.inputs {
				e.uses[in]++
			}
		}
	}
	for _, n := range outs {
		e.uses[n]++
	}
	return e
}

// Finalize implements backends.Executable.
func (e *Executable) Finalize() {
	for _, s := range e.segs {
		if s.exe != nil {
			s.exe.Finalize()
			s.exe = nil
		}
	}
}

// Inputs implements backends.Executable.
func (e *Executable) Inputs() (names []string, inputShapes []shapes.Shape) {
	for _, p := range e.params {
		inputShapes = append(inputShapes, p.shape)
	}
	return e.paramNames, inputShapes
}

// Outputs implements backends.Executable.
func (e *Executable) Outputs() []shapes.Shape {
	out := make([]shapes.Shape, len(e.outs))
	for i, n := range e.outs {
		out[i] = n.shape
	}
	return out
}

// run is the state of one execution.
type run struct {
	e     *Executable
	vals  map[*node]backends.Buffer
	owned map[*node]bool
	left  map[*node]int
	// private holds the values that live in hostMemory (see call.private), with their
	// blocks.
	private map[*node]privateValue
}

// privateValue is a value in hostMemory: its flat data and the block holding it.
type privateValue struct {
	flat  any
	block []uint64
}

// release drops one use of n, freeing its buffer when it was the last and run owns it.
func (r *run) release(n *node) {
	r.left[n]--
	if r.left[n] != 0 {
		return
	}
	if pv, ok := r.private[n]; ok {
		hostMem.put(pv.block)
		delete(r.private, n)
		return
	}
	if r.owned[n] {
		_ = r.e.backend.sg.BufferFinalize(r.vals[n])
		delete(r.vals, n)
		delete(r.owned, n)
	}
}

// freeAll releases what the run still owns (after an error).
func (r *run) freeAll() {
	for n, own := range r.owned {
		if own {
			_ = r.e.backend.sg.BufferFinalize(r.vals[n])
		}
	}
	for _, pv := range r.private {
		hostMem.put(pv.block)
	}
}

// Execute implements backends.Executable.
func (e *Executable) Execute(inputs []backends.Buffer, donate []bool, dev backends.DeviceNum) ([]backends.Buffer, error) {
	if len(inputs) != len(e.params) {
		return nil, errors.Errorf("%s %q: %d inputs given, %d expected", Name, e.name, len(inputs), len(e.params))
	}
	r := &run{e: e, vals: make(map[*node]backends.Buffer), owned: make(map[*node]bool), left: make(map[*node]int),
		private: make(map[*node]privateValue)}
	for n, u := range e.uses {
		r.left[n] = u
	}
	for i, p := range e.params {
		shape, err := e.backend.sg.BufferShape(inputs[i])
		if err != nil {
			return nil, errors.WithMessagef(err, "%s %q: input #%d", Name, e.name, i)
		}
		if !shape.Equal(p.shape) {
			return nil, errors.Errorf("%s %q: input #%d has shape %s, expected %s", Name, e.name, i, shape, p.shape)
		}
		r.vals[p] = inputs[i]
		r.owned[p] = i < len(donate) && donate[i]
		if r.left[p] == 0 && r.owned[p] {
			_ = e.backend.sg.BufferFinalize(inputs[i])
			delete(r.owned, p)
		}
	}
	for si, s := range e.segs {
		if s.exe != nil {
			if err := r.runSegment(s, dev); err != nil {
				r.freeAll()
				return nil, errors.WithMessagef(err, "%s %q: segment %d", Name, e.name, si)
			}
		}
		for _, h := range s.hosts {
			if err := r.runHost(h); err != nil {
				r.freeAll()
				return nil, errors.WithMessagef(err, "%s %q: host product after segment %d", Name, e.name, si)
			}
		}
	}
	outputs := make([]backends.Buffer, len(e.outs))
	for i, n := range e.outs {
		buf := r.vals[n]
		if r.owned[n] && r.left[n] == 1 {
			outputs[i] = buf
			delete(r.owned, n)
		} else {
			clone, err := cloneBuffer(e.backend, buf)
			if err != nil {
				r.freeAll()
				return nil, err
			}
			outputs[i] = clone
		}
		r.left[n]--
	}
	return outputs, nil
}

func (r *run) runSegment(s *segment, dev backends.DeviceNum) error {
	in := make([]backends.Buffer, len(s.inputs))
	donate := make([]bool, len(s.inputs))
	for j, n := range s.inputs {
		buf, ok := r.vals[n]
		if !ok {
			return errors.Errorf("value %d missing (bug)", n.id)
		}
		in[j] = buf
		donate[j] = r.owned[n] && r.left[n] == 1
	}
	outs, err := s.exe.Execute(in, donate, dev)
	if err != nil {
		return err
	}
	for j, n := range s.inputs {
		if donate[j] {
			r.left[n]--
			delete(r.vals, n)
			delete(r.owned, n)
		} else {
			r.release(n)
		}
	}
	for j, n := range s.outputs {
		r.vals[n] = outs[j]
		r.owned[n] = true
	}
	return nil
}

func (r *run) runHost(h *call) error {
	sg := r.e.backend.sg
	ins := make([]any, len(h.inputs))
	for i, in := range h.inputs {
		if pv, ok := r.private[in]; ok {
			ins[i] = pv.flat
			continue
		}
		buf, ok := r.vals[in]
		if !ok {
			return errors.Errorf("value %d missing (bug)", in.id)
		}
		flat, err := sg.BufferData(buf)
		if err != nil {
			return err
		}
		ins[i] = flat
	}
	out := h.outs[0]
	if h.fold != nil {
		out = h.fold
	}
	if h.private {
		dt, n := out.shape.DType, out.shape.Size()
		block := hostMem.get(words(dt, n))
		pv := privateValue{flat: flatView(dt, block, n), block: block}
		if err := h.host.run(ins, pv.flat); err != nil {
			hostMem.put(block)
			return err
		}
		for _, in := range h.inputs {
			r.release(in)
		}
		r.private[out] = pv
		return nil
	}
	buf, flat, err := sg.NewSharedBuffer(0, out.shape)
	if err != nil {
		return err
	}
	if err := h.host.run(ins, flat); err != nil {
		_ = sg.BufferFinalize(buf)
		return err
	}
	for _, in := range h.inputs {
		r.release(in)
	}
	r.vals[out] = buf
	r.owned[out] = true
	return nil
}

// cloneBuffer copies a buffer (for outputs a run does not own, such as parameters).
func cloneBuffer(b *Backend, buf backends.Buffer) (backends.Buffer, error) {
	shape, err := b.sg.BufferShape(buf)
	if err != nil {
		return nil, err
	}
	flat, err := b.sg.BufferData(buf)
	if err != nil {
		return nil, err
	}
	return b.sg.BufferFromFlatData(0, flat, shape)
}
