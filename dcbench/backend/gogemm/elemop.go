package gogemm

// elemOp is an element-wise operation of the host kernels.
type elemOp uint8

// The element-wise operations: binary arithmetic, unary arithmetic, comparisons. The values
// are shared with the C kernels (kernels_c.go).
const (
	opAdd elemOp = iota
	opSub
	opMul
	opDiv
	opMax
	opMin
	opNeg
	opAbs
	opSqrt
	opGT
	opGE
	opLT
	opLE
	opEQ
	opNE
)

// elemOps maps the element-wise methods to their operation (Where has none).
var elemOps = map[string]elemOp{
	"Add": opAdd, "Sub": opSub, "Mul": opMul, "Div": opDiv, "Max": opMax, "Min": opMin,
	"Neg": opNeg, "Abs": opAbs, "Sqrt": opSqrt,
	"GreaterThan": opGT, "GreaterOrEqual": opGE, "LessThan": opLT, "LessOrEqual": opLE, "Equal": opEQ, "NotEqual": opNE,
}
