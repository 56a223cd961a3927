"""A writer killed (``kill -9``, power cut) in the middle of a store's work.

Each case runs the work in a child process that exits at once (``os._exit``, as a
kill would: no ``finally``, no rollback by Python) at a chosen point inside it, then
opens the store as the next process would. The truth is the store's own rows read
back: what was committed is all there, nothing is half there, and the next writer
continues the chain.
"""

import subprocess
import sys
import textwrap

import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop.stores._erase_rows import ERASURE_EVENT
from sktraceprop.stores._sealed import REDACTION_EVENT
from tests.stores._store_helpers import fit_two_runs, new_schema

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

#: The child's exit status when it stopped where it was told to.
KILLED = 77


def _store_code(kind, where):
    if kind == "sqlite":
        return f"stp.stores.SQLiteStore({where!r})"
    dsn, schema = where
    return f"stp.stores.PostgresStore({dsn!r}, schema={schema!r})"


def _run_killed(kind, where, *pieces):
    """Run ``pieces`` of code (using ``store``; one of them makes the child exit with
    :data:`KILLED` at the point to test, see :func:`_dying`) in a child process."""
    code = textwrap.dedent(
        f"""
        import os, warnings
        warnings.simplefilter("ignore")
        import sktraceprop as stp
        store = {_store_code(kind, where)}
        """
    )
    code += "".join(textwrap.dedent(piece) for piece in pieces)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == KILLED, done.stderr[-3000:]


def _open(kind, where):
    if kind == "sqlite":
        return stp.stores.SQLiteStore(where)
    return stp.stores.PostgresStore(where[0], schema=where[1])


@pytest.fixture(params=["sqlite", "postgres"])
def where(request, tmp_path):
    if request.param == "sqlite":
        return "sqlite", str(tmp_path / "store.db")
    return "postgres", (request.getfixturevalue("pg_dsn"), new_schema())


def _erasures_carried_out(store):
    """Every erasure event whose runs do not all have a redaction event naming it."""
    events = store.events(include_store_events=True)
    missing = {}
    for event in events:
        if event["kind"] != ERASURE_EVENT:
            continue
        named = f"(erasure event {event['seq']})"
        done = {
            e["run_id"]
            for e in events
            if e["kind"] == REDACTION_EVENT and e["payload"]["reason"].endswith(named)
        }
        if set(event["payload"]["runs"]) - done:
            missing[event["seq"]] = sorted(set(event["payload"]["runs"]) - done)
    return missing


def _dying(method):
    """Child code: this store's writes exit (as killed) when they call ``method``."""
    return f"""
        import contextlib
        opened = store._writer
        @contextlib.contextmanager
        def dying_writer():
            with opened() as writer:
                type(writer).{method} = lambda *a: os._exit({KILLED})
                yield writer
        store._writer = dying_writer
    """


def test_a_writer_killed_inside_erase_rows_leaves_no_request_half_carried_out(where, tmp_path):
    # Before: the request's store.erasure event was committed on its own, then each
    # run's redaction in a transaction of its own: a writer killed between them left
    # an event saying the runs' values were erased (and `sktraceprop trace` hid them)
    # while the store still held them, and verify() passed.
    kind, at = where
    store = _open(kind, at)
    runs, source = fit_two_runs(store, tmp_path)
    held = {run_id: store._raw_leaves(run_id) for run_id in runs}
    n_events = len(store.events(include_store_events=True))
    # killed as it deletes the first run's values
    erase = f"store.erase_rows(source_id={source!r}, reason='GDPR-1')\n"
    _run_killed(kind, at, _dying("delete_leaves"), erase)
    after = _open(kind, at)
    assert after.verify()
    assert _erasures_carried_out(after) == {}
    # nothing of the killed request is kept: no event, every value still held
    assert len(after.events(include_store_events=True)) == n_events
    assert {run_id: after._raw_leaves(run_id) for run_id in runs} == held
    # the request made again is carried out in full
    done = after.erase_rows(source_id=source, reason="GDPR-1")
    assert sorted(d["run_id"] for d in done) == sorted(runs)
    assert _erasures_carried_out(after) == {} and after.verify()
    for event in after.events(kind=REDACTION_EVENT, include_store_events=True):
        leaves = set(event["payload"]["leaves"])
        assert leaves and leaves <= set(held[event["run_id"]])
        assert not leaves & set(after._raw_leaves(event["run_id"]))


