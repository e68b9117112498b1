"""Parity fixture for DC/DSA's gradient matching (testdata/gm.json), in float64, no
augmentation:

- match: for a given ConvNet (weights recorded, instance norm: dcbench's DC/DSA refuses batch
  norm) and per-class real and synthetic batches, the loss of one outer step as main.py's
  "update synthetic data" block computes it (net(img) logits, CrossEntropyLoss with the class
  label, gw_real = autograd.grad(loss_real, net.parameters()) detached, gw_syn with
  create_graph=True, loss += utils.py:match_loss(gw_syn, gw_real, args) with dis_metric
  'ours', i.e. utils.py:distance_wb per parameter tensor), and d loss / d image_syn (second
  order).
- inner: one update of the network on a synthetic batch as main.py's inner loop does
  (optimizer_net = torch.optim.SGD(net.parameters(), lr=args.lr_net), lr_net 0.01 by default,
  no momentum or weight decay; utils.py:epoch's step: CrossEntropyLoss, zero_grad, backward,
  step). utils.py:epoch itself casts the images to float32 (datum[0].float()), so the step is
  made here with the same calls on a float64 network instead of calling epoch().
"""

import types

import numpy as np
import torch

import fixture

fixture.oracle_path()
import networks  # noqa: E402
import utils  # noqa: E402

import gen_dm  # noqa: E402  (its DSA draw recorder)

GEN = "tools/parity/gen_gm.py"


def params(net, prefix):
    out = {}
    for name, p in net.state_dict().items():
        if name.startswith("features."):
            out[prefix + name[len("features."):]] = fixture.arr(p)
        elif name.startswith("classifier."):
            out[prefix + name] = fixture.arr(p)
    return out


def match(net, real, syn, k, b, ipc, seeds=None):
    args = types.SimpleNamespace(dis_metric="ours", device="cpu")
    crit = torch.nn.CrossEntropyLoss()
    net.train()
    ps = list(net.parameters())
    syn = syn.clone().requires_grad_(True)
    loss = torch.tensor(0.0)
    per = []
    draws = {}
    for c in range(k):
        img_real = real[c * b:(c + 1) * b]
        lab_real = torch.ones((b,), dtype=torch.long) * c
        img_syn = syn[c * ipc:(c + 1) * ipc]
        lab_syn = torch.ones((ipc,), dtype=torch.long) * c
        if seeds is not None:  # main.py with --dsa: one seed for both batches of the class
            img_real, img_syn, draws[c] = gen_dm.augment_pair(utils, img_real, img_syn, seeds[c])
        gw_real = [g.detach().clone() for g in torch.autograd.grad(crit(net(img_real), lab_real), ps)]
        gw_syn = torch.autograd.grad(crit(net(img_syn), lab_syn), ps, create_graph=True)
        d = utils.match_loss(gw_syn, gw_real, args)
        per.append(d.item())
        loss = loss + d
    loss.backward()
    return loss.item(), per, syn.grad, draws


def main():
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)
    gen_dm.install_recorder()
    cases = []
    for name, depth, width, norm, pool, ch, hw, k, b, ipc, seeds in [
        ("d1_w8_instancenorm_avg_8x8x3", 1, 8, "instancenorm", "avgpooling", 3, 8, 2, 3, 2, None),
        ("d2_w8_instancenorm_max_8x8x3", 2, 8, "instancenorm", "maxpooling", 3, 8, 3, 4, 1, None),
        ("d2_w16_none_avg_8x8x3", 2, 16, "none", "avgpooling", 3, 8, 2, 4, 3, None),
        # DSA (main.py --dsa): one class per op of the strategy.
        ("dsa_d2_w8_instancenorm_avg_8x8x3", 2, 8, "instancenorm", "avgpooling", 3, 8, 6, 3, 2, "auto"),
    ]:
        if seeds == "auto":
            seeds = gen_dm.seeds_for_all_ops()
        torch.manual_seed(100 + len(cases))
        net = networks.ConvNet(ch, k, width, depth, "relu", norm, pool, (hw, hw))
        with torch.no_grad():
            for m in net.modules():
                if isinstance(m, torch.nn.GroupNorm):
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.uniform_(-0.3, 0.3)
        real = torch.randn(k * b, ch, hw, hw)
        syn = torch.randn(k * ipc, ch, hw, hw)
        arrays = {"real": fixture.arr(real), "syn": fixture.arr(syn)}
        arrays.update(params(net, "net."))
        loss, per, grad, draws = match(net, real, syn, k, b, ipc, seeds)
        for c, d in draws.items():
            for fld, v in d.items():
                arrays[f"draw.{c}.{fld}"] = fixture.arr(np.array([v]))
        arrays.update({"loss": fixture.arr(np.array(loss)), "class_dist": fixture.arr(np.array(per)),
                       "grad_syn": fixture.arr(grad)})
        # One inner step on the synthetic batch (labels class-major), as main.py's inner loop.
        lab = torch.arange(k).repeat_interleave(ipc)
        opt = torch.optim.SGD(net.parameters(), lr=0.01)
        net.train()
        inner_loss = torch.nn.CrossEntropyLoss()(net(syn), lab)
        opt.zero_grad()
        inner_loss.backward()
        opt.step()
        arrays["inner_loss"] = fixture.arr(np.array(inner_loss.item()))
        arrays.update(params(net, "after."))
        print(f"{name}: match loss {loss:.6g} per class {per}, inner loss {inner_loss.item():.6g}")
        cases.append({"name": name, "params": {"depth": depth, "width": width, "norm": norm, "pooling": pool,
                                               "classes": k, "batch_real": b, "ipc": ipc, "lr_net": 0.01,
                                               "dsa": gen_dm.STRATEGY if seeds is not None else ""},
                      "arrays": arrays})
    fixture.write("gm", "DatasetCondensation/main.py (update synthetic data; inner loop) with "
                  "DatasetCondensation/utils.py:match_loss/distance_wb (dis_metric 'ours') and networks.py:ConvNet",
                  GEN,
                  "match: sum over classes of match_loss(gw_syn, gw_real) and d/d image_syn, net.train(), no "
                  "augmentation or (dsa cases) DiffAugment with one seed per class for its real and syn batch "
                  "(draw.<c>.<Field>: the recorded draw as augment.Params values, see gen_dm.py); real/syn NCHW class-major. inner: one SGD step (lr_net 0.01, no momentum) on "
                  "all synthetic images with class-major labels; after.* are the weights after it, inner_loss "
                  "the loss before it. net.<i>/after.<i> index ConvNet.features; net.classifier.* the Linear "
                  "(weight [out, C*H*W] over PyTorch's NCHW flattening).", cases)


if __name__ == "__main__":
    main()
