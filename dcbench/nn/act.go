package nn

import (
	"fmt"
	"strings"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
)

// Activation names accepted by Activate.
var Activations = []string{"relu", "sigmoid", "leakyrelu", "swish", "tanh", "gelu", "none"}

// Relu is max(x, 0), written with Where so its derivatives of every order exist (gomlx's Max
// gradient goes through Sign, which has no gradient).
func Relu(x *Node) *Node {
	return Where(GreaterThan(x, ZerosLike(x)), x, ZerosLike(x))
}

// LeakyRelu is x for x ≥ 0 and slope·x below (PyTorch's default slope is 0.01).
func LeakyRelu(x *Node, slope float64) *Node {
	return Where(GreaterOrEqual(x, ZerosLike(x)), x, MulScalar(x, slope))
}

// Activate applies the activation called name (see Activations). It returns an error for an
// unknown name.
func Activate(name string, x *Node) (*Node, error) {
	switch strings.ToLower(name) {
	case "relu":
		return Relu(x), nil
	case "sigmoid":
		return Logistic(x), nil
	case "leakyrelu":
		return LeakyRelu(x, 0.01), nil
	case "swish", "silu":
		return Mul(x, Logistic(x)), nil
	case "tanh":
		return Tanh(x), nil
	case "gelu":
		// tanh approximation; every op has gradients of all orders.
		c := 0.7978845608028654 // √(2/π)
		inner := MulScalar(Add(x, MulScalar(Mul(x, Mul(x, x)), 0.044715)), c)
		return Mul(MulScalar(x, 0.5), AddScalar(Tanh(inner), 1)), nil
	case "none", "identity", "":
		return x, nil
	}
	return nil, fmt.Errorf("unknown activation %q (valid: %s)", name, strings.Join(Activations, ", "))
}
