"""Parquet export: runs and stores round-trip to equal runs; rows match the raw files."""

import hashlib
import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop._lineage._ids import codes_of, lines_of
from sktraceprop._lineage._run import Lineage
from sktraceprop.exceptions import LineageError
from sktraceprop.exporters import read_parquet, to_parquet
from tests.conftest import lines_from_key
from tests.exporters._fits import hospital_run, merged_and_aggregated
from tests.exporters._runs import runs

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


def _table(folder, name):
    return pd.read_parquet(folder / f"{name}.parquet")


def _file_line(uri, line):
    """The text of physical line ``line`` of the file at ``uri``, read from its bytes."""
    path = Path(uri.removeprefix("file://"))
    return path.read_bytes().split(b"\n")[line - 1].decode()


def test_run_round_trips_and_rows_name_the_raw_file_lines(hospital_frames, tmp_path):
    run, X = hospital_run(*hospital_frames)
    folder = to_parquet(run, tmp_path / "export")
    assert folder == tmp_path / "export"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        f"{t}.parquet"
        for t in ("runs", "sources", "parents", "ops", "features", "rows", "input_rows")
        + ("removals",)  # (per run, its later removals: not read back by read_parquet)
    )
    assert read_parquet(folder) == run

    rows = _table(folder, "rows")
    # Typed columns: int64 ids, codes and lines; names dictionary-encoded.
    schema = pq.read_schema(folder / "rows.parquet")
    assert [str(schema.field(c).type) for c in ("row_id", "source_code", "line")] == ["int64"] * 3
    assert pa.types.is_dictionary(schema.field("source_id").type)
    # Against the library's own account of the rows ...
    expected = run.rows()
    assert rows["train_index"].tolist() == expected["train_index"].tolist()
    assert rows["row_id"].tolist() == expected["row_id"].tolist()
    assert rows["source_id"].astype(str).tolist() == expected["source_id"].astype(str).tolist()
    assert rows["line"].tolist() == expected["line"].tolist()
    # ... and against independent truth: each row's key column holds its physical line,
    # and that line of the file (read as bytes) starts with that key and the row's age.
    assert rows["line"].tolist() == lines_from_key(X).tolist()
    sources = _table(folder, "sources").set_index("code")
    for k in range(0, len(rows), 7):
        uri = sources.loc[rows["source_code"][k], "uri"]
        fields = _file_line(uri, rows["line"][k]).split(",")
        assert fields[0] == str(rows["line"][k])
        assert int(fields[1]) == X["age"].iloc[k]
    # Sources: the SHA-256 of each file's bytes, as hashlib computes it.
    for _, source in sources.iterrows():
        path = Path(source["uri"].removeprefix("file://"))
        assert source["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert source["kind"] == "file" and not source["has_parents"]
    # Ops and feature lineage, typed.
    ops = _table(folder, "ops")
    assert ops["name"].tolist() == [op.name for op in run.ops]
    assert ops["fingerprint"].tolist() == [op.fingerprint for op in run.ops]
    assert [json.loads(p) for p in ops["params"]] == [op.params for op in run.ops]
    features = _table(folder, "features")
    assert features["feature"].tolist() == list(run.feature_lineage)
    assert [list(c) for c in features["columns"]] == list(run.feature_lineage.values())
    assert features.set_index("feature")["sources"].map(list).to_dict() == run.feature_sources()


def test_merged_and_aggregated_sources_round_trip_with_their_parents(hospital_frames, tmp_path):
    rows, means, joined = merged_and_aggregated(*hospital_frames)
    train = joined.sample(frac=0.8, random_state=1)
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    run = pipe.fit(train[["age", "bp_mean"]], train["label"]).lineage_
    folder = to_parquet(run, tmp_path / "export")
    back = read_parquet(folder)
    assert back == run
    merge_code = int(codes_of(stp.row_ids(joined)[:1])[0])
    assert back.sources[merge_code].parents == run.sources[merge_code].parents

    # The rows name the merge; its parents lead to one file line and one group each.
    table = _table(folder, "rows")
    assert (table["source_code"] == merge_code).all()
    parents = _table(folder, "parents")
    by_key = {
        (sid, line): list(p) for sid, line, p in parents[["source_id", "line", "parents"]].values
    }
    leaf_lines, groups = [], []
    for line in table["line"]:
        leaf, group = by_key[("with_means", line)]
        leaf_lines.append(int(lines_of([leaf])[0]))
        groups.append(int(lines_of([group])[0]))
    # Independent truth: the key column holds the file line, groups are numbered F=1, M=2.
    assert leaf_lines == lines_from_key(train).tolist()
    assert groups == [1 if s == "F" else 2 for s in train["sex"]]
    # The same expansion as the library's own (run.rows()), done on the exported tables
    # with the join doc/exporters.rst shows.
    sources = _table(folder, "sources")
    made_of = (
        table.merge(
            sources[["run_id", "code", "sha256"]],
            left_on=["run_id", "source_code"],
            right_on=["run_id", "code"],
        )
        .merge(parents, on=["source_id", "sha256", "line"], how="left")
        .explode("parents")
    )
    mine = sorted(zip(made_of["train_index"], made_of["parents"].astype(np.int64)))
    theirs = run.rows()
    assert mine == sorted(zip(theirs["train_index"], theirs["row_id"]))
    # An aggregate row's parents are every row of its group, in both files.
    for group, sex in ((1, "F"), (2, "M")):
        members = by_key[("bp_by_sex", group)]
        assert sorted(lines_of(members)) == sorted(lines_from_key(rows[rows["sex"] == sex]))
    features = _table(folder, "features").set_index("feature")
    assert list(features.loc["bp_mean", "aggregates"]) == ["bp_by_sex"]
    assert list(features.loc["bp_mean", "sources"]) == run.feature_sources()["bp_mean"]
    assert run.feature_sources()["bp_mean"] == ["hospital_a", "hospital_b"]


def test_two_versions_of_one_source_round_trip(tmp_path):
    path = tmp_path / "ward.csv"
    first = "age,bp,label\n30,120,0\n40,130,1\n50,140,0\n"
    second = "age,bp,label\n# re-exported\n31,121,1\n41,131,0\n"
    path.write_text(first)
    old = stp.read_csv(path, source_id="ward")
    path.write_text(second)
    new = stp.read_csv(path, source_id="ward", comment="#")
    X = pd.concat([old, new])
    run = stp.make_traced_pipeline(LogisticRegression()).fit(X[["age", "bp"]], X["label"])
    run = run.lineage_
    assert len(run.sources) == 2
    folder = to_parquet(run, tmp_path / "export")
    assert read_parquet(folder) == run
    sources = _table(folder, "sources")
    assert sources["source_id"].tolist() == ["ward", "ward"]
    assert set(sources["sha256"]) == {
        hashlib.sha256(text.encode()).hexdigest() for text in (first, second)
    }
    rows = _table(folder, "rows")
    version = dict(zip(sources["code"], sources["sha256"]))
    first_sha = hashlib.sha256(first.encode()).hexdigest()
    # Rows 0-2 come from lines 2-4 of the first version, rows 3-4 from lines 3-4 of the second.
    assert [version[c] == first_sha for c in rows["source_code"]] == [True] * 3 + [False] * 2
    assert rows["line"].tolist() == [2, 3, 4, 3, 4]


def test_rows_given_to_fit_round_trip_when_a_sampler_drops_some(hospital_frames, tmp_path):
    imblearn = pytest.importorskip("imblearn.under_sampling")
    a, b = hospital_frames
    X = pd.concat([a, b]).dropna()
    pipe = stp.make_traced_pipeline(
        StandardScaler(), imblearn.RandomUnderSampler(random_state=0), LogisticRegression()
    )
    run = pipe.fit(X[["age", "bp"]], X["label"]).lineage_
    assert run.input_row_ids is not None and run.n_samples < len(run.input_row_ids)
    folder = to_parquet(run, tmp_path / "export")
    assert read_parquet(folder) == run
    given_rows = _table(folder, "input_rows")
    assert given_rows["input_index"].tolist() == list(range(len(X)))
    assert given_rows["line"].tolist() == lines_from_key(X).tolist()
    assert _table(folder, "runs")["n_input_rows"].tolist() == [len(X)]


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_every_run_of_a_store_round_trips(hospital_frames, tmp_path, kind):
    store = (
        stp.stores.MemoryStore() if kind == "memory" else stp.stores.SQLiteStore(tmp_path / "s.db")
    )
    a, b = hospital_frames
    hospital_run(a, b, store=store)
    _, _, joined = merged_and_aggregated(a, b)
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)
    for seed in (0, 1):  # two runs over the same merge: its parents are written once
        train = joined.sample(frac=0.7, random_state=seed)
        pipe.fit(train[["age", "bp_mean"]], train["label"])
    folder = to_parquet(store, tmp_path / "export")
    run_ids = store.list_runs()["run_id"].tolist()
    assert _table(folder, "runs")["run_id"].tolist() == run_ids
    for run_id in run_ids:
        assert read_parquet(folder, run_id) == store.load_run(run_id)
    parents = _table(folder, "parents")
    n_merged = len(joined)
    assert (parents["source_id"] == "with_means").sum() == n_merged
    with pytest.raises(ValueError, match="holds 3 runs; pass run_id="):
        read_parquet(folder)
    with pytest.raises(KeyError, match="no run 'nope'"):
        read_parquet(folder, "nope")


