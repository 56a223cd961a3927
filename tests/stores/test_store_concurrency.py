"""Writers that work on one store at once: what one plans, another may do first.

The truth is the store's own rows: each request is recorded once with the runs it
erased from, every value named is gone, and nothing fails because another writer was
quicker.
"""

import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.stores import _erase_rows
from sktraceprop.stores._erase_rows import ERASURE_EVENT
from sktraceprop.stores._sealed import REDACTION_EVENT
from tests.stores._store_helpers import fit_two_runs, new_schema, run_in_processes

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture(params=["sqlite", "postgres"])
def two_handles(request, tmp_path):
    """Two handles on one store, as two processes would hold them."""
    if request.param == "sqlite":
        return [stp.stores.SQLiteStore(tmp_path / "store.db") for _ in range(2)]
    dsn, schema = request.getfixturevalue("pg_dsn"), new_schema()
    return [stp.stores.PostgresStore(dsn, schema=schema) for _ in range(2)]


def test_an_erasure_another_writer_carried_out_first_is_not_recorded_twice(
    two_handles, tmp_path, monkeypatch
):
    # Before: the slower writer recorded its request, then failed on the first run
    # ("holds no sources ... erased already"), leaving a store.erasure event that no
    # redaction carried out.
    mine, other = two_handles
    runs, source = fit_two_runs(mine, tmp_path, seed=1)
    planned = _erase_rows.plan
    raced = []

    def plan_then_lose_the_race(store, **kwargs):
        out = planned(store, **kwargs)
        if store is mine and not raced:  # the other writer erases the same rows first
            raced.append(other.erase_rows(source_id=source, reason="GDPR-7"))
        return out

    monkeypatch.setattr(_erase_rows, "plan", plan_then_lose_the_race)
    assert mine.erase_rows(source_id=source, reason="GDPR-7") == []
    assert sorted(d["run_id"] for d in raced[0]) == sorted(runs)
    events = mine.events(include_store_events=True)
    requests = [e for e in events if e["kind"] == ERASURE_EVENT]
    assert len(requests) == 1 and sorted(requests[0]["payload"]["runs"]) == sorted(runs)
    redactions = [e for e in events if e["kind"] == REDACTION_EVENT]
    assert sorted(e["run_id"] for e in redactions) == sorted(runs)
    assert mine.verify() and other.verify()


def _fit_and_erase(path, csv, rounds, queue):
    """Fit a run on ``csv`` with logged predictions, then erase its source; ``rounds``
    times, as one of several processes doing the same on one store; report errors."""
    import warnings

    errors = []
    try:
        warnings.simplefilter("ignore")
        store = stp.stores.SQLiteStore(path)
        df = stp.read_csv(csv)
        for _ in range(rounds):
            try:
                model = stp.make_traced_pipeline(
                    StandardScaler(), LogisticRegression(), store=store, log_predictions=True
                ).fit(df[["a", "b"]], df["y"])
                model.predict(df[["a", "b"]].iloc[:2])
                (source,) = {s.source_id for s in model.lineage_.sources.values()}
                store.erase_rows(source_id=source, reason="GDPR-3")
            except Exception as exc:
                errors.append(repr(exc))
    except Exception as exc:  # report to the parent rather than hang
        errors.append(repr(exc))
    queue.put(errors)


def test_processes_erasing_the_same_rows_at_once_fail_nothing_and_record_each_once(tmp_path):
    # Before: a process whose request another one had carried out first failed and
    # left its store.erasure event without any erasure.

    path = str(tmp_path / "store.db")
    fit_two_runs(stp.stores.SQLiteStore(path), tmp_path, seed=1)
    args = (path, str(tmp_path / "patients.csv"), 3)
    assert run_in_processes(_fit_and_erase, [args] * 3) == []
    store = stp.stores.SQLiteStore(path)
    assert store.verify()
    events = store.events(include_store_events=True)
    runs = store.list_runs()["run_id"].tolist()
    assert len(runs) == 2 + 3 * 3 and len(store.events(kind="prediction")) == 3 * 3
    # every run erased from once, by a request that names it and that it names
    redactions = [e for e in events if e["kind"] == REDACTION_EVENT]
    assert sorted(e["run_id"] for e in redactions) == sorted(runs)
    for request in (e for e in events if e["kind"] == ERASURE_EVENT):
        named = f"(erasure event {request['seq']})"
        done = [e["run_id"] for e in redactions if e["payload"]["reason"].endswith(named)]
        assert sorted(done) == sorted(request["payload"]["runs"]) and done
