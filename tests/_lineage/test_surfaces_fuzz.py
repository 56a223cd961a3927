"""Every surface that names a training row's file and line, against the file's bytes.

Generated CSV files (a few sources, quoted fields with delimiters and newlines, comment
and blank lines, ``\\n`` or ``\\r\\n`` line ends) carry a key column whose value is unique
per row. After a traced fit on a filtered, shuffled split, each surface that names a row
(``trace``, ``lineage_``, ``row_lineage``, the run reloaded from SQLite, the CLI, the
explainer's top rows, KNN-Shapley values, the report's sources, the Parquet export and
the influence plot's labels) is checked by reading the record that starts at the named
physical line of the raw file (``sed -n Np``) and comparing its key with the key of the
row the surface means: position ``i`` of ``trace`` is row ``i`` of the data the model
was fitted on, in the order it saw them.
"""

import csv
import io
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.cli import main as cli_main

_NOTES = st.text(alphabet='ab ,"\n#', max_size=6)


@st.composite
def _sources(draw):
    n_sources = draw(st.integers(1, 3))
    files = []
    for s in range(n_sources):
        n = draw(st.integers(4, 9))
        newline = draw(st.sampled_from(["\n", "\r\n"]))
        lines = ["key,a,b,note,y"]
        for i in range(n):
            for _ in range(draw(st.integers(0, 2))):
                lines.append(draw(st.sampled_from(["", "# comment, with a comma", "#"])))
            key = f"s{s}r{i}"
            key = f'"{key}"' if draw(st.booleans()) else key
            note = '"' + draw(_NOTES).replace('"', '""') + '"'
            a, b = draw(st.integers(-50, 50)), draw(st.integers(-50, 50))
            lines.append(f"{key},{a / 10},{b / 10},{note},{i % 2}")
        files.append(newline.join(lines) + newline)
    return files


def _write(tmp_path, files, tag):
    frames = []
    for s, text in enumerate(files):
        path = tmp_path / f"{tag}_{s}.csv"
        path.write_bytes(text.encode())
        frames.append(stp.read_csv(path, source_id=f"{tag}_{s}", comment="#"))
    return pd.concat(frames)


def _key_at(uri, line):
    """The key of the record starting at physical line ``line`` (1-based) of the file."""
    data = open(unquote(urlparse(uri).path), "rb").read()
    rest = b"".join(data.splitlines(keepends=True)[line - 1 :])
    return next(csv.reader(io.StringIO(rest.decode(), newline="")))[0]


def _keys(frame, folder=None):
    """The key at each row's line. A row named by several paths (copies of one file:
    each example writes its files into a fresh folder, and a chain that drops the
    frame's mark of the path read, get_dummies say, cannot say which copy) has the key
    that every copy holds at that line, and ``folder``'s copy (the file this example
    read) is among them."""
    if "uris" not in frame:
        return [_key_at(uri, line) for uri, line in zip(frame["uri"], frame["line"])]
    out = []
    for uri, uris, line in zip(frame["uri"], frame["uris"], frame["line"]):
        if isinstance(uri, str):
            out.append(_key_at(uri, line))
            continue
        keys = {_key_at(u, line) for u in uris}
        assert len(uris) > 1 and len(keys) == 1, uris
        folders = {Path(unquote(urlparse(u).path)).parent for u in uris}
        assert folder is None or folder.resolve() in folders, (folder, uris)
        out.append(keys.pop())
    return out


def _cli_lines(db, run_id, row):
    out = io.StringIO()
    assert cli_main(["trace", str(db), "--run", run_id, "--row", str(row)], out=out) == 0
    return [
        (m.group(2), int(m.group(1))) for m in re.finditer(r"line (\d+) of (\S+)", out.getvalue())
    ]


