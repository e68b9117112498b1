"""Parity fixtures of evaluation training (DatasetCondensation/utils.py:evaluate_synset and
epoch): SGD (lr 0.01, momentum 0.9, weight decay 5e-4) from given ConvNet weights on given
images, in float64, and the learning-rate schedule step by step.

Writes dcbench/internal/parity/testdata/evaltrain.json. Run:
    nice -n 19 /usr/bin/python3 tools/parity/gen_train.py

Two changes of the harness around the reference functions (not of their code):
  * epoch() casts the batch with .float() (float32); for the float64 fixtures Tensor.float is
    made .double() while the reference runs.
  * torch.utils.data.DataLoader is replaced by a loader with the same semantics (a fresh
    random permutation per pass when shuffle=True, batches in order, the last one partial)
    that records the permutations, so that the Go test replays the same batches.
"""

import types

import torch

import fixture

fixture.oracle_path()
import networks  # noqa: E402
import utils  # noqa: E402

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)
torch.Tensor.float = torch.Tensor.double

PERMS = []


class RecordingLoader:
    def __init__(self, dataset, batch_size=1, shuffle=False, num_workers=0):
        self.x, self.y = dataset[:]  # utils.TensorDataset or torch's
        self.bs, self.shuffle = batch_size, shuffle

    def __iter__(self):
        n = self.y.shape[0]
        perm = torch.randperm(n) if self.shuffle else torch.arange(n)
        if self.shuffle:
            PERMS.append([int(i) for i in perm])
        for s in range(0, n, self.bs):
            idx = perm[s:s + self.bs]
            yield self.x[idx], self.y[idx]


torch.utils.data.DataLoader = RecordingLoader

STEPS = []  # (lr, fresh) of every optimizer step
_step = torch.optim.SGD.step


def recording_step(self, *a, **k):
    fresh = all(len(self.state[p]) == 0 for g in self.param_groups for p in g["params"])
    STEPS.append((self.param_groups[0]["lr"], fresh))
    return _step(self, *a, **k)


torch.optim.SGD.step = recording_step


def net_arrays(net, prefix):
    out = {}
    convs = [m for m in net.features if isinstance(m, torch.nn.Conv2d)]
    norms = [m for m in net.features if isinstance(m, (torch.nn.GroupNorm, torch.nn.BatchNorm2d))]
    for d, c in enumerate(convs):
        out[f"{prefix}conv{d}.weight"] = fixture.arr(c.weight)
        out[f"{prefix}conv{d}.bias"] = fixture.arr(c.bias)
    for d, m in enumerate(norms):
        out[f"{prefix}norm{d}.weight"] = fixture.arr(m.weight)
        out[f"{prefix}norm{d}.bias"] = fixture.arr(m.bias)
        if isinstance(m, torch.nn.BatchNorm2d):
            out[f"{prefix}norm{d}.running_mean"] = fixture.arr(m.running_mean)
            out[f"{prefix}norm{d}.running_var"] = fixture.arr(m.running_var)
    out[prefix + "classifier.weight"] = fixture.arr(net.classifier.weight)
    out[prefix + "classifier.bias"] = fixture.arr(net.classifier.bias)
    return out


def make_net(seed, norm, width=8, depth=2, classes=3):
    torch.manual_seed(seed)
    net = networks.ConvNet(channel=3, num_classes=classes, net_width=width, net_depth=depth,
                           net_act="relu", net_norm=norm, net_pooling="avgpooling", im_size=(32, 32))
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.round(p * 1024) / 1024)
    return net


def data(seed, n, classes):
    g = torch.Generator().manual_seed(seed)
    x = torch.round(torch.randn(n, 3, 32, 32, generator=g) * 64) / 64
    y = torch.arange(n) % classes
    return x, y


def args_for(epochs, batch):
    return types.SimpleNamespace(device="cpu", lr_net=0.01, epoch_eval_train=epochs, batch_train=batch,
                                 dsa=False, dc_aug_param=None)


