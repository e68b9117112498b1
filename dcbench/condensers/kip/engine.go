package kip

import (
	"errors"
	"fmt"
	"math"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // gomlx's usual style.
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"gonum.org/v1/gonum/mat"

	"github.com/dcbench/dcbench/dcbench/internal/catch"
	"github.com/dcbench/dcbench/dcbench/ntk"
)

// DefaultReg is the kernel ridge regularisation λ of the reference: K_ss + λ·tr(K_ss)/n·I.
const DefaultReg = 1e-6

// Config is the kernel regression of KIP.
type Config struct {
	// Kernel is the infinite-width network (ntk.DefaultFC() in the reference).
	Kernel ntk.FC
	// Kind is the kernel of it that is used (ntk.NTK in the reference).
	Kind ntk.Kind
	// Reg is λ (DefaultReg): the support kernel is regularised as K_ss + λ·tr(K_ss)/n·I.
	Reg float64
	// Dim is the number of input features (e.g. H·W·C).
	Dim int
	// Classes is the number of label components.
	Classes int
}

// Validate reports a setting that cannot be used.
func (c Config) Validate() error {
	if err := c.Kernel.Validate(); err != nil {
		return err
	}
	if _, err := ntk.ParseKind(string(c.Kind)); err != nil {
		return err
	}
	if !(c.Reg >= 0) || math.IsInf(c.Reg, 0) {
		return fmt.Errorf("kip: regularisation must be ≥ 0 and finite, got %v", c.Reg)
	}
	if c.Dim < 1 || c.Classes < 1 {
		return fmt.Errorf("kip: need ≥ 1 feature and ≥ 1 class, got %d and %d", c.Dim, c.Classes)
	}
	return nil
}

// Batch is n inputs (X, n×Dim, row-major) with their label vectors (Y, n×Classes).
type Batch struct {
	X, Y []float64
	N    int
}

func (c Config) check(name string, b Batch) error {
	if b.N < 1 || len(b.X) != b.N*c.Dim || len(b.Y) != b.N*c.Classes {
		return fmt.Errorf("kip: %s batch of %d examples has %d inputs and %d label values, want %d×%d and %d×%d",
			name, b.N, len(b.X), len(b.Y), b.N, c.Dim, b.N, c.Classes)
	}
	return nil
}

// Engine evaluates the KIP objective and its gradient. The kernels K_ss = K(x_s, x_s) and
// K_ts = K(x_t, x_s) are computed by a compiled gomlx graph (float64); the regularised
// system is solved on the host in float64 (Cholesky, gonum), and the gradient with respect
// to the support inputs comes from a second compiled graph, the vector–Jacobian product of
// the kernels with the closed-form adjoints of the solve:
//
//	α = A⁻¹y_s, A = K_ss + λ·tr(K_ss)/n·I, r = K_ts·α − y_t, L = ½·mean(r²),
//	R = ∂L/∂(K_ts α) = r/(m·C), ∂L/∂K_ts = R·αᵀ, β = A⁻¹K_tsᵀR, ∂L/∂y_s = β,
//	∂L/∂K_ss = −β·αᵀ + (λ/n)·tr(−β·αᵀ)·I.
//
// An Engine is not safe for concurrent use.
type Engine struct {
	cfg      Config
	fwd, bwd *Exec
}

