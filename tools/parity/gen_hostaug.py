"""Parity fixtures of the host (torchvision) augmentation ops that DC-Bench's evaluator uses
(dcbench-evaluator_utils.py:custom_aug: RandAugment(num_ops=1), AutoAugment(CIFAR10),
ImageNet-style ColorJitter/flip): each op of torchvision's RandAugment/AutoAugment space at fixed
magnitudes (torchvision.transforms.autoaugment._apply_op, nearest interpolation, zero fill) and
the ColorJitter adjustments (adjust_brightness/contrast/saturation/hue), on a uint8 image as the
evaluator runs them (the images are made uint8 before the transforms).

Writes dcbench/internal/parity/testdata/hostaug.json. Run:
    nice -n 19 /usr/bin/python3 tools/parity/gen_hostaug.py
"""

import torch
import torchvision
import torchvision.transforms.functional as F
from torchvision.transforms import InterpolationMode
from torchvision.transforms.autoaugment import _apply_op

import fixture

torch.set_num_threads(1)

# (op, magnitude): magnitudes of bin 9 of 31 (RandAugment's default), both signs where signed,
# and a few others.
OPS = [
    ("Identity", 0.0), ("ShearX", 0.09), ("ShearX", -0.09), ("ShearY", 0.09), ("ShearY", -0.3),
    ("TranslateX", 4.35), ("TranslateX", -4.35), ("TranslateY", 4.35), ("TranslateY", -14.5),
    ("Rotate", 9.0), ("Rotate", -9.0), ("Rotate", 30.0),
    ("Brightness", 0.27), ("Brightness", -0.27), ("Color", 0.27), ("Color", -0.9),
    ("Contrast", 0.27), ("Contrast", -0.27), ("Sharpness", 0.27), ("Sharpness", -0.9),
    ("Posterize", 7.0), ("Posterize", 4.0), ("Solarize", 181.0), ("Solarize", 0.0),
    ("AutoContrast", 0.0), ("Equalize", 0.0), ("Invert", 0.0),
]
JITTER = [("adjust_hue", 0.1), ("adjust_hue", -0.2), ("adjust_brightness", 1.3), ("adjust_contrast", 0.7),
          ("adjust_saturation", 1.4), ("hflip", 0.0)]


def main():
    g = torch.Generator().manual_seed(5)
    # A natural-ish image: smooth gradients plus noise, with saturated corners.
    base = torch.rand(3, 32, 32, generator=g) * 80
    ramp = torch.linspace(0, 175, 32)
    img = (base + ramp[None, :, None] * torch.tensor([1.0, 0.6, 0.3])[:, None, None]
           + ramp[None, None, :] * torch.tensor([0.2, 0.5, 0.8])[:, None, None]).clamp(0, 255).to(torch.uint8)
    cases = []
    for op, m in OPS:
        out = _apply_op(img, op, m, interpolation=InterpolationMode.NEAREST, fill=None)
        cases.append({"name": f"{op}_{m:g}", "params": {"kind": "op", "op": op, "magnitude": m},
                      "arrays": {"x": fixture.arr(img), "out": fixture.arr(out)}})
    for fn, f in JITTER:
        out = F.hflip(img) if fn == "hflip" else getattr(F, fn)(img, f)
        cases.append({"name": f"{fn}_{f:g}", "params": {"kind": "jitter", "op": fn, "factor": f},
                      "arrays": {"x": fixture.arr(img), "out": fixture.arr(out)}})
    fixture.write("hostaug", "torchvision %s transforms.autoaugment._apply_op and transforms.functional "
                  "adjust_* / hflip, as called by dcbench-evaluator_utils.py:custom_aug" % torchvision.__version__,
                  "tools/parity/gen_hostaug.py",
                  "One uint8 3x32x32 image (CHW, values 0..255); each op at a fixed magnitude; outputs uint8.",
                  cases)


if __name__ == "__main__":
    main()
