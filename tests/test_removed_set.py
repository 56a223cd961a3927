"""The rows of a removal kept as arrays answer what a plain set of (source, line) does.

Before, a removal kept one Python string per row in a dict for the process's life
(about 100 MB for a million rows). Truth: a Python set of ``(source_id, line)`` and a
dict of the words, built from the same draws.
"""

import tracemalloc
import warnings

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop import _removed_rows
from sktraceprop._lineage._ids import pack
from sktraceprop._removed_set import RemovedRows

CODES = {3: "people", 7: "visits", 11: "labs"}


def _ids(pairs):
    return np.asarray([int(pack(c, np.asarray([n]))[0]) for c, n in pairs], np.int64)


pairs = st.lists(st.tuples(st.sampled_from(sorted(CODES) + [5]), st.integers(1, 60)))


@settings(max_examples=200, deadline=None)
@given(
    removed=pairs, asked=pairs, aliased=st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30)))
)
def test_removed_rows_answer_as_a_set_of_source_and_line(removed, asked, aliased):
    named = {c: s for c, s in CODES.items()}  # code 5: an inner merge, no words
    ids = _ids(removed)
    # some removed rows named by another removed row (a merged row by its file row),
    # the last pair of a row winning, as a dict of them would
    keys = [removed[i] for i, _ in aliased if i < len(removed)]
    by = [removed[j % len(removed)] for i, j in aliased if i < len(removed)]
    alias = dict(zip(keys, by))
    kept = RemovedRows(ids, "a removal", named, (_ids(keys), _ids(by)))
    truth = {(CODES.get(c, c), n) for c, n in removed}
    query = _ids(asked + removed)
    got = kept.isin(query)
    for (c, n), hit, row in zip(asked + removed, got, query):
        assert bool(hit) == ((CODES.get(c, c), n) in truth) == (row in kept)
        c2, n2 = alias.get((c, n), (c, n))
        words = f"{CODES[c2]} line {n2}" if c2 in CODES else None
        assert kept.get(row, "none") == (words if hit and words else "none")
    assert kept.ids.tolist() == sorted(set(ids.tolist()))
    assert RemovedRows([], "none", named).isin(query).tolist() == [False] * query.size


def test_an_unlearned_row_kept_in_this_process_costs_bytes_not_a_string(tmp_path):
    """100,000 removed rows: what this process keeps of them is a few bytes a row (the
    dict of strings kept about 150: 15 MB here)."""
    n = 200_000
    rng = np.random.default_rng(0)
    path = tmp_path / "big.csv"
    pd.DataFrame({"a": rng.normal(size=n), "y": rng.integers(0, 2, n)}).to_csv(path, index=False)
    frame = stp.read_csv(path, source_id="big")
    unl = stp.GradientCorrectionUnlearner(stp.make_traced_pipeline(LogisticRegression()))
    unl.fit(frame[["a"]], frame["y"].to_numpy())
    _removed_rows.clear()
    gone = frame.index[::2].to_numpy()
    tracemalloc.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            unl.unlearn(sample_id=gone)
        (kept,) = _removed_rows._REMOVED
        assert kept.ids.tolist() == np.sort(gone).tolist()
        # the third data row is on line 4 of the file (after the header): its bytes say so
        line4 = path.read_text().split("\n")[3]
        assert float(line4.split(",")[0]) == frame["a"].iloc[2]
        assert kept.get(gone[1]) == "big line 4"
        before = tracemalloc.get_traced_memory()[0]
        del kept
        _removed_rows.clear()
        freed = before - tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert freed < 12 * gone.size, freed  # (8 bytes a row, and the names of its sources)
