"""Displays: the figure is drawn, and what it says (labels, bars, distances) is right."""

import copy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import sktraceprop as stp
from sktraceprop.metrics import function_space_distance_ratio
from sktraceprop.plotting import (
    BySourceDisplay,
    InfluenceDisplay,
    LineageDisplay,
    UnlearningDisplay,
)
from tests.conftest import same_named_cancer_files

plt = pytest.importorskip("matplotlib.pyplot")


@pytest.fixture
def traced(hospital_frames):
    """A traced pipeline on the two hospital files; hospital B scaled on its own first."""
    a, b = hospital_frames
    scaled = stp.TracedEstimator(StandardScaler()).set_output(transform="pandas")
    b = b.assign(bp=scaled.fit_transform(b[["bp"]])["bp"])
    data = pd.concat([a, b]).dropna()
    X, y = data[["age", "sex", "bp"]], data["label"].to_numpy()
    pre = stp.make_traced_column_transformer(
        (OneHotEncoder(), ["sex"]), (StandardScaler(), ["age", "bp"])
    )
    pipe = stp.make_traced_pipeline(pre, LogisticRegression()).fit(X.iloc[:50], y[:50])
    return pipe, X, y


def _file_line(uri, line):
    return f"{Path(uri.removeprefix('file://')).name}:{line}"


def test_influence_display_labels_rows_by_file_and_line(traced):
    pipe, X, y = traced
    explainer = stp.InfluenceExplainer(pipe).fit(X.iloc[:50], y[:50])
    exp = explainer.explain(X.iloc[50:], y[50:], top_k=4)
    display = InfluenceDisplay.from_explanation(exp, test_index=2, n_rows=3)

    top = exp.top(3).query("test_index == 2")
    bottom = exp.top(3, opponents=True).query("test_index == 2")
    expected = pd.concat([top, bottom]).sort_values("score", ascending=False)
    np.testing.assert_array_equal(display.scores, expected["score"].to_numpy())
    assert display.labels == [
        _file_line(u, line) for u, line in zip(expected["uri"], expected["line"])
    ]
    # the label names the physical line holding that training row
    for label, (_, row) in zip(display.labels, expected.iterrows()):
        name, line = label.split(":")
        text = Path(row["uri"].removeprefix("file://")).read_text().splitlines()[int(line) - 1]
        assert text.split(",")[1] == str(X.iloc[row["train_index"]]["age"]) and name
    ticks = [t.get_text() for t in display.ax_.get_yticklabels()]
    assert ticks == display.labels  # tick at the top first
    widths = [bar.get_width() for bar in display.bars_]
    np.testing.assert_allclose(widths, display.scores)
    colors = [bar.get_facecolor()[:3] for bar in display.bars_]
    green = plt.matplotlib.colors.to_rgb("tab:green")
    # (a score of exactly 0 is grey, neither side: test_display_kwargs.py)
    assert all((c == green) == (s > 0) for c, s in zip(colors, display.scores))
    assert "test row 2" in display.ax_.get_title()
    assert display.figure_ is display.ax_.figure

    from_estimator = InfluenceDisplay.from_estimator(
        explainer, X.iloc[50:], y[50:], test_index=2, n_rows=3
    )
    assert from_estimator.labels == display.labels
    np.testing.assert_allclose(from_estimator.scores, display.scores)
    assert "test row 2" in from_estimator.ax_.get_title()


def test_influence_display_draws_on_given_axes_and_checks_the_row(traced):
    pipe, X, y = traced
    exp = stp.InfluenceExplainer(pipe).fit(X.iloc[:50], y[:50]).explain(X.iloc[50:53])
    _, ax = plt.subplots()
    assert InfluenceDisplay.from_explanation(exp, ax=ax).ax_ is ax
    with pytest.raises(IndexError, match="3 test rows explained"):
        InfluenceDisplay.from_explanation(exp, test_index=3)


