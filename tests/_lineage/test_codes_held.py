"""A traced fit finds the distinct source codes of its row ids once, not on every call.

``distinct_codes`` passes over every id (0.6 ms per million rows); a traced fit called it
about nine times on the same array. :class:`codes_held` keeps the first answer for the
fit's own array (by identity) and nothing else: every answer must stay the sorted set of
codes, computed here by brute force.
"""

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop._lineage import _ids
from sktraceprop._lineage._ids import codes_held, distinct_codes, lines_of, pack

_codes = st.lists(st.integers(1, 2**27 - 1), min_size=1, max_size=4, unique=True)


def _ids_of(data, codes):
    picks = data.draw(st.lists(st.sampled_from(codes), min_size=1, max_size=40))
    lines = data.draw(
        st.lists(st.integers(1, 2**36 - 1), min_size=len(picks), max_size=len(picks))
    )
    return np.array([pack(c, [line])[0] for c, line in zip(picks, lines)], np.int64)


def _truth(ids):
    return sorted({int(i) >> 36 for i in ids.tolist()})


@settings(max_examples=60, deadline=None)
@given(_codes, _codes, st.data())
def test_codes_inside_and_after_the_block_are_the_set_of_codes(held_codes, other_codes, data):
    held = _ids_of(data, held_codes)
    other = _ids_of(data, other_codes)
    with codes_held(held):
        assert distinct_codes(held).tolist() == _truth(held)
        got = distinct_codes(held)
        got[:] = 0  # a caller's change to its answer is not the next answer
        assert distinct_codes(held).tolist() == _truth(held)
        assert distinct_codes(held.copy()).tolist() == _truth(held)  # equal, not the same
        assert distinct_codes(other).tolist() == _truth(other)
        with codes_held(other):  # nested: the inner block's array only
            assert distinct_codes(other).tolist() == _truth(other)
            assert distinct_codes(held).tolist() == _truth(held)
        assert distinct_codes(held).tolist() == _truth(held)
    # after the block nothing is kept: a change to the array is seen
    held[:] = other[0]
    assert distinct_codes(held).tolist() == _truth(held)


def test_a_traced_fit_passes_over_its_row_ids_for_their_codes_at_most_twice(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(400, 3)), columns=["a", "b", "c"])
    frame["label"] = (frame["a"] > 0).astype(int)
    frame.to_csv(tmp_path / "d.csv", index=False)
    data = stp.read_csv(tmp_path / "d.csv")
    passes = []
    inner = _ids._distinct_codes

    def counted(ids):
        passes.append(np.asarray(ids).size)
        return inner(ids)

    monkeypatch.setattr(_ids, "_distinct_codes", counted)
    model = stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    model.fit(data[["a", "b", "c"]], data["label"])
    assert len([n for n in passes if n == 400]) <= 2  # nine before
    # and the run names the file's lines: one record per line after the header
    text = (tmp_path / "d.csv").read_bytes()
    assert text.count(b"\n") == 401 and b'"' not in text
    lines = lines_of(model.lineage_.row_ids)
    assert lines.tolist() == list(range(2, 402))
