"""Parity fixtures of DC's augmentation as DC-Bench's evaluator runs it
(dcbench-evaluator_utils.py:EvaluatorUtils.augment, the "DC augmentation" that get_daparam
turns on for MNIST, strategy crop_scale_rotate, when neither --dsa nor --aug is given; and
crop_noise, its ConvNetBN setting): per image one op drawn from the strategy, then crop (a
window of the image padded by the batch's channel means), scale (nearest F.interpolate to a
random size, zero canvas, centre crop), rotate (scipy.ndimage.rotate, cubic spline, reshape,
cval the mean of the channel means, centre crop) or noise (Gaussian).

The reference's random draws (NumPy's permutation/uniform/randint and torch.randn) are
recorded while it runs, so that dcbench can replay them. Writes
dcbench/internal/parity/testdata/dcaug.json. Run:
    nice -n 19 /usr/bin/python3 tools/parity/gen_dcaug.py
"""

import numpy as np
import torch

import fixture
from gen_train import evaluator_utils

torch.set_num_threads(1)

PARAMS = {"crop": 4, "scale": 0.2, "rotate": 45, "noise": 0.001}

# (name, strategy, n, channels, h, w, seed)
CASES = [
    ("mnist_crop_scale_rotate", "crop_scale_rotate", 8, 1, 28, 28, 1),
    ("cifar_crop_scale_rotate", "crop_scale_rotate", 4, 3, 32, 32, 2),
    ("crop_noise", "crop_noise", 6, 3, 16, 16, 3),
    ("rotate_only", "rotate", 6, 1, 28, 28, 4),
    ("scale_only", "scale", 6, 2, 20, 20, 5),
    ("crop_only_nonsquare", "crop", 4, 1, 12, 20, 6),
    ("scale_nonsquare", "scale", 6, 1, 12, 20, 7),
    ("rotate_nonsquare", "rotate", 6, 1, 12, 20, 8),
]


class Recorder:
    """Wraps the NumPy and torch draws the reference makes, in order."""

    def __init__(self):
        self.calls = []

    def __enter__(self):
        self.perm, self.unif, self.randint = np.random.permutation, np.random.uniform, np.random.randint
        self.randn = torch.randn
        rec = self

        def permutation(x):
            out = rec.perm(x)
            if isinstance(x, (int, np.integer)):
                rec.calls.append(("int", int(out[0])))
            else:
                rec.calls.append(("op", str(out[0])))
            return out

        def uniform(lo, hi):
            out = rec.unif(lo, hi)
            rec.calls.append(("uniform", float(out)))
            return out

        def randint(lo, hi):
            out = rec.randint(lo, hi)
            rec.calls.append(("randint", int(out)))
            return out

        def randn(*a, **k):
            out = rec.randn(*a, **k)
            rec.calls.append(("randn", out.clone()))
            return out

        np.random.permutation, np.random.uniform, np.random.randint = permutation, uniform, randint
        torch.randn = randn
        return self

    def __exit__(self, *exc):
        np.random.permutation, np.random.uniform, np.random.randint = self.perm, self.unif, self.randint
        torch.randn = self.randn


def images(seed, n, c, h, w):
    """Normalised-looking images: smooth shapes plus noise, values about -1..3."""
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.linspace(-1, 1, h), torch.linspace(-1, 1, w), indexing="ij")
    out = torch.empty(n, c, h, w)
    for i in range(n):
        for k in range(c):
            a, b, r = (torch.rand(3, generator=g) * 2 - 1).tolist()
            blob = torch.exp(-((yy - a * 0.5) ** 2 + (xx - b * 0.5) ** 2) / (0.1 + 0.3 * abs(r)))
            out[i, k] = 3 * blob - 0.5 + 0.2 * torch.randn(h, w, generator=g) + 0.3 * yy * r
    return out


def main():
    ev, _ = evaluator_utils()
    cases = []
    for name, strategy, n, c, h, w, seed in CASES:
        x = images(100 + seed, n, c, h, w)
        param = dict(PARAMS, strategy=strategy)
        np.random.seed(seed)
        torch.manual_seed(seed)
        with Recorder() as rec:
            out = ev.EvaluatorUtils.augment(x.clone(), param, device="cpu")
        # Per image: the op (index into the strategy's ops) and its two draws; noise separately.
        ops = strategy.split("_")
        draws, noise, k = [], [], 0
        calls = rec.calls
        for i in range(n):
            kind, op = calls[k]
            assert kind == "op", calls[k]
            k += 1
            a = b = 0.0
            if op in ("crop", "scale"):
                a, b = calls[k][1], calls[k + 1][1]
                k += 2
            elif op == "rotate":
                a = calls[k][1]
                k += 1
            elif op == "noise":
                noise.append(calls[k][1])
                k += 1
            draws.append([ops.index(op), a, b])
        assert k == len(calls), (k, len(calls))
        arrays = {"x": fixture.arr(x), "out": fixture.arr(out), "draws": fixture.arr(np.array(draws, dtype=np.float64).reshape(n, 3))}
        if noise:
            arrays["noise"] = fixture.arr(torch.stack(noise))
        cases.append({"name": name, "params": dict(param), "arrays": arrays})
        print(name, "ops", [ops[int(d[0])] for d in draws])
    fixture.write("dcaug", "dcbench-evaluator_utils.py:EvaluatorUtils.augment (DC augmentation, get_daparam's "
                  "crop 4, scale 0.2, rotate 45, noise 0.001); scipy %s ndimage.rotate, torch %s F.interpolate"
                  % (__import__("scipy").__version__, torch.__version__),
                  "tools/parity/gen_dcaug.py",
                  "Batches NCHW float32 (normalised-looking values). draws: per image [op index in the strategy, "
                  "a, b]: crop a, b = the window's row and column offsets; scale a, b = the uniform factors of "
                  "height and width; rotate a = the angle in degrees. noise: the torch.randn draws of the noise "
                  "images, in order. out: the reference's output, float32.",
                  cases)


if __name__ == "__main__":
    main()
