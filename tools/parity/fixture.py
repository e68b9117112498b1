"""Shared helpers of the parity generators: where the reference code is, and how a fixture is
written (the format dcbench/internal/parity reads).

The reference programs in ../shared/oracle are run as an oracle, never copied: the generators
import a patched *copy* of them made at run time in a temporary folder (the two edits the oracle
README names for torch >= 1.13), call their functions in float64 and record the numbers.
"""

import json
import os
import re
import shutil
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ORACLE = os.environ.get("DCBENCH_ORACLE", os.path.join(ROOT, "..", "shared", "oracle"))
OUT = os.path.join(ROOT, "dcbench", "internal", "parity", "testdata")

_patched = None


def oracle_path():
    """Returns a temporary folder holding DatasetCondensation/ and mtt/ of the oracle, with
    the two edits torch >= 1.13 needs, and puts its DatasetCondensation on sys.path."""
    global _patched
    if _patched is None:
        if not os.path.isdir(ORACLE):
            sys.exit(f"the oracle is not at {ORACLE} (set DCBENCH_ORACLE)")
        _patched = tempfile.mkdtemp(prefix="dcbench-oracle-")
        for sub in ("DatasetCondensation", "mtt"):
            shutil.copytree(os.path.join(ORACLE, sub), os.path.join(_patched, sub))
        utils = os.path.join(_patched, "DatasetCondensation", "utils.py")
        src = open(utils).read()
        src = src.replace("scipy.ndimage.interpolation", "scipy.ndimage")
        # Siamese assignments x[:] = x[0] need a clone on the right-hand side.
        src = re.sub(r"(\w+)\[:\] = (\w+)\[0\](?!\.clone)", r"\1[:] = \2[0].clone()", src)
        open(utils, "w").write(src)
        sys.path.insert(0, os.path.join(_patched, "DatasetCondensation"))
    return _patched


def arr(x):
    """An array (numpy or torch) as the fixture's {"shape", "data"} in float64."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().double().numpy()
    x = np.asarray(x, dtype=np.float64)
    return {"shape": list(x.shape), "data": [float(v) for v in x.reshape(-1)]}


def write(name, reference, generator, note, cases):
    """Writes testdata/<name>.json. cases: list of {"name", "params", "arrays"} with arrays
    already converted by arr()."""
    os.makedirs(OUT, exist_ok=True)
    doc = {"reference": reference, "generator": generator, "note": note, "cases": cases}
    path = os.path.join(OUT, name + ".json")
    with open(path, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes, {len(cases)} cases)")
