"""A traced pipeline whose step's private fitted state other code changes in place.

The step watch (``sktraceprop._lineage._fitted_elsewhere``) digested only a step's
attributes named ``name_``: a KNN predicts from ``_fit_X`` and ``_y``, a histogram
gradient boosting model from ``_predictors`` and ``_baseline_prediction``, a user
estimator from whatever it keeps (``_w``), and a ``FeatureUnion`` from the transformers
of its ``transformer_list`` (a parameter, fitted in place). A change made in place there
after the step's fit returned and before the run was checked (``knn._fit_X[0] = 99``)
was not seen: the run recorded this fit's rows beside a model that no longer predicts
as they made it. The pipeline's thread is held once its steps were fitted, before the
run is built (an event, no sleep), while the test changes the step.
"""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier, IsolationForest
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import FeatureUnion
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

import sktraceprop as stp
from sktraceprop.exceptions import LineageError, LineageWarning
from sktraceprop.stores import MemoryStore
from tests._gate import fit_while_other_code_fits, plain, shifted_data


class PrivateCentroid(ClassifierMixin, BaseEstimator):
    """A user classifier whose fitted state is private: the side of a hyperplane through
    the mean of the rows, along the difference of the two classes' means."""

    def fit(self, X, y):
        X, y = np.asarray(X, dtype=float), np.asarray(y)
        self.classes_ = np.unique(y)
        self._w = X[y == self.classes_[1]].mean(axis=0) - X[y == self.classes_[0]].mean(axis=0)
        self._b = -float(X.mean(axis=0) @ self._w)
        return self

    def predict(self, X):
        return self.classes_[(np.asarray(X, dtype=float) @ self._w + self._b > 0).astype(int)]


def _data(seed=0):
    return shifted_data(seed, "private_state")


def _knn():
    return KNeighborsClassifier(n_neighbors=3)


def _hgb():
    return HistGradientBoostingClassifier(max_iter=3, random_state=0)


def _leaves_of_a_tree(hgb):
    nodes = hgb._predictors[0][0].nodes
    values = nodes["value"]  # (a view: the change is made in the tree's own nodes)
    values[nodes["is_leaf"].astype(bool)] += 1.0


EDITS = {
    # (the final step, how the other code changes it in place, the attribute named)
    "knn-fit-X": (_knn, lambda s: s._fit_X.__setitem__((0, 0), 99.0), "_fit_X"),
    "knn-y": (_knn, lambda s: s._y.__setitem__(0, 1 - s._y[0]), "_y"),
    "hgb-baseline": (_hgb, lambda s: s._baseline_prediction.__iadd__(1.0), "_baseline_prediction"),
    "hgb-a-tree": (_hgb, _leaves_of_a_tree, "_predictors"),
    "user-estimator": (PrivateCentroid, lambda s: s._w.__imul__(-1.0), "_w"),
}


def _refused(error, store, pipe, step, attr):
    assert isinstance(error, LineageError), f"recorded run {getattr(pipe, 'lineage_', None)}"
    said = str(error)
    assert f"step {step!r} had its fitted state replaced or changed in place" in said
    assert attr in said and "No run was recorded" in said
    assert store.list_runs().empty and not hasattr(pipe, "lineage_")


@pytest.mark.parametrize("edit", list(EDITS))
def test_private_fitted_state_changed_in_place_records_no_run(monkeypatch, edit):
    make, change, attr = EDITS[edit]
    X, y = _data()
    store = MemoryStore()
    pipe = stp.make_traced_pipeline(StandardScaler(), make(), store=store)
    final = pipe.steps[-1][1]
    error = fit_while_other_code_fits(monkeypatch, pipe, X, y, lambda: change(final))
    # the truth: the step no longer predicts as a fit on these rows does
    Z = StandardScaler().fit_transform(plain(X, y)[0])
    truth = make().fit(Z, y)
    assert attr in vars(final) and attr not in final.get_params()
    if attr == "_predictors":
        assert not np.allclose(final.predict_proba(Z), truth.predict_proba(Z))
    else:
        assert not np.array_equal(getattr(final, attr), getattr(truth, attr))
    _refused(error, store, pipe, pipe.steps[-1][0], attr)


def test_a_feature_union_changed_in_place_records_no_run(monkeypatch):
    # FeatureUnion fits the transformers of its transformer_list (a parameter) in place
    X, y = _data()
    store = MemoryStore()
    union = FeatureUnion([("scale", StandardScaler())])
    pipe = stp.make_traced_pipeline(union, LogisticRegression(), store=store)
    inner = union.transformer_list[0][1]

    def change():
        inner.mean_ += 1.0

    error = fit_while_other_code_fits(monkeypatch, pipe, X, y, change)
    truth = StandardScaler().fit(X)
    assert not np.allclose(union.transform(X), truth.transform(X))
    # (its part is watched as a step, named as its parameter: _watch_parts)
    _refused(error, store, pipe, "featureunion__scale", "(mean_)")


