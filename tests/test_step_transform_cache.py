"""A step whose own ``transform`` writes what it holds (a cache), fitted traced.

The step watch refuses a run where a step's state changed after its fit here returned
(other code fitted it, or changed it in place). But the traced fit itself calls the
step after its fit: a pipeline calls ``transform`` of a step without ``fit_transform``,
and the run's feature lineage runs a user's transformer on a few training rows (alone,
as a ``ColumnTransformer``'s part, inside a nested pipeline). Before, a transformer
whose ``transform`` kept a cache (``self._last_shape = X.shape``, a memo dict) was
refused as "changed ... by other code"; its fitted state changed by other code in the
window is still refused.
"""

import threading

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.exceptions import LineageError
from sktraceprop.stores import MemoryStore
from tests._gate import WAIT_S, fit_while_other_code_fits, plain, shifted_data


def _write(step, X):
    """What ``step.transform`` writes in ``step`` (``step.how`` at ``step.attr``)."""
    attr, how = step.attr, step.how
    if how == "replace":
        setattr(step, attr, np.shape(X))
    elif how == "count":
        setattr(step, attr, getattr(step, attr, 0) + 1)
    elif how == "array":
        setattr(step, attr, np.array(X, dtype=float))
    elif how == "dict-in-place":
        getattr(step, attr)[np.shape(X)[0]] = float(np.asarray(X, dtype=float).sum())
    elif how == "list-in-place":
        getattr(step, attr).append(np.shape(X)[0])


class _Scale(BaseEstimator):
    """Divides by each column's spread (+1); ``transform`` writes a cache (``_write``).
    No ``fit_transform``: a pipeline calls ``fit``, then ``transform``."""

    def __init__(self, attr="_cache", how="replace", in_fit=True):
        self.attr = attr
        self.how = how
        self.in_fit = in_fit

    def fit(self, X, y=None):
        self.scale_ = np.asarray(X, dtype=float).std(axis=0) + 1.0
        self.n_features_in_ = np.shape(X)[1]
        if self.in_fit or self.how.endswith("in-place"):
            setattr(self, self.attr, {"dict-in-place": {}, "list-in-place": []}.get(self.how, 0))
        return self

    def transform(self, X):
        _write(self, X)
        return np.asarray(X, dtype=float) / self.scale_

    def get_feature_names_out(self, input_features=None):
        if input_features is None:
            input_features = [f"x{j}" for j in range(self.n_features_in_)]
        return np.asarray(input_features, dtype=object)


class _ScaleT(TransformerMixin, _Scale):
    """The same with ``fit_transform`` (``fit(X).transform(X)``, digested at its end)."""


def _ct(step):
    return ColumnTransformer([("part", step, [0, 1])])


LAYOUTS = {
    "alone": lambda step: stp.make_traced_pipeline(step, LogisticRegression()),
    "column-transformer": lambda step: stp.make_traced_pipeline(_ct(step), LogisticRegression()),
    "feature-union": lambda step: stp.make_traced_pipeline(
        FeatureUnion([("part", step)]), LogisticRegression()
    ),
    "nested-pipeline": lambda step: stp.make_traced_pipeline(
        Pipeline([("inner", step), ("scaler", StandardScaler())]), LogisticRegression()
    ),
    "traced-estimator": lambda step: stp.TracedEstimator(
        Pipeline([("inner", step), ("lr", LogisticRegression())])
    ),
}


def _data(seed=0):
    return shifted_data(seed, "cached")


def _fitted(model):
    return model.estimator_ if isinstance(model, stp.TracedEstimator) else model


def _steps_fitted_right(model, X):
    """Truth: the step's fitted scale is this fit's, and the run names X's rows."""
    scales = [
        v
        for step in _all_estimators(_fitted(model))
        if isinstance(step, _Scale)
        for k, v in vars(step).items()
        if k == "scale_"
    ]
    assert scales, "no fitted _Scale found"
    for scale in scales:
        np.testing.assert_allclose(scale, np.asarray(X, dtype=float).std(axis=0) + 1.0)
    np.testing.assert_array_equal(model.lineage_.row_ids, X.index.to_numpy())


def _all_estimators(est):
    out = [est]
    for v in vars(est).values():
        for item in v if isinstance(v, list) else [v]:
            parts = item if isinstance(item, tuple) else (item,)
            out += [e for p in parts if isinstance(p, BaseEstimator) for e in _all_estimators(p)]
    return out


@pytest.mark.parametrize("cls", [_Scale, _ScaleT], ids=["fit-then-transform", "fit_transform"])
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_a_cache_its_transform_writes_is_not_other_code(layout, cls):
    X, y = _data()
    store = MemoryStore()
    model = LAYOUTS[layout](cls(attr="_last_shape", how="replace"))
    model.set_params(store=store)
    model.fit(X, y)
    assert store.list_runs()["run_id"].tolist() == [model.lineage_.run_id]
    _steps_fitted_right(model, X)


