"""A MemoryStore's repr names which store it is.

``repr(MemoryStore())`` was always ``"MemoryStore()"``: the messages that name a store
by its repr ("erasure event 1 in MemoryStore() at ..."; "no run ... in MemoryStore()")
could not say which of two stores, nor whether it was a copy. It now names the store's
``store_id`` (what a user matches it by) and, for a copy, how it was made; it is read
with no lock (a message may be made while another thread writes to the store) and stays
the same all the store's life, so that one erasure request keeps one name (a copy's
requests named as its store's). The truth: the stores' own ``store_id``.
"""

import pickle
import threading

import numpy as np
import pytest

import sktraceprop as stp
from sktraceprop import _removed_rows
from sktraceprop._removed_set import ERASURE_WHAT as label
from sktraceprop.exceptions import UnknownRunError
from sktraceprop.stores import MemoryStore
from sktraceprop.stores._erased_here import erased_what
from tests.stores.test_lineage_erasures_here import _caught, _data, _erase, _fit


def test_two_stores_and_their_copies_are_told_apart():
    a, b = MemoryStore(), MemoryStore()
    assert repr(a) != repr(b)
    assert a.store_id in repr(a) and b.store_id not in repr(a)
    copied, unpickled = a.copy(), pickle.loads(pickle.dumps(a))
    for copy, how in ((copied, "store.copy()"), (unpickled, "unpickled")):
        assert a.store_id in repr(copy) and how in repr(copy) and repr(copy) != repr(a)
        # a request of a copy is named as its store's (one request, one name)
        assert erased_what(1, copy, "t") == erased_what(1, a, "t") == f"{label}1 in {a!r} at t"
    with pytest.raises(UnknownRunError) as info:
        a.load_run("nope")
    assert a.store_id in str(info.value) and b.store_id not in str(info.value)


def test_repr_takes_no_lock_and_does_not_change_with_writes(tmp_path):
    store = MemoryStore()
    before = repr(store)
    df, _ = _data(tmp_path / "data")
    _fit(store, df)
    store.append_event("review", {"i": 1})
    assert repr(store) == before  # (a request named earlier keeps its name)
    said = []
    with store._lock:  # (held as a writer in another thread would hold it)
        thread = threading.Thread(target=lambda: said.append(repr(store)))
        thread.start()
        thread.join(timeout=10)
    assert not thread.is_alive() and said == [before]


def test_an_erasure_request_names_the_store_it_was_made_through(tmp_path):
    _removed_rows.clear()
    df, visits = _data(tmp_path / "data")
    a, b = MemoryStore(), MemoryStore()
    _fit(a, df), _fit(b, df)
    (event,) = _erase(b, sample_id=stp.row_ids(visits[visits["key"].isin({503})]))
    # given store a, which does not record it: the request made here, through b
    frame, said = _caught(lambda: stp.row_lineage(df, store=a))
    (named,) = frame.attrs["erasures_requests_here"]
    assert named == f"erasure event {event['seq']} in {b!r} at {event['created_at']}"
    assert b.store_id in named and a.store_id not in named
    assert said and all(b.store_id in m and a.store_id not in m for m in said)
    assert int(np.asarray(frame["erased"].fillna(False), bool).sum()) >= 1


@pytest.mark.parametrize("second", ["ro", "rw"])
def test_a_request_read_through_another_handle_of_the_same_file_is_said_once(tmp_path, second):
    # an SQLiteStore's repr says mode='ro': the request recorded here (through the
    # writable handle) and the same request read through a read-only handle of the same
    # file must keep one name, or one request is said twice
    from sktraceprop.stores import SQLiteStore

    _removed_rows.clear()
    df, visits = _data(tmp_path / "data")
    path = tmp_path / "audit.db"
    store = SQLiteStore(path)
    _fit(store, df)
    (event,) = _erase(store, sample_id=stp.row_ids(visits[visits["key"].isin({503})]))
    other = SQLiteStore(path, mode=second)
    frame, said = _caught(lambda: stp.row_lineage(df, store=other))
    named = list(frame.attrs.get("erasures_requests_here", []))
    assert len(set(named)) <= 1, named
    assert all(str(event["seq"]) in n and event["created_at"] in n for n in named)
    assert len(said) <= 1, said
