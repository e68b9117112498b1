// Package nn holds the neural-network building blocks of dcbench: convolution, pooling,
// normalisation, dense layers, activations and losses, written as plain functions over a
// *context.Context in the style of gomlx's pkg/ml/layers.
//
// Every op here is built only from graph operations whose gradients are simple and correct
// to any order on both gomlx backends (the pure-Go "simplego" CPU backend and XLA): matrix
// products, elementwise ops, reductions, reshapes, and the shift/slice/pad primitives of
// shift.go, which carry their own gradients. gomlx's ConvGeneral, Pad, Reverse and
// ReduceWindow are never used, because their gradients fail on simplego or are wrong beyond
// first order. Condensation methods that differentiate through training (DC, DSA, MTT) rely
// on this; the tests check first and second derivatives against finite differences.
//
// Images and feature maps are NHWC (batch, height, width, channels) throughout.
package nn
