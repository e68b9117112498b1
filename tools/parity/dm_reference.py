"""Runs DM as the reference main_DM.py does (ConvNet, no batch norm branch) on a training set and
an initial synthetic set exported by dcbench, and saves the result as a dcbench set (.dcb) for
`dcbench eval --set`: the reference half of docs/parity.md's "DM side by side on CIFAR-10".

The oracle's own functions do the work (utils.get_network, ConvNet.embed, DiffAugment,
ParamDiffAug, from a patched temporary copy, see fixture.py); this script is the driver with
main_DM.py's settings: lr_img 1.0, SGD momentum 0.5 on the images, batch_real 256 per class,
DSA 'color_crop_cutout_flip_scale_rotate' with one seed per class shared by the real and the
synthetic batch, a freshly initialised ConvNet (net.train(), parameters frozen) each
iteration, loss sum_c ||mean embed(real_c) - mean embed(syn_c)||^2.

Where main_DM.py draws from the clock (get_network's torch seed, DiffAugment's seed) or from the
unseeded global NumPy generator (the real batches), this driver draws from generators seeded by
--seed, so a run can be repeated and resumed from its checkpoint (--checkpoint, saved every
--checkpoint-every iterations and at the end; an interrupted run restarts from it).

--real-no-grad embeds the real batches under torch.no_grad(): the same numbers as main_DM.py's
embed(img_real).detach() (the values do not depend on whether autograd records them), faster.

    /usr/bin/python3 tools/parity/dm_reference.py --train train.dcb --init init.dcb \
        --iterations 1000 --out ref.dcb --checkpoint ref.ckpt
"""

