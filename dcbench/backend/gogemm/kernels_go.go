//go:build !(cgo && amd64 && linux)

package gogemm

// The row kernels of the element-wise host ops, in Go (see kernels_c.go for the C ones).

// KernelsName names the element-wise kernels in use.
const KernelsName = "Go"

func unaryRow(op elemOp, z, x []float32) { goUnary(op, z, x) }

func binaryRow(op elemOp, z, x, y []float32, xs, ys bool) { goBinary(op, z, x, y, xs, ys) }

func compareRow(op elemOp, z []bool, x, y []float32, ys bool) { goCompare(op, z, x, y, ys) }

func whereRow(z []float32, c []bool, x, y []float32, ys bool) { goWhere(z, c, x, y, ys) }

func addRow(acc, v []float32) { goAdd(acc, v) }

func addRows(acc, v []float32, rows, cols int) { goAddRows(acc, v, rows, cols) }

func sumRow(v []float32) float32 { return goSum(v) }
