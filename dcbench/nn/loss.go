package nn

import (
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
)

// StableLogSoftmax is the log-softmax of logits [N, K] along the last axis, stabilised by a max that carries no
// gradient (so every derivative order is defined on every backend).
func StableLogSoftmax(logits *Node) *Node {
	last := logits.Rank() - 1
	m := StopGradient(ReduceAndKeep(logits, ReduceMax, last))
	shifted := Sub(logits, m)
	return Sub(shifted, Log(ReduceAndKeep(Exp(shifted), ReduceSum, last)))
}

// CrossEntropy is the mean softmax cross-entropy of logits [N, K] against integer labels [N]
// (PyTorch's nn.CrossEntropyLoss with mean reduction).
func CrossEntropy(logits, labels *Node) *Node {
	k := logits.Shape().Dimensions[logits.Rank()-1]
	oneHot := OneHot(labels, k, logits.DType())
	return Neg(ReduceAllMean(ReduceSum(Mul(oneHot, StableLogSoftmax(logits)), -1)))
}

// SoftCrossEntropy is the mean cross-entropy of logits against target probability rows
// (soft labels, as learned labels in KIP or distillation).
func SoftCrossEntropy(logits, targets *Node) *Node {
	return Neg(ReduceAllMean(ReduceSum(Mul(targets, StableLogSoftmax(logits)), -1)))
}

// Accuracy counts the rows of logits whose arg-max equals the label; it returns an int32
// scalar (a count, to sum over batches).
func Accuracy(logits, labels *Node) *Node {
	pred := ArgMax(logits, -1, labels.DType())
	return ReduceAllSum(ConvertDType(Equal(pred, labels), labels.DType()))
}
