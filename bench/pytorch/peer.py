#!/usr/bin/env python3
"""PyTorch peer of dcbench's CPU benchmarks (`dcbench peer`).

Our own PyTorch code of the same work dcbench times, written from the papers: ConvNet-3
(3 x [conv 3x3, 128 channels, instance norm as GroupNorm(128, 128), ReLU, 2x2 average
pool], then a linear layer), an SGD training step, one Distribution Matching iteration
(Zhao & Bilen 2023) and one gradient-matching (DC, Zhao et al. 2021) iteration, with
differentiable siamese augmentation (DSA, Zhao & Bilen 2021) where the method uses it.

Each call measures one row and prints one JSON line:
  {"row": ..., "side": "pytorch", "seconds": [per timed iteration], "peak_rss_mb": VmHWM,
   "threads": n, "torch": version}

Usage: python3 peer.py --row step|dm|dc [--iterations N] [--threads 2] [--seed 0]
Needs Debian's python3-torch (1.13); run with /usr/bin/python3.
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

CLASSES, H, W, C = 10, 32, 32, 3


class ConvNet3(nn.Module):
    """ConvNet-3 of the DC-Bench protocol, width 128, instance norm, average pooling."""

    def __init__(self, width=128, depth=3, classes=CLASSES):
        super().__init__()
        layers, ch, hw = [], C, H
        for _ in range(depth):
            layers += [nn.Conv2d(ch, width, 3, padding=1), nn.GroupNorm(width, width, affine=True),
                       nn.ReLU(inplace=True), nn.AvgPool2d(2)]
            ch, hw = width, hw // 2
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(width * hw * hw, classes)

    def embed(self, x):
        return self.features(x).flatten(1)

    def forward(self, x):
        return self.classifier(self.embed(x))


# --- DSA: one draw per class, applied to the real and the synthetic batch alike -----------

def dsa_params(gen, ratio_crop=0.125, ratio_cutout=0.5):
    """Draws the parameters of one siamese transformation (one draw for the whole batch)."""
    u = lambda lo, hi: float(lo + (hi - lo) * torch.rand((), generator=gen))
    return {
        "scale": (u(0.8, 1.2), u(0.8, 1.2)),
        "rotate": u(-15.0, 15.0) * math.pi / 180.0,
        "flip": bool(torch.rand((), generator=gen) < 0.5),
        "bright": u(-0.5, 0.5), "sat": u(0.0, 2.0), "contrast": u(0.5, 1.5),
        "shift": (int(torch.randint(-int(H * ratio_crop), int(H * ratio_crop) + 1, (), generator=gen)),
                  int(torch.randint(-int(W * ratio_crop), int(W * ratio_crop) + 1, (), generator=gen))),
        "cut": (int(torch.randint(0, H, (), generator=gen)), int(torch.randint(0, W, (), generator=gen)),
                int(H * ratio_cutout + 0.5), int(W * ratio_cutout + 0.5)),
    }


def dsa_apply(x, p):
    """color, crop, cutout, flip, scale, rotate (the default DSA strategy) on an NCHW batch."""
    n = x.shape[0]
    # colour: brightness, saturation, contrast
    x = x + p["bright"]
    m = x.mean(dim=1, keepdim=True)
    x = (x - m) * p["sat"] + m
    m = x.mean(dim=(1, 2, 3), keepdim=True)
    x = (x - m) * p["contrast"] + m
    # crop: translation with zero fill
    dy, dx = p["shift"]
    x = F.pad(x, (1, 1, 1, 1))
    iy = (torch.arange(H) + dy + 1).clamp(0, H + 1)
    ix = (torch.arange(W) + dx + 1).clamp(0, W + 1)
    x = x[:, :, iy][:, :, :, ix]
    # cutout: a zeroed square
    cy, cx, sh, sw = p["cut"]
    yy = torch.arange(H).view(H, 1)
    xx = torch.arange(W).view(1, W)
    keep = ~(((yy - cy).abs() <= sh // 2) & ((xx - cx).abs() <= sw // 2))
    x = x * keep.to(x.dtype)
    # flip
    if p["flip"]:
        x = x.flip(3)
    # scale, then rotate: affine resampling
    sx, sy = p["scale"]
    th = torch.tensor([[sx, 0.0, 0.0], [0.0, sy, 0.0]], dtype=x.dtype).expand(n, 2, 3)
    x = F.grid_sample(x, F.affine_grid(th, list(x.shape), align_corners=True), align_corners=True)
    a = p["rotate"]
    th = torch.tensor([[math.cos(a), math.sin(-a), 0.0], [math.sin(a), math.cos(a), 0.0]], dtype=x.dtype).expand(n, 2, 3)
    return F.grid_sample(x, F.affine_grid(th, list(x.shape), align_corners=True), align_corners=True)


# --- rows ----------------------------------------------------------------------------------

def row_step(gen, iterations, batch=256):
    net = ConvNet3()
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    x = torch.randn(batch, C, H, W, generator=gen)
    y = torch.randint(0, CLASSES, (batch,), generator=gen)

    def one():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
    return one


def fresh_net():
    net = ConvNet3()
    for p in net.parameters():
        p.requires_grad_(False)
    return net


def row_dm(gen, iterations, ipc=1, batch_real=256):
    real = torch.randn(CLASSES, batch_real, C, H, W, generator=gen)
    syn = torch.randn(CLASSES * ipc, C, H, W, generator=gen).requires_grad_(True)
    opt = torch.optim.SGD([syn], lr=1.0, momentum=0.5)

    def one():
        net = fresh_net()  # DM draws a new randomly initialised network every iteration
        loss = 0.0
        for c in range(CLASSES):
            p = dsa_params(gen)
            with torch.no_grad():
                fr = net.embed(dsa_apply(real[c], p)).mean(0)
            fs = net.embed(dsa_apply(syn[c * ipc:(c + 1) * ipc], p)).mean(0)
            loss = loss + ((fr - fs) ** 2).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return one


def layer_distance(gr, gs):
    """Gradient-matching distance of DC ('ours'): per output unit, 1 - cosine, summed; biases
    (rank-1 tensors) are left out."""
    if gr.dim() == 1:
        return 0.0
    a, b = gr.reshape(gr.shape[0], -1), gs.reshape(gs.shape[0], -1)
    return (1 - (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1) + 1e-6)).sum()


def row_dc(gen, iterations, ipc=1, batch_real=256):
    real = torch.randn(CLASSES, batch_real, C, H, W, generator=gen)
    syn = torch.randn(CLASSES * ipc, C, H, W, generator=gen).requires_grad_(True)
    opt = torch.optim.SGD([syn], lr=0.1, momentum=0.5)

    def one():
        net = ConvNet3()  # DC draws a new network every outer iteration
        params = list(net.parameters())
        loss = 0.0
        for c in range(CLASSES):
            yr = torch.full((batch_real,), c, dtype=torch.long)
            gr = torch.autograd.grad(F.cross_entropy(net(real[c]), yr), params)
            gr = [g.detach() for g in gr]
            ys = torch.full((ipc,), c, dtype=torch.long)
            gs = torch.autograd.grad(F.cross_entropy(net(syn[c * ipc:(c + 1) * ipc]), ys), params, create_graph=True)
            loss = loss + sum(layer_distance(a, b) for a, b in zip(gr, gs))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return one


ROWS = {"step": row_step, "dm": row_dm, "dc": row_dc}


def peak_rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--row", required=True, choices=sorted(ROWS))
    ap.add_argument("--iterations", type=int, default=3, help="timed iterations, after one warm-up")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed)
    one = ROWS[a.row](gen, a.iterations)
    one()  # warm-up
    secs = []
    for _ in range(a.iterations):
        t = time.perf_counter()
        one()
        secs.append(time.perf_counter() - t)
    print(json.dumps({"row": a.row, "side": "pytorch", "seconds": secs, "peak_rss_mb": peak_rss_mb(),
                      "threads": torch.get_num_threads(), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
