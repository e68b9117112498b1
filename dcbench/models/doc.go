// Package models holds the networks of the benchmark (ConvNet and MLP here; the model zoo
// adds the others) and a registry that finds a model by name.
//
// Models are plain functions over a *context.Context, in the style of gomlx's
// pkg/ml/layers, with hyperparameters read from context params. They are built only from
// the ops of package nn, so they train on both backends and can be differentiated to any
// order (needed by the gradient-matching and trajectory-matching condensers). Images are
// NHWC.
package models
