"""A polars ``X`` is read as pandas once per traced fit.

Before: the checks of untraced data (``resolve_row_ids``) and the fit's source
statistics each converted the whole frame, column by column. Counted here by the
columns converted (``_polars_frame._column``), against the frame's width.
"""

import warnings

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
import sktraceprop._polars_frame as polars_frame
from sktraceprop.exceptions import LineageWarning

pl = pytest.importorskip("polars")


def _fit_counting(monkeypatch, X, y):
    converted = []
    column = polars_frame._column

    def counting(series):
        converted.append(series.name)
        return column(series)

    monkeypatch.setattr(polars_frame, "_column", counting)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LineageWarning)
        pipe = stp.make_traced_pipeline(SimpleImputer(), LogisticRegression()).fit(X, y)
    monkeypatch.setattr(polars_frame, "_column", column)
    return pipe, converted


@settings(max_examples=10, deadline=None)
@given(
    n=st.integers(4, 60),
    width=st.integers(1, 6),
    nulls=st.lists(st.integers(0, 59), max_size=10),
)
# (c0 all missing there before: SimpleImputer then drops it and the model gets no column)
@example(n=5, width=1, nulls=[0, 1, 12, 23, 44])
def test_a_traced_fit_converts_a_polars_frame_once(n, width, nulls):
    monkeypatch = pytest.MonkeyPatch()
    rng = np.random.default_rng(n * 7 + width)
    columns = {f"c{j}": rng.normal(size=n) for j in range(width)}
    for i in nulls:  # (never the last row: a column all missing has nothing to fit)
        columns["c0"][i % (n - 1)] = np.nan
    X = pl.DataFrame(columns)
    y = np.arange(n) % 2
    with monkeypatch.context() as m:
        pipe, converted = _fit_counting(m, X, y)
    assert converted == list(X.columns)  # each column once
    missing = pipe.lineage_.source_stats["sources"][0]["missing"]
    truth = {c: int(X[c].is_nan().sum()) for c in X.columns}  # polars' own count
    assert missing == {c: k for c, k in truth.items() if k}


def test_a_frame_changed_in_place_between_fits_is_read_again(monkeypatch):
    """The one conversion lasts one fit: a cell set in place before the next is seen."""
    X = pl.DataFrame({"a": [0.5, 1.0, 2.0, 3.0], "b": [1.0, 2.0, 3.0, 4.0]})
    y = np.array([0, 1, 0, 1])
    first, _ = _fit_counting(monkeypatch, X, y)
    X[1, "a"] = float("nan")
    second, converted = _fit_counting(monkeypatch, X, y)
    assert converted == ["a", "b"]
    assert first.lineage_.source_stats["sources"][0]["missing"] == {}
    assert second.lineage_.source_stats["sources"][0]["missing"] == {"a": 1}
