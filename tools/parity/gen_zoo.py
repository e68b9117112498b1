"""Parity fixtures of the other reference networks (DatasetCondensation/networks.py: MLP, LeNet,
AlexNet, AlexNetBN, VGG11, VGG11BN, ResNet18, ResNet18BN), the architectures of the
transferability experiments: logits and embed in float64, train mode, for 2 images.

Their weights are too many to commit, so weights and images are given by a formula both sides
compute exactly: entry k of the state_dict (in order), flat index j (PyTorch layout),
    value = offset + scale * (2 u(k, j) - 1),  u = splitmix64(k·2^32 + j) / 2^64 (top 53 bits)
with scale 1/sqrt(fan_in) for conv/linear weights and biases (PyTorch's init distribution), and
offset 1, scale 0.2 for norm weights, offset 0, scale 0.1 for norm biases; the NCHW images are
2 (2 u(1000003, j) - 1). (A smooth formula such as a sine made the deep networks ill-conditioned:
1e-15 input noise moved ResNet50's logits by 1e-7.) Each entry also names dcbench's variable and
the layout conversion.

Writes dcbench/internal/parity/testdata/zoo.json. Run:
    nice -n 19 /usr/bin/python3 tools/parity/gen_zoo.py
"""

import math

import numpy as np
import torch

import fixture

fixture.oracle_path()
import networks  # noqa: E402

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)


def uniform(key, n):
    """n uniforms in [0, 1): splitmix64 of key·2^32 + j, top 53 bits (exact integer arithmetic,
    so Go computes the very same numbers)."""
    with np.errstate(over="ignore"):
        z = np.arange(n, dtype=np.uint64) + np.uint64(key << 32) + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return torch.from_numpy((z >> np.uint64(11)).astype(np.float64) * 2.0 ** -53)


def formula(k, n, offset, scale):
    return offset + scale * (2 * uniform(k, n) - 1)


def image(shape):
    return (2 * uniform(1000003, math.prod(shape)) - 1).reshape(shape) * 2


def mapping(model, net, channel, size):
    """Reference state_dict name -> (dcbench scope/var, conversion) for the model."""
    out = {}
    convs = [n for n, m in net.named_modules() if isinstance(m, torch.nn.Conv2d)]
    norms = [n for n, m in net.named_modules() if isinstance(m, (torch.nn.GroupNorm, torch.nn.BatchNorm2d))]
    linears = [n for n, m in net.named_modules() if isinstance(m, torch.nn.Linear)]

    def conv(ref, ours):
        out[ref + ".weight"] = (ours + "/weights", "conv")
        out[ref + ".bias"] = (ours + "/biases", "vec")

    def norm(ref, ours):
        out[ref + ".weight"] = (ours + "/gain", "vec")
        out[ref + ".bias"] = (ours + "/offset", "vec")

    def linear(ref, ours, chw=None):
        out[ref + ".weight"] = (ours + "/weights", "linear" if chw is None else "linear_chw:%d,%d,%d" % chw)
        out[ref + ".bias"] = (ours + "/biases", "vec")

    if model == "mlp":
        linear("fc_1", "fc1", (channel, size, size))
        linear("fc_2", "fc2")
        linear("fc_3", "classifier")
    elif model == "lenet":
        conv(convs[0], "conv1")
        conv(convs[1], "conv2")
        linear("fc_1", "fc1", (16, 5, 5))
        linear("fc_2", "fc2")
        linear("fc_3", "classifier")
    elif model.startswith("alexnet"):
        for i, c in enumerate(convs):
            conv(c, f"conv{i}")
        for i, n in enumerate(norms):
            norm(n, f"norm{i}")
        linear("fc", "classifier", (192, 4, 4))
    elif model.startswith("vgg11"):
        cfg = networks.cfg_vgg["VGG11"]
        ics = [ic for ic, v in enumerate(cfg) if v != "M"]
        for c, n, ic in zip(convs, norms, ics):
            conv(c, f"conv{ic}")
            norm(n, f"norm{ic}")
        linear("classifier", "classifier")
    elif model.startswith("resnet"):
        for name in convs + norms:
            ours = name.replace("bn", "norm").replace("shortcut.0", "shortcut_conv").replace("shortcut.1", "shortcut_norm")
            parts = ours.split(".")
            if parts[0].startswith("layer"):
                ours = f"{parts[0]}/block{parts[1]}/" + "/".join(parts[2:])
            if name in convs:
                out[name + ".weight"] = (ours + "/weights", "conv")
            else:
                norm(name, ours)
        linear("classifier", "classifier")
    assert not (set(linears) - {n.rsplit(".", 1)[0] for n in out if n.endswith(".weight")} - set()), linears
    return out


