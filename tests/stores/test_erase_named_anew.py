"""An erasure request for rows whose runs hold nothing more of them is still recorded.

The first request for some rows of a file erases the runs' statistics of the whole
source; a later request for other rows of that file then finds nothing left to erase.
It used to write nothing at all: ``sktraceprop trace`` showed those rows' values from
the file and a model pickled before the erasure warned of the first rows only. Checked
against the truth of the raw lineage (each training row's file line), in every backend,
and by hypothesis over sequences of requests.
"""

import pickle
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop.exceptions import ErasedRowsHeldWarning
from sktraceprop.stores._erased_rows import erased_rows
from tests.stores.test_erase_rows import _fit, _frames

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _named(run, lines):
    """Truth: the training positions of ``run`` built from a line of visits.csv in
    ``lines`` (read from the run's lineage, one row per file line behind a row)."""
    frame = stp.row_lineage(run.row_ids)
    hit = frame[(frame["source_id"] == "visits") & frame["line"].isin(lines)]
    return set(hit["row"].tolist())


def _erasures(store):
    return [e for e in store.events(include_store_events=True) if e["kind"] == "store.erasure"]


def test_rows_of_a_source_erased_before_are_recorded_and_hidden(backend, tmp_path, capsys):
    from sktraceprop.cli import main

    store = backend.make()
    df, visits, _, _ = _frames(tmp_path / "data")
    pipe = _fit(store, df)
    held = pickle.dumps(pipe)
    run_id = pipe.lineage_.run_id
    ids = stp.row_ids(visits)
    lines = stp.row_lineage(ids)["line"].to_numpy()
    first = store.erase_rows(sample_id=ids[[2, 7]], reason="first")
    assert [d["run_id"] for d in first] == [run_id]
    # rows 20 and 25: the run holds nothing more of visits, so nothing is erased...
    second = store.erase_rows(sample_id=ids[[20, 25]], reason="second")
    store = backend.make()
    request = _erasures(store)[-1]
    # ...and the caller is told the request was recorded for the run, not given []
    assert second == [
        {
            "run_id": run_id,
            "event_seq": None,
            "erased": 0,
            "erased_before": True,
            "erasure_seq": request["seq"],
            "wiped": True,
        }
    ]
    assert len(_erasures(store)) == 2
    assert request["payload"]["runs"] == [run_id]
    assert request["payload"]["erased_before"] == [run_id]
    assert request["payload"]["reason"] == "second"
    # ...but the request names them: every row of either request, carried out
    run = store.load_run(run_id)
    erased = erased_rows(store, run)
    assert set(erased) == _named(run, lines[[2, 7, 20, 25]])
    assert all(e["carried_out"] for e in erased.values())
    assert {e["seq"] for p, e in erased.items() if p in _named(run, lines[[20, 25]])} == {
        request["seq"]
    }
    # asked again: nothing written
    before = len(store.events(include_store_events=True))
    assert store.erase_rows(sample_id=ids[[25, 20]], reason="third") == []
    assert len(backend.make().events(include_store_events=True)) == before
    # a pipeline pickled before both names the four rows
    with pytest.warns(ErasedRowsHeldWarning, match=r"holds 4 training row"):
        pickle.loads(held).set_params(store=backend.make(), log_predictions=True).predict(
            df[["city", "age"]][:2]
        )
    assert backend.make().verify()
    if backend.kind != "sqlite":
        return
    # the command line shows no value of a row of the second request
    (position,) = sorted(_named(run, lines[[20]]))
    text = (tmp_path / "data" / "visits.csv").read_text().splitlines()[lines[20] - 1]
    assert main(["trace", str(backend.path), "--run", run_id, "--row", str(position)]) == 0
    printed = capsys.readouterr().out
    assert f"named by erasure request event seq {request['seq']}" in printed
    assert text not in printed and "not carried out" not in printed


_STORE = {}


def _fitted(tmp_path_factory):
    if not _STORE:
        df, visits, _, _ = _frames(tmp_path_factory.mktemp("anew"))
        _STORE.update(df=df, visits=visits)
    return _STORE["df"], _STORE["visits"]


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    requests=st.lists(
        st.lists(st.integers(0, 29), min_size=1, max_size=4, unique=True), min_size=1, max_size=4
    )
)
def test_every_row_any_request_named_is_erased_and_no_other(tmp_path_factory, requests):
    df, visits = _fitted(tmp_path_factory)
    store = stp.stores.MemoryStore()
    run_id = _fit(store, df).lineage_.run_id
    ids = stp.row_ids(visits)
    lines = stp.row_lineage(ids)["line"].to_numpy()
    asked, written = set(), []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for rows in requests:
            n_before = len(_erasures(store))
            store.erase_rows(sample_id=ids[rows], reason="r")
            new = set(lines[rows].tolist()) - asked
            written.append(len(_erasures(store)) - n_before)
            asked |= set(lines[rows].tolist())
            # a request is recorded exactly when it names a row no earlier one named
            assert written[-1] == (1 if new else 0)
    run = store.load_run(run_id)
    erased = erased_rows(store, run)
    assert set(erased) == _named(run, np.array(sorted(asked)))
    assert all(e["carried_out"] for e in erased.values())


def test_the_erase_command_says_a_request_was_recorded_with_nothing_left(tmp_path, capsys):
    from sktraceprop.cli import main

    path = tmp_path / "s.db"
    store = stp.stores.SQLiteStore(path)
    df, visits, _, _ = _frames(tmp_path / "data")
    run_id = _fit(store, df).lineage_.run_id
    store.erase_rows(sample_id=stp.row_ids(visits)[[2, 7]], reason="first")
    store.close()
    # every other row of visits: the run holds nothing more of the source
    args = ["erase", str(path), "--source", "visits", "--reason", "whole source"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    store = stp.stores.SQLiteStore(path)
    request = _erasures(store)[-1]
    store.close()
    assert request["payload"]["source_ids"] == ["visits"]
    assert request["payload"]["erased_before"] == [run_id]
    assert "the request is recorded for 1 run(s)" in printed
    assert (
        f"{run_id}  nothing left to erase; request recorded in store.erasure event seq "
        + (f"{request['seq']}")
        in printed
    )
    # asked again: nothing recorded, and said so
    assert main(args) == 0
    assert "an earlier request named them all: nothing recorded" in capsys.readouterr().out


def test_a_dry_run_says_the_request_would_be_recorded_and_writes_nothing(tmp_path, capsys):
    from sktraceprop.cli import main

    path = tmp_path / "s.db"
    store = stp.stores.SQLiteStore(path)
    df, visits, _, _ = _frames(tmp_path / "data")
    run_id = _fit(store, df).lineage_.run_id
    ids = stp.row_ids(visits)
    store.erase_rows(sample_id=ids[[2, 7]], reason="first")
    n_events = len(store.events(include_store_events=True))
    assert store.erase_rows(sample_id=ids[[20]], reason="r", dry_run=True) == [
        {"run_id": run_id, "erased_before": True}
    ]
    assert store.erase_rows(sample_id=ids[[7]], reason="r", dry_run=True) == []
    store.close()
    args = ["erase", str(path), "--source", "visits", "--reason", "r", "--dry-run"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "the request would be recorded for 1 run(s)" in printed
    assert f"{run_id}  nothing left to erase" in printed
    store = stp.stores.SQLiteStore(path)
    assert len(store.events(include_store_events=True)) == n_events
    store.close()