@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
@given(files=_sources(), seed=st.integers(0, 2**16))
def test_every_surface_names_the_line_holding_the_row(tmp_path_factory, files, seed):
    tmp_path = tmp_path_factory.mktemp("surfaces")
    df = _write(tmp_path, files, "src")
    df = df[df["a"] > -4.0]
    X, y = df[["key", "a", "b"]], df["y"]
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=seed)
    if y_tr.nunique() < 2:
        return
    truth = X_tr["key"].tolist()  # row i of the data the model was fitted on
    store = stp.stores.SQLiteStore(tmp_path / "lineage.db")
    pre = stp.make_traced_column_transformer((StandardScaler(), ["a", "b"]))
    pipe = stp.make_traced_pipeline(pre, LogisticRegression(), store=store).fit(X_tr, y_tr)
    n = len(truth)
    run = pipe.lineage_

    traced = pipe.trace(np.arange(n))
    assert traced["train_index"].tolist() == list(range(n))
    assert _keys(traced) == truth
    assert np.array_equal(run.row_ids, stp.row_ids(X_tr))
    assert _keys(stp.row_lineage(X_tr)) == truth
    loaded = store.load_run(run.run_id)
    assert loaded == run
    pd.testing.assert_frame_equal(loaded.trace(np.arange(n), store=store), traced)
    for row in {0, n - 1, seed % n}:
        [(uri, line)] = _cli_lines(tmp_path / "lineage.db", run.run_id, row)
        assert _key_at(uri, line) == truth[row]

    # the explainer's top rows: training rows of this model, at their lines
    exp = stp.InfluenceExplainer(pipe).fit(X_tr, y_tr).explain(X_te.iloc[:2], top_k=n)
    top = exp.top(3)
    assert _keys(top) == [truth[i] for i in top["train_index"]]
    row = exp.trace(test_index=exp.n_test - 1, rank=0)
    assert _key_at(row["uri"], row["line"]) == row["values"]["key"] == truth[row["train_index"]]
    every = exp.top(n)  # all training rows: per-source sums from the rows' own scores
    sums = every.groupby("source_id", observed=True)["score"].sum()
    by_source = exp.by_source().set_index("source_id")["score"]
    np.testing.assert_allclose(by_source.loc[sums.index].to_numpy(), sums.to_numpy(), atol=1e-9)
    from sktraceprop.plotting import InfluenceDisplay

    display = InfluenceDisplay.from_explanation(exp, test_index=0, n_rows=3)
    __import__("matplotlib.pyplot").pyplot.close(display.figure_)
    shown = pd.concat([exp.top(3), exp.top(3, opponents=True)])
    shown = shown[shown["test_index"] == 0]
    by_label = {
        f"{uri.rsplit('/', 1)[-1]}:{line}": (score, truth[i])
        for uri, line, score, i in zip(
            shown["uri"], shown["line"], shown["score"], shown["train_index"]
        )
    }
    for label, score in zip(display.labels, display.scores):
        name, line = label.rsplit(":", 1)
        assert by_label[label][0] == score
        assert _key_at((tmp_path / name).as_uri(), int(line)) == by_label[label][1]

    # KNN-Shapley: values per training row, sums per source from those rows
    val = stp.KNNShapleyValuer(n_neighbors=3, transformer=pipe[:-1]).fit(X_tr, y_tr)
    values = val.value(X_te, y_te)
    assert np.array_equal(val.row_ids_, run.row_ids)
    source_of = pd.Series([k.strip('"').split("r")[0] for k in truth])
    expected = pd.Series(values).groupby("src_" + source_of.str[1:].to_numpy()).sum()
    got = val.by_source().set_index("source_id")["sum"]
    np.testing.assert_allclose(got.to_numpy(), expected.loc[got.index].to_numpy(), atol=1e-12)
    assert set(got.index) == set(expected.index)

    # the report's per-source row counts and the Parquet export's rows
    pipe.set_params(log_predictions=True).predict(X_te)
    report = stp.compliance_report(
        pipe,
        system_name="fuzz",
        system_version="1",
        deployer_name="tests",
        high_risk_category="creditworthiness",
        intended_purpose="fuzzing the surfaces",
        human_oversight=["reviewer"],
    ).to_dict()
    counts = {r["source_id"]: r["training_rows"] for r in report["sources"]}
    assert counts == source_of.map(lambda s: f"src_{s[1:]}").value_counts().to_dict()
    pytest.importorskip("pyarrow")
    from sktraceprop.exporters import read_parquet, to_parquet

    to_parquet(run, tmp_path / "export")
    assert read_parquet(tmp_path / "export") == run


