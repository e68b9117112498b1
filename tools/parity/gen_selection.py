"""Parity fixtures for the selection baselines K-Center and Herding (testdata/kcenter.json,
testdata/herding.json).

The oracle holds no K-Center or Herding code (DC-Bench's loader only reads selections made
elsewhere), so the reference here is OUR OWN plain NumPy rendering, written from the
procedure as published, in float64:

- K-Center: DC-Bench appendix, Algorithm 1, per class: "randomly select P images from S_i
  as the centres for K-means", Lloyd steps under the L2 distance ("update C_i based on the L2
  distance in the embedding space") for at most K = max_iter steps, then "the nearest images
  using L2 distance" to the centres. The rendering pins what Algorithm 1 leaves open:
  * the initial centres are given (the test feeds the same positions to dcbench);
  * a point goes to its nearest centre, ties to the lowest centre index (np.argmin);
  * a step that changes no assignment ends the run (converged); after max_iter steps the
    points are assigned once more to the final centres;
  * a centre left without points takes, in increasing centre order, the point farthest from
    its own centre (distance of the assignment step, ties to the lowest point index) among
    points whose cluster keeps at least one point (scikit-learn's rule, made deterministic);
  * "nearest images": (centre, point) pairs in increasing squared distance (ties: lower
    centre, then lower point), each centre taking the first pair whose point is not taken,
    so the picks are distinct.
- Herding (Welling 2009, the selection baseline of the DC papers): per step t = 1..k, the
  unpicked row x minimising ||mu - (s + x)/t||^2 (mu the mean of all rows, s the sum of the
  rows picked), ties to the lowest index; the first pick is thus the row nearest the mean.

Random cases are drawn so that every decision has a clear margin (dcbench computes in
float32); the tie cases use small integers, exact in float32.
"""

import numpy as np

import fixture

GEN = "tools/parity/gen_selection.py"


def sqdist(x, c):
    return ((x[:, None, :] - c[None, :, :]) ** 2).sum(-1)


def margin(d):
    """Smallest relative gap between the best and second-best entry of each row."""
    if d.shape[1] < 2:
        return np.inf
    s = np.sort(d, axis=1)
    return float(np.min((s[:, 1] - s[:, 0]) / (np.abs(s[:, 1]) + 1e-12)))


def kmeans(x, init, max_iter):
    """Lloyd's algorithm as pinned in the module doc. Returns (centres, labels, steps,
    converged, relocations, smallest decision margin)."""
    n, k = x.shape[0], len(init)
    c = x[np.asarray(init)].copy()
    labels = None
    steps, relocs, marg = 0, 0, np.inf
    converged = False
    while True:
        d = sqdist(x, c)
        marg = min(marg, margin(d))
        new = np.argmin(d, axis=1)
        steps += 1
        if labels is not None and np.array_equal(new, labels):
            converged = True
            break
        labels = new
        own = d[np.arange(n), labels]
        counts = np.bincount(labels, minlength=k)
        order = sorted(range(n), key=lambda i: (-own[i], i))
        nxt = 0
        for j in range(k):
            if counts[j] > 0:
                continue
            while counts[labels[order[nxt]]] <= 1:
                nxt += 1
            i = order[nxt]
            nxt += 1
            counts[labels[i]] -= 1
            counts[j] += 1
            labels[i] = j
            relocs += 1
        c = np.stack([x[labels == j].mean(0) for j in range(k)])
        if steps == max_iter:
            d = sqdist(x, c)
            marg = min(marg, margin(d))
            labels = np.argmin(d, axis=1)
            break
    return c, labels, steps, converged, relocs, marg


def nearest_distinct(x, c):
    d = sqdist(x, c)
    pairs = sorted((d[i, j], j, i) for i in range(x.shape[0]) for j in range(c.shape[0]))
    out = [-1] * c.shape[0]
    taken = set()
    for _, j, i in pairs:
        if out[j] < 0 and i not in taken:
            out[j] = i
            taken.add(i)
    flat = np.sort(d.reshape(-1))
    gaps = np.diff(flat) / (np.abs(flat[1:]) + 1e-12)
    return out, float(gaps.min()) if len(gaps) else np.inf


def herd(x, k):
    mu = x.mean(0)
    s = np.zeros_like(mu)
    picks, marg = [], np.inf
    used = np.zeros(x.shape[0], bool)
    for t in range(1, k + 1):
        score = (((s[None, :] + x) / t - mu[None, :]) ** 2).sum(1)
        score[used] = np.inf
        i = int(np.argmin(score))
        rest = np.sort(score[~used])
        if len(rest) > 1:
            marg = min(marg, (rest[1] - rest[0]) / (abs(rest[1]) + 1e-12))
        used[i] = True
        picks.append(i)
        s += x[i]
    return picks, marg


def clustered(rng, n, dim, clusters, spread):
    means = spread * rng.standard_normal((clusters, dim))
    return means[rng.integers(0, clusters, n)] + rng.standard_normal((n, dim))


def kcenter_case(name, x, init, max_iter, check_margin=True):
    c, labels, steps, conv, relocs, marg = kmeans(x, init, max_iter)
    picks, pmarg = nearest_distinct(x, c)
    if check_margin:
        assert marg > 1e-4 and pmarg > 1e-5, (name, marg, pmarg)
    print(f"kcenter {name}: n={x.shape[0]} k={len(init)} steps={steps} converged={conv} "
          f"relocations={relocs} margin={marg:.2e}/{pmarg:.2e}")
    return {"name": name,
            "params": {"max_iter": max_iter, "steps": steps, "converged": int(conv), "relocations": relocs},
            "arrays": {"x": fixture.arr(x), "init": fixture.arr(np.asarray(init, float)),
                       "centres": fixture.arr(c), "assign": fixture.arr(labels.astype(float)),
                       "picks": fixture.arr(np.asarray(picks, float))}}


