"""A fit on a merge of two inputs, each filled after loading, past 512 rows.

Each input is compared on its own witness rows: a merged row chosen for one input's
holds the other's values not known, so the run counts rows not known (shared by the
report's and the exports' tests of them).
"""

import warnings

import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp


def filled_merge_fit(tmp_path, names=("big", "w", "joined"), n=1500):
    """``(pipe, store, raw)``: a logged pipeline fitted on ``v`` and ``w`` of the left
    merge ``names[2]`` of ``names[0]`` (``raw``: its frame as made, gaps in ``v``) and
    ``names[1]``, both filled with 0 after loading, in a SQLite store under
    ``tmp_path``, with 3 predictions logged."""
    rng = np.random.default_rng(0)
    raw = pd.DataFrame({"k": rng.permutation(n), "v": rng.normal(size=n)})
    raw.loc[rng.random(n) < 0.3, "v"] = np.nan
    raw["label"] = rng.integers(0, 2, n)
    frame = stp.from_pandas(raw, source_id=names[0])
    frame["v"] = frame["v"].fillna(0.0)
    other = pd.DataFrame({"k": rng.permutation(n), "w": rng.normal(size=n)})
    other.loc[rng.random(n) < 0.3, "w"] = np.nan
    lookup = stp.from_pandas(other, names[1])
    lookup["w"] = lookup["w"].fillna(0.0)
    joined = stp.merge(frame, lookup, on="k", how="left", source_id=names[2])
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    pipe = stp.make_traced_pipeline(
        SimpleImputer(), LogisticRegression(), store=store, log_predictions=True
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe.fit(joined[["v", "w"]], joined["label"])
    pipe.predict(joined[["v", "w"]].iloc[:3])
    return pipe, store, raw