def test_by_source_display_of_values(traced):
    pipe, X, y = traced
    valuer = stp.KNNShapleyValuer(n_neighbors=3, transformer=pipe[:-1])
    valuer.fit(X.iloc[:50], y[:50])
    display = BySourceDisplay.from_estimator(valuer, X.iloc[50:], y[50:])
    table = valuer.by_source()
    expected = [f"{s}.csv ({n} rows)" for s, n in zip(table["source_id"], table["n_rows"])]
    assert list(display.values) == expected
    np.testing.assert_allclose(display.means_, table["mean"])
    ticks = [t.get_text() for t in display.ax_.get_yticklabels()]
    assert ticks == expected
    # without data: the last values
    again = BySourceDisplay.from_estimator(valuer)
    np.testing.assert_allclose(again.means_, table["mean"])


def test_by_source_display_of_influence(traced):
    pipe, X, y = traced
    explainer = stp.InfluenceExplainer(pipe).fit(X.iloc[:50], y[:50])
    exp = explainer.explain(X.iloc[50:], y[50:], keep_scores=True)
    display = BySourceDisplay.from_explanation(exp)
    source = exp.train_rows["source_id"].to_numpy()
    per_row = exp.scores.mean(axis=0)
    for (label, numbers), name in zip(display.values.items(), ["hospital_a", "hospital_b"]):
        assert label == f"{name}.csv ({(source == name).sum()} rows)"
        np.testing.assert_allclose(numbers, per_row[source == name])
    per_test = BySourceDisplay.from_explanation(exp, over="test_rows")
    np.testing.assert_allclose(
        list(per_test.values.values())[1], exp.source_scores["hospital_b"].to_numpy()
    )
    lean = explainer.explain(X.iloc[50:], keep_scores=False)
    with pytest.raises(ValueError, match="keep_scores=True"):
        BySourceDisplay.from_explanation(lean)
    with pytest.raises(ValueError, match="over must be"):
        BySourceDisplay.from_explanation(exp, over="sources")


def _three_data_files(tmp_path):
    """Training rows of three sources all named "data"; which part each row is from;
    validation rows."""
    train, valid, which = same_named_cancer_files(tmp_path)
    X, y = train.drop(columns="target"), train["target"].to_numpy()
    return X, y, which, valid.iloc[:, :3], valid["target"]


def test_by_source_display_keeps_files_and_versions_of_one_name_apart(tmp_path):
    # a/data.csv, b/data.csv and a second version of a/data.csv all read as source
    # "data": the display drew one box, "data.csv (95 rows)", of all three
    X, y, which, X_val, y_val = _three_data_files(tmp_path)

    valuer = stp.KNNShapleyValuer(n_neighbors=3).fit(X, y)
    display = BySourceDisplay.from_estimator(valuer, X_val, y_val)
    shas = valuer.by_source()["sha256"].str[:12].tolist()
    labels = [
        f"a/data.csv [{shas[0]}] (40 rows)",
        f"a/data.csv [{shas[1]}] (25 rows)",
        "b/data.csv (30 rows)",
    ]
    assert list(display.values) == labels
    assert [t.get_text() for t in display.ax_.get_yticklabels()] == labels
    for numbers, part in zip(display.values.values(), [0, 2, 1]):
        np.testing.assert_array_equal(numbers, valuer.values_[which == part])

    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    explainer = stp.InfluenceExplainer(pipe).fit(X, y)
    exp = explainer.explain(X_val.iloc[:6], keep_scores=True)
    per_row = BySourceDisplay.from_explanation(exp)
    per_test = BySourceDisplay.from_explanation(exp, over="test_rows")
    assert list(per_row.values) == list(per_test.values) == labels
    for rows, test, part in zip(per_row.values.values(), per_test.values.values(), [0, 2, 1]):
        np.testing.assert_allclose(rows, exp.scores.mean(axis=0)[which == part])
        np.testing.assert_allclose(test, exp.scores[:, which == part].sum(axis=1))
    # the explanation's source_scores keep the three apart too: no full matrix needed
    lean = explainer.explain(X_val.iloc[:6], keep_scores=False)
    lean_test = BySourceDisplay.from_explanation(lean, over="test_rows")
    assert list(lean_test.values) == labels
    for test, part in zip(lean_test.values.values(), [0, 2, 1]):
        np.testing.assert_allclose(test, exp.scores[:, which == part].sum(axis=1))