// NewEngine compiles (lazily, per batch shape) the kernel graphs on backend b.
func NewEngine(b backends.Backend, cfg Config) (*Engine, error) {
	if b == nil {
		return nil, errors.New("kip: nil backend")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	e := &Engine{cfg: cfg}
	var err error
	e.fwd, err = NewExec(b, func(xs, xt *Node) []*Node {
		return []*Node{cfg.Kernel.Kernel(cfg.Kind, xs, xs), cfg.Kernel.Kernel(cfg.Kind, xt, xs)}
	})
	if err != nil {
		return nil, err
	}
	e.bwd, err = NewExec(b, func(xs, xt, gss, gts *Node) *Node {
		obj := Add(ReduceAllSum(Mul(cfg.Kernel.Kernel(cfg.Kind, xs, xs), gss)),
			ReduceAllSum(Mul(cfg.Kernel.Kernel(cfg.Kind, xt, xs), gts)))
		return Gradient(obj, xs)[0]
	})
	if err != nil {
		e.fwd.Finalize()
		return nil, err
	}
	return e, nil
}

// Config returns the engine's setting.
func (e *Engine) Config() Config { return e.cfg }

// Finalize frees the compiled graphs.
func (e *Engine) Finalize() {
	e.fwd.Finalize()
	e.bwd.Finalize()
}

// Kernel returns K(x1, x2) (n1×n2, row-major) for inputs of Dim features.
func (e *Engine) Kernel(x1 []float64, n1 int, x2 []float64, n2 int) ([]float64, error) {
	d := e.cfg.Dim
	if n1 < 1 || n2 < 1 || len(x1) != n1*d || len(x2) != n2*d {
		return nil, fmt.Errorf("kip: kernel inputs of %d and %d values for %d and %d examples of %d features", len(x1), len(x2), n1, n2, d)
	}
	var out []float64
	err := catch.Run(func() {
		// fwd gives K(a, a) and K(b, a): call it with a = x2, b = x1 for K(x1, x2).
		res := e.fwd.MustExec(tensors.FromFlatDataAndDimensions(x2, n2, d), tensors.FromFlatDataAndDimensions(x1, n1, d))
		out = tensors.MustCopyFlatData[float64](res[1])
	})
	return out, err
}

func (e *Engine) kernels(s, t Batch) (kss, kts *mat.Dense, err error) {
	d := e.cfg.Dim
	err = catch.Run(func() {
		res := e.fwd.MustExec(tensors.FromFlatDataAndDimensions(s.X, s.N, d), tensors.FromFlatDataAndDimensions(t.X, t.N, d))
		kss = mat.NewDense(s.N, s.N, tensors.MustCopyFlatData[float64](res[0]))
		kts = mat.NewDense(t.N, s.N, tensors.MustCopyFlatData[float64](res[1]))
	})
	return
}

// solver solves A·X = B for the regularised support kernel A (Cholesky, or LU when A is
// not numerically positive definite).
type solver struct {
	chol *mat.Cholesky
	lu   *mat.LU
}

func newSolver(kss *mat.Dense, reg float64) (*solver, error) {
	n, _ := kss.Dims()
	var tr float64
	for i := range n {
		tr += kss.At(i, i)
	}
	shift := reg * tr / float64(n)
	sym := mat.NewSymDense(n, nil)
	for i := range n {
		for j := i; j < n; j++ {
			v := 0.5 * (kss.At(i, j) + kss.At(j, i))
			if i == j {
				v += shift
			}
			sym.SetSym(i, j, v)
		}
	}
	for i := range n {
		for j := range n {
			if math.IsNaN(sym.At(i, j)) || math.IsInf(sym.At(i, j), 0) {
				return nil, errors.New("kip: the support kernel has non-finite entries (diverged?)")
			}
		}
	}
	var ch mat.Cholesky
	if ch.Factorize(sym) {
		return &solver{chol: &ch}, nil
	}
	var lu mat.LU
	lu.Factorize(sym)
	if mat.Det(sym) == 0 {
		return nil, errors.New("kip: the regularised support kernel is singular")
	}
	return &solver{lu: &lu}, nil
}

func (s *solver) solve(b mat.Matrix) (*mat.Dense, error) {
	var x mat.Dense
	var err error
	if s.chol != nil {
		err = s.chol.SolveTo(&x, b)
	} else {
		err = s.lu.SolveTo(&x, false, b)
	}
	if err != nil {
		return nil, fmt.Errorf("kip: solving the support system: %w", err)
	}
	return &x, nil
}

// Objective is one evaluation of the objective.
type Objective struct {
	// Loss is ½·mean((K_ts α − y_t)²) over the target examples and label components.
	Loss float64
	// Accuracy is the fraction of targets whose prediction's argmax is their label's argmax.
	Accuracy float64
	// GradX is ∂Loss/∂x_s (n×Dim), GradY is ∂Loss/∂y_s (n×Classes); nil from Loss.
	GradX, GradY []float64
}

// Loss evaluates the objective of support s on target t.
func (e *Engine) Loss(s, t Batch) (*Objective, error) { return e.eval(s, t, false) }

// LossGrad evaluates the objective and its gradients with respect to the support inputs
// and labels.
func (e *Engine) LossGrad(s, t Batch) (*Objective, error) { return e.eval(s, t, true) }

// fit checks the support set s and the batch t (named what in errors), computes K_ts and
// solves for the regression weights α = (K_ss + λ·tr(K_ss)/n·I)⁻¹·y_s; it returns K_ts,
// the solver (for further solves with the same matrix) and α.
func (e *Engine) fit(s, t Batch, what string) (kts *mat.Dense, sol *solver, alpha *mat.Dense, err error) {
	if err := e.cfg.check("support", s); err != nil {
		return nil, nil, nil, err
	}
	if err := e.cfg.check(what, t); err != nil {
		return nil, nil, nil, err
	}
	kss, kts, err := e.kernels(s, t)
	if err != nil {
		return nil, nil, nil, err
	}
	if sol, err = newSolver(kss, e.cfg.Reg); err != nil {
		return nil, nil, nil, err
	}
	if alpha, err = sol.solve(mat.NewDense(s.N, e.cfg.Classes, s.Y)); err != nil {
		return nil, nil, nil, err
	}
	return kts, sol, alpha, nil
}

func (e *Engine) eval(s, t Batch, grad bool) (*Objective, error) {
	kts, sol, alpha, err := e.fit(s, t, "target")
	if err != nil {
		return nil, err
	}
	c, n, m := e.cfg.Classes, s.N, t.N
	var pred mat.Dense
	pred.Mul(kts, alpha)
	r := mat.NewDense(m, c, nil)
	r.Sub(&pred, mat.NewDense(m, c, t.Y))
	res := &Objective{}
	var correct int
	for i := range m {
		for j := range c {
			res.Loss += r.At(i, j) * r.At(i, j)
		}
		if argmax(pred.RawRowView(i)) == argmax(t.Y[i*c:(i+1)*c]) {
			correct++
		}
	}
	res.Loss *= 0.5 / float64(m*c)
	res.Accuracy = float64(correct) / float64(m)
	if math.IsNaN(res.Loss) || math.IsInf(res.Loss, 0) {
		return nil, fmt.Errorf("kip: the loss is %v", res.Loss)
	}
	if !grad {
		return res, nil
	}
	r.Scale(1/float64(m*c), r) // R
	var gts, u mat.Dense
	gts.Mul(r, alpha.T())
	u.Mul(kts.T(), r)
	beta, err := sol.solve(&u)
	if err != nil {
		return nil, err
	}
	var gss mat.Dense
	gss.Mul(beta, alpha.T())
	gss.Scale(-1, &gss)
	var tr float64
	for i := range n {
		tr += gss.At(i, i)
	}
	for i := range n {
		gss.Set(i, i, gss.At(i, i)+e.cfg.Reg/float64(n)*tr)
	}
	res.GradY = append([]float64(nil), beta.RawMatrix().Data...)
	err = catch.Run(func() {
		d := e.cfg.Dim
		out := e.bwd.MustExec(tensors.FromFlatDataAndDimensions(s.X, n, d), tensors.FromFlatDataAndDimensions(t.X, m, d),
			tensors.FromFlatDataAndDimensions(gss.RawMatrix().Data, n, n), tensors.FromFlatDataAndDimensions(gts.RawMatrix().Data, m, n))
		res.GradX = tensors.MustCopyFlatData[float64](out[0])
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// Predict returns the kernel ridge regression predictions K_qs·(K_ss + λ·tr(K_ss)/n·I)⁻¹y_s
// for nq query inputs xq (nq×Classes, row-major).
func (e *Engine) Predict(s Batch, xq []float64, nq int) ([]float64, error) {
	t := Batch{X: xq, Y: make([]float64, nq*e.cfg.Classes), N: nq}
	kqs, _, alpha, err := e.fit(s, t, "query")
	if err != nil {
		return nil, err
	}
	var pred mat.Dense
	pred.Mul(kqs, alpha)
	return pred.RawMatrix().Data, nil
}

func argmax(v []float64) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}