@pytest.mark.parametrize("signed_before", [False, True])
def test_a_checkpoint_interrupted_after_writes_is_named_as_possibly_that(
    where, tmp_path, signed_before
):
    # Before: "appended after the last one (forged, or not signed yet ...)" under "failed
    # its integrity check": a store whose writer was killed between writing and signing
    # read as tampered, with no word of a crash or of what to do.
    from sktraceprop import signing

    kind, at = where
    key = signing.generate_key()
    signing.save_key(key, tmp_path / "audit.pem")
    store = _open(kind, at)
    store.append_event("review", {"n": 1})
    if signed_before:
        store.checkpoint(key)
    work = f"""
        store.append_event("review", {{"n": 2}})
        store.checkpoint({str(tmp_path / "audit.pem")!r})
    """
    _run_killed(kind, at, _dying("insert_checkpoint"), work)
    after = _open(kind, at)
    assert after.verify()  # (no key: the chain, runs and sources)
    with pytest.raises(stp.exceptions.CorruptStoreError) as caught:
        after.verify(key.public_key())
    said = str(caught.value)
    assert "failed its integrity check" not in said
    assert "its hash chain, runs and sources check out" in said
    assert "interrupted" in said or "crash" in said
    assert "store.checkpoint(private_key)" in said
    if signed_before:
        assert "event(s) 2 are not covered by a checkpoint signed by this key" in said
        assert "through event 1" in said and "allow_unsigned_tail=True" in said
        assert after.verify(key.public_key(), allow_unsigned_tail=True)
    else:
        assert "none of its 2 event(s) is signed by this key" in said
    # the next writer continues, and signing the tail makes the store verify
    after.append_event("review", {"n": 3})
    made = after.checkpoint(key)
    assert made["event_seq"] == 3
    assert after.verify(key.public_key())


FIT_AND_PREDICT = """
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    df = stp.read_csv({csv!r})
    model = stp.make_traced_pipeline(
        LogisticRegression(), store=store, log_predictions=True
    ).fit(df[["a", "b"]], df["y"])
"""


@pytest.mark.parametrize("killed_in", ["save_run", "prediction"])
def test_a_writer_killed_inside_a_write_leaves_nothing_of_it(where, tmp_path, killed_in):
    # Guard: a run's sources, events and row ids, or a prediction's event, are one
    # transaction; the next writer continues the chain after the last committed event.
    kind, at = where
    store = _open(kind, at)
    _, _ = fit_two_runs(store, tmp_path)  # (writes patients.csv, read by the child)
    before = store.events(include_store_events=True)
    runs = store.list_runs()["run_id"].tolist()
    work = FIT_AND_PREDICT.format(csv=str(tmp_path / "patients.csv"))
    if killed_in == "save_run":
        _run_killed(kind, at, _dying("insert_run"), work)
    else:  # the fit is stored; the first logged call is killed as its event is written
        _run_killed(kind, at, work, _dying("insert_event"), "model.predict(df[['a', 'b']])\n")
    after = _open(kind, at)
    assert after.verify()
    events = after.events(include_store_events=True)
    if killed_in == "save_run":
        assert events == before and after.list_runs()["run_id"].tolist() == runs
    else:  # the fit's own events are there, the killed call's is not
        assert events[: len(before)] == before
        assert {e["kind"] for e in events[len(before) :]} == {"store.run"}
        assert after.events(kind="prediction") == []
    event = after.append_event("review", {"after": "the crash"})
    assert event["seq"] == len(events) + 1 and event["prev_hash"] == events[-1]["hash"]
    assert after.verify()


UNLEARN = """
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler
    df = stp.read_csv({csv!r})
    unlearner = stp.GradientCorrectionUnlearner(
        stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)
    ).fit(df[["a", "b"]], df["y"])
    removed = stp.row_ids(df)[:3]
"""


def test_a_writer_killed_inside_unlearn_redact_stores_no_event_promising_an_erasure(
    where, tmp_path
):
    # Before: the unlearning event ("redact= erases these values from it next, in a
    # store.redaction event naming this one") was committed on its own, then the runs'
    # erasures: a process killed between them left that event with every value held.
    kind, at = where
    store = _open(kind, at)
    runs, _ = fit_two_runs(store, tmp_path)
    held = {run_id: store._raw_leaves(run_id) for run_id in runs}
    before = store.events(include_store_events=True)
    work = UNLEARN.format(csv=str(tmp_path / "patients.csv"))
    unlearn = "unlearner.unlearn(sample_id=removed, redact='GDPR-9')\n"
    _run_killed(kind, at, work, _dying("delete_leaves"), unlearn)
    after = _open(kind, at)
    assert after.verify()
    events = after.events(include_store_events=True)
    assert events[: len(before)] == before
    assert after.events(kind="unlearning") == []  # (the child's fit is all it stored)
    assert [e["kind"] for e in events[len(before) :]] == ["store.run"]
    assert {run_id: after._raw_leaves(run_id) for run_id in runs} == held


