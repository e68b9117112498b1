// Package expert trains and stores the expert trajectories of trajectory matching (MTT,
// Cazenavette et al., "Dataset Distillation by Matching Training Trajectories", CVPR 2022):
// N ConvNets trained on the real training set with plain SGD (reference: lr 0.01, no
// momentum, no weight decay, batch 256, DSA on, 50 epochs, 100 experts), whose flat
// parameter vector is saved after every epoch (epoch 0, the initialisation, included).
//
// The network is Arch, the reference ConvNet written as a pure function of an explicit
// parameter list (Arch.Logits): the same function is the MTT student, so experts and student
// share one parameter layout (Arch.Layout documents it).
//
// Train writes the trajectories as shard files "replay_buffer_K.bin" (format at Header),
// each with a JSON header, per-trajectory CRC-32 checksums and atomic writes; it resumes
// from the shards already written. Open reads a buffer folder back: Buffer.Trajectory(i)
// gives expert i's trajectory and Trajectory.Params(e) its parameters after epoch e.
//
// With Config.ZCA the experts train on ZCA-whitened images (FitZCA, Whiten: kornia's
// ZCAWhitening(eps=0.1) fitted on the training set, as the reference's buffer.py --zca), and
// the buffer records it (Setup.ZCA, Buffer.ZCA) so that MTT distils in the same space.
package expert