def herding_case(name, x, k, check_margin=True):
    picks, marg = herd(x, k)
    if check_margin:
        assert marg > 1e-5, (name, marg)
    print(f"herding {name}: n={x.shape[0]} k={k} margin={marg:.2e} picks={picks}")
    return {"name": name, "params": {"k": k},
            "arrays": {"x": fixture.arr(x), "picks": fixture.arr(np.asarray(picks, float))}}


def main():
    rng = np.random.default_rng(20261207)
    kc = []
    for n, dim, k, cl, it in [(40, 8, 4, 3, 300), (60, 16, 6, 4, 300), (50, 3, 10, 10, 300),
                              (80, 32, 5, 2, 300), (60, 16, 6, 4, 2), (30, 4, 1, 2, 300)]:
        while True:
            x = clustered(rng, n, dim, cl, 0.8)
            init = [int(i) for i in rng.permutation(n)[:k]]
            try:
                kc.append(kcenter_case(f"random_n{n}_d{dim}_k{k}_iter{it}", x, init, it))
                break
            except AssertionError as e:
                print("redraw:", e)
    # Ties: points 0 and 1 coincide and both start as centres: point 0/1 go to centre 0
    # (lowest index), centre 1 is empty and takes the farthest point (9,9); the nearest-image
    # step then finds rows 0 and 1 equally near centre 0: row 0 (lowest index).
    x = np.array([[0, 0], [0, 0], [1, 0], [0, 1], [9, 9], [-1, 0]], float)
    kc.append(kcenter_case("ties_duplicate_seeds", x, [0, 1], 300, check_margin=False))
    # Two equally far candidates for the empty centre: the lower index wins.
    x = np.array([[0, 0], [0, 0], [4, 0], [-4, 0], [0, 1]], float)
    kc.append(kcenter_case("ties_relocation", x, [0, 1], 300, check_margin=False))
    # Nearest-image ties: each centre sits between two points at equal distance (integer
    # centres, so the distances are exact in float32 too).
    x = np.array([[0, 0], [2, 0], [10, 0], [12, 0], [11, 3], [11, -3]], float)
    kc.append(kcenter_case("ties_nearest", x, [0, 2], 300, check_margin=False))
    # Empty clusters after the first step (where dcbench's pruned steps keep only bounds on
    # the distances): the first cases of a fixed random search, on a 1/4 grid.
    srng = np.random.default_rng(5)
    late = 0
    while late < 3:
        n = int(srng.integers(8, 30))
        k = int(srng.integers(3, min(n, 12)))
        dim = int(srng.integers(1, 4))
        x = np.round(clustered(srng, n, dim, int(srng.integers(1, 4)), 1.5) * 4) / 4
        init = [int(i) for i in srng.permutation(n)[:k]]
        first = kmeans(x, init, 1)[4]
        _, _, _, _, relocs, marg = kmeans(x, init, 300)
        if relocs > first and marg > 1e-3:
            late += 1
            kc.append(kcenter_case(f"late_empty_cluster_{late}_n{n}_k{k}_d{dim}", x, init, 300, check_margin=False))
    fixture.write("kcenter", "tools/parity/gen_selection.py:kmeans+nearest_distinct (our NumPy rendering of "
                  "DC-Bench appendix Algorithm 1; the oracle has no K-Center code)", GEN,
                  "Per-class K-Center core: Lloyd k-means from the given initial centres (init: positions of "
                  "the rows), at most max_iter steps, then the distinct nearest row to each centre. OUR OWN "
                  "rendering of Algorithm 1, not reference code; ties and empty clusters pinned as in the "
                  "generator's doc. steps = assignment steps made (dcbench's Iterations).", kc)

    hd = []
    for n, dim, k in [(30, 8, 5), (60, 16, 10), (25, 2, 25), (100, 32, 20)]:
        while True:
            x = clustered(rng, n, dim, 3, 1.0)
            try:
                hd.append(herding_case(f"random_n{n}_d{dim}_k{k}", x, k))
                break
            except AssertionError as e:
                print("redraw:", e)
    # Ties: mean 0; first pick between +-e1 (row 0 wins), then the opposite row brings the
    # mean back to 0, then +-2e2 tie again (row 2 wins).
    x = np.array([[1, 0], [-1, 0], [0, 2], [0, -2]], float)
    hd.append(herding_case("ties_symmetric", x, 4, check_margin=False))
    x = np.array([[5, 1], [1, 1], [1, 1], [3, 1]], float)  # duplicates: row 1 before row 2
    hd.append(herding_case("ties_duplicates", x, 4, check_margin=False))
    fixture.write("herding", "tools/parity/gen_selection.py:herd (our NumPy rendering of herding as in Welling "
                  "2009 / the DC papers' baseline; the oracle has no Herding code)", GEN,
                  "Greedy herding on the given rows: step t picks the unpicked row minimising "
                  "||mean(all) - (sum picked + x)/t||^2, ties to the lowest index (the first pick is the row "
                  "nearest the mean). OUR OWN rendering, not reference code.", hd)


if __name__ == "__main__":
    main()
