"""``store.verify()`` and a report's erasure account read the salts held one at a time.

Both built a dict of every salt held (``_raw_prediction_salts``): one entry per logged
call, so the memory of a check grew with the prediction log. The check now reads them
in seq order as the database gives them (PostgreSQL in batches), keeping the seqs held
as int64 and the salts of erasure keys alone; the report reads the seqs alone. Truth:
the dict of every salt, read as before (a MemoryStore's streamed in seq order
whatever the order its dict holds them in), and the findings of the erasure tests
(tests/stores/test_prediction_erasure_record.py), which run unchanged.
"""

import pytest

from tests.stores.test_prediction_erasure_record import erased_twice  # noqa: F401 (a fixture)


def test_the_salts_streamed_are_those_held(erased_twice):  # noqa: F811
    backend, store, *_ = erased_twice
    every = sorted(store._raw_prediction_salts().items())
    assert len(every) >= 3  # (calls of persons 2 and 3, the last erasure's key)
    assert list(store._raw_prediction_salt_rows()) == every
    assert store._raw_prediction_salt_seqs().tolist() == [seq for seq, _ in every]
    if backend.kind == "postgres":  # read in batches: every batch, in order
        for batch in (1, 2, len(every), len(every) + 1):
            assert list(store._raw_prediction_salt_rows(batch=batch)) == every


def test_no_check_holds_every_salt(erased_twice, monkeypatch):  # noqa: F811
    backend, store, *_ = erased_twice
    # (a MemoryStore too: it handed out a copy of its dict of every salt)
    read = []
    whole = type(store)._raw_prediction_salts

    def spy(self):
        read.append(1)
        return whole(self)

    monkeypatch.setattr(type(store), "_raw_prediction_salts", spy)
    assert store.verify() is True
    from sktraceprop.compliance._erasure_evidence import erasure_section

    events = store.events(include_store_events=True)
    section = erasure_section(store, None, events, events[-1]["created_at"], lambda e: 1)
    assert section["n_erasures"] == 2
    assert read == []


def test_a_memory_store_streams_its_salts_in_seq_order(erased_twice):  # noqa: F811
    backend, store, *_ = erased_twice
    if backend.kind != "memory":
        pytest.skip("the order a MemoryStore's dict holds its salts in")
    every = sorted(store._salts.items())
    # a salt put back (an erasure rolled back) is held last in the dict
    store._salts = dict(reversed(every))
    assert list(store._raw_prediction_salt_rows()) == every
    assert store._raw_prediction_salt_seqs().tolist() == [seq for seq, _ in every]
