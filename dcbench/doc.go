// Package dcbench is the entry point of the dataset-condensation benchmark: Condense makes a
// small synthetic (or selected) training set from a real dataset, Evaluate trains fresh
// networks on it and reports the accuracy on the real test set, following the protocol of
// DC-Bench (Cui et al., NeurIPS 2022).
package dcbench
