package dcbench

import (
	"fmt"
	"time"

	"github.com/dcbench/dcbench/datasets"
)

// Set is a condensed training set: a few normalised images per class (NHWC float32) with
// their labels, and the record of how it was made.
type Set struct {
	// Data holds the images and labels, with the class names and normalisation constants of
	// the source dataset. Data.Normalized is true.
	Data *datasets.Dataset
	// Method is the condenser that made the set (e.g. "random").
	Method string
	// IPC is the number of images per class.
	IPC int
	// Seed is the seed the condenser drew from.
	Seed uint64
	// Params are the condenser's settings (method-specific), as given.
	Params map[string]any
	// Source names the dataset the set was condensed from (e.g. "cifar10 (embedded subset)").
	Source string
	// Backend describes the backend the set was made on.
	Backend string
	// Seconds is the wall time of the condensation (every run of one resumed from a checkpoint).
	Seconds float64
	// Created is when the set was made (UTC).
	Created time.Time
	// Version is the dcbench version that made the set.
	Version string
}

// String summarises the set.
func (s *Set) String() string {
	return fmt.Sprintf("%s IPC %d of %s: %d images %dx%dx%d, %d classes, seed %d",
		s.Method, s.IPC, s.Source, s.Data.N, s.Data.H, s.Data.W, s.Data.C, s.Data.NumClasses(), s.Seed)
}

// Validate checks that the set is consistent: IPC images of every class, normalised.
func (s *Set) Validate() error {
	if s == nil || s.Data == nil {
		return fmt.Errorf("empty condensed set")
	}
	if err := s.Data.Validate(); err != nil {
		return fmt.Errorf("condensed set: %w", err)
	}
	if !s.Data.Normalized {
		return fmt.Errorf("condensed set: images are not normalised")
	}
	for c, n := range s.Data.ClassCounts() {
		if n != s.IPC {
			return fmt.Errorf("condensed set: class %d (%s) has %d images, want IPC %d", c, s.Data.Classes[c], n, s.IPC)
		}
	}
	return nil
}
