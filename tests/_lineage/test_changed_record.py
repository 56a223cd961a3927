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
from sktraceprop._lineage._witness import WITNESSES, is_witness, stride
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


def _truth(X, raw, column):
    """By hand: ``(rows, rows whose value differs from the files', of those the rows
    missing there)`` of ``X``'s ``column`` against ``raw`` (the files' values, pandas'
    own read and merge, aligned with ``X``)."""
    given, loaded = X[column].to_numpy(), raw[column].to_numpy()
    gap = pd.isna(loaded)
    same = (given == loaded) | (pd.isna(given) & gap)
    return len(X), int((~same).sum()), int((~same & gap).sum())


def _merge_entry(run, column):
    (merge,) = np.unique(codes_of(run.row_ids)).tolist()
    (entry,) = [e for e in run.changed_columns if e["code"] == merge and e["column"] == column]
    return entry["rows_checked"], entry["rows_changed"], entry["missing_filled"]


def test_a_change_before_a_merge_counts_each_merged_row_once(tmp_path):
    """fillna, then stp.merge: the merge's entry counted its rows twice (the inputs'
    rows compared when merging, then the merged rows compared at fit: 140 rows checked
    of 70). Truth: pandas' merge of the raw files, row by row."""
    paths, a, b = _frames(tmp_path)
    df = pd.concat([a, b])
    df["bp"] = df["bp"].fillna(-1.0)
    weights = pd.DataFrame({"sex": ["F", "M"], "w": [1.0, 2.0]})
    joined = stp.merge(df, stp.from_pandas(weights, source_id="w"), on="sex", how="left")
    raw = pd.concat(
        [pd.read_csv(paths["hospital_a"]), pd.read_csv(paths["hospital_b"], comment="#")]
    ).merge(weights, on="sex", how="left")
    run = _fit(joined[["age", "bp", "w"]], joined["label"]).lineage_
    assert _merge_entry(run, "bp") == _truth(joined, raw, "bp")
    assert _truth(joined, raw, "bp")[1] > 0
    # a part of the merged rows (a split): only those rows are counted
    part = joined.iloc[::3]
    run = _fit(part[["age", "bp", "w"]], part["label"]).lineage_
    assert _merge_entry(run, "bp") == _truth(part, raw.iloc[::3], "bp")
    # changed before the merge and again after it: each row once
    X = joined[["age", "bp", "w"]].copy()
    X["bp"] = X["bp"] * 2
    run = _fit(X, joined["label"]).lineage_
    assert _merge_entry(run, "bp") == _truth(X, raw, "bp") == (len(X), len(X), 3)


def test_a_lookup_changed_before_a_merge_counts_the_merged_rows_it_made(tmp_path):
    """One lookup row changed before a one-to-many merge: every merged row that took it
    differs from the files' (the lookup row counted once, as before, said 1)."""
    paths, a, b = _frames(tmp_path)
    df = pd.concat([a, b])
    weights = pd.DataFrame({"sex": ["F", "M"], "w": [np.nan, 2.0]})
    lookup = stp.from_pandas(weights, source_id="w")
    lookup["w"] = lookup["w"].fillna(1.0)
    joined = stp.merge(df, lookup, on="sex", how="left")
    raw = pd.concat(
        [pd.read_csv(paths["hospital_a"]), pd.read_csv(paths["hospital_b"], comment="#")]
    ).merge(weights, on="sex", how="left")
    run = _fit(joined[["age", "w"]], joined["label"]).lineage_
    truth = _truth(joined, raw, "w")
    assert truth == (len(joined), int((df["sex"] == "F").sum()), truth[1]) and truth[1] > 1
    assert _merge_entry(run, "w") == truth
    (leaf,) = [e for e in run.changed_columns if "through" in e]
    assert run.sources[leaf["code"]].source_id == "w"
    assert (leaf["rows_changed"], leaf["missing_filled"]) == (truth[1], truth[1])