import argparse
import os
import random
import sys
import time
import types

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dcbset  # noqa: E402
import fixture  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--train", required=True, help="the real training set (a .dcb holding every training image, normalised)")
    ap.add_argument("--init", required=True, help="the initial synthetic set (.dcb, e.g. dcbench condense --method dm --param iterations=0)")
    ap.add_argument("--out", required=True, help="where to write the condensed set (.dcb)")
    ap.add_argument("--iterations", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lr-img", type=float, default=1.0)
    ap.add_argument("--batch-real", type=int, default=256)
    ap.add_argument("--dsa-strategy", default="color_crop_cutout_flip_scale_rotate")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--real-no-grad", action="store_true", help="embed the real batches under torch.no_grad() (same values, faster)")
    ap.add_argument("--checkpoint", default="", help="checkpoint file (resumed from when it exists)")
    ap.add_argument("--checkpoint-every", type=int, default=25)
    ap.add_argument("--snapshot", type=int, action="append", default=[],
                    help="also write the set after this many iterations (OUT with _itN before .dcb), repeatable")
    args = ap.parse_args()

    fixture.oracle_path()
    import utils  # the patched oracle's DatasetCondensation/utils.py

    if args.threads > 0:
        torch.set_num_threads(args.threads)

    th, timages, tlabels = dcbset.read(args.train)
    ih, iimages, ilabels = dcbset.read(args.init)
    if (th["h"], th["w"], th["c"]) != (ih["h"], ih["w"], ih["c"]):
        sys.exit(f"--train images are {th['h']}x{th['w']}x{th['c']}, --init {ih['h']}x{ih['w']}x{ih['c']}")
    if not (th.get("normalized") and ih.get("normalized")):
        sys.exit("both sets must hold normalised images (as dcbench saves them)")
    ncls = len(ih["classes"])
    ipc = len(ilabels) // ncls
    if list(ilabels) != [c for c in range(ncls) for _ in range(ipc)]:
        sys.exit("--init must be class-major with the same number of images per class")
    channel, im_size = th["c"], (th["h"], th["w"])

    images_all = torch.from_numpy(timages).permute(0, 3, 1, 2).contiguous()  # NCHW as the reference
    indices_class = [np.flatnonzero(tlabels == c) for c in range(ncls)]
    for c, idx in enumerate(indices_class):
        if len(idx) == 0:
            sys.exit(f"--train has no image of class {c}")

    # Generators standing in for main_DM.py's clock and unseeded NumPy draws.
    np_rng = np.random.RandomState(args.seed)
    seeds = random.Random(args.seed)
    clock = types.SimpleNamespace(time=lambda: seeds.randrange(100000) / 1000.0)

    image_syn = torch.from_numpy(iimages).permute(0, 3, 1, 2).contiguous().requires_grad_(True)
    optimizer = torch.optim.SGD([image_syn], lr=args.lr_img, momentum=0.5)
    dsa_param = utils.ParamDiffAug()
    start, losses, seconds = 0, [], 0.0

    if args.checkpoint and os.path.exists(args.checkpoint):
        ck = torch.load(args.checkpoint)
        image_syn.data.copy_(ck["image_syn"])
        optimizer.load_state_dict(ck["optimizer"])
        np_rng.set_state(ck["np_rng"])
        seeds.setstate(ck["seeds"])
        start, losses, seconds = ck["iteration"], ck["losses"], ck["seconds"]
        print(f"resumed from {args.checkpoint} at iteration {start}", flush=True)

    def save_checkpoint(it):
        if not args.checkpoint:
            return
        tmp = args.checkpoint + ".tmp"
        torch.save({"image_syn": image_syn.detach().clone(), "optimizer": optimizer.state_dict(),
                    "np_rng": np_rng.get_state(), "seeds": seeds.getstate(), "iteration": it,
                    "losses": losses, "seconds": seconds}, tmp)
        os.replace(tmp, args.checkpoint)

    def save_set(path, iterations):
        header = {k: ih[k] for k in ("ipc", "seed", "source", "dataset", "classes", "mean", "std", "normalized", "version") if k in ih}
        header.update(method="dm-reference", backend=f"pytorch {torch.__version__} cpu", seconds=seconds,
                      created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                      params={"iterations": str(iterations), "lr_img": str(args.lr_img), "momentum_img": "0.5",
                              "batch_real": str(args.batch_real), "dsa_strategy": args.dsa_strategy,
                              "driver": "tools/parity/dm_reference.py", "reference": "DatasetCondensation/main_DM.py",
                              "seed": str(args.seed), "init": os.path.basename(args.init)})
        dcbset.write(path, header, image_syn.detach().permute(0, 2, 3, 1).numpy(), ilabels)
        print(f"wrote {path}: {len(ilabels)} images after {iterations} iterations ({seconds:.0f} s)", flush=True)

    for it in range(start, args.iterations):
        t0 = time.time()
        utils.time = clock  # get_network seeds torch from time.time()
        net = utils.get_network("ConvNet", channel, ncls, im_size)
        utils.time = time
        net.train()
        for p in net.parameters():
            p.requires_grad = False
        loss = torch.tensor(0.0)
        for c in range(ncls):
            img_real = images_all[np_rng.permutation(indices_class[c])[: args.batch_real]]
            img_syn = image_syn[c * ipc:(c + 1) * ipc]
            if args.dsa_strategy not in ("none", "None"):
                seed = seeds.randrange(100000)
                img_real = utils.DiffAugment(img_real, args.dsa_strategy, seed=seed, param=dsa_param)
                img_syn = utils.DiffAugment(img_syn, args.dsa_strategy, seed=seed, param=dsa_param)
            if args.real_no_grad:
                with torch.no_grad():
                    output_real = net.embed(img_real)
            else:
                output_real = net.embed(img_real).detach()
            output_syn = net.embed(img_syn)
            loss = loss + torch.sum((output_real.mean(0) - output_syn.mean(0)) ** 2)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        seconds += time.time() - t0
        done = it + 1
        if done % 10 == 0 or done == args.iterations or it == start:
            print(f"iter {done}/{args.iterations} loss {np.mean(losses[-10:]) / ncls:.4f} "
                  f"({seconds / done:.2f} s/iter so far)", flush=True)
        if args.checkpoint_every > 0 and done % args.checkpoint_every == 0:
            save_checkpoint(done)
        if done in args.snapshot:
            save_set(args.out[: -len(".dcb")] + f"_it{done}.dcb" if args.out.endswith(".dcb") else f"{args.out}_it{done}", done)
    save_checkpoint(args.iterations)

    save_set(args.out, args.iterations)


if __name__ == "__main__":
    main()