def test_an_empty_store_exports_empty_tables(tmp_path):
    folder = to_parquet(stp.stores.MemoryStore(), tmp_path / "export")
    assert len(_table(folder, "runs")) == 0
    with pytest.raises(ValueError, match="holds 0 runs"):
        read_parquet(folder)


def _plain_run(n=20, source="plain"):
    X = stp.from_numpy(np.random.default_rng(0).normal(size=(n, 2)), source)
    return stp.make_traced_pipeline(LogisticRegression()).fit(X, X["x0"] > 0).lineage_


def test_nothing_is_overwritten_and_bad_input_is_refused(tmp_path):
    run = _plain_run()
    target = tmp_path / "export"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="overwrites nothing"):
        to_parquet(run, target)
    assert [p.name for p in target.iterdir()] == ["keep.txt"]
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        to_parquet(run, tmp_path / "missing" / "export")
    with pytest.raises(TypeError, match="exports a run"):
        to_parquet({"run_id": "x"}, tmp_path / "other")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export"]


def test_a_run_that_would_not_read_back_equal_is_refused_whole(tmp_path):
    good = _plain_run()
    store = stp.stores.MemoryStore()
    store.save_run(good)
    # Integer columns have no Parquet form in the feature table: the whole store is refused.
    bad = Lineage(**{**vars(_plain_run(source="other")), "feature_lineage": {"x0": [0, 1]}})
    store.save_run(bad)
    with pytest.raises(LineageError, match="cannot be written to Parquet"):
        to_parquet(store, tmp_path / "export")
    # A tuple has no exact JSON form: it would read back as a list, an unequal run. (A
    # store keeps runs as JSON, so runs loaded from one never hold tuples.)
    tupled = Lineage(**{**vars(good), "params": {"steps": ("a", "b")}})
    with pytest.raises(LineageError, match=f"run {good.run_id} would not read back equal.*params"):
        to_parquet(tupled, tmp_path / "export")
    nan = Lineage(**{**vars(good), "run_id": "n", "params": {"alpha": float("nan")}})
    with pytest.raises(LineageError, match="not JSON"):
        to_parquet(nan, tmp_path / "export")
    odd = Lineage(**{**vars(good), "feature_lineage": {"x0": [0, 1]}})
    with pytest.raises(LineageError, match="cannot be written to Parquet"):
        to_parquet(odd, tmp_path / "export")
    # Nothing is left behind: no export, no partial folder.
    assert list(tmp_path.iterdir()) == []


