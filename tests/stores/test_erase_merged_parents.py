"""Erasing merged rows erases the rows they were built from, in every stored run given
them: the rule the refit check (RefitOnRemovedWarning) and the process's kept values
already followed.

Before, ``store.erase_rows(sample_id=<merged row ids>)`` (or ``source_id=`` of a merge
source) erased from the runs fitted on the merged rows only: a run fitted on the
``people`` file itself kept its statistics of the people lines those merged rows were
built from, while a later fit on those lines was warned of as training on erased rows.
The two now agree: each people line the warning names is erased from every run (a dry
run asking for it again finds nothing held by the runs fitted before). Truth: the raw
bytes of the CSV files (the line holding each ``pid``) and the merge done by hand on the pids.
"""

import re
import warnings

import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop import _removed_rows
from sktraceprop.exceptions import RefitOnRemovedWarning
from tests.stores.test_refit_on_removed_merged import LAB_PIDS, _line_of_pid, _write

ERASED_PIDS = [2, 5, 7]  # in both files: each merged row has a people and a labs parent


def _xy(frame):
    X = frame.drop(columns=["pid", "label"], errors="ignore").fillna(0.0)
    y = frame["label"] if "label" in frame else (frame["pid"] % 2)
    return X, y.to_numpy().astype(int)


def _fit(store, frame):
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)
    pipe.fit(*_xy(frame))
    return pipe.lineage_.run_id


def _quiet(call):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        out = call()
    return out, record


def _people_lines_said(store, people):
    _removed_rows.clear()  # the store alone says it
    _, record = _quiet(lambda: _fit(store, people))
    (said,) = [str(w.message) for w in record if issubclass(w.category, RefitOnRemovedWarning)]
    count = int(re.search(r"trains on (\d+) row\(s\)", said).group(1))
    return count, sorted(int(n) for n in re.findall(r"\bpeople line (\d+)\b", said))


@pytest.mark.parametrize("by", ["sample_id", "source_id"])
def test_erasing_merged_rows_erases_their_parents_from_every_run(tmp_path, by):
    paths = _write(tmp_path)
    _removed_rows.clear()
    store = stp.stores.SQLiteStore(tmp_path / "s.db")
    try:
        people = stp.read_csv(paths["people"], source_id="people", comment="#")
        labs = stp.read_csv(paths["labs"], source_id="labs")
        merged = stp.merge(people, labs, on="pid", how="inner", source_id="people_labs")
        on_merged, on_people, on_labs = (
            _quiet(lambda f=f: _fit(store, f))[0] for f in (merged, people, labs)
        )
        X, _ = _xy(merged)
        if by == "sample_id":
            ids = X.index[merged["pid"].isin(ERASED_PIDS).to_numpy()].to_numpy()
            kwargs, pids = {"sample_id": ids}, ERASED_PIDS
        else:  # every row of the merge source
            kwargs, pids = {"source_id": "people_labs"}, sorted(set(merged["pid"].astype(int)))
        assert pids == [p for p in pids if p in LAB_PIDS]  # (by hand: both parents exist)
        done, _ = _quiet(lambda: store.erase_rows(reason="art. 17", **kwargs))
        # the runs given the parents directly are erased from too
        assert {d["run_id"] for d in done} == {on_merged, on_people, on_labs}
        lines = _line_of_pid(paths["people"])
        said = _people_lines_said(store, people)
        expected = sorted(lines[p] for p in pids)  # the lines the warning names (5 shown) ...
        assert said == (len(expected), expected[:5])
        # ... are erased from every run: asked for again, nothing is held of them
        ids = people.index[people["pid"].isin(pids).to_numpy()].to_numpy()
        again, _ = _quiet(lambda: store.erase_rows(sample_id=ids, reason="again", dry_run=True))
        # (the refit just made, after the erasure, holds them: not among those)
        assert not {d["run_id"] for d in again} & {on_merged, on_people, on_labs}
    finally:
        _removed_rows.clear()
