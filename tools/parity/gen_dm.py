"""Parity fixture for DM's objective (testdata/dm.json): the loss of one DM iteration and its
gradient w.r.t. the synthetic images, for a given ConvNet (weights recorded), real batch and
synthetic set, in float64, without augmentation.

Reference: DatasetCondensation/main_DM.py, the body of the outer loop (lines ~139-192): the
network in train mode (net.train()), embed = net.embed (networks.py:ConvNet.embed); for
networks without batch norm, per class c: loss += sum((mean(embed(real_c)).detach() -
mean(embed(syn_c)))**2); for batch norm all classes' real images are embedded in one batch and
all synthetic ones in another, loss = sum over classes of the same squared distance. The
generator rebuilds that expression around the reference's ConvNet and records loss and
loss.backward()'s gradient of image_syn.
"""

import numpy as np
import torch

import fixture

fixture.oracle_path()
import networks  # noqa: E402  (the patched oracle copy)

GEN = "tools/parity/gen_dm.py"


def params(net):
    out = {}
    for name, p in net.state_dict().items():
        if name.startswith("features."):
            out["net." + name[len("features."):]] = fixture.arr(p)
    return out


def dm_loss(net, real, syn, k, b, ipc):
    net.train()
    embed = net.embed
    syn = syn.clone().requires_grad_(True)
    if any(isinstance(m, torch.nn.BatchNorm2d) for m in net.modules()):  # main_DM.py: "BN" in args.model
        out_r = embed(real).detach()
        out_s = embed(syn)
        loss = torch.sum((torch.mean(out_r.reshape(k, b, -1), dim=1) - torch.mean(out_s.reshape(k, ipc, -1), dim=1)) ** 2)
    else:
        loss = torch.tensor(0.0)
        for c in range(k):
            out_r = embed(real[c * b:(c + 1) * b]).detach()
            out_s = embed(syn[c * ipc:(c + 1) * ipc])
            loss = loss + torch.sum((torch.mean(out_r, dim=0) - torch.mean(out_s, dim=0)) ** 2)
    loss.backward()
    return loss.item(), syn.grad


def main():
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)
    cases = []
    for name, depth, width, norm, pool, ch, hw, k, b, ipc in [
        ("d1_w8_instancenorm_avg_8x8x3", 1, 8, "instancenorm", "avgpooling", 3, 8, 2, 3, 2),
        ("d2_w8_instancenorm_max_8x8x3", 2, 8, "instancenorm", "maxpooling", 3, 8, 3, 4, 1),
        ("d2_w16_batchnorm_avg_8x8x3", 2, 16, "batchnorm", "avgpooling", 3, 8, 2, 4, 2),
        ("d2_w8_none_avg_8x8x1", 2, 8, "none", "avgpooling", 1, 8, 2, 3, 2),
    ]:
        torch.manual_seed(len(cases) + 1)
        net = networks.ConvNet(ch, k, width, depth, "relu", norm, pool, (hw, hw))
        with torch.no_grad():  # non-trivial affine norm parameters
            for m in net.modules():
                if type(m).__name__ in ("GroupNorm", "BatchNorm2d"):
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.uniform_(-0.3, 0.3)
        real = torch.randn(k * b, ch, hw, hw)
        syn = torch.randn(k * ipc, ch, hw, hw)
        loss, grad = dm_loss(net, real, syn, k, b, ipc)
        print(f"{name}: loss {loss:.6g}")
        arrays = {"real": fixture.arr(real), "syn": fixture.arr(syn), "loss": fixture.arr(np.array(loss)),
                  "grad_syn": fixture.arr(grad)}
        arrays.update(params(net))
        cases.append({"name": name, "params": {"depth": depth, "width": width, "norm": norm, "pooling": pool,
                                               "classes": k, "batch_real": b, "ipc": ipc},
                      "arrays": arrays})
    fixture.write("dm", "DatasetCondensation/main_DM.py (outer-loop body: loss and loss.backward) with "
                  "DatasetCondensation/networks.py:ConvNet.embed", GEN,
                  "DM loss sum_c ||mean embed(real_c) - mean embed(syn_c)||^2 and d loss / d image_syn, "
                  "no augmentation, net.train(); real/syn NCHW class-major (b real, ipc syn per class); "
                  "net.<i>.weight/bias are the entries of ConvNet.features (conv OIHW, norm affine).", cases)


if __name__ == "__main__":
    main()
