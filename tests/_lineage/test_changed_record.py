"""The run records, per source, the loaded columns found changed after loading.

Only a note said so (``product (7 of 222 rows checked, 7 of them missing values
filled)``), with no source named: a report counting missing values on the rows given to
fit showed 0 for a column whose file has empty cells, with nothing beside the figure.
The truth is pandas' own read of the raw files.
"""

import pickle
import warnings

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop._lineage import REGISTRY
from sktraceprop._lineage._capture import resolve_row_ids
from sktraceprop._lineage._ids import codes_of
from sktraceprop._lineage._record import changed_record, changes
from sktraceprop._lineage._run import Lineage
from sktraceprop.exporters import read_parquet, to_parquet
from sktraceprop.stores import SQLiteStore
from tests.conftest import write_hospitals


def _frames(tmp_path):
    paths = write_hospitals(tmp_path)
    a = stp.read_csv(paths["hospital_a"], source_id="hospital_a")
    b = stp.read_csv(paths["hospital_b"], source_id="hospital_b", comment="#")
    return paths, a, b


def _fit(X, y, store=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # (gaps imputed in the pipeline: no change after loading)
        pipe = stp.make_traced_pipeline(SimpleImputer(), LogisticRegression(), store=store)
        return pipe.fit(X, y)


def _code(run, source_id):
    (code,) = [c for c, s in run.sources.items() if s.source_id == source_id]
    return code


def test_fillna_is_recorded_for_its_source_with_the_counts_of_its_rows(tmp_path):
    paths, a, b = _frames(tmp_path)
    X = pd.concat([a, b])[["age", "bp"]].copy()
    X["bp"] = X["bp"].fillna(120.0)
    store = SQLiteStore(tmp_path / "s.db")
    run = _fit(X, pd.concat([a, b])["label"], store).lineage_
    raw = pd.read_csv(paths["hospital_b"], comment="#")  # pandas alone: the truth
    gaps = int(raw["bp"].isna().sum())
    assert gaps > 0 and not pd.read_csv(paths["hospital_a"])["bp"].isna().any()
    # files this small keep every row as a witness: every row of b is checked
    assert run.changed_columns == [
        {
            "code": _code(run, "hospital_b"),
            "column": "bp",
            "rows_checked": len(raw),
            "rows_changed": gaps,
            "missing_filled": gaps,
        }
    ]
    # stored and exported, read back the same
    stored = store.load_run(run.run_id)
    assert stored.changed_columns == run.changed_columns
    assert store.verify()
    back = read_parquet(to_parquet(run, tmp_path / "pq"))
    assert back == run and back.changed_columns == run.changed_columns
    assert Lineage.from_dict(run.to_dict(), run.row_ids).changed_columns == run.changed_columns
    # the column's name is a leaf of the sealed record: erased like any other name
    store.redact(run.run_id, features=["bp"], reason="test")
    (erased,) = store.load_run(run.run_id).changed_columns
    assert erased["column"] != "bp" and erased["rows_changed"] == gaps
    assert store.verify()


def test_data_as_loaded_records_no_change_and_arrays_record_none(tmp_path):
    _, a, b = _frames(tmp_path)
    df = pd.concat([a, b])
    store = SQLiteStore(tmp_path / "s.db")
    run = _fit(df[["age", "bp"]], df["label"], store).lineage_
    assert run.changed_columns == []  # compared: nothing changed (not "not recorded")
    assert store.load_run(run.run_id).changed_columns == []
    assert read_parquet(to_parquet(run, tmp_path / "pq")).changed_columns == []
    # an array has no column names to compare: not recorded, not "unchanged"
    X = df[["age", "bp"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe = stp.make_traced_pipeline(SimpleImputer(), LogisticRegression())
        pipe.fit(X.to_numpy(), df["label"].to_numpy(), sample_id=resolve_row_ids(X))
    assert pipe.lineage_.changed_columns is None


def test_runs_recorded_before_it_was_kept_read_as_not_recorded(tmp_path):
    _, a, b = _frames(tmp_path)
    X = pd.concat([a, b])[["age", "bp"]].fillna(0.0)
    run = _fit(X, pd.concat([a, b])["label"]).lineage_
    assert run.changed_columns
    old = run.to_dict()
    del old["changed_columns"]
    assert Lineage.from_dict(old, run.row_ids).changed_columns is None
    state = run.__dict__.copy()
    del state["changed_columns"]
    revived = Lineage.__new__(Lineage)
    revived.__setstate__(pickle.loads(pickle.dumps(state)))
    assert revived.changed_columns is None
    # a stored run without it (an older sktraceprop) loads as not recorded
    run.changed_columns = None
    store = SQLiteStore(tmp_path / "s.db")
    store.save_run(run)
    assert "changed_columns" not in run.to_dict()
    assert store.load_run(run.run_id).changed_columns is None
    assert store.verify()


def test_a_merged_column_marks_only_the_parent_whose_rows_changed(tmp_path):
    """fillna on a merged frame: the merge's column is recorded, and so is the column
    of the file whose rows had the gaps (``through`` the merge), with that file's rows
    only; the other file, whose rows were not changed, is not named."""
    paths, a, b = _frames(tmp_path)
    lookup = stp.from_pandas(pd.DataFrame({"sex": ["F", "M"], "w": [1.0, 2.0]}), source_id="w")
    joined = stp.merge(pd.concat([a, b]), lookup, on="sex", how="left")
    X = joined[["age", "bp", "w"]].copy()
    X["bp"] = X["bp"].fillna(-1.0)
    run = _fit(X, joined["label"]).lineage_
    raw = pd.read_csv(paths["hospital_b"], comment="#")
    gaps = int(raw["bp"].isna().sum())
    (merge,) = np.unique(codes_of(run.row_ids)).tolist()  # every row is a merged row
    by = {(run.sources[e["code"]].source_id, e.get("through")): e for e in run.changed_columns}
    assert set(by) == {(run.sources[merge].source_id, None), ("hospital_b", merge)}
    top = by[run.sources[merge].source_id, None]
    assert (top["column"], top["rows_changed"], top["missing_filled"]) == ("bp", gaps, gaps)
    assert top["rows_checked"] == len(X)
    leaf = by["hospital_b", merge]
    assert leaf["column"] == "bp"
    assert (leaf["rows_checked"], leaf["rows_changed"], leaf["missing_filled"]) == (
        len(raw),
        gaps,
        gaps,
    )


def test_a_column_filled_before_a_merge_marks_the_file_whose_rows_were_filled(tmp_path):
    """fillna, then stp.merge: the merge loaded the filled values (the fit finds no
    difference with them), and kept that its input had changed: the file whose rows were
    filled is recorded through the merge, with the counts of its own rows."""
    paths, a, b = _frames(tmp_path)
    df = pd.concat([a, b])
    df["bp"] = df["bp"].fillna(-1.0)
    lookup = stp.from_pandas(pd.DataFrame({"sex": ["F", "M"], "w": [1.0, 2.0]}), source_id="w")
    joined = stp.merge(df, lookup, on="sex", how="left")
    run = _fit(joined[["age", "bp", "w"]], joined["label"]).lineage_
    raw = pd.read_csv(paths["hospital_b"], comment="#")
    gaps = int(raw["bp"].isna().sum())
    (merge,) = np.unique(codes_of(run.row_ids)).tolist()
    by = {(run.sources[e["code"]].source_id, e.get("through")): e for e in run.changed_columns}
    assert set(by) == {(run.sources[merge].source_id, None), ("hospital_b", merge)}
    top = by[run.sources[merge].source_id, None]
    assert (top["column"], top["rows_changed"], top["missing_filled"]) == ("bp", gaps, gaps)
    leaf = by["hospital_b", merge]
    assert leaf["column"] == "bp"
    assert (leaf["rows_checked"], leaf["rows_changed"], leaf["missing_filled"]) == (
        len(raw),
        gaps,
        gaps,
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.booleans(), st.booleans()), min_size=2, max_size=40),
    st.integers(1, 5),
)
def test_counts_are_the_rows_changed_and_the_gaps_filled(rows, n_second):
    """Per row: missing when loaded, then changed (filled where missing); two sources.
    Every row of a small frame is a witness: the counts are exact, per source."""
    REGISTRY.clear()
    frames, truth = [], {}
    for k, part in enumerate((rows, rows[:n_second])):
        values = [np.nan if gap else float(i) for i, (gap, _) in enumerate(part)]
        frame = stp.from_pandas(pd.DataFrame({"v": values, "u": 1.0}), source_id=f"s{k}")
        new = [
            (9.0 if gap else v + 0.5) if change else v for v, (gap, change) in zip(values, part)
        ]
        frame["v"] = new
        frames.append(frame)
        changed = [c for _, c in part]
        filled = [g and c for g, c in part]
        if any(changed):
            truth[f"s{k}"] = (len(part), sum(changed), sum(filled))
    X = pd.concat(frames)
    found = changed_record(changes(X, resolve_row_ids(X)))
    got = {
        REGISTRY.by_code(e["code"]).source_id: (
            e["rows_checked"],
            e["rows_changed"],
            e["missing_filled"],
        )
        for e in found
    }
    assert got == truth
    assert all(e["column"] == "v" and "through" not in e for e in found)
