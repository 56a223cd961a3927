"""A removal is seen through merges: a fit on merged rows whose parent file line was
removed (unlearned or erased), and a fit on file rows a removed merged row was built
from, are said, naming the file line removed.

Before, the check compared training row ids with removed row ids as they were: a fit
on rows of ``stp.merge(people, labs)`` whose ``people`` line was unlearned (in this
process or, through the store, in another one) trained on it without a word, and so
did a fit on ``people`` after a merged row built from it was removed. Truth: the raw
bytes of the CSV files (the line of the file that holds each ``pid``), and the merge
done by hand on them.
"""

import multiprocessing
import re
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop import _removed_rows
from sktraceprop.exceptions import RefitOnRemovedWarning

N_PEOPLE, LAB_PIDS = 24, [p for p in range(30) if p % 3]  # labs lack pids 0, 3, ...


def _write(folder):
    rng = np.random.default_rng(7)
    people = ["pid,age,label", "# a comment line, counted by the file's lines"]
    people += [f"{p},{rng.integers(10, 90)},{p % 2}" for p in range(N_PEOPLE)]
    labs = ["pid,bp", *(f"{p},{rng.normal(130, 15):.1f}" for p in LAB_PIDS)]
    paths = {}
    for name, lines in (("people", people), ("labs", labs)):
        paths[name] = str(folder / f"{name}.csv")
        with open(paths[name], "w") as f:
            f.write("\n".join(lines) + "\n")
    return paths


def _line_of_pid(path):
    """``{pid: physical line}`` read from the file's bytes (the independent truth)."""
    out = {}
    with open(path, "rb") as f:
        for n, raw in enumerate(f.read().decode().split("\n"), start=1):
            head = raw.split(",")[0]
            if head.isdigit():
                out[int(head)] = n
    return out


def _frames(paths, how):
    people = stp.read_csv(paths["people"], source_id="people", comment="#")
    labs = stp.read_csv(paths["labs"], source_id="labs")
    merged = stp.merge(people, labs, on="pid", how=how)
    return people, merged


def _xy(frame):
    X = frame.drop(columns=["pid", "label"]).fillna(0.0)
    return X, frame["label"].fillna(0).to_numpy().astype(int)


def _pipe(store=None):
    return stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)


def _remove(frame, positions, store, how):
    """Remove the rows at ``positions`` of ``frame`` from a model (or erase them)."""
    X, y = _xy(frame)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if how == "unlearn":
            unl = stp.GradientCorrectionUnlearner(_pipe(), store=store).fit(X, y)
            unl.unlearn(sample_id=X.index[positions].to_numpy())
        else:
            _pipe(store).fit(X, y)
            store.erase_rows(sample_id=X.index[positions].to_numpy(), reason="art. 17")


def _said(fit):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        fit()
    return [str(w.message) for w in record if issubclass(w.category, RefitOnRemovedWarning)]


def _expected(paths, removed_pids, merged_pids, direction):
    """The people lines the warning must name, and how many training rows it counts,
    from the files and a merge done by hand on the pids."""
    lines = _line_of_pid(paths["people"])
    if direction == "file then merged":  # merged rows built from a removed people row
        hit = [p for p in merged_pids if p in removed_pids]
        return [lines[p] for p in hit], len(hit)
    # people rows a removed merged row was built from (an outer merge's labs-only rows
    # have no people parent)
    hit = sorted({p for p in removed_pids if p in lines})
    return [lines[p] for p in hit], len(hit)


#: How the warning says each kind of removal removed the rows.
_WORDS = {"unlearn": "removed from a model", "erase": "erased from the store"}


def _assert_named(said, lines, count, how="unlearn"):
    if not count:
        assert not said, said
        return
    (message,) = said
    assert re.match(rf"this fit of \w+ trains on {count} row\(s\) {_WORDS[how]}", message)
    for line in lines[:5]:
        assert re.search(rf"\bpeople line {line}\b", message), (line, message)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    direction=st.sampled_from(["file then merged", "merged then file"]),
    how=st.sampled_from(["unlearn", "erase"]),
    merge_how=st.sampled_from(["inner", "left", "right", "outer"]),
    picks=st.lists(st.integers(0, 40), min_size=1, max_size=4),
    where=st.sampled_from(["store", "process"]),
)
def test_a_removal_is_seen_through_merges(tmp_path, direction, how, merge_how, picks, where):
    if how == "erase":
        where = "store"  # an erasure is a store's record
    paths = _write(tmp_path)
    _removed_rows.clear()
    store = stp.stores.MemoryStore()
    try:
        people, merged = _frames(paths, merge_how)
        if direction == "file then merged":
            removed_pids = sorted({int(people["pid"].iloc[i % len(people)]) for i in picks})
            _remove(people, np.flatnonzero(people["pid"].isin(removed_pids)), store, how)
            fitted = merged
        else:
            removed_pids = sorted({int(merged["pid"].iloc[i % len(merged)]) for i in picks})
            _remove(merged, np.flatnonzero(merged["pid"].isin(removed_pids)), store, how)
            fitted = people
        if where == "store":
            _removed_rows.clear()  # as after a restart: the store alone says it
        else:
            store = None  # a fit writing to no store: this process's record says it
        lines, count = _expected(
            paths, removed_pids, merged["pid"].astype(int).tolist(), direction
        )
        X, y = _xy(fitted)
        _assert_named(_said(lambda: _pipe(store).fit(X, y)), lines, count, how)
        keep = ~fitted["pid"].isin(removed_pids).to_numpy()
        assert not _said(lambda: _pipe(store).fit(X[keep], y[keep]))
    finally:
        _removed_rows.clear()


