"""Reads and writes dcbench's condensed-set files (.dcb), the format documented at
dcbench.Set.Save: the 8 bytes "DCBSET01", a uint32 header length, the JSON header, n*h*w*c
float32 images (NHWC), n int32 labels and a CRC-32 of everything before it, all little-endian.
"""

import json
import os
import struct
import zlib

import numpy as np

MAGIC = b"DCBSET01"


def read(path):
    """Returns (header dict, images float32 [N, H, W, C], labels int32 [N])."""
    with open(path, "rb") as f:
        b = f.read()
    if len(b) < len(MAGIC) + 8 or b[: len(MAGIC)] != MAGIC:
        raise ValueError(f"{path}: not a dcbench condensed-set file (bad magic)")
    body, (crc,) = b[:-4], struct.unpack("<I", b[-4:])
    if zlib.crc32(body) & 0xFFFFFFFF != crc:
        raise ValueError(f"{path}: corrupt file (checksum)")
    (hl,) = struct.unpack("<I", b[len(MAGIC) : len(MAGIC) + 4])
    off = len(MAGIC) + 4
    h = json.loads(b[off : off + hl])
    off += hl
    n, hh, w, c = h["n"], h["h"], h["w"], h["c"]
    want = off + 4 * n * hh * w * c + 4 * n
    if len(body) != want:
        raise ValueError(f"{path}: {len(body)} bytes of data, want {want}")
    images = np.frombuffer(body, dtype="<f4", count=n * hh * w * c, offset=off).reshape(n, hh, w, c)
    labels = np.frombuffer(body, dtype="<i4", count=n, offset=off + 4 * n * hh * w * c)
    return h, images.copy(), labels.copy()


def write(path, header, images, labels):
    """Writes a set: header is the JSON header (its n/h/w/c are set from images, NHWC float32)."""
    images = np.ascontiguousarray(images, dtype="<f4")
    labels = np.ascontiguousarray(labels, dtype="<i4")
    n, hh, w, c = images.shape
    header = dict(header, format=MAGIC.decode(), n=n, h=hh, w=w, c=c)
    js = json.dumps(header).encode()
    body = MAGIC + struct.pack("<I", len(js)) + js + images.tobytes() + labels.tobytes()
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(body + struct.pack("<I", zlib.crc32(body) & 0xFFFFFFFF))
    os.replace(tmp, path)
