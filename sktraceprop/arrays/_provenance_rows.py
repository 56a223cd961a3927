"""The source rows behind given rows of a traced array: :meth:`~._provenance.Provenance.rows`.

Each output row's own source rows (the rows it is made of) and, if asked, those
pooled into it by operations that mixed rows, each source row once per output row
with every operation that pooled it in.
"""

import numpy as np
import pandas as pd

from .._lineage._lineage_frame import lineage_frame
from .._lineage._source import REGISTRY
from . import _rowmap as rmap


def source_rows(rm, rows, pooled):
    """The table of :meth:`~._provenance.Provenance.rows` for row map ``rm``.

    ``rows`` are non-negative int64 positions, checked against the array's rows;
    ``pooled`` also lists the rows pooled in by operations that mixed rows.
    """
    frames = []
    which, ids = rmap.direct(rm, rows)
    if ids.size:
        frame = lineage_frame(ids, REGISTRY.by_code, position_name="k")
        frame.insert(0, "row", rows[which[frame.pop("k").to_numpy()]])
        frame["through"] = None
        frames.append(frame)
    if pooled:
        memo = {}
        for r in np.unique(rows):
            pooled_in = []
            for pool in rmap.pools_of(rm, r):
                ids = rmap.expand(pool, memo)
                if not ids.size:
                    continue
                frame = lineage_frame(ids, REGISTRY.by_code, position_name="k")
                frame.pop("k")
                frame.insert(0, "row", r)
                frame["through"] = pool.via
                pooled_in.append(frame)
            if pooled_in:
                frames.append(_once_each(pooled_in))
    columns = ["row", "row_id", "source_id", "uri", "line", "through"]
    if not frames:
        return pd.DataFrame({c: [] for c in columns})
    out = pd.concat(frames, ignore_index=True)
    for column in ("source_id", "uri"):
        # (astype(str) of pandas < 3 writes a missing uri, a row of copies whose
        # path is not known, as the text "nan")
        missing = out[column].isna()
        out[column] = out[column].astype(str)
        if missing.any():
            out[column] = out[column].where(~missing, None)
    out["_pooled"] = out["through"].notna()
    out = out.sort_values(["row", "_pooled", "source_id", "line"], kind="stable")
    out = out.drop(columns="_pooled").reset_index(drop=True)
    extra = [c for c in out.columns if c not in columns]
    return out[columns + extra]


def _once_each(frames):
    """The rows pooled into one output row, each source row once: a row that several
    inputs pooled in (a mean over rows, then a sum over some of them) is listed with
    every operation that pooled it in, in the order first met."""
    out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if len(frames) == 1:
        return out
    keys = [c for c in out.columns if c != "through"]
    twice = out.duplicated(keys, keep=False).to_numpy()
    if not twice.any():
        return out

    def key_of(frame):
        # (missing values as None: NaN is not equal to itself as a dict key)
        cells = [frame[c].astype(object).where(frame[c].notna(), None).tolist() for c in keys]
        return list(zip(*cells))

    names = {}
    sub = out[twice]
    for key, value in zip(key_of(sub), sub["through"].tolist()):
        listed = names.setdefault(key, [])
        listed += [n for n in str(value).split(", ") if n not in listed]
    kept = out[~out.duplicated(keys, keep="first").to_numpy()].copy()
    joined = twice[kept.index.to_numpy()]
    kept.loc[joined, "through"] = [", ".join(names[k]) for k in key_of(kept[joined])]
    return kept.reset_index(drop=True)
