"""What a display writes on its figure is true: the class a bar supports, the name of a
long file (seen, not cut off), the row count, and a clear error where nothing can be drawn."""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression, Ridge

import sktraceprop as stp
from sktraceprop.plotting import (
    BySourceDisplay,
    InfluenceDisplay,
    LineageDisplay,
    UnlearningDisplay,
)
from sktraceprop.plotting._base import shortened

plt = pytest.importorskip("matplotlib.pyplot")


def _three_classes():
    rng = np.random.RandomState(3)
    X = stp.from_numpy(rng.randn(30, 2), "claims_rows")
    y = np.array(["cat", "dog", "emu"])[rng.randint(0, 3, 30)]
    return X, y, stp.from_numpy(rng.randn(5, 2), "claims_test")


def test_influence_axis_names_the_explained_class_not_the_prediction():
    # with y given, the bars are influence on that class's margin: the axis said
    # "+ supports the prediction" when the prediction was another class
    X, y, X_test = _three_classes()
    model = LogisticRegression().fit(X, y)
    explainer = stp.InfluenceExplainer(model).fit(X, y)
    predicted = model.predict(X_test)[0]
    other = next(c for c in model.classes_ if c != predicted)
    asked = np.full(len(X_test), other)
    display = InfluenceDisplay.from_estimator(explainer, X_test, asked, n_rows=3)
    assert display.explained == other
    assert display.ax_.get_xlabel() == f"influence on the margin (+ supports class {other})"
    assert "prediction" not in display.ax_.get_xlabel()
    # the bars are that class's scores: the three largest and three most negative
    scores = explainer.explain(X_test, asked, keep_scores=True).scores[0]
    ordered = np.sort(scores)[::-1]
    np.testing.assert_allclose(display.scores, np.r_[ordered[:3], ordered[-3:]])
    unasked = InfluenceDisplay.from_estimator(explainer, X_test, n_rows=3)
    assert unasked.ax_.get_xlabel().endswith(f"(+ supports class {predicted})")

    yr = np.random.RandomState(0).randn(30)
    regression = stp.InfluenceExplainer(Ridge().fit(X, yr)).fit(X, yr)
    display = InfluenceDisplay.from_estimator(regression, X_test, n_rows=2)
    assert display.ax_.get_xlabel() == "influence on the margin (+ raises the prediction)"


@pytest.mark.parametrize("test_index", [5, 7, -1])
def test_influence_from_estimator_names_a_row_out_of_range(test_index):
    # was "indices are out-of-bounds" from the indexing, and -1 drew the last row
    # titled "test row -1" where from_explanation refuses it
    X, y, X_test = _three_classes()
    explainer = stp.InfluenceExplainer(LogisticRegression().fit(X, y)).fit(X, y)
    with pytest.raises(IndexError, match=f"test_index {test_index} out of range: X has 5"):
        InfluenceDisplay.from_estimator(explainer, X_test, test_index=test_index)


def _drawn(display):
    display.figure_.canvas.draw()
    return display.ax_.get_window_extent(), display.figure_.bbox


def test_long_file_names_are_seen_whole_at_both_ends(tmp_path):
    # a 150-character file name pushed the axes out of the figure: constrained layout
    # gave up and the tick read "...(5 rows)", no name at all
    folder = "very_long_directory_name_" * 5
    path = tmp_path / folder / "visits.csv"
    path.parent.mkdir()
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"a": rng.randn(12), "b": rng.randn(12), "y": [0, 1] * 6})
    frame.to_csv(path, index=False)
    frame.iloc[:5].to_csv(tmp_path / "short.csv", index=False)
    data = pd.concat([stp.read_csv(path), stp.read_csv(tmp_path / "short.csv")])
    data = data.assign(y=data["y"].astype(int))
    X, y = data[["a", "b"]], data["y"].to_numpy()
    valuer = stp.KNNShapleyValuer(n_neighbors=3).fit(X, y)
    display = BySourceDisplay.from_estimator(valuer, X, y)
    assert list(display.values) == ["short.csv (5 rows)", "visits.csv (12 rows)"]

    long_name = f"{folder}/visits.csv (12 rows)"
    display = BySourceDisplay(
        values={long_name: np.arange(5.0), "b (3 rows)": np.ones(3)}, xlabel="v"
    )
    display.plot()
    ticks = [t.get_text() for t in display.ax_.get_yticklabels()]
    assert ticks[1] == "b (3 rows)"
    assert len(ticks[0]) <= 40 and ticks[0].startswith("very_long")
    assert ticks[0].endswith("visits.csv (12 rows)") and "\u2026" in ticks[0]
    assert list(display.values)[0] == long_name  # the full name stays on the display
    axes_box, figure_box = _drawn(display)
    assert axes_box.width > 0.3 * figure_box.width

    bars = InfluenceDisplay(
        scores=np.array([1.0, -1.0]), labels=[f"{folder}/visits.csv:12", "b.csv:3"], test_index=0
    ).plot()
    ticks = [t.get_text() for t in bars.ax_.get_yticklabels()]
    assert ticks[0].endswith("visits.csv:12") and len(ticks[0]) <= 40
    axes_box, figure_box = _drawn(bars)
    assert axes_box.width > 0.3 * figure_box.width


