"""What a logged call keeps to be found by row: only input without rows falls back.

``start_salt`` takes the keyed digests of each input row before the model answers. Input
without a per-row record (3-D, ragged) falls back to the salt alone (found by its batch
only, which find_predictions says); any other error is a bug that would quietly leave a
scored person unfindable by their row, so it is raised and nothing is logged. The truth
for the digests kept is each row hashed alone.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop import _call_hashes, _row_digests
from sktraceprop._prediction_log import _salt_now, start_salt
from sktraceprop._row_digests import NoRowRecord, parse_salt, prepare_rows, row_digests
from sktraceprop.stores import MemoryStore


@pytest.mark.parametrize(
    "X", [np.zeros((3, 2, 2)), [[1.0], [2.0, 3.0]]], ids=["three-d", "ragged"]
)
def test_input_without_rows_keeps_the_salt_alone(X):
    with pytest.raises(NoRowRecord):
        prepare_rows(X)
    text = _salt_now(start_salt(MemoryStore(), X))
    salt, digests = parse_salt(text)
    assert digests is None and salt == text and len(salt) >= 32


def _model(store):
    X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})
    model = stp.TracedPipeline(
        [("lr", LogisticRegression())], store=store, log_predictions=True
    ).fit(X, [0, 0, 1, 1])
    return model, X


class _Keep(BaseEstimator, TransformerMixin):
    """Passes numbers through; drops the text column the rows also carry."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return np.asarray(X[["a", "b"]], dtype=float)


def _text_model(store):
    """Input the helper-thread layout does not take (text as Python objects): the
    records are made by ``_row_digests`` column by column."""
    X = pd.DataFrame(
        {
            "a": [0.0, 1.0, 2.0, 3.0],
            "b": [1.0, 0.0, 1.0, 0.0],
            "t": pd.Series(["x", "y", "z", "w"], dtype=object),
        }
    )
    model = stp.TracedPipeline(
        [("keep", _Keep()), ("lr", LogisticRegression())], store=store, log_predictions=True
    ).fit(X, [0, 0, 1, 1])
    return model, X


#: Where a bug in the digests is planted, per route: numbers-only frames are laid out
#: once and digested by the table kernel (``_call_hashes``); other frames column by
#: column (``_row_digests``).
_ROUTES = {
    "numbers": (_model, _call_hashes, "table_digests"),
    "object-text": (_text_model, _row_digests, "_column_words"),
}


@pytest.mark.parametrize("route", sorted(_ROUTES))
@pytest.mark.parametrize("error", [TypeError, ValueError, RuntimeError, KeyError])
def test_a_bug_in_the_row_digests_is_raised_and_nothing_is_logged(monkeypatch, error, route):
    make, module, name = _ROUTES[route]
    store = MemoryStore()
    model, X = make(store)
    model.predict(X)
    before = len(store.events(kind="prediction"))

    def broken(*args, **kwargs):
        raise error("a bug in the digests")

    monkeypatch.setattr(module, name, broken)
    with pytest.raises(error, match="a bug in the digests"):
        model.predict(X)
    assert len(store.events(kind="prediction")) == before
    monkeypatch.undo()
    model.predict(X)  # the digests mended: logged, with one digest per row
    assert len(store.events(kind="prediction")) == before + 1


def test_an_unsalted_store_draws_no_salt():
    class Unsalted(MemoryStore):
        def _salting(self):
            return False

    assert start_salt(Unsalted(), np.zeros((3, 2, 2))) is None


@settings(deadline=None, max_examples=25)
@given(
    arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 4)), elements=st.floats(-9, 9))
)
def test_each_row_digest_is_that_row_hashed_alone(values):
    kept = _salt_now(start_salt(MemoryStore(), values))
    salt, digests = parse_salt(getattr(kept, "text", kept))  # SaltHashes of the text
    assert digests.shape == (values.shape[0], 2)
    for i in range(values.shape[0]):
        np.testing.assert_array_equal(digests[i], row_digests(values[i : i + 1], salt)[0])
