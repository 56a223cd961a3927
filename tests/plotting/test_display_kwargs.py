"""Displays colour a score of 0 as neither side, and pass extra keyword arguments to
their main matplotlib artist as scikit-learn's displays do (a wrong one is matplotlib's
error, not swallowed)."""

import copy

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.plotting import (
    BySourceDisplay,
    InfluenceDisplay,
    LineageDisplay,
    UnlearningDisplay,
)

plt = pytest.importorskip("matplotlib.pyplot")
to_rgb = plt.matplotlib.colors.to_rgb


def _bars(scores, explained=None, **kwargs):
    labels = [f"rows.csv:{i + 2}" for i in range(len(scores))]
    display = InfluenceDisplay(
        scores=np.asarray(scores), labels=labels, test_index=0, explained=explained
    )
    return display.plot(**kwargs)


def _kind(score):
    # the slow truth: compared one by one, not through a sign function
    if score > 0:
        return "supports"
    if score < 0:
        return "opposes"
    return "zero"


@settings(deadline=None, max_examples=30)
@given(
    st.lists(
        st.one_of(
            st.just(0.0),
            st.just(-0.0),
            st.floats(-1e3, 1e3, allow_nan=False, allow_subnormal=True),
        ),
        min_size=1,
        max_size=8,
    ),
    st.sampled_from([None, "dog"]),
)
@example([0.5, 0.0, -0.3], None)
@example([0.5, 0.0, -0.3], "dog")
@example([-0.0], None)
def test_a_score_of_zero_is_neither_supporter_nor_opponent(scores, explained):
    # a score of exactly 0 was drawn green, as a row that supports the prediction
    scores = sorted(scores, reverse=True)
    display = _bars(scores, explained)
    want = {"supports": "tab:green", "opposes": "tab:red", "zero": "tab:gray"}
    drawn = [bar.get_facecolor()[:3] for bar in display.bars_]
    assert drawn == [to_rgb(want[_kind(s)]) for s in scores]
    legend = [t.get_text() for t in display.ax_.get_legend().get_texts()]
    if explained is None:
        named = {"supports": "raises the prediction", "opposes": "lowers the prediction"}
    else:
        named = {"supports": "supports class dog", "opposes": "opposes class dog"}
    named["zero"] = "score 0: no influence"
    # the legend names the kinds drawn, and only those, in this order
    order = ["supports", "opposes", "zero"]
    assert legend == [named[k] for k in order if k in {_kind(s) for s in scores}]
    plt.close(display.figure_)


def test_zero_keeps_its_own_color_when_two_are_given_and_nan_is_refused():
    display = _bars([1.0, 0.0, -1.0], colors=("blue", "orange"))
    drawn = [bar.get_facecolor()[:3] for bar in display.bars_]
    assert drawn == [to_rgb("blue"), to_rgb("tab:gray"), to_rgb("orange")]
    display = _bars([0.0], colors=("blue", "orange", "black"))
    assert display.bars_[0].get_facecolor()[:3] == to_rgb("black")
    with pytest.raises(ValueError, match="three colors"):
        _bars([1.0], colors=("blue",))
    # a NaN is neither >= 0 nor < 0: it was drawn as an opposing row
    with pytest.raises(ValueError, match=r"scores hold NaN \(1 of 2\)"):
        _bars([1.0, np.nan])


def _explainer():
    rng = np.random.RandomState(0)
    X = stp.from_numpy(rng.randn(30, 2), "kwargs_rows")
    y = (X["x0"] + 0.3 * rng.randn(30) > 0).astype(int)
    explainer = stp.InfluenceExplainer(LogisticRegression()).fit(X, y)
    return explainer, X, y


def test_influence_kwargs_reach_the_bars():
    explainer, X, _ = _explainer()
    display = InfluenceDisplay.from_estimator(
        explainer, X, n_rows=2, alpha=0.4, label="rows", edgecolor="black"
    )
    assert display.bars_.get_label() == "rows"
    for bar in display.bars_:
        assert bar.get_alpha() == 0.4
        assert bar.get_edgecolor()[:3] == to_rgb("black")
    exp = explainer.explain(X.iloc[:2], top_k=2)
    by_explanation = InfluenceDisplay.from_explanation(exp, n_rows=2, color="tab:purple")
    # a color given replaces the colors by sign, and the legend that named them
    assert {bar.get_facecolor()[:3] for bar in by_explanation.bars_} == {to_rgb("tab:purple")}
    assert by_explanation.ax_.get_legend() is None
    _, ax = plt.subplots()
    assert by_explanation.plot(ax, alpha=0.7).ax_ is ax  # ax first, as in scikit-learn
    assert by_explanation.bars_[0].get_alpha() == 0.7