def _remove_elsewhere(paths, db, direction, how, queue):
    """In a fresh process: remove people pids 1 and 4 (from a model on the people
    file, or on its merge with labs), recorded in the SQLite store ``db``."""
    try:
        people, merged = _frames(paths, "inner")
        frame = people if direction == "file then merged" else merged
        _remove(frame, np.flatnonzero(frame["pid"].isin([1, 4])), stp.stores.SQLiteStore(db), how)
        queue.put(None)
    except Exception as exc:  # report to the parent rather than hang
        queue.put(repr(exc))


@pytest.mark.parametrize(
    "direction, how",
    [("file then merged", "unlearn"), ("merged then file", "erase")],
)
def test_a_removal_in_another_process_is_seen_through_merges(tmp_path, direction, how):
    paths = _write(tmp_path)
    db = str(tmp_path / "store.db")
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    worker = ctx.Process(target=_remove_elsewhere, args=(paths, db, direction, how, queue))
    worker.start()
    error = queue.get(timeout=300)
    worker.join(60)
    assert error is None, error
    people, merged = _frames(paths, "inner")
    fitted = merged if direction == "file then merged" else people
    X, y = _xy(fitted)
    lines = _line_of_pid(paths["people"])
    said = _said(lambda: _pipe(stp.stores.SQLiteStore(db)).fit(X, y))
    _assert_named(said, [lines[1], lines[4]], 2, how)
    assert ("unlearning event" if how == "unlearn" else "erasure event") in said[0]
    if direction == "file then merged":  # the merged row each was built into, named
        for k, pid in enumerate(merged["pid"].tolist()):
            if pid in (1, 4):
                assert re.search(
                    rf"people line {lines[pid]} \(merged into merge:\S+ line {k + 1}\)", said[0]
                )
    # writing to no store, this process cannot know
    assert not _said(lambda: _pipe().fit(X, y))


@pytest.mark.parametrize("removed_from", ["people", "merged"])
def test_an_unlearner_that_stored_no_run_is_seen_through_its_store(tmp_path, removed_from):
    """An unlearner of an estimator that is not traced stores no run: its event named
    row ids whose codes no run could read, and no fit on them was ever warned."""
    paths = _write(tmp_path)
    _removed_rows.clear()
    store = stp.stores.MemoryStore()
    try:
        people, merged = _frames(paths, "inner")
        frame = people if removed_from == "people" else merged
        X, y = _xy(frame)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            unl = stp.GradientCorrectionUnlearner(LogisticRegression(), store=store).fit(X, y)
            unl.unlearn(sample_id=X.index[frame["pid"].isin([2, 5]).to_numpy()].to_numpy())
        assert unl.run_id_ is None
        _removed_rows.clear()  # as after a restart
        lines = _line_of_pid(paths["people"])
        # the other frame: through the merge, whichever way
        fitted = merged if removed_from == "people" else people
        X, y = _xy(fitted)
        said = _said(lambda: _pipe(store).fit(X, y))
        _assert_named(said, [lines[2], lines[5]], 2)
        assert "unlearning event 1 in" in said[0]
    finally:
        _removed_rows.clear()


def test_a_merge_source_erased_by_id_is_seen_on_the_rows_it_was_built_from(tmp_path):
    paths = _write(tmp_path)
    _removed_rows.clear()
    store = stp.stores.MemoryStore()
    people, _ = _frames(paths, "inner")
    labs = stp.read_csv(paths["labs"], source_id="labs")
    merged = stp.merge(people, labs, on="pid", source_id="people_labs")
    X, y = _xy(merged)
    _pipe(store).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        store.erase_rows(source_id="people_labs", reason="art. 17")
    lines = _line_of_pid(paths["people"])
    in_merge = sorted(set(merged["pid"].astype(int)))  # truth: the pids both files hold
    assert in_merge == [p for p in range(N_PEOPLE) if p in LAB_PIDS]
    X, y = _xy(people)
    said = _said(lambda: _pipe(store).fit(X, y))
    _assert_named(said, [lines[p] for p in in_merge], len(in_merge), "erase")
    keep = ~people["pid"].isin(in_merge).to_numpy()
    assert not _said(lambda: _pipe(store).fit(X[keep], y[keep]))


def test_a_valuer_fitted_on_merged_rows_built_from_removed_rows_is_warned(tmp_path):
    """A valuer keeps its rows' features and labels: before, one fitted after a removal
    on the frame still holding the rows (or rows merged from them) said nothing."""
    paths = _write(tmp_path)
    _removed_rows.clear()
    try:
        people, merged = _frames(paths, "left")
        _remove(people, np.flatnonzero(people["pid"].isin([7, 8])), None, "unlearn")
        lines = _line_of_pid(paths["people"])
        X, y = _xy(merged)
        said = _said(lambda: stp.KNNShapleyValuer(n_neighbors=3).fit(X, y))
        _assert_named(said, [lines[7], lines[8]], 2)
        assert said[0].startswith("this fit of KNNShapleyValuer")
        keep = ~merged["pid"].isin([7, 8]).to_numpy()
        assert not _said(lambda: stp.KNNShapleyValuer(n_neighbors=3).fit(X[keep], y[keep]))
    finally:
        _removed_rows.clear()
