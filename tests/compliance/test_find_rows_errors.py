"""A lookup by row raises on an error of its own, never reports the row as not found.

``_find_rows._prepared`` turned any ``TypeError``/``ValueError`` of preparing ``X``'s
rows into "this form of X has no per-row record", so a bug there made
``find_predictions`` return no call for a person scored in a logged batch, and
``erase_predictions`` erase nothing of them, silently. Only
:class:`sktraceprop._row_digests.NoRowRecord` (input not 1-D or 2-D, or ragged: the
logging side keeps no row digests of it either) means that; any other error is raised.
The truth is the batch the test logged: row 0 of ``_POOL`` is in it.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop._row_digests import NoRowRecord
from sktraceprop.compliance import _find_rows, find_predictions

_POOL = pd.DataFrame({"age": [30.0, 41.0, 52.0, 63.0], "bp": [1.0, 2.0, 2.0, 1.0]})
_Y = np.array([0, 1, 1, 0])


def _logged():
    """A store holding one salted predict call of rows 0 and 1, and its seq."""
    store = stp.stores.MemoryStore()
    model = stp.TracedPipeline(
        [("lr", LogisticRegression())], store=store, log_predictions=True
    ).fit(_POOL, _Y)
    model.predict(_POOL.iloc[[0, 1]])
    return store, store.events()[-1]["seq"]


def _quiet(call, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return call(*args, **kwargs)


def test_the_logged_row_is_found_without_a_fault():
    store, seq = _logged()
    found = _quiet(find_predictions, store, _POOL.iloc[[0]])
    assert list(found["seq"]) == [seq]
    assert list(found["positions"].iloc[0]) == [0]


@pytest.mark.parametrize("error", [TypeError, ValueError, KeyError])
def test_an_error_preparing_the_rows_is_raised_by_find_and_erase(monkeypatch, error):
    store, _ = _logged()

    def broken(frame):
        raise error("a bug while preparing the rows")

    monkeypatch.setattr(_find_rows, "prepare_rows", broken)
    with pytest.raises(error, match="a bug while preparing"):
        _quiet(find_predictions, store, _POOL.iloc[[0]])
    with pytest.raises(error, match="a bug while preparing"):
        _quiet(store.erase_predictions, _POOL.iloc[[0]], reason="Art. 17")
    monkeypatch.undo()
    # nothing was erased by the failed request: the row is still found
    assert len(_quiet(find_predictions, store, _POOL.iloc[[0]])) == 1
    assert store.verify()


def test_input_without_a_per_row_record_still_finds_no_row_and_raises_nothing(monkeypatch):
    store, _ = _logged()

    def no_record(frame):
        raise NoRowRecord("row digests need 1-D or 2-D input")

    monkeypatch.setattr(_find_rows, "prepare_rows", no_record)
    found = _quiet(find_predictions, store, _POOL.iloc[[0]])
    assert len(found) == 0
