"""A copy of a MemoryStore (``store.copy()``) and its original do not share erasures.

``copy()`` kept the store id and was not a snapshot: after an erasure request recorded
in the original, a model checked against the copy marked the rows requested
``erased`` False (the copy records no request: "not erased", where it cannot know). The
copy is now a snapshot for erasure checks, as an unpickled copy is (``<NA>`` where it
records no request, :data:`SNAPSHOT`), and a request recorded in the copy says that the
original does not record it. The truth: the data's keys of the rows requested, and the
same check against the store the request was recorded in. A request made in this
process is known here whatever store is given (True, naming it); the copy's own words
are those another process, which made none, reads.
"""

import pickle
import warnings

import numpy as np
import pytest

import sktraceprop as stp
from sktraceprop import _removed_rows
from sktraceprop._lineage._erasures_seen import SNAPSHOT, SNAPSHOT_CHECKED
from sktraceprop.exceptions import ErasuresUnknownWarning, LineageWarning
from tests.stores.test_trace_erasures import _data, _erased_by_key, _fit

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

ERASED = {1003, 1014}


def _marks(pipe, store, n):
    """``pipe``'s ``erased`` column of its training rows checked against ``store``."""
    pipe.set_params(store=store)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pipe.trace(np.arange(n))


def _truth(df, frame):
    """Per line of ``frame`` (a merged training row has one per parent line):
    whether the key of the data at its training position was requested."""
    return np.isin(df["key"].to_numpy()[frame["train_index"].to_numpy()], sorted(ERASED))


@pytest.mark.parametrize("copied", ["copy", "copy of an unpickled copy"])
def test_an_erasure_in_the_original_is_not_known_to_a_copy(tmp_path, copied, monkeypatch):
    store = stp.stores.MemoryStore()
    df, visits = _data(tmp_path / "data")
    pipe = _fit(store, df)
    copy = store.copy() if copied == "copy" else pickle.loads(pickle.dumps(store)).copy()
    _erased_by_key(store, visits, ERASED, "art. 17")  # in the original, after the copy

    # made in this process: known here, whatever the copy holds
    frame = _marks(pipe, copy, len(df))
    truth = _truth(df, frame)
    assert truth.any() and frame["erased"][truth].to_numpy(bool).all()
    assert frame["erased"][~truth].isna().all()
    assert "erasures_requests_here" in frame.attrs
    # as a process that made none reads the copy (its record of requests empty)
    monkeypatch.setattr(_removed_rows, "_REQUESTS", [])
    frame = _marks(pipe, copy, len(df))
    # never False for a row the original erased: not known (<NA>)
    assert frame["erased"].isna().all(), "the copy said rows erased since were not erased"
    assert frame.attrs["erasures_checked"] is False
    assert frame.attrs["erasures_note"] == SNAPSHOT
    # the truth: the original names exactly the rows of the keys requested
    frame = _marks(pipe, store, len(df))
    np.testing.assert_array_equal(frame["erased"].to_numpy(bool), _truth(df, frame))


def test_an_erasure_in_a_copy_says_the_original_does_not_record_it(tmp_path, monkeypatch):
    store = stp.stores.MemoryStore()
    df, visits = _data(tmp_path / "data")
    pipe = _fit(store, df)
    copy = store.copy()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        copy.erase_rows(
            sample_id=stp.row_ids(visits[visits["key"].isin(ERASED)]), reason="art. 17"
        )
    said = [str(w.message) for w in caught if issubclass(w.category, LineageWarning)]
    assert any("recorded in a copy of a MemoryStore" in m and copy.store_id in m for m in said)
    # the copy marks the rows it records a request of, and says the rest are not known
    frame = _marks(pipe, copy, len(df))
    truth = _truth(df, frame)
    assert truth.any() and frame["erased"][truth].to_numpy(bool).all()
    assert frame["erased"][~truth].isna().all()
    # the original records none, but this process made the request: True, named
    frame = _marks(pipe, store, len(df))
    np.testing.assert_array_equal(frame["erased"].to_numpy(bool), truth)
    (named,) = frame.attrs["erasures_requests_here"]
    assert (
        "does not record" in frame.attrs["erasures_note"] and named in frame.attrs["erasures_note"]
    )
    # as another process reads the original: its own check is of its own record
    monkeypatch.setattr(_removed_rows, "_REQUESTS", [])
    frame = _marks(pipe, store, len(df))
    assert not frame["erased"].to_numpy(bool).any()


def test_a_report_checked_against_a_copy_says_erasures_are_not_known(tmp_path):
    from sktraceprop.compliance import compliance_report
    from tests.stores._store_helpers import DEPLOYER

    store = stp.stores.MemoryStore()
    df, visits = _data(tmp_path / "data")
    pipe = _fit(store, df).set_params(log_predictions=True)
    pipe.predict(df[["city", "age"]].iloc[:3])
    copy = store.copy()
    _erased_by_key(store, visits, ERASED, "art. 17")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compliance_report(pipe, store=copy, **DEPLOYER)
    said = [str(w.message) for w in caught if w.category is ErasuresUnknownWarning]
    assert said and all(SNAPSHOT_CHECKED in m for m in said)
