"""The index of witness values that finds renamed columns forgets removed rows too.

To find a loaded column under a new name, a fit indexes the values the witness rows
hold (:mod:`sktraceprop._lineage._renamed`), and kept that index, values of every
witness row, until the next fit that looked: a removal (``unlearn``) or an erasure
request (``store.erase_rows``) dropped the rows from the witnesses but not from the
index. Markers planted in the rows are searched for in the index's pickled bytes.
"""

import pickle
import struct
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop._lineage import _renamed
from sktraceprop.stores import MemoryStore

BASE = 555_000.25


def _indexed(tmp_path, name):
    """A file of 20 marked rows, read and fitted under new column names."""
    frame = pd.DataFrame(
        {"dose": BASE + np.arange(20), "w": np.arange(20) * 1.5 + 0.25, "y": np.arange(20) % 2}
    )
    frame.to_csv(tmp_path / f"{name}.csv", index=False)
    X = stp.read_csv(tmp_path / f"{name}.csv", source_id=name)
    y = X.pop("y").to_numpy()
    return X.rename(columns={"dose": "d", "w": "ww"}), y


def _markers_indexed():
    """The marked rows whose value the index holds (a pickled float is big-endian)."""
    blob = pickle.dumps(_renamed._CACHE)
    return [
        i for i in range(20) if any(struct.pack(f, BASE + i) in blob for f in (">d", "<d", "<f"))
    ]


@pytest.mark.parametrize("how", ["erase_rows", "unlearn"])
def test_removed_rows_leave_the_index_of_witness_values(tmp_path, how):
    X, y = _indexed(tmp_path, f"renamed_{how}")
    store = MemoryStore()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (columns renamed after loading: said elsewhere)
        if how == "erase_rows":
            stp.make_traced_pipeline(LogisticRegression(), store=store).fit(X, y)
        else:
            unl = stp.GradientCorrectionUnlearner(
                stp.make_traced_pipeline(LogisticRegression(), store=store)
            ).fit(X, y)
        assert _markers_indexed() == list(range(20))  # indexed: the search can fail
        if how == "erase_rows":
            store.erase_rows(sample_id=stp.row_ids(X)[[2, 3]], reason="GDPR Art. 17")
        else:
            unl.unlearn(sample_id=stp.row_ids(X)[[2, 3]])
    assert not {2, 3} & set(_markers_indexed())