def test_folds_record_the_rows_each_fold_trained_on(tmp_path):
    files = [
        "key,a,b,note,y\n"
        + "".join(f'k{i},{i % 7 / 3},{i % 5 / 2},"x\n{i}",{i % 2}\n' for i in range(30))
    ]
    df = _write(tmp_path, files, "folds")
    X, y = df[["key", "a", "b"]].sample(frac=1.0, random_state=3), None
    y = df.loc[X.index, "y"]
    store = stp.stores.MemoryStore()
    pre = stp.make_traced_column_transformer((StandardScaler(), ["a", "b"]))
    pipe = stp.make_traced_pipeline(pre, LogisticRegression(), store=store)
    search = GridSearchCV(pipe, {"logisticregression__C": [0.5, 1.0]}, cv=3).fit(X, y)
    keys = X["key"].tolist()
    folds = [tuple(train) for train, _ in StratifiedKFold(3).split(X, y)]
    runs = [store.load_run(r) for r in store.list_runs()["run_id"]]
    assert len(runs) == 2 * 3 + 1
    for run in runs:
        named = _keys(run.trace(np.arange(run.n_samples)))
        positions = tuple(keys.index(k) for k in named)
        assert positions in folds or positions == tuple(range(len(keys)))
    final = search.best_estimator_.trace(np.arange(len(keys)))
    assert _keys(final) == keys


def test_explainer_ranks_rows_as_leave_one_out_retraining_does(tmp_path):
    # A tiny Ridge: the explainer's scores against the true change of the test output
    # when each row is left out (influence is first order: compare the order and sign).
    rng = np.random.default_rng(0)
    n = 25
    lines = ["key,a,b,y"] + [
        f"r{i},{rng.normal():.3f},{rng.normal():.3f},{rng.normal():.3f}" for i in range(n)
    ]
    (tmp_path / "ridge.csv").write_text("\n".join(lines) + "\n")
    df = stp.read_csv(tmp_path / "ridge.csv", source_id="ridge_rows").sample(
        frac=1.0, random_state=1
    )
    X, y = df[["a", "b"]], df["y"]
    pipe = stp.make_traced_pipeline(Ridge(alpha=1.0)).fit(X, y)
    test = X.iloc[:1] + 0.5
    exp = stp.InfluenceExplainer(pipe).fit(X, y).explain(test, top_k=n)
    top = exp.top(n)
    full = pipe.predict(test)[0]
    loo = np.array(
        [
            full - Ridge(alpha=1.0).fit(X.drop(X.index[i]), y.drop(y.index[i])).predict(test)[0]
            for i in range(n)
        ]
    )
    # the explainer's score of row i is the margin's change from training on row i
    scores = top.set_index("train_index")["score"].sort_index().to_numpy()
    assert np.corrcoef(scores, loo)[0, 1] > 0.95
    assert np.argmax(scores) == np.argmax(loo)
    keys = df["key"].tolist()
    assert _keys(top) == [keys[i] for i in top["train_index"]]


@st.composite
def _joined_files(draw):
    n = draw(st.integers(3, 8))
    pids = draw(st.permutations(range(n)))
    a_lines, b_lines = ["keyA,pid,ward,a,y"], ["keyB,pid,b"]
    for i in range(n):
        a_lines += draw(st.lists(st.sampled_from(["#", "", "# x,y"]), max_size=2))
        a_lines.append(f'"A{i}",{i},w{i % 2},{draw(st.integers(-9, 9))},{i % 2}')
        b_lines += draw(st.lists(st.sampled_from(["#", ""]), max_size=2))
        note = draw(st.text(alphabet="b,\n", max_size=4))
        b_lines.append(f'B{i},{pids[i]},"{note}"')
    return "\n".join(a_lines) + "\n", "\r\n".join(b_lines) + "\r\n"


