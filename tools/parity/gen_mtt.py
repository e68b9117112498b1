"""Parity fixture for MTT's objective (testdata/mtt.json), in float64, no augmentation.

Reference: mtt/distill.py, one iteration of its main loop (lines ~294-393) with
mtt/reparam_module.py:ReparamModule around DatasetCondensation/networks.py:ConvNet: the student
starts at the flat start parameters, takes syn_steps steps student_params[-1] - syn_lr *
autograd.grad(CE(student_net(x, flat_param=...), y), create_graph=True) on mini-batches popped
from torch.split(torch.randperm(n), batch_syn) (the last, smaller chunk first), and the loss is
(mse_sum(theta_N, target) / num_params) / (mse_sum(start, target) / num_params); grand_loss.backward()
gives the gradients w.r.t. image_syn and syn_lr. The indices each step used are recorded
(steps_idx, concatenated; chunk_sizes per step) so the Go test feeds dcbench the same batches.
Start and target are given parameter vectors (target = start plus a small perturbation), in
the flat order of ReparamModule (net.parameters(): features.<i>.weight/bias, classifier.*),
stored per tensor as start.<name>, target.<name> in PyTorch layouts.
"""

import os
import sys

import numpy as np
import torch

import fixture

oracle = fixture.oracle_path()
sys.path.insert(0, os.path.join(oracle, "mtt"))
import networks  # noqa: E402
from reparam_module import ReparamModule  # noqa: E402

GEN = "tools/parity/gen_mtt.py"


def main():
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)
    cases = []
    for name, depth, width, norm, ch, hw, k, ipc, batch_syn, steps, lr in [
        ("d1_w8_instancenorm_8x8x3_full_batch", 1, 8, "instancenorm", 3, 8, 2, 2, None, 3, 0.01),
        ("d2_w8_instancenorm_8x8x3_batch3", 2, 8, "instancenorm", 3, 8, 2, 4, 3, 5, 0.02),
        ("d2_w8_none_28x28x1_batch2", 2, 8, "none", 1, 28, 3, 1, 2, 4, 0.01),
    ]:
        torch.manual_seed(200 + len(cases))
        net = networks.ConvNet(ch, k, width, depth, "relu", norm, "avgpooling", (hw, hw))
        names = [n for n, _ in net.named_parameters()]
        shapes = [p.shape for _, p in net.named_parameters()]
        start_list = [p.detach().clone() for p in net.parameters()]
        student_net = ReparamModule(net)  # moves the parameters into one flat_param
        student_net.train()
        num_params = sum([np.prod(p.size()) for p in student_net.parameters()])
        target_list = [p + 0.05 * torch.randn_like(p) for p in start_list]
        image_syn = torch.randn(k * ipc, ch, hw, hw).requires_grad_(True)
        label_syn = torch.arange(k).repeat_interleave(ipc)
        syn_lr = torch.tensor(lr).requires_grad_(True)
        if batch_syn is None:
            batch_syn = k * ipc  # distill.py: args.batch_syn = num_classes * ipc

        target_params = torch.cat([p.reshape(-1) for p in target_list], 0)
        student_params = [torch.cat([p.reshape(-1) for p in start_list], 0).requires_grad_(True)]
        starting_params = torch.cat([p.reshape(-1) for p in start_list], 0)
        crit = torch.nn.CrossEntropyLoss()
        indices_chunks, used, sizes = [], [], []
        for _ in range(steps):
            if not indices_chunks:
                indices_chunks = list(torch.split(torch.randperm(len(image_syn)), batch_syn))
            these = indices_chunks.pop()
            used.extend(these.tolist())
            sizes.append(len(these))
            out = student_net(image_syn[these], flat_param=student_params[-1])
            ce = crit(out, label_syn[these])
            grad = torch.autograd.grad(ce, student_params[-1], create_graph=True)[0]
            student_params.append(student_params[-1] - syn_lr * grad)
        param_loss = torch.nn.functional.mse_loss(student_params[-1], target_params, reduction="sum")
        param_dist = torch.nn.functional.mse_loss(starting_params, target_params, reduction="sum")
        param_loss = param_loss / num_params
        param_dist = param_dist / num_params
        grand_loss = param_loss / param_dist
        grand_loss.backward()
        print(f"{name}: loss {grand_loss.item():.8g}, dlr {syn_lr.grad.item():.6g}, chunks {sizes}")
        arrays = {"images": fixture.arr(image_syn), "labels": fixture.arr(label_syn.double()),
                  "steps_idx": fixture.arr(np.array(used, float)), "chunk_sizes": fixture.arr(np.array(sizes, float)),
                  "loss": fixture.arr(np.array(grand_loss.item())), "grad_images": fixture.arr(image_syn.grad),
                  "grad_lr": fixture.arr(np.array(syn_lr.grad.item()))}
        for n, s, a, b in zip(names, shapes, start_list, target_list):
            arrays["start." + n] = fixture.arr(a)
            arrays["target." + n] = fixture.arr(b)
        cases.append({"name": name, "params": {"depth": depth, "width": width, "norm": norm, "classes": k, "ipc": ipc,
                                               "batch_syn": batch_syn, "syn_steps": steps, "syn_lr": lr},
                      "arrays": arrays})
    fixture.write("mtt", "mtt/distill.py (one iteration: student steps, param_loss / param_dist, backward) with "
                  "mtt/reparam_module.py:ReparamModule and DatasetCondensation/networks.py:ConvNet", GEN,
                  "Loss of one MTT iteration from given start/target parameters and its gradients w.r.t. the "
                  "synthetic images and syn_lr, no augmentation, student_net.train(). steps_idx: the image "
                  "indices of every step, concatenated (chunk_sizes[i] of them for step i).", cases)


if __name__ == "__main__":
    main()
