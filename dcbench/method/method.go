// Package method defines what a dataset-condensation method is (Condenser) and what it is
// given (Request). The methods live in their own packages under dcbench/condensers and are
// registered by package dcbench, whose Condense is the entry point.
package method

import (
	"context"

	"github.com/gomlx/gomlx/backends"

	"github.com/dcbench/dcbench/datasets"
)

// ProgressFunc reports progress of long work: done out of total units, with a short message.
type ProgressFunc func(done, total int, msg string)

// Request is what a Condenser gets: the (normalised) training set and the settings.
type Request struct {
	// Context cancels the work; never nil.
	Context context.Context
	// Train is the normalised real training set.
	Train *datasets.Dataset
	// IPC is the number of images per class to produce (already checked against every class).
	IPC int
	// Seed for every random draw of the method.
	Seed uint64
	// Backend runs the graph computations of the method.
	Backend backends.Backend
	// Params are method-specific settings (documented by each condenser); values may come
	// from JSON (numbers as float64), so read them with the Param helpers.
	Params map[string]any
	// Progress, never nil (a no-op when the caller gave none).
	Progress ProgressFunc
	// Resumed, when not nil, is called by a method that resumes from a checkpoint, with the
	// iteration it resumes after and the wall seconds the earlier runs spent condensing, so
	// that the caller can report the whole condensation's time.
	Resumed func(iteration int, seconds float64)
}

// Condenser is a dataset-condensation method: it makes IPC images per class from the
// training set and returns them as a normalised dataset (labels grouped by class, the class
// names and normalisation constants of the training set).
type Condenser interface {
	// Name is the registry name, lower case.
	Name() string
	// Condense makes the condensed images.
	Condense(req Request) (*datasets.Dataset, error)
}
