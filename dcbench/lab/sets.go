package lab

import (
	"errors"
	"io/fs"

	"github.com/dcbench/dcbench/dcbench"
)

// Sets loads the condensed sets of the experiment that its results folder caches (each set
// once, in grid order); sets not condensed yet are left out.
func (e *Experiment) Sets() ([]*dcbench.Set, error) {
	var out []*dcbench.Set
	seen := map[string]bool{}
	for _, r := range e.Runs {
		if r.SetHash == "" || seen[r.SetHash] {
			continue
		}
		seen[r.SetHash] = true
		s, err := dcbench.LoadSet(e.Store.SetPath(r.SetHash))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// ShowSets displays each cached set of the experiment as an image grid (ShowSet), at most
// perClass images per class.
func (e *Experiment) ShowSets(perClass int) error {
	sets, err := e.Sets()
	if err != nil {
		return err
	}
	for _, s := range sets {
		if err := ShowSet(s, perClass); err != nil {
			return err
		}
	}
	return nil
}