@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
@given(files=_joined_files(), seed=st.integers(0, 100))
def test_merged_and_aggregated_rows_name_each_parent_line(tmp_path_factory, files, seed):
    tmp_path = tmp_path_factory.mktemp("joined")
    (tmp_path / "a.csv").write_bytes(files[0].encode())
    (tmp_path / "b.csv").write_bytes(files[1].encode())
    A = stp.read_csv(tmp_path / "a.csv", source_id="joined_a", comment="#")
    B = stp.read_csv(tmp_path / "b.csv", source_id="joined_b", comment="#")
    B["b"] = B["b"].map(lambda v: len(v) if isinstance(v, str) else 0)
    m = stp.merge(A, B, on="pid")
    m = stp.merge(m, stp.aggregate(A, by="ward", a_mean=("a", "mean")), on="ward")
    m = m.sample(frac=1.0, random_state=seed)
    if m["y"].nunique() < 2:
        return
    est = stp.TracedEstimator(LogisticRegression()).fit(m[["a", "b", "a_mean"]], m["y"])
    for lineage in (est.trace(np.arange(len(m))), stp.row_lineage(m)):
        at = "train_index" if "train_index" in lineage else "row"
        files_only = lineage[lineage["uri"].str.startswith("file:")]
        named = files_only.groupby(at)[["uri", "line"]].apply(lambda g: sorted(_keys(g)))
        truth = [sorted([a, b]) for a, b in zip(m["keyA"], m["keyB"])]
        assert named.tolist() == truth


@st.composite
def _keyed_sources(draw):
    """Files as :func:`_sources`, with ``a`` distinct per row across files (a row moved
    onto another then differs from its own record in two values: key and ``a``)."""
    files = []
    for s in range(draw(st.integers(1, 3))):
        newline = draw(st.sampled_from(["\n", "\r\n"]))
        lines = ["key,a,b,note,y"]
        for i in range(draw(st.integers(4, 12))):
            lines += draw(st.lists(st.sampled_from(["", "# c, d", "#"]), max_size=2))
            key = f"s{s}r{i}"
            key = f'"{key}"' if draw(st.booleans()) else key
            note = '"' + draw(_NOTES).replace('"', '""') + '"'
            b = draw(st.integers(-50, 50))
            lines.append(f"{key},{s * 100 + i * 3 + 1},{b / 10},{note},{draw(st.integers(0, 1))}")
        files.append(newline.join(lines) + newline)
    return files


def _sorted(df, rng):
    return df.sort_values(str(rng.choice(["a", "b", "note"])), kind="stable")


def _set_key_back(df, rng):
    return df.set_index("key", append=True).reset_index("key")


def _stacked(df, rng):
    wide = df[["a", "b"]].stack().unstack()
    return wide.join(df[["key", "note", "y"]])


#: pandas operations that keep each row with its index (lineage must follow them)
_KEEPING = {
    "sort": _sorted,
    "sample": lambda df, rng: df.sample(frac=rng.uniform(0.5, 1.0), random_state=rng),
    "filter": lambda df, rng: df[df["b"] > rng.uniform(-5, 0)],
    "reverse": lambda df, rng: df.iloc[::-1],
    "every other": lambda df, rng: df.iloc[:: int(rng.integers(1, 3))],
    "query": lambda df, rng: df.query("b > -4.5"),
    "head per label": lambda df, rng: df.groupby("y").head(int(rng.integers(2, 6))),
    "key to index and back": _set_key_back,
    "category": lambda df, rng: df.astype({"note": "category"}),
    "scaled": lambda df, rng: df.assign(b=df["b"] * 2),
    "stack and unstack": _stacked,
    "apply per row": lambda df, rng: df.apply(lambda r: r, axis=1),
    "values back with the index": lambda df, rng: pd.DataFrame(
        df.to_numpy(), columns=df.columns, index=df.index
    ).astype(df.dtypes.to_dict()),
    "shallow copy": lambda df, rng: df.copy(deep=False),
    "dummies": lambda df, rng: pd.get_dummies(df, columns=["note"]).assign(note="n"),
}


def _reindexed(df, rng):
    return df.set_axis(df.index[rng.permutation(len(df))])


def _unaligned(df, rng):
    out = df.copy()
    out.iloc[:, :] = df.iloc[rng.permutation(len(df))].to_numpy()
    return out


