package kcenter

import (
	"fmt"

	"github.com/dcbench/dcbench/dcbench/method"
)

// ParamStats is the Request param that receives per-iteration records: a value with the
// methods Begin() and Observe(iter int, seconds, loss float64), such as a *synth.Stats (the
// interface is declared here because package synth imports this one). K-Center records one
// entry per class: the mean seconds of one k-means step of that class (DC-Bench's Table 8
// unit) and the final inertia as the loss. Herding uses the same param.
const ParamStats = "stats"

// Recorder receives per-iteration records (implemented by *synth.Stats).
type Recorder interface {
	Begin()
	Observe(iter int, seconds, loss float64)
}

// StatsParam returns the Recorder of req's param "stats", nil if none is set, or an error
// if the param holds something else.
func StatsParam(req method.Request) (Recorder, error) {
	v, ok := req.Params[ParamStats]
	if !ok || v == nil {
		return nil, nil
	}
	r, ok := v.(Recorder)
	if !ok {
		return nil, fmt.Errorf("param %s: want a recorder such as *synth.Stats, got %T", ParamStats, v)
	}
	return r, nil
}