@settings(deadline=None, max_examples=60)
@given(st.lists(st.text("ab/._:", min_size=0, max_size=90), min_size=1, max_size=6))
@example(["a" * 50 + "x" + "b" * 30, "a" * 50 + "y" + "b" * 30])
def test_shortened_labels_stay_apart_and_keep_their_ends(labels):
    short = shortened(labels)
    assert len(short) == len(labels)
    # two different labels are never shown as one
    assert len(set(short)) == len(set(labels))
    for s, full in zip(short, labels):
        if s != full:
            head, tail = s.split("\u2026")
            assert full.startswith(head) and full.endswith(tail) and len(s) < len(full)
        else:
            assert "\u2026" not in s or "\u2026" in full


def test_by_source_display_says_1_row_and_refuses_nothing_to_draw(tmp_path):
    rng = np.random.RandomState(1)
    for name, n in [("one", 1), ("many", 9)]:
        pd.DataFrame({"a": rng.randn(n), "y": rng.randint(0, 2, n)}).to_csv(
            tmp_path / f"{name}.csv", index=False
        )
    data = pd.concat([stp.read_csv(tmp_path / f"{n}.csv") for n in ("one", "many")])
    X, y = data[["a"]], data["y"].to_numpy()
    valuer = stp.KNNShapleyValuer(n_neighbors=2).fit(X, y)
    display = BySourceDisplay.from_estimator(valuer, X, y)
    assert list(display.values) == ["many.csv (9 rows)", "one.csv (1 row)"]
    pipe = stp.make_traced_pipeline(LogisticRegression()).fit(X, y)
    labels = [n["label"] for n in LineageDisplay.from_estimator(pipe).nodes]
    assert "one.csv\n1 row" in labels and "many.csv\n9 rows" in labels

    with pytest.raises(ValueError, match="no sources to draw"):
        BySourceDisplay(values={}, xlabel="v").plot()


def test_lineage_box_of_a_long_file_name_stays_in_the_figure(tmp_path):
    # a 62-character file name made a box wider than its column, cut at the figure's
    # left edge; a longer one lost the file name
    name = "patients_exported_from_the_regional_hospital_system_" * 2 + "q3"
    frames = []
    for stem in (name, "b"):
        pd.DataFrame({"a": np.arange(10.0), "y": [0, 1] * 5}).to_csv(
            tmp_path / f"{stem}.csv", index=False
        )
        frames.append(stp.read_csv(tmp_path / f"{stem}.csv"))
    data = pd.concat(frames)
    pipe = stp.make_traced_pipeline(LogisticRegression()).fit(data[["a"]], data["y"])
    display = LineageDisplay.from_estimator(pipe)
    node = next(n for n in display.nodes if n["label"].startswith("patients"))
    assert node["label"] == f"{name}.csv\n10 rows"  # whole on the display
    text = display.texts_[node["id"]].get_text()
    head, rows = text.split("\n")
    assert rows == "10 rows" and len(head) <= 32 and head.endswith("_q3.csv")
    assert head.startswith("patients") and "\u2026" in head
    display.figure_.canvas.draw()
    box = display.texts_[node["id"]].get_bbox_patch().get_window_extent()
    assert box.x0 >= 0 and box.x1 <= display.figure_.bbox.x1


def test_unlearning_display_refuses_outputs_of_other_rows_and_nothing_to_draw():
    # [1, 2] against [1] broadcast into a distance of 0.71 and a ratio of inf, then
    # the plot failed on "x and y must be the same size"
    with pytest.raises(ValueError, match=r"same rows, got shapes \(2,\), \(1,\) and \(2,\)"):
        UnlearningDisplay(
            original=[1.0, 2.0], unlearned=[1.0], retrained=[1.0, 2.0], response="predict"
        )
    empty = UnlearningDisplay(original=[], unlearned=[], retrained=[], response="predict")
    assert np.isnan(empty.distance_ratio)
    # was numpy's "zero-size array to reduction operation minimum"
    with pytest.raises(ValueError, match="no outputs to draw"):
        empty.plot()


def test_by_source_display_refuses_nan_instead_of_an_empty_row():
    # one NaN made matplotlib draw neither box nor mean for the source: its label
    # stood beside nothing
    values = {"a.csv (3 rows)": np.array([1.0, np.nan, 3.0]), "b.csv (2 rows)": np.ones(2)}
    with pytest.raises(ValueError, match=r"NaN \(a.csv \(3 rows\): 1 of 3\)"):
        BySourceDisplay(values=values, xlabel="v").plot()


def test_influence_display_says_when_the_explanation_kept_fewer_rows():
    # n_rows=5 of an explanation with top_k=2 drew 2 and 2 bars, without a word
    X, y, X_test = _three_classes()
    explainer = stp.InfluenceExplainer(LogisticRegression().fit(X, y)).fit(X, y)
    explanation = explainer.explain(X_test, top_k=2)
    with pytest.warns(UserWarning, match=r"n_rows=5, but .* kept the 2 strongest"):
        display = InfluenceDisplay.from_explanation(explanation, n_rows=5)
    assert len(display.scores) == 4
    # all 30 training rows kept: nothing left out, nothing to say
    everything = explainer.explain(X_test, top_k=30)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(InfluenceDisplay.from_explanation(everything, n_rows=40).scores) == 30
