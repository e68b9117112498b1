package synth

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dcbench/dcbench/datasets"
	"github.com/dcbench/dcbench/dcbench/method"
)

// Names of the Request params read by New (see the package doc).
const (
	ParamInit            = "init"
	ParamIterations      = "iterations"
	ParamLR              = "lr_img"
	ParamMomentum        = "momentum_img"
	ParamEvalEvery       = "eval_every"
	ParamEvalHook        = "eval_hook"
	ParamCheckpoint      = "checkpoint"
	ParamCheckpointEvery = "checkpoint_every"
	ParamStats           = "stats"
)

// Initialisations of the synthetic set (param "init").
const (
	// InitReal starts from random real images of each class, drawn as the Random condenser
	// draws them (same seed, same images).
	InitReal = "real"
	// InitKCenter starts from the K-Center selection (package kcenter).
	InitKCenter = "kcenter"
	// InitNoise starts from Gaussian noise N(0, 1) in normalised space.
	InitNoise = "noise"
)

// Inits lists the valid values of param "init".
var Inits = []string{InitReal, InitKCenter, InitNoise}

// DefaultCheckpointEvery is the checkpoint interval when a checkpoint file is set and
// checkpoint_every is not.
const DefaultCheckpointEvery = 100

// EvalHook receives a copy of the synthetic set (normalised, labels grouped by class) after
// iteration it (0: the initial set). The caller evaluates it; the hook's time is not counted
// in the iteration records. It marshals to JSON as null, so a set whose Params hold one can
// still be saved.
type EvalHook func(it int, set *datasets.Dataset)

// MarshalJSON writes null: a hook is not data.
func (EvalHook) MarshalJSON() ([]byte, error) { return []byte("null"), nil }

// Options are a method's defaults for the params of New, and its name.
type Options struct {
	// Method is the condenser's registry name; it is part of the checkpoint's identity.
	Method string
	// Iterations is the default number of iterations (param "iterations").
	Iterations int
	// LR is the default learning rate of the images (param "lr_img").
	LR float64
	// Momentum is the default momentum of the image optimiser (param "momentum_img").
	Momentum float64
	// Init is the default initialisation (param "init"); "" means InitReal.
	Init string
}

// Config is the resolved setting of a Set: Options overridden by the Request params.
type Config struct {
	// Method is Options.Method.
	Method string
	// Init is the initialisation (InitReal, InitKCenter or InitNoise).
	Init string
	// Iterations is the number of iterations Run makes in all (resumed ones included).
	Iterations int
	// LR and Momentum are those of the images' SGD (ApplyGradients).
	LR, Momentum float64
	// EvalEvery is the eval hook's interval (0: only at the start and the end).
	EvalEvery int
	// Checkpoint is the checkpoint file ("" for none), saved every CheckpointEvery
	// iterations (0: only at the end and on cancellation).
	Checkpoint      string
	CheckpointEvery int
}

// hookParams are the params that do not change the result, left out of a checkpoint's
// identity (so a run can be resumed with a different schedule of evaluations, checkpoints or
// a longer run).
var hookParams = []string{ParamIterations, ParamEvalEvery, ParamEvalHook, ParamCheckpoint, ParamCheckpointEvery, ParamStats}

// readConfig resolves the params of req over opts.
func readConfig(req method.Request, opts Options) (cfg Config, hook EvalHook, stats *Stats, err error) {
	cfg.Method = opts.Method
	def := opts.Init
	if def == "" {
		def = InitReal
	}
	if cfg.Init, err = req.String(ParamInit, def); err != nil {
		return
	}
	cfg.Init = strings.ToLower(strings.TrimSpace(cfg.Init))
	if !slices.Contains(Inits, cfg.Init) {
		err = fmt.Errorf("param %s: unknown initialisation %q (valid: %s)", ParamInit, cfg.Init, strings.Join(Inits, ", "))
		return
	}
	if cfg.Iterations, err = req.Int(ParamIterations, opts.Iterations); err != nil {
		return
	}
	if cfg.LR, err = req.Float(ParamLR, opts.LR); err != nil {
		return
	}
	if cfg.Momentum, err = req.Float(ParamMomentum, opts.Momentum); err != nil {
		return
	}
	if cfg.EvalEvery, err = req.Int(ParamEvalEvery, 0); err != nil {
		return
	}
	if cfg.Checkpoint, err = req.String(ParamCheckpoint, ""); err != nil {
		return
	}
	defEvery := 0
	if cfg.Checkpoint != "" {
		defEvery = DefaultCheckpointEvery
	}
	if cfg.CheckpointEvery, err = req.Int(ParamCheckpointEvery, defEvery); err != nil {
		return
	}
	switch {
	case cfg.Iterations < 0:
		err = fmt.Errorf("param %s: want ≥ 0, got %d", ParamIterations, cfg.Iterations)
	case !(cfg.LR > 0):
		err = fmt.Errorf("param %s: want > 0, got %g", ParamLR, cfg.LR)
	case cfg.Momentum < 0 || cfg.Momentum >= 1:
		err = fmt.Errorf("param %s: want in [0, 1), got %g", ParamMomentum, cfg.Momentum)
	case cfg.EvalEvery < 0:
		err = fmt.Errorf("param %s: want ≥ 0, got %d", ParamEvalEvery, cfg.EvalEvery)
	case cfg.CheckpointEvery < 0:
		err = fmt.Errorf("param %s: want ≥ 0, got %d", ParamCheckpointEvery, cfg.CheckpointEvery)
	}
	if err != nil {
		return
	}
	if v, ok := req.Params[ParamEvalHook]; ok && v != nil {
		switch h := v.(type) {
		case EvalHook:
			hook = h
		default: // a plain func would also make the Params unsavable as JSON
			err = fmt.Errorf("param %s: want a synth.EvalHook, got %T", ParamEvalHook, v)
			return
		}
	}
	if v, ok := req.Params[ParamStats]; ok && v != nil {
		s, ok := v.(*Stats)
		if !ok {
			err = fmt.Errorf("param %s: want a *synth.Stats, got %T", ParamStats, v)
			return
		}
		stats = s
	}
	return
}