@pytest.mark.parametrize("edit", ["knn-fit-X", "hgb-baseline", "user-estimator"])
def test_private_fitted_state_left_alone_records_the_run(monkeypatch, edit):
    # the same hold with nothing changed: no refusal, the run names the rows given
    make = EDITS[edit][0]
    X, y = _data()
    store = MemoryStore()
    pipe = stp.make_traced_pipeline(StandardScaler(), make(), store=store)
    with warnings.catch_warnings():
        warnings.simplefilter("error", LineageWarning)
        assert fit_while_other_code_fits(monkeypatch, pipe, X, y, lambda: None) is None
    assert store.list_runs()["run_id"].tolist() == [pipe.lineage_.run_id]
    np.testing.assert_array_equal(pipe.lineage_.row_ids, X.index.to_numpy())


PRIVATE_MODELS = {
    "knn": _knn,
    "svc": lambda: SVC(),
    "isolation-forest": lambda: IsolationForest(n_estimators=5, random_state=0),
    "hgb": _hgb,
    "user-estimator": PrivateCentroid,
}


def _private_arrays(step):
    """The private numeric arrays ``step`` holds (not its parameters)."""
    return sorted(
        k
        for k, v in vars(step).items()
        if k.startswith("_")
        and isinstance(v, np.ndarray)
        and v.dtype.kind in "fiu"
        and v.size
        and v.flags.writeable
    )


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    kind=st.sampled_from(sorted(PRIVATE_MODELS)),
    which=st.integers(0, 2**16),
    element=st.integers(0, 2**16),
)
@example(kind="svc", which=0, element=0)  # _dual_coef_: what SVC predicts from
@example(kind="knn", which=1, element=7)  # _y
def test_any_private_array_changed_in_place_is_named(kind, which, element):
    X, y = _data()
    store = MemoryStore()
    pipe = stp.make_traced_pipeline(StandardScaler(), PRIVATE_MODELS[kind](), store=store)
    final = pipe.steps[-1][1]
    changed = {}

    def change():
        names = _private_arrays(final)
        assert names, f"{kind} holds no private array"
        attr = names[which % len(names)]
        array = getattr(final, attr)
        at = element % array.size
        before = array.flat[at]
        array.flat[at] = before + 1 if abs(before) < 1e6 else 0
        assert array.flat[at] != before
        changed["attr"] = attr

    with pytest.MonkeyPatch.context() as mp:
        error = fit_while_other_code_fits(mp, pipe, X, y, change)
    _refused(error, store, pipe, pipe.steps[-1][0], changed["attr"])


class DeepPrivate(PrivateCentroid):
    """Keeps, beside its fitted state, a value nested deeper than a digest walks."""

    def fit(self, X, y):
        super().fit(X, y)
        deep = []
        for _ in range(150):
            deep = [deep]
        self._deep = deep
        return self


def test_an_attribute_that_cannot_be_digested_is_named():
    # its replacement is still seen, not a change inside it: the run says so
    X, y = _data()
    store = MemoryStore()
    pipe = stp.make_traced_pipeline(StandardScaler(), DeepPrivate(), store=store)
    with pytest.warns(LineageWarning, match=r"step 'deepprivate'.*'_deep' could not be digested"):
        pipe.fit(X, y)
    assert store.list_runs()["run_id"].tolist() == [pipe.lineage_.run_id]


class ColumnPicker(BaseEstimator):
    """A user transformer that learns a list of column positions by name (``kept_``)."""

    def fit(self, X, y=None):
        self.kept_ = [str(j) for j in range(np.shape(X)[1])]
        return self

    def transform(self, X):
        return np.asarray(X, dtype=float)[:, [int(j) for j in self.kept_]]


def test_a_learnt_list_of_names_changed_in_place_records_no_run(monkeypatch):
    # a list of names is compared by content (skorch rebuilds its registries of names
    # once the step's fit returned, the same names): a learnt one is still watched
    X, y = _data()
    store = MemoryStore()
    pipe = stp.make_traced_pipeline(ColumnPicker(), LogisticRegression(), store=store)
    picker = pipe.steps[0][1]
    error = fit_while_other_code_fits(monkeypatch, pipe, X, y, lambda: picker.kept_.pop())
    assert picker.kept_ == ["0"]  # the truth: it now keeps one column of the two
    _refused(error, store, pipe, "columnpicker", "kept_")


def test_scikit_learns_callbacks_context_is_not_fitted_state():
    # scikit-learn (1.9 on) sets its callbacks' context on each step while the pipeline
    # fits it and removes it (restores the step's callbacks) once that fit returned:
    # not learnt, and no refusal
    callback = pytest.importorskip("sklearn.callback")

    class Counted:
        """An auto-propagated callback that counts the tasks it saw end."""

        max_propagation_depth = None

        def __init__(self):
            self.ended = 0

        def setup(self, estimator, context):
            pass

        def teardown(self, estimator, context):
            pass

        def on_fit_task_begin(self, estimator, context, **kwargs):
            pass

        def on_fit_task_end(self, estimator, context, **kwargs):
            self.ended += 1

    counted = Counted()
    assert isinstance(counted, callback.AutoPropagatedCallback)
    X, y = _data()
    store = MemoryStore()
    lr = LogisticRegression()
    pipe = stp.make_traced_pipeline(StandardScaler(), lr, store=store)
    pipe.set_callbacks(counted)
    with warnings.catch_warnings():
        warnings.simplefilter("error", LineageWarning)
        pipe.fit(X, y)
    assert counted.ended > 0 and "_parent_callback_ctx" not in vars(lr)
    assert store.list_runs()["run_id"].tolist() == [pipe.lineage_.run_id]
