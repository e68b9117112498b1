package gm

import (
	"context"
	"fmt"

	"github.com/dcbench/dcbench/datasets"
	"github.com/dcbench/dcbench/dcbench/condensers/synth"
	"github.com/dcbench/dcbench/dcbench/method"
)

// Method is the DC condenser, or DSA with Siamese set. Register DC() and DSA() with
// dcbench.RegisterCondenser.
//
// Params (Request.Params; see the Param constants): iterations (1000), outer_loop and
// inner_loop (LoopSchedule of the IPC), batch_real (256), batch_train (256), lr_img (0.1),
// momentum_img (0.5), lr_net (0.01), init (real | noise | kcenter), model ("convnet") and
// the ConvNet params convnet_width, convnet_depth, convnet_norm, convnet_activation,
// convnet_pooling (reference ConvNet-3 with instance norm; depth 4 for 64-pixel images), for
// DSA dsa_strategy (augment.DefaultStrategy), and package synth's eval_every, eval_hook,
// checkpoint, checkpoint_every and stats.
type Method struct {
	// Siamese turns on differentiable siamese augmentation: the DSA method.
	Siamese bool
}

// DC returns the gradient-matching condenser "dc".
func DC() Method { return Method{} }

// DSA returns the gradient-matching condenser with siamese augmentation, "dsa".
func DSA() Method { return Method{Siamese: true} }

// Name is "dc" or "dsa".
func (m Method) Name() string {
	if m.Siamese {
		return "dsa"
	}
	return "dc"
}

// Condense runs gradient matching and returns the synthetic images, IPC per class grouped
// by class, with the training set's classes and normalisation.
func (m Method) Condense(req method.Request) (*datasets.Dataset, error) {
	cfg, err := ConfigFrom(req, m.Siamese)
	if err != nil {
		return nil, err
	}
	return Run(req, cfg)
}

// Run condenses req.Train with the DC/DSA setting cfg (see ConfigFrom; cfg.DSA selects the
// method) and the synth params of req (iterations, lr_img, momentum_img, init, hooks,
// checkpoint, stats), reporting progress to req.Progress after every outer iteration.
func Run(req method.Request, cfg Config) (*datasets.Dataset, error) {
	if req.Backend == nil {
		return nil, fmt.Errorf("no backend")
	}
	if req.Progress == nil {
		req.Progress = func(int, int, string) {}
	}
	if req.Context == nil {
		req.Context = context.Background()
	}
	name := Method{Siamese: cfg.DSA}.Name()
	set, err := synth.New(req, synth.Options{Method: name, Iterations: DefaultIterations,
		LR: DefaultLRImg, Momentum: DefaultMomentumImg, Init: synth.InitReal})
	if err != nil {
		return nil, err
	}
	e, err := newEngine(req.Backend, set, cfg, req.Seed, cfg.BatchReal)
	if err != nil {
		return nil, err
	}
	defer e.close()
	if err := set.Run(e.iteration); err != nil {
		return nil, err
	}
	return set.Dataset()
}
