"""Every erasure asked twice: the second finds nothing, writes nothing and claims
nothing, alike in MemoryStore, SQLiteStore and PostgreSQL (an earlier note suspected a
MemoryStore "double delete" differed; checked here against the stored events).
"""

import pytest

import sktraceprop as stp
from tests.stores.test_erase_rows import _fit, _frames

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _events(store):
    return [(e["seq"], e["kind"]) for e in store.events(include_store_events=True)]


def _twice(backend, erase):
    """Erase, then erase the same again on a fresh handle: the second's answer and the
    events it wrote."""
    first = erase(backend.make())
    store = backend.make()
    before = _events(store)
    second = erase(store)
    after = _events(backend.make())
    return first, second, after[len(before) :], after == _events(backend.make())


def test_each_erasure_asked_twice_claims_and_records_nothing_the_second_time(backend, tmp_path):
    store = backend.make()
    df, _, extra, _ = _frames(tmp_path / "data")
    pipe = _fit(store, df).set_params(log_predictions=True)
    run_id = pipe.lineage_.run_id
    X = df[["city", "age"]].iloc[:3]
    pipe.predict(X)
    # rows by id, then their whole source (erased with them already)
    first, second, written, _ = _twice(
        backend, lambda s: s.erase_rows(sample_id=stp.row_ids(extra)[:2], reason="r1")
    )
    assert [d["run_id"] for d in first] == [run_id] and first[0]["erased"] > 0
    assert second == [] and written == []
    _, second, written, _ = _twice(backend, lambda s: s.erase_rows(source_id="extra", reason="r"))
    assert second == [] and written == []
    # a person's logged calls (and their row digests)
    first, second, written, _ = _twice(backend, lambda s: s.erase_predictions(X, reason="r2"))
    assert len(first["calls"]) == 1 and first["event_seq"] is not None
    assert second["calls"] == [] and second["event_seq"] is None and second["wiped"]
    assert written == []
    # a run's values: the second is refused, naming them as erased, and writes nothing
    feature = "onehotencoder__city_Aa"
    assert backend.make().redact(run_id, features=[feature], reason="r3")["erased"] > 0
    before = _events(backend.make())
    with pytest.raises(ValueError, match="holds no features 'onehotencoder__city_Aa'"):
        backend.make().redact(run_id, features=[feature], reason="r3")
    assert _events(backend.make()) == before
    erasures = ("store.erasure", "store.redaction", "store.prediction_erasure")
    kinds = [k for _, k in before if k in erasures]
    # one event each, none for the repeats; the request for the whole source names rows
    # the first (two rows of it) did not, so it is recorded, with nothing left to erase
    assert kinds == ["store.erasure", "store.redaction", "store.erasure", *erasures[2:]] + [
        "store.redaction"
    ]
    assert backend.make().verify()