def _rewrite(folder, name, edit):
    table = pq.read_table(folder / f"{name}.parquet")
    pq.write_table(edit(table), folder / f"{name}.parquet")


def test_reading_an_altered_export_raises(hospital_frames, tmp_path):
    run, _ = hospital_run(*hospital_frames)

    def set_column(column, values):
        def edit(table):
            k = table.schema.get_field_index(column)
            return table.set_column(k, table.schema.field(k), pa.array(values, table[column].type))

        return edit

    cases = {
        "line": lambda t: set_column("line", np.r_[t["line"].to_numpy()[:-1], 999]),
        "row_id": lambda t: set_column("row_id", t["row_id"].to_numpy()[::-1]),
        "short": lambda t: lambda tab: tab.slice(0, tab.num_rows - 1),
    }
    for case, make in cases.items():
        folder = to_parquet(run, tmp_path / case)
        table = pq.read_table(folder / "rows.parquet")
        _rewrite(folder, "rows", make(table))
        with pytest.raises(LineageError, match="not a consistent sktraceprop Parquet export"):
            read_parquet(folder)
    folder = to_parquet(run, tmp_path / "features")
    features = pq.read_table(folder / "features.parquet")
    _rewrite(
        folder,
        "features",
        set_column("sources", [["hospital_a"]] * features.num_rows),
    )
    with pytest.raises(LineageError, match="its columns lead to"):
        read_parquet(folder)
    folder = to_parquet(run, tmp_path / "foreign")
    pq.write_table(
        pq.read_table(folder / "ops.parquet").replace_schema_metadata(), folder / "ops.parquet"
    )
    with pytest.raises(LineageError, match="ops.parquet was not written by sktraceprop"):
        read_parquet(folder)
    (folder / "sources.parquet").unlink()
    with pytest.raises(LineageError, match="sources.parquet is missing"):
        read_parquet(folder)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(runs())