def test_a_request_run_again_after_a_kill_before_the_wipe_wipes_the_files(tmp_path):
    # Before: a writer killed after committing an erasure, before folding SQLite's
    # write-ahead log, left the erased value's old page in the file; the request run
    # again found nothing to erase and returned at once: the value stayed in the file
    # as long as any handle was open.
    from sklearn.preprocessing import OneHotEncoder

    path = tmp_path / "store.db"
    mark = "Qxzvwq"
    pd.DataFrame({"city": [mark, "Aa", "Bb", "Aa"] * 5, "y": [1, 0, 1, 0] * 5}).to_csv(
        tmp_path / "p.csv", index=False
    )
    df = stp.read_csv(tmp_path / "p.csv")
    store = stp.stores.SQLiteStore(path)
    model = stp.make_traced_pipeline(OneHotEncoder(), LogisticRegression(), store=store)
    model.fit(df[["city"]], df["y"])
    (source,) = {s.source_id for s in model.lineage_.sources.values()}
    feature = f"city_{mark}"
    assert feature in model.lineage_.feature_lineage
    store.close()

    def held():
        return sum(p.read_bytes().count(mark.encode()) for p in tmp_path.glob("store.db*"))

    assert held()
    erase = f"store.erase_rows(source_id={source!r}, features=[{feature!r}], reason='R-1')\n"
    # as a writer of an earlier sktraceprop, whose erasure marked nothing in the file
    # (an erasure now marks it, and the next opening wipes it: test_erasure_wipe_pending)
    kill_at_wipe = (
        "import sktraceprop.stores._sqlite_scrub as scrub\n"
        "scrub.mark = lambda *a: None\n"
        "import sktraceprop.stores._redaction as redaction\n"
        "redaction.new_wipe = lambda writer: None\n"  # (nor named one in its event)
        f"scrub.retry = scrub.scrub = lambda *a: os._exit({KILLED})\n"
    )
    _run_killed("sqlite", str(path), kill_at_wipe, erase)
    after = stp.stores.SQLiteStore(path)
    assert after.verify() and len(after.events(kind="store.redaction", include_store_events=True))
    assert held()  # committed, not wiped: the old page is still in the file
    # (the feature name is erased already: naming it again is refused, as ever)
    assert after.erase_rows(source_id=source, reason="R-1") == []
    assert not held()  # (the handle still open)
    assert after.verify()


def test_trace_says_when_a_request_stored_by_an_older_writer_was_not_carried_out(tmp_path, capsys):
    # Stores written before the request and its erasures were one transaction can
    # hold a store.erasure event that no erasure of a run it names carried out (its
    # writer killed, or failed, between them): trace hid the row's values as erased.
    from sktraceprop._lineage._ids import lines_of
    from sktraceprop.cli import main
    from sktraceprop.stores._append import _Chain

    path = tmp_path / "store.db"
    store = stp.stores.SQLiteStore(path)
    (run_id, _), source = fit_two_runs(store, tmp_path)

    def old_request(writer):  # what such a writer left: the request alone
        chain = _Chain(store, writer)
        payload = {"source_ids": [source], "rows": None, "reason": "R-2", "runs": [run_id]}
        chain.append(ERASURE_EVENT, payload)
        chain.confirm()

    store._transact(old_request, lambda: None)
    assert store.verify()
    line = int(lines_of(store.load_run(run_id).row_ids[:1])[0])
    trace = ["trace", str(path), "--run", run_id, "--row", "0"]
    assert main(trace) == 0
    printed = capsys.readouterr().out
    assert f"line {line} of" in printed and "named by erasure request event seq" in printed
    assert "was not carried out for this run" in printed
    assert main(["erase", str(path), "--source", source, "--reason", "R-2"]) == 0
    capsys.readouterr()
    assert main(trace) == 0
    printed = capsys.readouterr().out
    assert "named by erasure request event seq" in printed
    assert "not carried out" not in printed