def _by_source():
    rng = np.random.RandomState(0)
    X = pd.concat([stp.from_numpy(rng.randn(15, 2), s) for s in ("shop_a", "shop_b")])
    y = (X["x0"] > 0).astype(int)
    return stp.KNNShapleyValuer(n_neighbors=3).fit(X, y), X, y


def test_by_source_kwargs_reach_the_boxplot():
    valuer, X, y = _by_source()
    display = BySourceDisplay.from_estimator(
        valuer, X, y, patch_artist=True, boxprops={"facecolor": "tab:purple"}, widths=0.3
    )
    assert len(display.boxes_["boxes"]) == 2
    for box in display.boxes_["boxes"]:
        assert box.get_facecolor()[:3] == to_rgb("tab:purple")
        # horizontal boxes: their height on the axes is the width asked
        ys = box.get_path().vertices[:, 1]
        assert ys.max() - ys.min() == pytest.approx(0.3)
    exp = stp.InfluenceExplainer(LogisticRegression().fit(X, y)).fit(X, y)
    explained = exp.explain(X.iloc[:3], keep_scores=True)
    shown = BySourceDisplay.from_explanation(explained, showfliers=False)
    assert all(len(f.get_xdata()) == 0 for f in shown.boxes_["fliers"])
    # the boxes must stay beside their labels
    for placing in ({"positions": [1, 2]}, {"orientation": "vertical"}, {"vert": True}):
        with pytest.raises(TypeError, match=f"{next(iter(placing))} cannot be passed"):
            shown.plot(**placing)


def test_lineage_kwargs_reach_every_box():
    rng = np.random.RandomState(0)
    X = stp.from_numpy(rng.randn(20, 2), "lineage_kwargs")
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    pipe.fit(X, (X["x0"] > 0).astype(int))
    display = LineageDisplay.from_estimator(pipe, fontsize=11, color="tab:blue", alpha=0.6)
    assert len(display.texts_) == len(display.nodes) >= 3
    for text in display.texts_.values():
        assert text.get_fontsize() == 11
        assert to_rgb(text.get_color()) == to_rgb("tab:blue")
        assert text.get_alpha() == 0.6
    from_lineage = LineageDisplay.from_lineage(pipe.lineage_, fontsize=6)
    assert {t.get_fontsize() for t in from_lineage.texts_.values()} == {6}


def _unlearning(demo_xy):
    X, y = demo_xy
    X = X[["age", "bp", "cholesterol"]]
    unl = stp.GradientCorrectionUnlearner(
        stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    ).fit(X, y)
    original = copy.deepcopy(unl.estimator_)
    with pytest.warns(UserWarning, match="keep data of removed rows"):
        unl.unlearn(source_id="hospital_b")
    keep = (stp.row_lineage(X)["source_id"] == "hospital_a").to_numpy()
    retrained = stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    return unl, retrained.fit(X[keep], y[keep]), original, X


def test_unlearning_kwargs_reach_both_scatters(demo_xy):
    display = UnlearningDisplay.from_estimator(*_unlearning(demo_xy), alpha=0.25, s=40)
    for points in (display.original_points_, display.unlearned_points_):
        assert points.get_alpha() == 0.25
        assert list(points.get_sizes()) == [40]
    # the display's own label (with the distance) unless one is given
    assert display.original_points_.get_label().startswith("original (before), distance")
    display.plot(label="model")
    assert display.original_points_.get_label() == "model"
    assert display.unlearned_points_.get_label() == "model"


def test_a_wrong_keyword_is_matplotlibs_error(demo_xy):
    explainer, X, _ = _explainer()
    valuer, Xs, ys = _by_source()
    rng = np.random.RandomState(0)
    Xl = stp.from_numpy(rng.randn(20, 2), "lineage_wrong")
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    pipe.fit(Xl, (Xl["x0"] > 0).astype(int))
    draws = [
        lambda **kw: InfluenceDisplay.from_estimator(explainer, X, n_rows=2, **kw),
        lambda **kw: BySourceDisplay.from_estimator(valuer, Xs, ys, **kw),
        lambda **kw: LineageDisplay.from_estimator(pipe, **kw),
        lambda **kw: UnlearningDisplay.from_estimator(*_unlearning(demo_xy), **kw),
    ]
    for draw in draws:
        # matplotlib's own message names the keyword (AttributeError from an artist's
        # set() or constructor, TypeError from boxplot); the display's own signature
        # refused it before
        with pytest.raises(
            (AttributeError, TypeError),
            match=r"((\w+\.set|Axes\.boxplot)\(\) got an unexpected keyword argument"
            r"|'\w+' object has no property) 'not_a_matplotlib_kwarg'",
        ):
            draw(not_a_matplotlib_kwarg=1)
