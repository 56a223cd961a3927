"""A check against an unpickled MemoryStore says that it cannot know.

A model (or an explainer) pickled with its MemoryStore carries a copy of the store
frozen at pickling. The ``erased`` column of a frame already said ``<NA>`` for rows the
copy records no request of; but the checks that answer in one word said nothing: an
explanation's ``trace()`` handed out the values of a row erased in the store itself
after the pickle, with ``removed`` None, and a compliance report on the model warned of
no erased row. They now warn (:class:`ErasuresUnknownWarning`) in the words of the
column's note. The truth: the data's keys of the rows requested after the pickle, and
the same checks against the store itself.
"""

import pickle
import warnings

import numpy as np
import pytest

import sktraceprop as stp
from sktraceprop import _removed_rows
from sktraceprop._lineage._erasures_seen import SNAPSHOT, SNAPSHOT_CHECKED
from sktraceprop.compliance import compliance_report
from sktraceprop.exceptions import ErasedRowsHeldWarning, ErasuresUnknownWarning, StoreError
from tests.stores._store_helpers import DEPLOYER
from tests.stores.test_erasure_marks import _explained, _keys_at
from tests.stores.test_trace_erasures import _data, _erased_by_key, _fit

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _said(call):
    """``call()``'s result and its warnings, ``{category: [message]}``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = call()
    said = {}
    for w in caught:
        said.setdefault(w.category, []).append(str(w.message))
    return out, said


def test_an_explanation_pickled_with_its_memory_store_says_erasures_are_not_known(
    tmp_path, monkeypatch
):
    store = stp.stores.MemoryStore()
    df, visits, explanation = _explained(store, tmp_path / "data")
    top = explanation.top().query("test_index == 0").drop_duplicates("rank")
    keys = _keys_at(df, top)
    erased = {int(keys[0]), int(keys[2])}  # (two of the rows it names)
    blob = pickle.dumps(explanation)
    _erased_by_key(store, visits, erased, "art. 17")  # in the store itself, after
    loaded = pickle.loads(blob)

    # made in this process: its rows are known here (True, values withheld, named)
    frame, _ = _said(lambda: loaded.top())
    truth = np.isin(_keys_at(df, frame), sorted(erased))
    assert frame["erased"][truth].all() and frame["erased"][~truth].isna().all()
    for rank in top["rank"].to_numpy():
        found, said = _said(lambda rank=rank: loaded.trace(0, int(rank)))
        if int(df["key"].to_numpy()[found["train_index"]]) in erased:
            assert found["values"] is None and "made in this process" in found["removed"]
    # as a process that made none reads it (its record of requests empty)
    monkeypatch.setattr(_removed_rows, "_REQUESTS", [])
    # the column: not known (<NA>), never False
    frame, _ = _said(lambda: loaded.top())
    assert frame["erased"].isna().all() and frame.attrs["erasures_note"] == SNAPSHOT
    ranks = top["rank"].to_numpy()
    for rank in ranks:
        found, said = _said(lambda rank=rank: loaded.trace(0, int(rank)))
        # not known whether erased since: its values are not handed out (erase65)
        assert found["removed"] is None and found["values"] is None
        (message,) = said.get(ErasuresUnknownWarning, [None])
        assert message is not None, "values withheld with no word"
        assert SNAPSHOT_CHECKED in message and f"row {found['row_id']}," in message
        assert "values are withheld" in message
        assert ErasedRowsHeldWarning not in said
    # the truth: against the store itself, the rows requested are withheld, no others
    loaded._explainer._explainer.estimator_.set_params(store=store)
    for rank in ranks:
        found, said = _said(lambda rank=rank: loaded.trace(0, int(rank)))
        key = int(df["key"].to_numpy()[found["train_index"]])
        assert (found["removed"] is not None) == (key in erased)
        assert (found["values"] is None) == (key in erased)
        assert ErasuresUnknownWarning not in said
        if key not in erased:  # the truth of what is handed out: the data's own row
            row = df.iloc[found["train_index"]]
            assert {k: row[k] for k in found["values"]} == found["values"]


def test_a_report_on_a_model_pickled_with_its_memory_store_says_erasures_are_not_known(
    tmp_path, monkeypatch
):
    store = stp.stores.MemoryStore()
    df, visits = _data(tmp_path / "data")
    pipe = _fit(store, df).set_params(log_predictions=True)
    pipe.predict(df[["city", "age"]].iloc[:3])
    blob = pickle.dumps(pipe)
    erased = {1003, 1014}
    _erased_by_key(store, visits, erased, "art. 17")
    loaded = pickle.loads(blob)

    # made in this process: a report against the copy names the rows it knows of
    _, said = _said(lambda: compliance_report(loaded, store=loaded.store, **DEPLOYER))
    (held,) = said[ErasedRowsHeldWarning]
    assert f"holds {len(erased)} training row(s)" in held and "made in this process" in held
    # as a process that made none reads it (its record of requests empty)
    monkeypatch.setattr(_removed_rows, "_REQUESTS", [])
    _, said = _said(lambda: compliance_report(loaded, store=loaded.store, **DEPLOYER))
    (message,) = said.get(ErasuresUnknownWarning, [None])
    assert message is not None, "the copy's check said nothing"
    assert SNAPSHOT_CHECKED in message and f"its {len(df)} training row(s)" in message
    assert ErasedRowsHeldWarning not in said
    # the truth: the store itself names the rows requested
    _, said = _said(lambda: compliance_report(loaded, store=store, **DEPLOYER))
    (held,) = said[ErasedRowsHeldWarning]
    assert f"holds {len(erased)} training row(s)" in held
    assert ErasuresUnknownWarning not in said
    # a frame says so in its column, not again by this warning
    frame, said = _said(lambda: loaded.trace(np.arange(len(df))))
    assert frame["erased"].isna().all() and ErasuresUnknownWarning not in said


def _events_of(store):
    return [(e["seq"], e["hash"]) for e in store.events(include_store_events=True)]


@pytest.mark.parametrize("kind", ["unpickled memory", "read-only sqlite"])
def test_a_logged_call_to_a_store_that_cannot_take_it_is_refused_first(tmp_path, kind):
    if kind == "unpickled memory":
        store = stp.stores.MemoryStore()
    else:
        store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    df, visits = _data(tmp_path / "data")
    pipe = _fit(store, df).set_params(log_predictions=True)
    _erased_by_key(store, visits, {1003, 1014}, "art. 17")  # (said where it can be logged)
    if kind == "unpickled memory":
        refused = pickle.loads(pickle.dumps(pipe))
        where, problem = refused.store, "was unpickled"
    else:
        refused = pickle.loads(pickle.dumps(pipe.set_params(store=None)))
        where = stp.stores.SQLiteStore(tmp_path / "audit.db", mode="ro")
        refused.set_params(store=where, log_predictions=True)
        problem = "read-only"
    before = _events_of(where)
    answered = []
    final = refused.steps[-1][1]
    final.predict = lambda X: answered.append(len(X)) or np.zeros(len(X), dtype=int)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(StoreError, match=problem):
            refused.predict(df[["city", "age"]].iloc[:3])
    assert [str(w.message) for w in caught] == []  # (refused before any word)
    assert answered == [] and _events_of(where) == before