def test_rows_compared_say_whether_an_empty_record_means_unchanged(tmp_path):
    """``changed_columns == []`` was recorded alike when every row was compared and
    nothing changed, and when no value could be compared (the loads not kept: a frame
    unpickled from another process). ``rows_compared`` tells them apart, per source."""
    from sktraceprop._lineage._witness import WITNESSES

    paths, a, b = _frames(tmp_path)
    df = pd.concat([a, b])
    store = SQLiteStore(tmp_path / "s.db")
    run = _fit(df[["age", "bp"]], df["label"], store).lineage_
    n = {s: len(pd.read_csv(paths[s], comment="#")) for s in ("hospital_a", "hospital_b")}
    compared = {run.sources[e["code"]].source_id: e["rows"] for e in run.rows_compared}
    assert run.changed_columns == [] and compared == n  # (small files: every row)
    assert store.load_run(run.run_id).rows_compared == run.rows_compared
    assert read_parquet(to_parquet(run, tmp_path / "pq")).rows_compared == run.rows_compared
    assert Lineage.from_dict(run.to_dict(), run.row_ids).rows_compared == run.rows_compared
    WITNESSES.clear()  # as in a process the frames were unpickled into
    X = df[["age", "bp"]].copy()
    X["bp"] = X["bp"].fillna(0.0)  # (a change, that nothing can see)
    run = _fit(X, df["label"]).lineage_
    assert run.changed_columns == []
    assert run.rows_compared == [{"code": c, "rows": 0} for c in sorted(run.sources)]
    # not recorded (arrays, older runs): None, as changed_columns
    state = run.__dict__.copy()
    del state["rows_compared"]
    revived = Lineage.__new__(Lineage)
    revived.__setstate__(pickle.loads(pickle.dumps(state)))
    assert revived.rows_compared is None
    old = run.to_dict()
    del old["rows_compared"]
    assert Lineage.from_dict(old, run.row_ids).rows_compared is None


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(600, 3000), st.integers(2, 9), st.integers(0, 2**31))
def test_a_change_before_a_large_merge_counts_the_rows_it_can_know(n, every, seed):
    """Past 512 rows a load keeps a sample of witness rows. The merged rows' sample was
    picked by the hash of their own ids, not their parents' (disjoint from them here):
    each merged row compared held a value nothing saw, counted as not known. The merge
    now takes as witness rows the rows made from its changed input's witness rows: every
    one of them, each known, and every change among them is found. Truth: the raw
    values, by hand."""
    REGISTRY.clear()
    rng = np.random.default_rng(seed)
    raw = pd.DataFrame({"k": rng.integers(0, 3, n), "v": rng.normal(size=n)})
    raw.loc[rng.random(n) < 1 / every, "v"] = np.nan
    frame = stp.from_pandas(raw, source_id="big")
    lookup = stp.from_pandas(pd.DataFrame({"k": [0, 1, 2], "w": [1.0, 2.0, 3.0]}), "w")
    frame["v"] = frame["v"].fillna(0.0)
    joined = stp.merge(frame, lookup, on="k", how="left")
    found = changed_record(changes(joined[["v", "w"]], resolve_row_ids(joined)))
    (entry,) = [e for e in found if "through" not in e]
    # by hand: a merged row is known where its parent (the left row: stp.merge keeps
    # pandas' order, here the frame's) is a witness of the frame's load, whose values
    # were compared when merging; compared where it is a witness row of the merge's load
    merged_ids, parent_ids = resolve_row_ids(joined), resolve_row_ids(frame)
    known = is_witness(parent_ids, stride(len(frame)))
    (load,) = WITNESSES.loads(entry["code"], REGISTRY.by_code(entry["code"]).sha256)
    compared = np.isin(merged_ids, load.ids)
    assert np.all(compared[known])  # every row made from a row compared is a witness
    gap = raw["v"].isna().to_numpy()
    assert entry == {
        "code": int(merged_ids[0] >> 36),
        "column": "v",
        "rows_checked": int((compared & known).sum()),
        "rows_changed": int((compared & known & gap).sum()),
        "missing_filled": int((compared & known & gap).sum()),
        **(
            {"rows_not_known": int((compared & ~known).sum())} if (compared & ~known).any() else {}
        ),
    }
    assert entry["rows_checked"] + entry.get("rows_not_known", 0) == int(compared.sum())
