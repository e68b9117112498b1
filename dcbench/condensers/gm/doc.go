// Package gm implements the gradient-matching condensation methods of DC-Bench: DC (Dataset
// Condensation with Gradient Matching, Zhao, Mopuri & Bilen, ICLR 2021) and DSA (Dataset
// Condensation with Differentiable Siamese Augmentation, Zhao & Bilen, ICML 2021), following
// the reference code (VICO-UoE/DatasetCondensation, main.py and utils.py match_loss /
// distance_wb). Register them as "dc" and "dsa" with DC() and DSA().
//
// Each outer iteration draws a freshly initialised network (ConvNet-3 with instance norm by
// default). For outer_loop steps, every class c compares the gradient of the cross-entropy
// loss with respect to the network parameters on a real batch of class c (a constant) with
// the gradient on the class's synthetic images, with the layer-wise distance of the reference
// ("ours", see LayerDistance); the sum over classes is minimised by one SGD step (momentum
// 0.5) on the synthetic images. Between two steps (not after the last) the network is trained
// on the synthetic set for inner_loop epochs of plain SGD. DSA applies the same random
// differentiable augmentation to the real and the synthetic batch of each class before the
// gradients are taken, and augments the inner-loop training (one draw per image) as well.
//
// The matching loss of all classes and its gradient with respect to the synthetic images
// (a gradient of gradients) are one compiled gomlx program, built only from dcbench/nn ops,
// whose derivatives are correct to any order on every backend; the tests check it against
// finite differences. The synthetic images, their momentum and the network live in context
// variables of a synth.Set, which also provides the initialisation (real, noise, kcenter),
// the iteration loop with progress, the evaluation hook, resumable checkpoints and the
// per-iteration time and memory records; per matching step only the sampled real batches
// cross to the device.
//
// Differences from the reference: the run makes `iterations` outer iterations (the reference
// loops over Iteration+1); IPCs other than 1, 10, 20, 30, 40 and 50 take the loop setting of
// the next listed IPC (the reference stops with an error); the real batch of every class has
// the size of the smallest class when that is below batch_real; networks with batch norm are
// refused (the reference freezes their statistics on a real batch before matching).
package gm