def test_generated_runs_round_trip(run):
    with tempfile.TemporaryDirectory() as tmp:
        folder = to_parquet(run, Path(tmp) / "export")
        back = read_parquet(folder)
        assert back == run
        rows = _table(folder, "rows")
        assert rows["row_id"].to_numpy(np.int64).tolist() == run.row_ids.tolist()
        assert rows["source_code"].tolist() == codes_of(run.row_ids).tolist()
        assert rows["line"].tolist() == lines_of(run.row_ids).tolist()
        expected = [run.sources[int(c)].source_id for c in codes_of(run.row_ids)]
        assert rows["source_id"].astype(str).tolist() == expected
        derived = {c for c, s in run.sources.items() if s.derived}
        if not set(codes_of(run.row_ids).tolist()) & derived:
            assert rows["line"].tolist() == run.rows()["line"].tolist()


def test_missing_pyarrow_names_the_extra():
    code = textwrap.dedent(
        """
        import sys
        import numpy as np
        import sktraceprop as stp
        from sklearn.linear_model import LogisticRegression
        X = stp.from_numpy(np.ones((4, 1)), "s")
        run = stp.make_traced_pipeline(LogisticRegression()).fit(X, [0, 1, 0, 1]).lineage_
        sys.modules["pyarrow"] = None  # makes "import pyarrow" raise ImportError
        try:
            stp.exporters.to_parquet(run, "never")
        except ImportError as exc:
            print(exc)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "pip install 'sktraceprop[parquet]'" in out.stdout


def test_a_searchs_runs_keep_their_roles(tmp_path):
    from sklearn.model_selection import GridSearchCV

    X = stp.from_numpy(np.random.default_rng(4).normal(size=(24, 2)), "grid")
    y = (X["x0"] > 0).astype(int)
    store = stp.stores.MemoryStore()
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)
    search = GridSearchCV(pipe, {"logisticregression__C": [0.5, 2.0]}, cv=2).fit(X, y)
    folder = tmp_path / "export"
    to_parquet(store, folder)
    table = _table(folder, "runs")
    listed = store.list_runs()
    assert table["run_id"].tolist() == listed["run_id"].tolist()
    assert table["search_role"].tolist() == ["cv_fold"] * 4 + ["refit"]
    assert table["purpose"].tolist() == ["cv_fold"] * 4 + ["fit"]
    assert table["search_id"].tolist() == listed["search_id"].tolist()
    for run_id, text in zip(table["run_id"], table["selection"]):
        assert json.loads(text) == store.load_run(run_id).selection
        assert read_parquet(folder, run_id=run_id) == store.load_run(run_id)
    refit = search.best_estimator_.lineage_
    assert read_parquet(folder, run_id=refit.run_id).selection["best_params"] == (
        search.best_params_
    )


def test_a_weighted_fit_round_trips_its_fit_params(tmp_path):
    rng = np.random.default_rng(3)
    df = pd.DataFrame(rng.normal(size=(40, 2)), columns=["a", "b"])
    X = stp.from_pandas(df, source_id="weighted_parquet")
    y = (df["a"] > 0).astype(int)
    w = np.r_[np.zeros(4), np.ones(36)]
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    pipe.fit(X, y, logisticregression__sample_weight=w)
    to_parquet(pipe.lineage_, tmp_path / "export")
    back = read_parquet(tmp_path / "export")
    assert back.fit_params == pipe.lineage_.fit_params
    assert back.fit_params["logisticregression__sample_weight"]["weights"]["n_zero"] == 4
