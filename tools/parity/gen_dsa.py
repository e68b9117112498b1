"""Parity fixtures of DSA (DatasetCondensation/utils.py:DiffAugment and its rand_* ops, with
ParamDiffAug's settings): every op alone and the default strategy, per sample (seed=-1) and
siamese (seed>=0: one draw shared by the batch), in float64, with the random draws recorded so
that the Go test replays them on dcbench's augment.DSA, and the gradient of <out, v> w.r.t. x.

Writes dcbench/internal/parity/testdata/dsa_ops.json and dsa_diffaugment.json. Run:
    nice -n 19 /usr/bin/python3 tools/parity/gen_dsa.py

Harness changes around the reference (not of its code): torch.float is made torch.float64 so
that rand_scale/rand_rotate build theta in float64 (the reference builds it in float32), and
torch.rand/torch.randint are wrapped to record their outputs (cloned before the siamese copy).
"""

import torch

import fixture

fixture.oracle_path()
import utils  # noqa: E402

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)
torch.float = torch.float64

RECORD = []  # (function, draw) in call order
CURRENT = [None]
_rand, _randint = torch.rand, torch.randint


def rec_rand(*a, **k):
    out = _rand(*a, **k)
    RECORD.append((CURRENT[0], out.clone()))
    return out


def rec_randint(*a, **k):
    out = _randint(*a, **k)
    RECORD.append((CURRENT[0], out.clone()))
    return out


torch.rand, torch.randint = rec_rand, rec_randint


def wrap(fn):
    def w(x, param):
        CURRENT[0] = fn.__name__
        try:
            return fn(x, param)
        finally:
            CURRENT[0] = None
    return w


for key in utils.AUGMENT_FNS:
    utils.AUGMENT_FNS[key] = [wrap(f) for f in utils.AUGMENT_FNS[key]]

OPS = ["color", "crop", "cutout", "flip", "scale", "rotate"]


def draws_as_params(n):
    """The recorded draws as dcbench's per-sample parameters (Go field names), [n] each."""
    p = {}
    by_fn = {}
    for fn, d in RECORD:
        by_fn.setdefault(fn, []).append(d.reshape(-1))
    for fn, ds in by_fn.items():
        if fn is None:
            p["op_index"] = ds[0][:1]
        elif fn == "rand_brightness":
            p["Brightness"] = (ds[0] - 0.5) * 1.0
        elif fn == "rand_saturation":
            p["Saturation"] = ds[0] * 2.0
        elif fn == "rand_contrast":
            p["Contrast"] = ds[0] + 0.5
        elif fn == "rand_crop":  # translation_x moves rows (dim 2), translation_y columns
            p["CropY"], p["CropX"] = ds[0], ds[1]
        elif fn == "rand_cutout":
            p["CutoutY"], p["CutoutX"] = ds[0], ds[1]
        elif fn == "rand_flip":
            p["Flip"] = (ds[0] < 0.5).double()
        elif fn == "rand_scale":
            r = 1.2
            p["ScaleX"], p["ScaleY"] = ds[0] * (r - 1 / r) + 1 / r, ds[1] * (r - 1 / r) + 1 / r
        elif fn == "rand_rotate":
            p["Rotate"] = (ds[0] - 0.5) * 2 * 15.0 / 180 * float(torch.pi)
        for k, v in p.items():
            assert v.numel() in (1, n), (fn, k, v.shape)
    return {"draw." + k: fixture.arr(v.double()) for k, v in p.items()}


def case(name, x, strategy, seed, torch_seed, aug_mode="S"):
    param = utils.ParamDiffAug()
    param.aug_mode = aug_mode
    RECORD.clear()
    torch.manual_seed(torch_seed)
    x = x.clone().requires_grad_(True)
    out = utils.DiffAugment(x, strategy, seed=seed, param=param)
    g = torch.Generator().manual_seed(torch_seed + 1)
    v = torch.round(torch.randn(out.shape, generator=g) * 16) / 16
    (grad,) = torch.autograd.grad((out * v).sum(), x)
    arrays = {"x": fixture.arr(x), "out": fixture.arr(out), "v": fixture.arr(v), "grad_x": fixture.arr(grad)}
    arrays.update(draws_as_params(x.shape[0]))
    return {"name": name, "params": {"strategy": strategy, "seed": seed, "siamese": seed != -1, "aug_mode": aug_mode},
            "arrays": arrays}


def images(seed, n, c, s):
    g = torch.Generator().manual_seed(seed)
    return torch.round(torch.randn(n, c, s, s, generator=g) * 64) / 64


def main():
    cases = []
    for i, op in enumerate(OPS):
        x = images(i, 3, 3, 16)
        cases.append(case(f"{op}_per_sample", x, op, -1, 100 + i))
        cases.append(case(f"{op}_siamese", x, op, 7 + i, 200 + i))
    for i, op in enumerate(["crop", "cutout", "scale", "rotate"]):
        x = images(50 + i, 2, 1, 28)
        cases.append(case(f"{op}_mnist28_per_sample", x, op, -1, 300 + i))
    fixture.write("dsa_ops", "DatasetCondensation/utils.py:DiffAugment, rand_brightness, rand_saturation, "
                  "rand_contrast, rand_crop, rand_cutout, rand_flip, rand_scale, rand_rotate (ParamDiffAug)",
                  "tools/parity/gen_dsa.py",
                  "Each op alone (strategy = its name, aug_mode 'S') on NCHW float64 images (1/64 grid), "
                  "3x3x16x16 and MNIST-sized 2x1x28x28; seed=-1 draws per sample, seed>=0 is siamese "
                  "(the reference copies sample 0's draw to all). draw.*: the recorded draws as dcbench "
                  "Params (before the siamese copy: the test replays element 0 as a batch-1 draw). "
                  "grad_x = d<out, v>/dx. Harness: torch.float -> float64 (theta of scale/rotate), "
                  "torch.rand/randint recorded.", cases)
    cases = []
    for i in range(6):
        x = images(400 + i, 3, 3, 16)
        seed = -1 if i % 2 == 0 else 20 + i
        cases.append(case(f"default_{i}_{'siamese' if seed >= 0 else 'per_sample'}", x,
                          "color_crop_cutout_flip_scale_rotate", seed, 500 + i))
    # aug_mode 'M' (every op in turn, the original DiffAugment), per sample and siamese.
    for i, seed in enumerate([-1, 31]):
        x = images(800 + i, 3, 3, 16)
        cases.append(case(f"all_ops_in_turn_{'siamese' if seed >= 0 else 'per_sample'}", x,
                          "color_crop_cutout_flip_scale_rotate", seed, 900 + i, aug_mode="M"))
    # Non-square images: where align_corners matters for scale and rotate.
    for i, op in enumerate(["scale", "rotate", "crop", "cutout"]):
        g = torch.Generator().manual_seed(600 + i)
        x = torch.round(torch.randn(2, 3, 12, 20, generator=g) * 64) / 64
        cases.append(case(f"{op}_12x20_per_sample", x, op, -1, 700 + i))
    fixture.write("dsa_diffaugment", "DatasetCondensation/utils.py:DiffAugment (ParamDiffAug, aug_mode 'S')",
                  "tools/parity/gen_dsa.py",
                  "DiffAugment with the default strategy color_crop_cutout_flip_scale_rotate: one op drawn per "
                  "call (draw.op_index indexes the strategy), per sample and siamese; aug_mode 'M' (all ops in turn); and scale, rotate, crop, cutout "
                  "alone on non-square 2x3x12x20 images; see dsa_ops for the rest.",
                  cases)


if __name__ == "__main__":
    main()
