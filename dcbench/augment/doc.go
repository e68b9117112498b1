// Package augment holds the data augmentations of DC-Bench and the ZCA whitening used by KIP and MTT.
//
// It has three parts:
//
//   - DSA, the differentiable siamese augmentation of Zhao & Bilen (2021), built as gomlx graph
//     operations so that gradients flow back to the input images (see NewDSA, DSA.Augment and
//     DSA.Siamese). Every op that touches the images is made of gathers, masks, element-wise ops and
//     reductions, so it differentiates on every backend, including the pure Go "simplego" one.
//     Randomness comes from gomlx's in-graph random number generator, so nothing goes back to the host
//     per step and a run repeats exactly for a given seed and backend.
//   - Host-side evaluation augmentations (NewHost): "imagenet_aug", "randaug" and "autoaug", which
//     follow torchvision's RandomCrop + RandomHorizontalFlip + ColorJitter, RandAugment and AutoAugment.
//     They run in Go on []float32 NHWC batches that are normalised by the dataset mean and std.
//     HostOptions.PerBatch and Uint8 reproduce DC-Bench's evaluator (one draw per batch, uint8
//     images). "dc_aug" is DC's own augmentation (crop, scale, rotate or noise per image), the
//     evaluator's default on MNIST.
//   - ZCA whitening (FitZCA), fitted on a training set as kornia's ZCAWhitening, applied on the host or
//     as a graph op.
//
// All images are float32 NHWC, normalised by the dataset mean and std, as everywhere in dcbench.
package augment
