"""A pandas boolean Series as a traced array's key: NumPy's reading or a refusal.

NumPy applies ``x[mask]`` by position, pandas ``df[mask]`` by label. A mask whose index
is not the array's rows in order (taken from the frame before it was shuffled) kept
other rows than pandas would, with lineage following NumPy: right for the rows kept, but
likely not the rows meant. Now such a key is refused; where the readings agree it is
used. The truth: pandas' own result of the same mask on the frame, and the raw file's
key of each line the kept rows' lineage names.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop.exceptions import LineageError
from tests._lineage._raw_files import keys_by_line


def _frame(path, n, seed):
    rng = np.random.default_rng(seed)
    path.write_text("key,a,b\n" + "".join(f"k{i},{i},{rng.normal():.4f}\n" for i in range(n)))
    df = stp.read_csv(path, source_id=path.stem)
    return df.sample(frac=1, random_state=seed), keys_by_line(path)


def _keys(y, records, source):
    """The raw file's key of the line each row of traced ``y`` comes from."""
    prov = stp.provenance(y)
    return [
        records[source, int(prov.rows(i, pooled=False)["line"].iloc[0])] for i in range(len(y))
    ]


def test_a_mask_in_the_frames_order_keeps_what_pandas_keeps(tmp_path):
    sh, records = _frame(tmp_path / "shuf.csv", 30, 1)
    x = stp.array(sh[["a", "b"]])
    mask = sh["a"] % 3 == 0
    assert _keys(x[mask], records, "shuf") == sh[mask]["key"].tolist()
    # labels 0 .. n - 1 are positions: what pandas' iloc keeps
    plain = mask.reset_index(drop=True)
    assert _keys(x[plain], records, "shuf") == sh.iloc[plain.to_numpy()]["key"].tolist()


def test_a_mask_of_another_order_is_refused_and_either_reading_can_be_asked(tmp_path):
    sh, records = _frame(tmp_path / "other.csv", 30, 2)
    x = stp.array(sh[["a", "b"]])
    mask = (sh["a"] % 3 == 0).sort_index()  # (the ids' order, not the frame's)
    assert not np.array_equal(mask.index, sh.index)
    with pytest.raises(LineageError, match="by position, pandas by label"):
        x[mask]
    w = stp.array(sh[["a", "b"]]).copy()  # (writable: a write is refused alike)
    with pytest.raises(LineageError, match="by position, pandas by label"):
        w[mask] = 0.0
    assert np.array_equal(np.asarray(w), sh[["a", "b"]].to_numpy())  # (nothing written)
    by_label = x[mask.reindex(sh.index).to_numpy()]
    assert _keys(by_label, records, "other") == sh[mask]["key"].tolist()  # pandas' result
    by_position = x[mask.to_numpy()]
    assert _keys(by_position, records, "other") == sh.iloc[mask.to_numpy()]["key"].tolist()


@settings(deadline=None, max_examples=20)
@given(
    n=st.integers(3, 40),
    seed=st.integers(0, 2**16),
    index=st.sampled_from(["aligned", "range", "ids sorted", "filtered"]),
)
def test_any_series_mask_is_read_as_pandas_reads_it_or_refused(tmp_path_factory, n, seed, index):
    path = tmp_path_factory.mktemp("mask") / f"m{seed}_{n}.csv"
    sh, records = _frame(path, n, seed)
    x = stp.array(sh[["a", "b"]])
    values = np.random.default_rng(seed).random(n) < 0.5
    mask = pd.Series(values, index=sh.index)
    if index == "range":
        mask = mask.reset_index(drop=True)
    elif index == "ids sorted":
        mask = mask.sort_index()
    elif index == "filtered":
        mask.index = pd.RangeIndex(1, n + 1)
    ambiguous = index == "filtered" or (
        index == "ids sorted" and not np.array_equal(mask.index, sh.index)
    )
    if ambiguous:
        with pytest.raises(LineageError):
            x[mask]
        return
    want = sh[mask] if index != "range" else sh.iloc[mask.to_numpy()]
    y = x[mask]
    assert np.array_equal(np.asarray(y), want[["a", "b"]].to_numpy())
    assert _keys(y, records, path.stem) == want["key"].tolist()
