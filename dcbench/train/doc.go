// Package train trains a freshly initialised model of the registry on a (condensed) training
// set and measures its accuracy: the evaluation protocol of DC-Bench. It runs on any gomlx
// backend; every random draw (initialisation, shuffling, augmentation) comes from Config.Seed.
package train
