"""A fit writing to a store, on group statistics computed over rows that store records
as removed by another process, is said, naming the rows.

The removal (an unlearner's, or an erasure request) is made in a spawned process on the
salary file; here the files are read again, the salaries averaged per person
(``stp.aggregate``) and merged onto the people, and a traced pipeline writing to the
same store is fitted. Before, nothing was said; then, rows erased from the store were said
"removed from a model". Truth: the files' physical lines.
"""

import multiprocessing
import re
import warnings

import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.exceptions import RefitOnRemovedWarning
from tests.unlearning.test_refit_on_removed_aggregates import REMOVED_PIDS, _files, _line_of


def _remove_elsewhere(tmp_path, db, how, queue):
    """In a fresh process: fit on the salary file, then remove the rows of REMOVED_PIDS."""
    try:
        _, salaries = _files(tmp_path, "aggstore")
        store = stp.stores.SQLiteStore(db)
        mask = salaries["pid"].isin(REMOVED_PIDS).to_numpy()
        unl = stp.GradientCorrectionUnlearner(
            stp.make_traced_pipeline(StandardScaler(), LogisticRegression()), store=store
        ).fit(salaries[["salary"]], salaries["late"].to_numpy())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if how == "unlearn":
                unl.unlearn(mask=mask)
            else:
                store.erase_rows(sample_id=salaries.index[mask].to_numpy(), reason="art. 17")
        queue.put(None)
    except Exception as exc:  # report to the parent rather than hang
        queue.put(repr(exc))


@pytest.mark.parametrize("how", ["unlearn", "erase"])
def test_statistics_over_rows_removed_in_another_process_are_said(tmp_path, how):
    db = tmp_path / "audit.db"
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    worker = ctx.Process(target=_remove_elsewhere, args=(tmp_path, db, how, queue))
    worker.start()
    error = queue.get(timeout=300)
    worker.join(60)
    assert error is None, error

    people, salaries = _files(tmp_path, "aggstore")  # the same files, read here again
    mean = stp.aggregate(salaries, by="pid", salary_mean=("salary", "mean"))
    X = stp.merge(people, mean, on="pid")
    y = (X["age"].to_numpy() > 45).astype(int)
    pipe = stp.make_traced_pipeline(
        StandardScaler(), LogisticRegression(), store=stp.stores.SQLiteStore(db)
    )
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        pipe.fit(X[["age", "salary_mean"]], y)
    said = [str(w.message) for w in record if issubclass(w.category, RefitOnRemovedWarning)]
    (said,) = [s for s in said if "group statistics" in s]
    assert f"trains on {len(REMOVED_PIDS)} row(s) that hold group statistics" in said
    assert ("unlearning event" if how == "unlearn" else "erasure event") in said
    # what happened to them, in words: an erased row was never "removed from a model"
    words = "removed from a model" if how == "unlearn" else "erased from the store"
    assert f"computed over {2 * len(REMOVED_PIDS)} row(s) {words} (by " in said
    assert how == "unlearn" or "removed from a model" not in said
    for pid in REMOVED_PIDS:
        for nth in (0, 1):
            line = _line_of(tmp_path, "salaries.csv", pid, nth)
            assert re.search(rf"aggstore_salaries line {line}\b", said), (line, said)
        line = _line_of(tmp_path, "people.csv", pid)
        assert re.search(rf"aggstore_people line {line} \(merged into merge:", said), said