@settings(max_examples=25, deadline=None)
@given(
    attr=st.sampled_from(["_cache", "_last_shape", "cache_", "memo", "_x"]),
    how=st.sampled_from(["replace", "count", "array", "dict-in-place", "list-in-place"]),
    in_fit=st.booleans(),
    layout=st.sampled_from(sorted(LAYOUTS)),
    mixin=st.booleans(),
)
@example(attr="_memo", how="dict-in-place", in_fit=True, layout="column-transformer", mixin=True)
@example(attr="_n", how="count", in_fit=False, layout="nested-pipeline", mixin=False)
def test_any_cache_its_transform_writes_is_not_other_code(attr, how, in_fit, layout, mixin):
    X, y = _data()
    cls = _ScaleT if mixin else _Scale
    model = LAYOUTS[layout](cls(attr=attr, how=how, in_fit=in_fit))
    model.fit(X, y)
    _steps_fitted_right(model, X)


def _part(pipe, layout):
    """The _Scale object of ``pipe`` (fitted traced in ``layout``)."""
    if layout == "column-transformer":
        return pipe[0].transformers_[0][1]
    if layout == "nested-pipeline":
        return pipe[0][0]
    return pipe[0]


def _add_to_scale(step):
    step.scale_ += 1.0


@pytest.mark.parametrize("layout", ["alone", "column-transformer", "nested-pipeline"])
def test_its_fitted_state_changed_by_other_code_is_still_refused(monkeypatch, layout):
    # the other code changes scale_ in place while the traced fit is held before its run
    # is built; the traced fit's own transform calls (writing the cache) come after
    X, y = _data()
    store = MemoryStore()
    pipe = LAYOUTS[layout](_Scale(attr="_last_shape", how="replace"))
    pipe.set_params(store=store)
    changed = []  # (a refused pipeline puts unfitted clones in its steps' place)
    error = fit_while_other_code_fits(
        monkeypatch,
        pipe,
        X,
        y,
        lambda: _add_to_scale(changed.append(_part(pipe, layout)) or changed[0]),
    )
    # the truth: the step no longer holds what its fit on X left
    scale = np.asarray(X, dtype=float).std(axis=0) + 1.0
    np.testing.assert_allclose(changed[0].scale_, scale + 1.0)
    assert isinstance(error, LineageError), f"recorded run {getattr(pipe, 'lineage_', None)}"
    said = str(error)
    # (a nested pipeline's step, and a ColumnTransformer's part, is watched as a step,
    # named as its parameter)
    name = {"alone": "_scale", "column-transformer": "columntransformer__part"}.get(
        layout, "pipeline__inner"
    )
    attr = "scale_"
    assert f"step {name!r} had its fitted state replaced" in said and attr in said, said
    assert store.list_runs().empty and not hasattr(pipe, "lineage_")


def test_its_transform_called_by_another_thread_is_refused(monkeypatch):
    # only the traced fit's own calls, in its thread, are not other code's: another
    # thread's transform appends to the list the step holds in the window, and the
    # traced fit's own later calls append to it again (not the list as they found it)
    X, y = _data()
    X2, _ = _data(1)
    pipe = LAYOUTS["alone"](_Scale(attr="_seen", how="list-in-place"))
    seen = []

    def other():
        step = pipe[0]
        done = threading.Thread(target=lambda: step.transform(plain(X2, y)[0]), name="o")
        done.start()
        done.join(WAIT_S)
        seen.append(list(step._seen))

    error = fit_while_other_code_fits(monkeypatch, pipe, X, y, other)
    assert seen[0][-1] == len(X2)  # the truth: the other thread's call appended its rows
    assert isinstance(error, LineageError) and "_seen" in str(error), error
    assert not hasattr(pipe, "lineage_")


def test_an_inner_step_of_a_nested_pipeline_fitted_elsewhere_is_refused(monkeypatch):
    # a pipeline nested before the last step has its steps watched as steps: a fit of
    # its step from another thread is named as the fit it was (not as a change of the
    # nested pipeline's steps)
    X, y = _data()
    X2, y2 = _data(1)
    pipe = LAYOUTS["nested-pipeline"](_Scale(attr="_last_shape", how="replace"))
    error = fit_while_other_code_fits(
        monkeypatch, pipe, X, y, lambda: pipe[0][0].fit(*plain(X2, y2))
    )
    assert isinstance(error, LineageError)
    assert "step 'pipeline__inner' was fitted in thread 'MainThread'" in str(error), error
    assert "(steps)" not in str(error), error


def test_no_watched_method_is_left_in_the_fitted_objects():
    # the watch puts its spies in the dicts of the steps and the estimators they hold
    # (a ColumnTransformer's parts, a forest's trees) while the traced fit runs, and
    # takes every one away once it ended
    from sklearn.ensemble import RandomForestClassifier

    X, y = _data()
    parts = [("a", _Scale(how="count"), [0]), ("b", _Scale(attr="_m", how="dict-in-place"), [1])]
    forest = RandomForestClassifier(n_estimators=5, random_state=0)
    pipe = stp.make_traced_pipeline(ColumnTransformer(parts), forest).fit(X, y)
    held = [pipe[0], *[t for _, t, _ in pipe[0].transformers_], forest, *forest.estimators_]
    for obj in held:
        assert not [k for k, v in vars(obj).items() if callable(v)], type(obj)
    assert pipe[0].transformers_[0][1]._cache > 0  # (the watch saw calls: it was put there)
    for j, (_, part, _) in enumerate(pipe[0].transformers_[:2]):
        np.testing.assert_allclose(part.scale_, np.asarray(X, dtype=float)[:, [j]].std(axis=0) + 1)
    np.testing.assert_array_equal(pipe.lineage_.row_ids, X.index.to_numpy())
