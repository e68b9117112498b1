package mtt

import (
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck

	"github.com/dcbench/dcbench/dcbench/augment"
	"github.com/dcbench/dcbench/dcbench/expert"
	"github.com/dcbench/dcbench/dcbench/nn"
)

// Plan is the static shape of one iteration's student run: the synthetic mini-batch size of
// every step. As the reference, each step takes the next chunk of a random permutation of
// the synthetic images, split into chunks of BatchSyn (the last chunk smaller) and consumed
// from the end; a new permutation is drawn when the chunks run out.
type Plan struct {
	// Chunks[i] is the batch size of student step i.
	Chunks []int
	// Offsets[i] is where step i's indices start in the iteration's index vector.
	Offsets []int
	// Total is the length of the index vector.
	Total int
}

// NewPlan returns the plan of steps student steps on n images with mini-batches of batch
// (0 or ≥ n: all images every step).
func NewPlan(n, batch, steps int) Plan {
	if batch <= 0 || batch > n {
		batch = n
	}
	var p Plan
	var pending []int
	for i := 0; i < steps; i++ {
		if len(pending) == 0 {
			for lo := 0; lo < n; lo += batch {
				pending = append(pending, min(batch, n-lo))
			}
		}
		c := pending[len(pending)-1]
		pending = pending[:len(pending)-1]
		p.Chunks = append(p.Chunks, c)
		p.Offsets = append(p.Offsets, p.Total)
		p.Total += c
	}
	return p
}

// StudentStep is one SGD step of the student: θ' = θ − lr·∇θ CE(f(θ; aug(x)), y), where
// aug is a DSA draw (one per sample) from rng (nil dsa: none). It returns θ' and the
// advanced random number generator state. Everything is differentiable, to any order,
// with respect to θ, x and lr.
func StudentStep(arch expert.Arch, dsa *augment.DSA, params []*Node, x, y, lr, rng *Node) ([]*Node, *Node) {
	if dsa != nil && len(dsa.Ops()) > 0 {
		var p *augment.Params
		d := x.Shape().Dimensions
		rng, p = dsa.Draw(rng, d[0], d[1], d[2])
		x = dsa.Apply(p, x)
	}
	loss := nn.CrossEntropy(arch.Logits(params, x), y)
	grads := Gradient(loss, params...)
	out := make([]*Node, len(params))
	for i, p := range params {
		out[i] = Sub(p, Mul(lr, grads[i]))
	}
	return out, rng
}

// stepInputs picks step i's images, labels and RNG state: idx is the iteration's index
// vector [plan.Total] (int32), rngs the per-step states [steps, 3].
func stepInputs(plan Plan, i int, images, labels, idx, rngs *Node) (x, y, rng *Node) {
	sel := Slice(idx, AxisRange(plan.Offsets[i], plan.Offsets[i]+plan.Chunks[i]))
	at := Reshape(sel, plan.Chunks[i], 1)
	x = Gather(images, at)
	y = Gather(labels, at)
	rng = Reshape(Slice(rngs, AxisElem(i)), RNGStateShape.Dimensions...)
	return
}

// Distance is MTT's normalised parameter distance Σ‖θ − target‖² / Σ‖start − target‖²
// over the parameter tensors (start and target carry no gradient).
func Distance(theta, start, target []*Node) *Node {
	var num, den *Node
	for i := range theta {
		t := StopGradient(target[i])
		d := Sub(theta[i], t)
		e := Sub(StopGradient(start[i]), t)
		a, b := ReduceAllSum(Mul(d, d)), ReduceAllSum(Mul(e, e))
		if num == nil {
			num, den = a, b
		} else {
			num, den = Add(num, a), Add(den, b)
		}
	}
	return Div(num, den)
}

// Unrolled is MTT's loss for one iteration as a single graph: starting from θ*_t (start),
// len(plan.Chunks) student steps on the synthetic images [n, H, W, C] (labels [n] int32),
// mini-batches picked by idx [plan.Total] (int32), step i's DSA draw from rngs[i]
// ([steps, 3] uint64) and learning rate lr (a scalar of the images' dtype); the result is
// Distance(θ_N, start, target). Its gradient with respect to images and lr goes back
// through every student step (memory grows with the number of steps; see the recompute
// mode of the condenser).
func Unrolled(arch expert.Arch, dsa *augment.DSA, plan Plan, start, target []*Node, images, labels, idx, rngs, lr *Node) *Node {
	theta := start
	for i := range plan.Chunks {
		x, y, rng := stepInputs(plan, i, images, labels, idx, rngs)
		theta, _ = StudentStep(arch, dsa, theta, x, y, lr, rng)
	}
	return Distance(theta, start, target)
}
