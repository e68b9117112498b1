// Package synth is the shared infrastructure of the synthesis-based condensers (DM here; DC
// and DSA in package gm): the synthetic set held on the device as gomlx context variables,
// its initialisation, an in-graph SGD-with-momentum update, the iteration loop with progress,
// cancellation, an evaluation hook, resumable checkpoints and per-iteration time and memory
// records.
//
// # Use
//
// A condenser builds a Set from its Request, compiles its own graphs over s.Context(), and
// hands one iteration to Run:
//
//	s, err := synth.New(req, synth.Options{Method: "dm", Iterations: 20000, LR: 1, Momentum: 0.5})
//	if err != nil { return nil, err }
//	step, err := context.NewExec(req.Backend, s.Context(), func(ctx *context.Context, real *Node) *Node {
//		g := real.Graph()
//		syn := make([]*Node, s.NumClasses())
//		for c := range syn {
//			syn[c] = s.ClassImages(g, c) // [IPC, H, W, C], a variable's value: no slicing
//		}
//		loss := ... // a scalar function of syn (and real)
//		s.Update(loss, syn) // in-graph SGD with momentum on every class's images
//		return loss
//	})
//	if err != nil { return nil, err }
//	defer step.Finalize()
//	err = s.Run(func(it int) (float64, error) {
//		real := s.RealBatch(it, batch) // host-sampled real images, class-major
//		out, err := step.Exec(real)
//		...
//		return loss, nil
//	})
//	if err != nil { return nil, err }
//	return s.Dataset()
//
// The synthetic images of class c live in the variable "/synth/images/cNNN" (shape
// [IPC, H, W, C]) and their momentum buffer in "/synth/momentum/cNNN"; one variable per
// class means that a method that works class by class (DM, DC, DSA) never slices a tensor on
// the gradient path (gomlx's Slice gradient needs Pad, which the simplego backend lacks).
// AllImages concatenates them (Concatenate's gradient is a forward Slice, which every backend
// has). The context's random number generator is seeded from Request.Seed: methods should
// draw their in-graph randomness (DSA, fresh network weights with ReinitVariables) from it,
// so a run repeats exactly for a given seed and backend and resumes exactly from a
// checkpoint. Host-side randomness (RealBatch) is a function of the seed and the iteration.
//
// # Params
//
// Every synthesis method accepts these Request params (ParamInit etc.):
//
//	init              real (default) | kcenter | noise: the three arms of DC-Bench's Fig. 6
//	iterations        number of iterations (method default)
//	lr_img            learning rate of the images (method default)
//	momentum_img      momentum of the image optimiser (method default, 0.5 in DC/DSA/DM)
//	eval_every        call the eval hook every k iterations (0: only at the start and the end)
//	eval_hook         a synth.EvalHook, called with a copy of the current set
//	checkpoint        file to save to and resume from ("" for none)
//	checkpoint_every  save every N iterations (default 100 when checkpoint is set)
//	stats             a *synth.Stats that receives the per-iteration records (Table 8)
//
// With init=kcenter the params of package kcenter (features, model, ...) apply too.
package synth
