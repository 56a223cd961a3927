"""A MemoryStore copy taken before an erasure still holds what it erased: said.

An erasure request redacts its store's runs; a copy of a MemoryStore taken before it
(pickled with a model and loaded after, or made by ``store.copy()``) still holds what the
request erased there, and nothing said so where the process that made the request
loaded or kept the copy. Now an :class:`ErasedRowsHeldWarning` names the request and
the runs, at loading and at the erasure (for the copies alive), and the copy's views
mark the rows erased. The truth: a planted marker (a sample weight's sum) searched for
in the pickle's bytes, the copy's runs and the original's.
"""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop import _removed_rows
from sktraceprop.exceptions import ErasedRowsHeldWarning
from sktraceprop.stores import MemoryStore

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

MARKER = "26.654321"  # (the weights' sum: 19 ones and the erased row's 7.654321)


def _fit(tmp_path):
    pd.DataFrame({"a": np.arange(20.0), "y": [0, 1] * 10}).to_csv(tmp_path / "v.csv", index=False)
    X = stp.read_csv(tmp_path / "v.csv")
    store = MemoryStore()
    weights = np.ones(20)
    weights[5] = 7.654321
    pipe = stp.make_traced_pipeline(LogisticRegression(), store=store)
    pipe.fit(X[["a"]], X["y"], logisticregression__sample_weight=weights)
    return X, store, pipe


def _holds(store):
    """Whether ``store``'s runs hold the marker (its leaves: the runs' values)."""
    return MARKER in repr(store._leaves) + repr(store._runs)


def _held_said(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = call()
    return out, [str(w.message) for w in caught if w.category is ErasedRowsHeldWarning]


def _erase(store, X):
    return _held_said(
        lambda: store.erase_rows(sample_id=stp.row_ids(X.iloc[[5]]), reason="art. 17")
    )


def test_a_copy_unpickled_after_an_erasure_here_says_it_holds_the_rows(tmp_path):
    _removed_rows.clear()
    X, store, pipe = _fit(tmp_path)
    blob = pickle.dumps(pipe)
    assert MARKER.encode() in blob and _holds(store)
    _erase(store, X)
    event = store.events(kind="store.erasure", include_store_events=True)[-1]
    assert not _holds(store)  # (the erasure reached the store)
    loaded, said = _held_said(lambda: pickle.loads(blob))
    # the truth: the copy and the pickle's bytes still hold the value
    assert _holds(loaded.store) and MARKER.encode() in blob
    (message,) = said
    assert f"erasure event {event['seq']} in" in message
    assert pipe.lineage_.run_id in message and "still hold" in message
    # its view marks the row erased, naming the request made here
    frame, _ = _held_said(lambda: loaded.lineage_.rows(store=loaded.store))
    assert frame["erased"].fillna(False).tolist() == [i == 5 for i in range(20)]


def test_a_copy_pickled_after_the_erasure_says_nothing(tmp_path):
    _removed_rows.clear()
    X, store, pipe = _fit(tmp_path)
    _erase(store, X)
    blob = pickle.dumps(pipe)
    loaded, said = _held_said(lambda: pickle.loads(blob))
    assert said == [] and not _holds(loaded.store) and MARKER.encode() not in blob


def test_an_erasure_names_the_copies_alive_that_hold_the_rows(tmp_path):
    _removed_rows.clear()
    X, store, _ = _fit(tmp_path)
    copy = store.copy()
    _, said = _erase(store, X)
    assert _holds(copy) and not _holds(store)
    (message,) = [m for m in said if "copy(ies) of this MemoryStore" in m]
    assert message.startswith("1 copy(ies)") and store.store_id in message