def test_influence_and_lineage_displays_keep_files_of_one_name_apart(tmp_path):
    # rows of a/data.csv and b/data.csv were both labelled data.csv:<line>; the lineage
    # graph failed on the two sources of one name (int() of a Series)
    X, y, which, X_val, _ = _three_data_files(tmp_path)
    scaled = stp.TracedEstimator(StandardScaler()).set_output(transform="pandas")
    X = X.copy()
    X.loc[which == 1, :] = scaled.fit_transform(X[which == 1]).to_numpy()
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    exp = stp.InfluenceExplainer(pipe).fit(X, y).explain(X_val.iloc[:4], top_k=10)
    display = InfluenceDisplay.from_explanation(exp, test_index=0, n_rows=10)
    lines = stp.row_lineage(X)["line"].to_numpy()
    shas = pipe.lineage_.sources
    sha = {s.uri.rsplit("/", 2)[-2] + str(s.n_rows): s.sha256[:12] for s in shas.values()}
    names = [
        f"a/data.csv [{sha['a40']}]",
        "b/data.csv",
        f"a/data.csv [{sha['a25']}]",
    ]
    shown = exp.top(10).query("test_index == 0")["train_index"].to_numpy()
    for row in shown:
        assert f"{names[which[row]]}:{lines[row]}" in display.labels

    graph = LineageDisplay.from_estimator(pipe)
    sources = [n for n in graph.nodes if n["kind"] == "source"]
    assert [n["label"] for n in sources] == [
        f"a/data.csv [{sha['a40']}]\n40 rows",
        f"a/data.csv [{sha['a25']}]\n25 rows",
        "b/data.csv\n30 rows",
    ]
    assert len({n["id"] for n in graph.nodes}) == len(graph.nodes)
    # the scaler was fitted on b/data.csv alone: it records that file's content
    # (Op.source_keys), so one edge from b's node; it was drawn from all three "data"
    # nodes, labelled "which source not recorded"
    (scaler,) = [n for n in graph.nodes if "@" in n["id"] and n["kind"] == "op"]
    assert "not recorded" not in scaler["label"]
    b_node = next(n["id"] for n in sources if n["label"].startswith("b/data.csv"))
    assert [src for src, dst in graph.edges if dst == scaler["id"]] == [b_node]
    assert all(dst != scaler["id"] for src, dst in graph.edges if src != b_node)


def test_unlearning_display_distances(demo_xy):
    X, y = demo_xy
    X = X[["age", "bp", "cholesterol"]]
    unl = stp.GradientCorrectionUnlearner(
        stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    ).fit(X, y)
    original = copy.deepcopy(unl.estimator_)
    n_removed = int((stp.row_lineage(X)["source_id"] == "hospital_b").sum())
    # the copy kept for the comparison still holds the removed rows: the removal says so
    with pytest.warns(
        UserWarning,
        match=rf"other fitted objects in this process keep data of removed rows: "
        rf"TracedPipeline \({n_removed} removed row\(s\)\)",
    ):
        unl.unlearn(source_id="hospital_b")
    keep = (stp.row_lineage(X)["source_id"] == "hospital_a").to_numpy()
    retrained = stp.make_traced_pipeline(StandardScaler(), LogisticRegression()).fit(
        X[keep], y[keep]
    )
    display = UnlearningDisplay.from_estimator(unl, retrained, original, X)
    assert display.response == "decision_function"
    ref = retrained.decision_function(X)
    np.testing.assert_allclose(display.retrained, ref)
    np.testing.assert_allclose(display.original, original.decision_function(X))
    assert display.distance_original == pytest.approx(
        np.sqrt(np.mean((original.decision_function(X) - ref) ** 2))
    )
    assert display.distance_ratio == pytest.approx(
        function_space_distance_ratio(unl, retrained, original, X)
    )
    assert display.distance_unlearned < 0.01 * display.distance_original
    legend = [t.get_text() for t in display.ax_.get_legend().get_texts()]
    assert legend[0] == f"original (before), distance {display.distance_original:.3g}"
    assert legend[1] == f"unlearned (after), distance {display.distance_unlearned:.3g}"
    assert display.ax_.get_xlabel().startswith("decision_function of the model retrained")
    # several retrains: their mean is the reference
    two = UnlearningDisplay.from_estimator(unl, [retrained, original], original, X)
    np.testing.assert_allclose(two.retrained, (ref + original.decision_function(X)) / 2)
    with pytest.raises(AttributeError, match="transform"):
        UnlearningDisplay.from_estimator(unl, retrained, original, X, response_method="transform")


