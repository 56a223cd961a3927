"""A fit writing to a store, on rows that store records as removed by another process
(an unlearner's removal or an erasure request), is said, naming the rows.

Before, only removals made in the fitting process were seen: a refit after a restart, or
in another worker, re-learnt them silently. The removal is made in a spawned process;
the refit here, on the same files read again. Truth: the ``key`` column of the CSV
files, written from each row's physical line (tests/conftest.py).
"""

import multiprocessing
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.exceptions import RefitOnRemovedWarning
from tests.conftest import write_hospitals
from tests.stores._store_helpers import new_schema

REMOVED = [41, 45, 50]  # positions of rows of hospital_b


def _frame(paths):
    frame = pd.concat(
        [
            stp.read_csv(paths["hospital_a"], source_id="hospital_a"),
            stp.read_csv(paths["hospital_b"], source_id="hospital_b", comment="#"),
        ]
    )
    return frame, frame[["age", "bp"]].fillna(130.0), frame["label"].to_numpy()


def _store(spec):
    if spec[0] == "sqlite":
        return stp.stores.SQLiteStore(spec[1])
    return stp.stores.PostgresStore(spec[1], schema=spec[2])


def _remove_elsewhere(paths, spec, how, queue):
    """In a fresh process: fit on the files, then remove rows ``REMOVED``."""
    try:
        frame, X, y = _frame(paths)
        store = _store(spec)
        unl = stp.GradientCorrectionUnlearner(
            stp.make_traced_pipeline(StandardScaler(), LogisticRegression()), store=store
        ).fit(X, y)
        mask = np.zeros(len(y), dtype=bool)
        mask[REMOVED] = True
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if how == "unlearn":
                unl.unlearn(mask=mask)
            else:
                store.erase_rows(sample_id=X.index[mask].to_numpy(), reason="art. 17")
        queue.put(None)
    except Exception as exc:  # report to the parent rather than hang
        queue.put(repr(exc))


def _removed_in_another_process(paths, spec, how):
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    worker = ctx.Process(target=_remove_elsewhere, args=(paths, spec, how, queue))
    worker.start()
    error = queue.get(timeout=300)
    worker.join(60)
    assert error is None, error


def _said(fit):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        fit()
    return [w for w in record if issubclass(w.category, RefitOnRemovedWarning)]


def _check(tmp_path, spec, how):
    paths = {k: str(v) for k, v in write_hospitals(tmp_path).items()}
    _removed_in_another_process(paths, spec, how)
    frame, X, y = _frame(paths)
    lines = [f"hospital_b line {k}" for k in frame["key"].to_numpy()[REMOVED]]
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=_store(spec))
    (said,) = _said(lambda: pipe.fit(X, y))
    message = str(said.message)
    # said as what happened: an unlearner removed them from a model; an erasure request
    # erased them from the store (it read "removed from a model (by erasure event")
    said_how = (
        "removed from a model (by unlearning event"
        if how == "unlearn"
        else "erased from the store (by erasure event"
    )
    assert message.startswith(f"this fit of TracedPipeline trains on 3 row(s) {said_how}")
    assert "removed from a model" not in message or how == "unlearn"
    for line in lines:
        assert re.search(rf"{line}\b", message), (line, message)
    # the same fit writing nowhere (or elsewhere) cannot know: the store is what says it
    for store in (None, stp.stores.SQLiteStore(tmp_path / "other.db")):
        plain = stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)
        assert not _said(lambda: plain.fit(X, y))  # noqa: B023 (called here)
    # a fit without them, or one whose forget= removes exactly them, is not warned
    keep = np.ones(len(y), dtype=bool)
    keep[REMOVED] = False
    assert not _said(lambda: pipe.fit(X[keep], y[keep]))
    forgets = stp.GradientCorrectionUnlearner(
        stp.make_traced_pipeline(StandardScaler(), LogisticRegression()),
        store=_store(spec),
        forget=X.index[REMOVED].tolist(),
    )
    assert not _said(lambda: forgets.fit(X, y))
    # one removed row kept by forget= is said alone
    forgets.set_params(forget=X.index[REMOVED[:2]].tolist())
    (said,) = _said(lambda: forgets.fit(X, y))
    assert "trains on 1 row(s) removed" in str(said.message)
    assert re.search(rf"{lines[2]}\b", str(said.message))


@pytest.mark.parametrize("how", ["unlearn", "erase"])
def test_a_removal_made_in_another_process_is_said_through_sqlite(tmp_path, how):
    _check(tmp_path, ("sqlite", str(tmp_path / "store.db")), how)


def test_a_removal_made_in_another_process_is_said_through_postgres(tmp_path, pg_dsn):
    _check(tmp_path, ("postgres", pg_dsn, new_schema()), "unlearn")


def test_a_memory_store_says_a_removal_this_process_no_longer_holds(tmp_path):
    """The in-process record cleared (as after a restart): the store still says it."""
    from sktraceprop import _removed_rows

    paths = {k: str(v) for k, v in write_hospitals(tmp_path).items()}
    frame, X, y = _frame(paths)
    store = stp.stores.MemoryStore()
    unl = stp.GradientCorrectionUnlearner(
        stp.make_traced_pipeline(StandardScaler(), LogisticRegression()), store=store
    ).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        unl.unlearn(sample_id=X.index[REMOVED].to_numpy())
    _removed_rows.clear()
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)
    (said,) = _said(lambda: pipe.fit(X, y))
    for key in frame["key"].to_numpy()[REMOVED]:
        assert re.search(rf"hospital_b line {key}\b", str(said.message))
    assert not _said(
        lambda: stp.make_traced_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    )


def test_the_words_say_how_each_kind_of_removal_removed_the_rows():
    from sktraceprop._removed_set import RemovedRows
    from sktraceprop._removed_set import removed_how as _removed_how

    unlearned = RemovedRows([], "unlearning event 3 of run r in S at T", {})
    erased = RemovedRows([], "erasure event 5 in S at T", {})
    assert _removed_how([unlearned]) == "removed from a model"
    assert _removed_how([erased]) == "erased from the store"
    assert _removed_how([erased, unlearned]) == "removed from a model or erased from the store"