def main():
    cases = []
    # 1. A few SGD steps of epoch('train') on one fixed batch, one optimizer throughout.
    for i, norm in enumerate(["instancenorm", "batchnorm"]):
        net = make_net(10 + i, norm)
        x, y = data(20 + i, 6, 3)
        arrays = {"x": fixture.arr(x), "y": fixture.arr(y)}
        arrays.update(net_arrays(net, "init."))
        opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=0.0005)
        crit = torch.nn.CrossEntropyLoss()
        loader = RecordingLoader(torch.utils.data.TensorDataset(x, y), batch_size=6, shuffle=False)
        losses = []
        for _ in range(4):
            loss, _ = utils.epoch("train", loader, net, opt, crit, args_for(0, 6), aug=True)
            losses.append(loss)
        arrays["losses"] = fixture.arr(torch.tensor(losses))
        arrays.update(net_arrays(net, "final."))
        cases.append({"name": f"sgd4_{norm}", "params": {"kind": "steps", "norm": norm, "steps": 4,
                                                         "lr": 0.01, "batch": 6}, "arrays": arrays})
    # 2. evaluate_synset end to end on 6 images, batch 4 (2 steps a pass, the last partial),
    # Epoch 4: 5 passes, lr x0.1 and a fresh optimizer after pass ep = Epoch//2+1 = 3.
    for i, (norm, epochs) in enumerate([("instancenorm", 4), ("batchnorm", 5)]):
        net = make_net(30 + i, norm)
        x, y = data(40 + i, 6, 3)
        arrays = {"x": fixture.arr(x), "y": fixture.arr(y)}
        arrays.update(net_arrays(net, "init."))
        PERMS.clear()
        STEPS.clear()
        torch.manual_seed(50 + i)
        test = RecordingLoader(torch.utils.data.TensorDataset(x, y), batch_size=6)
        net, _, _ = utils.evaluate_synset(0, net, x, y, test, args_for(epochs, 4))
        arrays.update(net_arrays(net, "final."))
        arrays["perms"] = fixture.arr(torch.tensor(PERMS))
        arrays["step_lr"] = fixture.arr(torch.tensor([s[0] for s in STEPS]))
        arrays["step_fresh"] = fixture.arr(torch.tensor([float(s[1]) for s in STEPS]))
        cases.append({"name": f"evaluate_synset_e{epochs}_{norm}", "params": {
            "kind": "evaluate_synset", "norm": norm, "epochs": epochs, "lr": 0.01, "batch": 4},
            "arrays": arrays})
    # 3. The schedule of the paper's settings (300 epochs without augmentation, 1000 with):
    # lr and optimizer freshness at every step, one step per pass (2 images, batch 256).
    for epochs in (300, 1000):
        net = make_net(60, "instancenorm", width=8, depth=1, classes=2)
        x, y = data(61, 2, 2)
        STEPS.clear()
        PERMS.clear()
        test = RecordingLoader(torch.utils.data.TensorDataset(x, y), batch_size=2)
        utils.evaluate_synset(0, net, x, y, test, args_for(epochs, 256))
        cases.append({"name": f"schedule_e{epochs}", "params": {"kind": "schedule", "epochs": epochs,
                                                                "lr": 0.01, "batch": 256},
                      "arrays": {"step_lr": fixture.arr(torch.tensor([s[0] for s in STEPS])),
                                 "step_fresh": fixture.arr(torch.tensor([float(s[1]) for s in STEPS]))}})
    fixture.write("evaltrain", "DatasetCondensation/utils.py:evaluate_synset, epoch",
                  "tools/parity/gen_train.py",
                  "ConvNet depth 2 width 8 (avgpooling, relu), 3 classes, 32x32x3 float64 images on a 1/64 grid, "
                  "weights on a 1/1024 grid. steps: epoch('train') 4 times on one batch of 6 with one "
                  "SGD(lr 0.01, momentum 0.9, wd 5e-4). evaluate_synset: full, with the recorded per-pass "
                  "permutations (perms) of the loader; step_lr/step_fresh: lr of every optimizer step and "
                  "whether the optimizer state was empty (a new optimizer). Harness: Tensor.float -> double, "
                  "DataLoader replaced by a recording loader with the same semantics.",
                  cases)