def test_unlearning_display_refuses_text_labels():
    """``response_method="predict"`` on text classes: from_estimator (and the metric)
    refuse by name; the constructor given the labels failed with numpy's "could not
    convert string to float"."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    y = np.where(X[:, 0] + rng.normal(size=80) > 0, "yes", "no")
    original = LogisticRegression().fit(X, y)
    retrained = LogisticRegression().fit(X[5:], y[5:])
    unl = stp.GradientCorrectionUnlearner(LogisticRegression()).fit(X, y)
    unl.unlearn(mask=np.arange(80) < 5)
    refused = r"compares class labels \(\['no', 'yes'\]\) as numbers"
    with pytest.raises(ValueError, match=refused):
        UnlearningDisplay.from_estimator(unl, retrained, original, X, response_method="predict")
    with pytest.raises(ValueError, match=refused):
        function_space_distance_ratio(unl, retrained, original, X, response_method="predict")
    with pytest.raises(ValueError, match=r"original must hold numeric outputs.*\['(yes|no)'"):
        UnlearningDisplay(
            original=original.predict(X),
            unlearned=unl.predict(X),
            retrained=retrained.predict(X),
            response="predict",
        )
    # truth for the probabilities: the RMS difference computed here by hand
    display = UnlearningDisplay.from_estimator(
        unl, retrained, original, X, response_method="predict_proba"
    )
    diff = original.predict_proba(X) - retrained.predict_proba(X)
    assert display.distance_original == pytest.approx(np.sqrt(np.mean(diff**2)))


def test_lineage_display_graph(traced):
    pipe, _, _ = traced
    display = LineageDisplay.from_estimator(pipe)
    ids = [node["id"] for node in display.nodes]
    assert ids == [
        "source:hospital_a",
        "source:hospital_b",
        "op:standardscaler@hospital_b",
        "op:tracedcolumntransformer/onehotencoder",
        "op:tracedcolumntransformer/standardscaler",
        "op:tracedcolumntransformer",
        "op:logisticregression",
    ]
    counts = pipe.lineage_.source_counts()
    labels = {node["id"]: node["label"] for node in display.nodes}
    assert labels["source:hospital_a"] == f"hospital_a.csv\n{counts['hospital_a']} rows"
    assert labels["op:logisticregression"] == "LogisticRegression"
    # hospital B's bp went through its own scaler, its sex column did not
    assert set(display.edges) == {
        ("source:hospital_b", "op:standardscaler@hospital_b"),
        ("source:hospital_a", "op:tracedcolumntransformer/onehotencoder"),
        ("source:hospital_b", "op:tracedcolumntransformer/onehotencoder"),
        ("source:hospital_a", "op:tracedcolumntransformer/standardscaler"),
        ("source:hospital_b", "op:tracedcolumntransformer/standardscaler"),
        ("op:standardscaler@hospital_b", "op:tracedcolumntransformer/standardscaler"),
        ("op:tracedcolumntransformer/onehotencoder", "op:tracedcolumntransformer"),
        ("op:tracedcolumntransformer/standardscaler", "op:tracedcolumntransformer"),
        ("op:tracedcolumntransformer", "op:logisticregression"),
    }
    columns = {node["id"]: node["column"] for node in display.nodes}
    assert columns["op:tracedcolumntransformer/onehotencoder"] == 2  # branches side by side
    assert columns["op:logisticregression"] == 4
    texts = [t.get_text() for t in display.ax_.texts]
    assert texts == [node["label"] for node in display.nodes]
    assert len(display.arrows_) == len(display.edges)
    assert [node["kind"] for node in display.nodes][-1] == "model"


def test_influence_and_source_displays_of_merged_rows_name_every_parent():
    rng = np.random.default_rng(2)
    left = stp.from_pandas(pd.DataFrame({"key": range(30), "a": rng.normal(size=30)}), "left")
    right = stp.from_pandas(pd.DataFrame({"key": range(30), "b": rng.normal(size=30)}), "right")
    merged = stp.merge(left, right.iloc[::-1], on="key", source_id="both")
    X, y = merged[["a", "b"]], (merged["a"] + merged["b"] > 0).astype(int).to_numpy()
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    exp = stp.InfluenceExplainer(pipe).fit(X.iloc[:20], y[:20])
    exp = exp.explain(X.iloc[20:], top_k=3, keep_scores=True)
    display = InfluenceDisplay.from_explanation(exp, test_index=1, n_rows=2)
    # row i of the merge is key i: row key+1 of each parent frame
    keys = [int(merged["key"].iloc[exp.top_indices[1, r]]) for r in range(2)]
    for key in keys:
        assert f"left:{key + 1} + right:{key + 1}" in display.labels
    by_source = BySourceDisplay.from_explanation(exp)
    assert list(by_source.values) == ["left (20 rows)", "right (20 rows)"]
    for numbers in by_source.values.values():
        np.testing.assert_allclose(numbers, exp.scores.mean(axis=0))


def test_lineage_display_of_a_merge_and_of_a_stored_run(tmp_path):
    rng = np.random.default_rng(0)
    left = stp.from_pandas(pd.DataFrame({"key": range(20), "a": rng.normal(size=20)}), "left")
    right = stp.from_pandas(pd.DataFrame({"key": range(20), "b": rng.normal(size=20)}), "right")
    merged = stp.merge(left, right, on="key", source_id="both")
    store = stp.stores.SQLiteStore(tmp_path / "runs.db")
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)
    pipe.fit(merged[["a", "b"]], (merged["a"] > 0).astype(int))
    run = store.load_run(pipe.lineage_.run_id)
    display = LineageDisplay.from_lineage(run)
    assert display.edges == [
        ("source:left", "source:both"),
        ("source:right", "source:both"),
        ("source:both", "op:standardscaler"),
        ("op:standardscaler", "op:logisticregression"),
    ]
    assert [n["column"] for n in display.nodes] == [0, 0, 1, 2, 3]
    assert display.nodes[2]["label"] == "merge\nboth" and display.nodes[2]["kind"] == "derived"
    assert display.ax_.get_title() == f"Run {run.run_id[:8]}: TracedPipeline"
    with pytest.raises(ValueError, match="no lineage_"):
        LineageDisplay.from_estimator(LogisticRegression())


def test_displays_need_matplotlib_only_to_draw():
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"
        "import numpy as np, sktraceprop.plotting as p\n"
        "d = p.UnlearningDisplay(original=np.zeros(2), unlearned=np.ones(2),"
        " retrained=np.ones(2), response='predict')\n"
        "assert d.distance_ratio == 0.0\n"
        "try:\n    d.plot()\nexcept ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "UnlearningDisplay.plot requires matplotlib" in out.stdout


def test_unlearning_display_of_a_retrain_without_a_class():
    # the retrain knows classes 0 and 2 only: 3-column outputs against 2-column ones
    # failed to broadcast (or, binary, broadcast silently)
    from sklearn.datasets import load_wine

    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    keep = y != 1
    original = LogisticRegression().fit(X, y)
    retrained = LogisticRegression().fit(X[keep], y[keep])
    unlearned = LogisticRegression(C=0.05).fit(X[keep], y[keep])
    with pytest.raises(ValueError, match="know different classes"):
        UnlearningDisplay.from_estimator(unlearned, retrained, original, X)
    display = UnlearningDisplay.from_estimator(
        unlearned, retrained, original, X, response_method="predict_proba"
    )
    ref = np.zeros((len(y), 3))
    ref[:, [0, 2]] = retrained.predict_proba(X)
    np.testing.assert_allclose(display.retrained, ref.ravel())
    np.testing.assert_allclose(display.original, original.predict_proba(X).ravel())
    assert display.distance_ratio == pytest.approx(
        function_space_distance_ratio(
            unlearned, retrained, original, X, response_method="predict_proba"
        ),
        rel=1e-12,
    )