#: pandas operations that move values past the index (lineage must refuse, unless the
#: move happens to leave every row in place)
_MOVING = {
    "index permuted": _reindexed,
    "values assigned unaligned": _unaligned,
    "whole frame shifted": lambda df, rng: df.shift(1).iloc[1:].astype(df.dtypes.to_dict()),
    "index of a sorted copy": lambda df, rng: df.set_axis(df.sort_values("b").index),
}


def _rows(s, values, ys):
    lines = ["key,a,b,note,y"] + [
        f's{s}r{i},{v},0.0,"",{c}' for i, (v, c) in enumerate(zip(values, ys))
    ]
    return "\n".join(lines) + "\n"


#: Three files; after these operations (seed 4072) a row of X holds file 3's record
#: s2r6 under the id of file 1's s0r1, and X has no row id of file 3 (found by the
#: property test below, which traced it silently to s0r1's line)
_CROSS_SOURCE = dict(
    files=[
        _rows(0, range(1, 14, 3), [0, 1, 0, 0, 0]),
        _rows(1, range(101, 117, 3), [0] * 6),
        _rows(2, range(201, 232, 3), [0] * 6 + [1] + [0] * 4),
    ],
    chain=["sample", "head per label", "every other"],
    moving="index permuted",
    where=2,
    seed=4072,
)


def test_a_row_holding_a_record_of_a_source_x_has_no_id_of_is_refused(tmp_path):
    df = _write(tmp_path, _CROSS_SOURCE["files"], "chain")
    rng = np.random.default_rng(_CROSS_SOURCE["seed"])
    for name in ["sample", "head per label", "index permuted", "every other"]:
        df = (_MOVING.get(name) or _KEEPING[name])(df, rng)
    X, y = df[["key", "a", "b"]], df["y"].astype(int)
    pre = stp.make_traced_column_transformer((StandardScaler(), ["a", "b"]))
    pipe = stp.make_traced_pipeline(pre, LogisticRegression())
    with pytest.raises(stp.exceptions.LineageError, match="holds the values loaded for") as info:
        pipe.fit(X, y)
    found = re.search(
        r"row (\d+) of X holds the values loaded for (\S+) line (\d+)", str(info.value)
    )
    row, source, line = int(found[1]), found[2], int(found[3])
    # the truth, from the raw bytes: the line named holds the row's key
    assert _key_at((tmp_path / f"{source}.csv").as_uri(), line) == X["key"].iloc[row]


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    files=_keyed_sources(),
    chain=st.lists(st.sampled_from(sorted(_KEEPING)), max_size=4),
    moving=st.one_of(st.none(), st.sampled_from(sorted(_MOVING))),
    where=st.integers(0, 4),
    seed=st.integers(0, 2**16),
)
@example(**_CROSS_SOURCE)
def test_chains_of_pandas_operations_name_each_rows_line_or_refuse(
    tmp_path_factory, files, chain, moving, where, seed
):
    """Random chains of pandas operations after read_csv, with at most one that moves
    values past the index: the fit names, for every row, the line whose record holds
    its key (read from the raw bytes), or refuses; it never names another line."""
    tmp_path = tmp_path_factory.mktemp("chains")
    df = _write(tmp_path, files, "chain")
    rng = np.random.default_rng(seed)
    ops = list(chain)
    if moving is not None:
        ops.insert(min(where, len(ops)), moving)
    for name in ops:
        df = (_MOVING.get(name) or _KEEPING[name])(df, rng)
    X, y = df[["key", "a", "b"]], df["y"].astype(int)
    if len(X) < 2 or y.nunique() < 2:
        return
    pre = stp.make_traced_column_transformer((StandardScaler(), ["a", "b"]))
    pipe = stp.make_traced_pipeline(pre, LogisticRegression())
    try:
        pipe.fit(X, y)
    except stp.exceptions.LineageError as exc:
        assert moving is not None, f"refused after {ops}: {exc}"
        assert "holds the values loaded for" in str(exc)
        return
    assert _keys(pipe.trace(np.arange(len(X))), tmp_path) == X["key"].tolist(), ops
