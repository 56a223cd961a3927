"""Files whose names are not UTF-8 (latin-1 ``b"caf\\xe9.csv"``), where they can be made."""

import os

import numpy as np
import pandas as pd
import pytest

import sktraceprop as stp


def latin1_named(folder, name, data):
    """Write ``data`` to ``folder/name`` (``name``: bytes); the path, as ``os.fsdecode``
    gives it. Skips where the file system or platform cannot hold that name as bytes
    (Windows names are text, macOS APFS refuses names that are not UTF-8)."""
    raw = os.path.join(os.fsencode(folder), name)
    try:
        with open(raw, "wb") as f:
            f.write(data)
    except (OSError, UnicodeError) as exc:
        pytest.skip(f"a file name that is not UTF-8 cannot be made here: {exc}")
    if name not in os.listdir(os.fsencode(folder)):
        pytest.skip("the file system changed the name's bytes")
    return os.fsdecode(raw)


def latin1_frames(folder, names=(b"caf\xe9.csv", b"caf\xe8.csv"), n=20, seed=0):
    """The files ``names`` (latin-1 "café" and "cafè": one name once UTF-8 decoded),
    each ``n`` rows of ``a,b,y``, read by :func:`sktraceprop.read_csv` and concatenated
    in that order (skips as :func:`latin1_named`)."""
    rng = np.random.default_rng(seed)
    frames = []
    for name in names:
        rows = "".join(f"{a:.3f},{b:.3f},{int(a > b)}\n" for a, b in rng.random((n, 2)))
        frames.append(stp.read_csv(latin1_named(folder, name, f"a,b,y\n{rows}".encode())))
    return pd.concat(frames)