def evaluator_utils():
    """DC-Bench's evaluator utilities (dcbench-evaluator_utils.py) from a temporary copy with
    the scipy import of torch >= 1.13's scipy and stub data_loader modules (the data loaders
    are not part of the oracle and are not used here)."""
    import importlib.util
    import logging
    import os
    import sys
    src = open(os.path.join(fixture.ORACLE, "dcbench-evaluator_utils.py")).read()
    src = src.replace("scipy.ndimage.interpolation", "scipy.ndimage")
    path = os.path.join(fixture.oracle_path(), "dcbench_evaluator_utils.py")
    open(path, "w").write(src)
    pkg = types.ModuleType("data_loader")
    sys.modules["data_loader"] = pkg
    for mod, cls in [("dc", "DCDataLoader"), ("dm", "DMDataLoader"), ("dsa", "DSADataLoader"),
                     ("tm", "TMDataLoader"), ("kip", "KIPDataLoader"), ("random", "RandomDataLoader"),
                     ("kmeans", "KMeansDataLoader")]:
        m = types.ModuleType(f"data_loader.{mod}_data_loader")
        setattr(m, cls, type(cls, (), {}))
        sys.modules[m.__name__] = m
    spec = importlib.util.spec_from_file_location("dcbench_evaluator_utils", path)
    ev = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ev)
    logging.disable(logging.CRITICAL)
    return ev, logging


def main_evaluator():
    """DC-Bench's evaluate_synset with --optimizer adam and sgd: final weights, and lr and
    optimizer freshness at every step (Adam: lr 0.003 whatever lr_net, no weight decay, no
    decay, never re-created)."""
    ev, logging = evaluator_utils()
    cases = []
    for i, (opt, norm, epochs) in enumerate([("adam", "instancenorm", 4), ("adam", "batchnorm", 5),
                                              ("sgd", "instancenorm", 4)]):
        net = make_net(70 + i, norm)
        x, y = data(80 + i, 6, 3)
        arrays = {"x": fixture.arr(x), "y": fixture.arr(y)}
        arrays.update(net_arrays(net, "init."))
        PERMS.clear()
        STEPS.clear()
        ADAM_STEPS.clear()
        torch.manual_seed(90 + i)
        args = args_for(epochs, 4)
        args.optimizer, args.eval_gap, args.aug = opt, 1001, ""
        test = RecordingLoader(torch.utils.data.TensorDataset(x, y), batch_size=6)
        net, _, _ = ev.EvaluatorUtils.evaluate_synset(0, net, x, y, test, args, logging)
        arrays.update(net_arrays(net, "final."))
        arrays["perms"] = fixture.arr(torch.tensor(PERMS))
        steps = ADAM_STEPS if opt == "adam" else STEPS
        arrays["step_lr"] = fixture.arr(torch.tensor([s[0] for s in steps]))
        arrays["step_fresh"] = fixture.arr(torch.tensor([float(s[1]) for s in steps]))
        cases.append({"name": f"dcbench_{opt}_e{epochs}_{norm}", "params": {
            "kind": "evaluate_synset", "optimizer": opt, "norm": norm, "epochs": epochs, "lr_net": 0.01,
            "batch": 4}, "arrays": arrays})
    fixture.write("evaltrain_dcbench", "dcbench-evaluator_utils.py:EvaluatorUtils.evaluate_synset, epoch",
                  "tools/parity/gen_train.py",
                  "DC-Bench's evaluator with --optimizer adam / sgd (lr_net 0.01, no augmentation), ConvNet depth 2 "
                  "width 8 as evaltrain; perms: the recorded per-pass shuffles; step_lr/step_fresh as evaltrain. "
                  "Harness as evaltrain, plus stub data_loader modules and scipy.ndimage in a temporary copy.",
                  cases)


ADAM_STEPS = []
_adam_step = torch.optim.Adam.step


def recording_adam_step(self, *a, **k):
    fresh = all(len(self.state[p]) == 0 for g in self.param_groups for p in g["params"])
    ADAM_STEPS.append((self.param_groups[0]["lr"], fresh))
    return _adam_step(self, *a, **k)


torch.optim.Adam.step = recording_adam_step


if __name__ == "__main__":
    main()
    main_evaluator()
