package synth

import (
	"fmt"
	"math"
	"time"
)

// StepFunc makes iteration it (from 1) of a method — typically one Exec of its compiled
// graph, which updates the images in place — and returns its loss.
type StepFunc func(it int) (loss float64, err error)

// Run drives the iterations from the first not yet made (after a resumed checkpoint) to
// Config().Iterations: it calls step, records each iteration's seconds and peak memory in
// the stats, reports progress, saves the checkpoint every CheckpointEvery iterations and at
// the end (and when cancelled), and calls the eval hook with a copy of the set at iteration
// 0 (a fresh run only), every EvalEvery iterations and at the end. It stops with the
// context's error when the request is cancelled, and with an error when the loss is not
// finite.
func (s *Set) Run(step StepFunc) error {
	total := s.cfg.Iterations
	s.stats.start(s.done)
	lastHook := -1
	callHook := func(it int) error {
		if s.hook == nil || it == lastHook {
			return nil
		}
		set, err := s.Dataset()
		if err != nil {
			return err
		}
		s.hook(it, set)
		lastHook = it
		return nil
	}
	if s.done == 0 {
		if err := callHook(0); err != nil {
			return err
		}
	}
	saved := s.done
	save := func(it int) error {
		if s.cfg.Checkpoint == "" || it == saved {
			return nil
		}
		if err := s.saveCheckpoint(it); err != nil {
			return err
		}
		saved = it
		return nil
	}
	for it := s.done + 1; it <= total; it++ {
		if err := s.req.Context.Err(); err != nil {
			if e := save(s.done); e != nil {
				return fmt.Errorf("%w (and saving the checkpoint failed: %v)", err, e)
			}
			return err
		}
		t0 := time.Now()
		loss, err := step(it)
		secs := time.Since(t0).Seconds()
		if err != nil {
			return fmt.Errorf("iteration %d: %w", it, err)
		}
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			return fmt.Errorf("iteration %d: loss is %v; lower %s", it, loss, ParamLR)
		}
		s.done = it
		_, peak := peakMemory()
		s.stats.add(Record{Iter: it, Seconds: secs, Loss: loss, PeakBytes: peak})
		s.req.Progress(it, total, fmt.Sprintf("%s iteration %d/%d, loss %.4g", s.cfg.Method, it, total, loss))
		if s.cfg.CheckpointEvery > 0 && it%s.cfg.CheckpointEvery == 0 {
			if err := save(it); err != nil {
				return err
			}
		}
		if s.cfg.EvalEvery > 0 && it%s.cfg.EvalEvery == 0 {
			if err := callHook(it); err != nil {
				return err
			}
		}
	}
	if err := save(s.done); err != nil {
		return err
	}
	return callHook(s.done)
}
