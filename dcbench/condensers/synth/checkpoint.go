package synth

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/dcbench/dcbench/dcbench/internal/atomicfile"
)

// checkpointMagic marks a synth checkpoint file (a gob of checkpoint).
const checkpointMagic = "dcbench-synth-checkpoint-v1"

// checkpoint is the file content: what identifies the run, how far it got, and the values of
// the set's variables (images, momentum) and of the random number generator.
type checkpoint struct {
	Magic    string
	Identity map[string]string
	Iter     int
	Vars     []savedVar
	// Seconds is the wall time spent condensing up to this checkpoint, every earlier run
	// included (0 in checkpoints written before it was recorded).
	Seconds float64
}

type savedVar struct {
	Scope, Name string
	DType       string
	Dims        []int
	Data        []byte
}

// identity is what must match for a checkpoint to be resumed: the method, the data, IPC,
// seed, the resolved settings and every param but the schedule ones (hookParams).
func (s *Set) identity() map[string]string {
	d := s.req.Train
	id := map[string]string{
		"method":      s.cfg.Method,
		"data":        fmt.Sprintf("%s/%s %dx%dx%dx%d, %d classes", d.Name, d.Split, d.N, d.H, d.W, d.C, d.NumClasses()),
		"ipc":         fmt.Sprint(s.ipc),
		"seed":        fmt.Sprint(s.req.Seed),
		ParamInit:     s.cfg.Init,
		ParamLR:       fmt.Sprint(s.cfg.LR),
		ParamMomentum: fmt.Sprint(s.cfg.Momentum),
	}
	for k, v := range s.req.Params {
		if slices.Contains(hookParams, k) || k == ParamInit || k == ParamLR || k == ParamMomentum {
			continue
		}
		id["param "+k] = fmt.Sprint(v)
	}
	return id
}

// matches reports how a checkpoint differs from the run that wants to resume it.
func (ck *checkpoint) matches(id map[string]string, iterations int) error {
	var diffs []string
	for k, v := range id {
		if w, ok := ck.Identity[k]; !ok || w != v {
			diffs = append(diffs, fmt.Sprintf("%s: checkpoint %q, run %q", k, w, v))
		}
	}
	for k, w := range ck.Identity {
		if _, ok := id[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: checkpoint %q, run unset", k, w))
		}
	}
	if len(diffs) > 0 {
		sort.Strings(diffs)
		return fmt.Errorf("made with different settings (remove the file to start afresh): %s", strings.Join(diffs, "; "))
	}
	if ck.Iter > iterations {
		return fmt.Errorf("is at iteration %d, past the %d requested", ck.Iter, iterations)
	}
	return nil
}

// rngVar returns the context's random-number-generator state variable.
func (s *Set) rngVar() *context.Variable {
	return s.ctx.GetVariableByScopeAndName(context.RootScope, context.RNGStateVariableName)
}

// saveCheckpoint writes the state after iteration it, atomically (a temporary file in the same
// folder, synced, then renamed over the target).
func (s *Set) saveCheckpoint(it int) error {
	ck := checkpoint{Magic: checkpointMagic, Identity: s.identity(), Iter: it, Seconds: s.Seconds()}
	vars := append(append([]*context.Variable{}, s.images...), s.momentum...)
	vars = append(vars, s.rngVar())
	for _, v := range vars {
		t, err := v.Value()
		if err != nil {
			return fmt.Errorf("checkpoint: variable %s: %w", v.ScopeAndName(), err)
		}
		sv := savedVar{Scope: v.Scope(), Name: v.Name(), DType: t.DType().String(), Dims: t.Shape().Dimensions}
		if err := t.ConstBytes(func(b []byte) { sv.Data = append([]byte(nil), b...) }); err != nil {
			return fmt.Errorf("checkpoint: variable %s: %w", v.ScopeAndName(), err)
		}
		ck.Vars = append(ck.Vars, sv)
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(&ck); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := atomicfile.Write(s.cfg.Checkpoint, buf.Bytes()); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// loadCheckpoint reads a checkpoint file; a missing file gives an error wrapping
// os.ErrNotExist.
func loadCheckpoint(path string) (*checkpoint, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var ck checkpoint
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&ck); err != nil || ck.Magic != checkpointMagic {
		return nil, fmt.Errorf("%s is not a synth checkpoint (or is damaged): %v", path, err)
	}
	return &ck, nil
}

// restore creates the set's variables from a checkpoint and sets the random number
// generator's state.
func (s *Set) restore(ck *checkpoint) error {
	s.prior = ck.Seconds
	byKey := map[string]savedVar{}
	for _, sv := range ck.Vars {
		byKey[sv.Scope+"|"+sv.Name] = sv
	}
	tensorOf := func(scope, name string, want shapes.Shape) (*tensors.Tensor, error) {
		sv, ok := byKey[scope+"|"+name]
		if !ok {
			return nil, fmt.Errorf("variable %s/%s missing", scope, name)
		}
		dt, err := dtypes.DTypeString(sv.DType)
		if err != nil {
			return nil, fmt.Errorf("variable %s/%s: %w", scope, name, err)
		}
		sh := shapes.Make(dt, sv.Dims...)
		if !sh.Equal(want) {
			return nil, fmt.Errorf("variable %s/%s has shape %s, want %s", scope, name, sh, want)
		}
		t := tensors.FromShape(sh)
		var n int
		if err := t.MutableBytes(func(b []byte) { n = copy(b, sv.Data) }); err != nil {
			return nil, err
		}
		if n != len(sv.Data) || n != int(sh.Memory()) {
			return nil, fmt.Errorf("variable %s/%s: %d bytes, want %d", scope, name, len(sv.Data), sh.Memory())
		}
		return t, nil
	}
	img := shapes.Make(dtypes.Float32, s.ipc, s.h, s.w, s.c)
	for k := 0; k < s.numClasses; k++ {
		ti, err := tensorOf(ImagesScope, className(k), img)
		if err != nil {
			return err
		}
		tm, err := tensorOf(MomentumScope, className(k), img)
		if err != nil {
			return err
		}
		s.images = append(s.images, s.ctx.InAbsPath(ImagesScope).VariableWithValue(className(k), ti).SetTrainable(false))
		s.momentum = append(s.momentum, s.ctx.InAbsPath(MomentumScope).VariableWithValue(className(k), tm).SetTrainable(false))
	}
	rv := s.rngVar()
	tr, err := tensorOf(rv.Scope(), rv.Name(), rv.Shape())
	if err != nil {
		return err
	}
	if err := rv.SetValue(tr); err != nil {
		return err
	}
	s.done = ck.Iter
	return nil
}
