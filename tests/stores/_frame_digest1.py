"""The frames of ``data/frame_digest1.db``, rebuilt by the script that wrote it."""

import hashlib
import importlib.util
from pathlib import Path

import pandas as pd

DATA = Path(__file__).parent / "data"


def fixture_frames():
    """The frames ``data/frame_digest1/make_frame_digest1.py`` registered in the store."""
    spec = importlib.util.spec_from_file_location(
        "make_frame_digest1", DATA / "frame_digest1" / "make_frame_digest1.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.frames()


def frame_1_digest(df):
    """The frame digest of sktraceprop at 775ad56 (``_io._frame_digest``, scheme
    frame-1), verbatim: a SHA-256 over pandas' 64-bit row hashes, not of the data."""
    h = hashlib.sha256()
    h.update(repr([(str(c), str(t)) for c, t in df.dtypes.items()]).encode())
    h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    return h.hexdigest()