MODELS = [("mlp", "MLP"), ("lenet", "LeNet"), ("alexnet", "AlexNet"), ("alexnetbn", "AlexNetBN"),
          ("vgg11", "VGG11"), ("vgg11bn", "VGG11BN"), ("resnet18", "ResNet18"), ("resnet18bn", "ResNet18BN"),
          ("resnet50", "ResNet50")]  # ResNet50: the Bottleneck blocks of ResNet152 at a third of the cost


def main():
    cases = []
    for model, ref in MODELS:
        for channel, size in [(3, 32), (1, 28)]:
            if model.startswith("resnet") and channel == 1:
                continue  # 28x28 works the same way; keep the fixture small and the test quick
            classes = 10
            net = getattr(networks, ref)(channel=channel, num_classes=classes)
            m = mapping(model, net, channel, size)
            entries = []
            with torch.no_grad():
                for k, (name, p) in enumerate(net.state_dict().items()):
                    if name.endswith(("running_mean", "running_var", "num_batches_tracked")):
                        continue
                    if name not in m:
                        raise SystemExit(f"{model}: no dcbench name for {name}")
                    if name.endswith(".weight") and p.dim() > 1:
                        offset, scale = 0.0, 1 / math.sqrt(p[0].numel())
                    elif name.endswith(".bias") and (name[:-5] + ".weight") in net.state_dict() and \
                            net.state_dict()[name[:-5] + ".weight"].dim() > 1:
                        offset, scale = 0.0, 1 / math.sqrt(net.state_dict()[name[:-5] + ".weight"][0].numel())
                    elif name.endswith(".weight"):
                        offset, scale = 1.0, 0.2
                    else:
                        offset, scale = 0.0, 0.1
                    p.copy_(formula(k, p.numel(), offset, scale).reshape(p.shape))
                    ours, conv = m[name]
                    entries.append({"ref": name, "var": ours, "convert": conv, "k": k, "offset": offset,
                                    "scale": scale, "shape": list(p.shape)})
                x = image((2, channel, size, size))
                net.train()
                logits = net(x)
                embed = net.embed(x) if hasattr(net, "embed") else None
            arrays = {"logits": fixture.arr(logits)}
            if embed is not None:
                arrays["embed"] = fixture.arr(embed)
            cases.append({"name": f"{model}_{size}x{size}x{channel}", "params": {
                "model": model, "reference": ref, "channel": channel, "size": size, "classes": classes,
                "entries": entries}, "arrays": arrays})
    fixture.write("zoo", "DatasetCondensation/networks.py:MLP, LeNet, AlexNet, AlexNetBN, VGG11, VGG11BN, "
                  "ResNet18, ResNet18BN, ResNet50 (forward, embed)", "tools/parity/gen_zoo.py",
                  "Train mode (batchnorm on batch statistics), 2 images, 10 classes. Weights and images by "
                  "formula (see the generator's doc): params.entries lists each state_dict entry with k, "
                  "offset, scale, shape (PyTorch layout), dcbench's variable and the layout conversion.",
                  cases)


if __name__ == "__main__":
    main()
