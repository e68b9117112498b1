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

With DSA (main_DM.py with --dsa: DiffAugment(img_real, strategy, seed=seed) and
DiffAugment(img_syn, strategy, seed=seed) with the same seed, i.e. one siamese draw shared by
the class's real and synthetic batch), the draws are recorded (torch.rand/randint wrapped) and
written per class as dcbench augment.Params values (draw.<c>.<Field>, element 0: the reference
copies sample 0's draw to the batch), so the Go test replays them. Harness change (not of the
reference's code): torch.float is made float64 so that rand_scale/rand_rotate build theta in
float64. The generator checks that real and synthetic batches got the same draw.
"""

import numpy as np
import torch

import fixture

fixture.oracle_path()
import networks  # noqa: E402  (the patched oracle copy)

GEN = "tools/parity/gen_dm.py"
STRATEGY = "color_crop_cutout_flip_scale_rotate"  # main_DM.py's default dsa_strategy

RECORD = []  # (augment function, draw) in call order
CURRENT = [None]
_rand, _randint = torch.rand, torch.randint


def _rec(fn):
    def w(*a, **k):
        out = fn(*a, **k)
        RECORD.append((CURRENT[0], out.clone()))
        return out
    return w


def _wrap(fn):
    def w(x, param):
        CURRENT[0] = fn.__name__
        try:
            return fn(x, param)
        finally:
            CURRENT[0] = None
    return w


def install_recorder():
    import utils
    torch.rand, torch.randint = _rec(_rand), _rec(_randint)
    torch.float = torch.float64
    for key in utils.AUGMENT_FNS:
        utils.AUGMENT_FNS[key] = [_wrap(f) for f in utils.AUGMENT_FNS[key]]
    return utils


def draws_as_params():
    """The recorded draws (element 0) as dcbench augment.Params field values."""
    p, by_fn = {}, {}
    for fn, d in RECORD:
        by_fn.setdefault(fn, []).append(float(d.reshape(-1)[0]))
    for fn, ds in by_fn.items():
        if fn is None:
            p["op_index"] = ds[0]
        elif fn == "rand_brightness":
            p["Brightness"] = ds[0] - 0.5
        elif fn == "rand_saturation":
            p["Saturation"] = ds[0] * 2.0
        elif fn == "rand_contrast":
            p["Contrast"] = ds[0] + 0.5
        elif fn == "rand_crop":  # translation_x moves rows (dim 2), translation_y columns
            p["CropY"], p["CropX"] = ds[0], ds[1]
        elif fn == "rand_cutout":
            p["CutoutY"], p["CutoutX"] = ds[0], ds[1]
        elif fn == "rand_flip":
            p["Flip"] = 1.0 if ds[0] < 0.5 else 0.0
        elif fn == "rand_scale":
            r = 1.2
            p["ScaleX"], p["ScaleY"] = ds[0] * (r - 1 / r) + 1 / r, ds[1] * (r - 1 / r) + 1 / r
        elif fn == "rand_rotate":
            p["Rotate"] = (ds[0] - 0.5) * 2 * 15.0 / 180 * float(torch.pi)
    return p


def seeds_for_all_ops():
    """The smallest seeds whose DiffAugment op choice (aug_mode 'S') covers every op of
    STRATEGY once, in the order found."""
    seeds, found, cand = [], set(), 0
    n = len(STRATEGY.split("_"))
    while len(found) < n:
        cand += 1
        torch.random.manual_seed(cand)
        op = int(_randint(0, n, size=(1,)).item())
        if op not in found:
            found.add(op)
            seeds.append(cand)
    return seeds


def augment_pair(utils, real, syn, seed):
    """main_DM.py's two DiffAugment calls with one seed; returns the augmented batches and the
    shared draw as Params values."""
    param = utils.ParamDiffAug()
    RECORD.clear()
    r = utils.DiffAugment(real, STRATEGY, seed=seed, param=param)
    dr = draws_as_params()
    RECORD.clear()
    s = utils.DiffAugment(syn, STRATEGY, seed=seed, param=param)
    ds = draws_as_params()
    assert dr == ds, ("real and synthetic batches got different draws", dr, ds)
    return r, s, dr


def params(net):
    out = {}
    for name, p in net.state_dict().items():
        if name.startswith("features."):
            out["net." + name[len("features."):]] = fixture.arr(p)
    return out


def dm_loss(net, real, syn, k, b, ipc, utils=None, seeds=None):
    net.train()
    embed = net.embed
    syn = syn.clone().requires_grad_(True)
    draws = {}
    reals, syns = [], []
    for c in range(k):
        img_real, img_syn = real[c * b:(c + 1) * b], syn[c * ipc:(c + 1) * ipc]
        if seeds is not None:
            img_real, img_syn, draws[c] = augment_pair(utils, img_real, img_syn, seeds[c])
        reals.append(img_real)
        syns.append(img_syn)
    if any(isinstance(m, torch.nn.BatchNorm2d) for m in net.modules()):  # main_DM.py: "BN" in args.model
        out_r = embed(torch.cat(reals)).detach()
        out_s = embed(torch.cat(syns))
        loss = torch.sum((torch.mean(out_r.reshape(k, b, -1), dim=1) - torch.mean(out_s.reshape(k, ipc, -1), dim=1)) ** 2)
    else:
        loss = torch.tensor(0.0)
        for c in range(k):
            out_r = embed(reals[c]).detach()
            out_s = embed(syns[c])
            loss = loss + torch.sum((torch.mean(out_r, dim=0) - torch.mean(out_s, dim=0)) ** 2)
    loss.backward()
    return loss.item(), syn.grad, draws


def main():
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)
    utils = install_recorder()
    cases = []
    for name, depth, width, norm, pool, ch, hw, k, b, ipc, seeds in [
        ("d1_w8_instancenorm_avg_8x8x3", 1, 8, "instancenorm", "avgpooling", 3, 8, 2, 3, 2, None),
        ("d2_w8_instancenorm_max_8x8x3", 2, 8, "instancenorm", "maxpooling", 3, 8, 3, 4, 1, None),
        ("d2_w16_batchnorm_avg_8x8x3", 2, 16, "batchnorm", "avgpooling", 3, 8, 2, 4, 2, None),
        ("d2_w8_none_avg_8x8x1", 2, 8, "none", "avgpooling", 1, 8, 2, 3, 2, None),
        # With DSA: seeds chosen so that the classes' draws cover all six ops.
        ("dsa_d2_w8_instancenorm_avg_8x8x3", 2, 8, "instancenorm", "avgpooling", 3, 8, 6, 3, 2, "auto"),
        ("dsa_d2_w16_batchnorm_avg_8x8x3", 2, 16, "batchnorm", "avgpooling", 3, 8, 3, 4, 2, [11, 12, 13]),
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
        if seeds == "auto":
            seeds = seeds_for_all_ops()
            torch.manual_seed(1000 + len(cases))
            real = torch.randn(k * b, ch, hw, hw)
            syn = torch.randn(k * ipc, ch, hw, hw)
        loss, grad, draws = dm_loss(net, real, syn, k, b, ipc, utils, seeds)
        print(f"{name}: loss {loss:.6g}, draws {draws}")
        arrays = {"real": fixture.arr(real), "syn": fixture.arr(syn), "loss": fixture.arr(np.array(loss)),
                  "grad_syn": fixture.arr(grad)}
        arrays.update(params(net))
        for c, d in draws.items():
            for f, v in d.items():
                arrays[f"draw.{c}.{f}"] = fixture.arr(np.array([v]))
        cases.append({"name": name, "params": {"depth": depth, "width": width, "norm": norm, "pooling": pool,
                                               "classes": k, "batch_real": b, "ipc": ipc,
                                               "dsa": STRATEGY if seeds is not None else ""},
                      "arrays": arrays})
    fixture.write("dm", "DatasetCondensation/main_DM.py (outer-loop body: loss and loss.backward) with "
                  "DatasetCondensation/networks.py:ConvNet.embed", GEN,
                  "DM loss sum_c ||mean embed(real_c) - mean embed(syn_c)||^2 and d loss / d image_syn, "
                  "net.train(); no augmentation, or (dsa cases) DiffAugment with main_DM.py's default strategy, "
                  "one seed per class shared by real and syn (draw.<c>.<Field>: the recorded draw as dcbench "
                  "augment.Params values, op_index indexing the strategy); real/syn NCHW class-major (b real, ipc syn per class); "
                  "net.<i>.weight/bias are the entries of ConvNet.features (conv OIHW, norm affine).", cases)


if __name__ == "__main__":
    main()
