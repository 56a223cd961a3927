"""The parts of a ``ColumnTransformer`` or ``FeatureUnion`` step fitted in two fits inside
one traced fit: the names follow the objects the step holds after its last fit.

A ``ColumnTransformer`` fits new clones of its transformers at each fit; a
``FeatureUnion`` whose ``transformer_list`` was set again between two fits holds its
objects under other names. The watch kept the names of the first fit: a later fit
elsewhere of an object no longer held was refused, naming a part the step holds, and an
object moved to another name was named by its old one.
"""

import threading

import numpy as np
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from sktraceprop._lineage._fitted_elsewhere import watch_step_fits
from sktraceprop.exceptions import LineageError
from tests._gate import plain, shifted_data


def _in_thread(call):
    thread = threading.Thread(target=call, name="user")
    thread.start()
    thread.join(300)


def _pipe(step):
    return Pipeline([("prep", step), ("lr", LogisticRegression())])


def _held(step):
    """Every object ``step`` holds as a part, its fitted clones' and its given ones'."""
    if isinstance(step, ColumnTransformer):
        return [t[1] for t in step.transformers_]
    return [t[1] for t in step.transformer_list]


def test_an_old_clone_fitted_elsewhere_after_a_refit_is_not_the_steps():
    X, _ = plain(*shifted_data(0, "refit_parts"))
    X2, _ = plain(*shifted_data(1, "refit_parts"))
    ct = ColumnTransformer([("s", StandardScaler(), [0]), ("mm", MinMaxScaler(), [1])])
    with watch_step_fits(_pipe(ct)) as fits:
        ct.fit(X)
        old = ct.named_transformers_["mm"]
        ct.fit(X)  # (new clones: the old ones are held by nothing of the step)
        new = ct.named_transformers_["mm"]
        assert not any(part is old for part in _held(ct)) and new is not old
        _in_thread(lambda: old.fit(X2[:, 1:]))
        assert fits.elsewhere == {}
        fits.check("Pipeline")  # (no refusal: the step's parts are as fitted here)
        _in_thread(lambda: new.fit(X2[:, 1:]))
        with pytest.raises(LineageError, match="step 'prep__mm' was fitted in thread 'user'"):
            fits.check("Pipeline")
    np.testing.assert_array_equal(old.data_min_, X2[:, 1].min(keepdims=True))


def test_a_part_moved_to_another_name_is_named_by_it():
    X, _ = plain(*shifted_data(0, "refit_parts"))
    x, other = StandardScaler(), MinMaxScaler()
    union = FeatureUnion([("a", x), ("b", other)])
    with watch_step_fits(_pipe(union)) as fits:
        union.fit(X)
        union.set_params(transformer_list=[("a", other), ("b", x)])
        union.fit(X)
        assert dict(union.transformer_list)["b"] is x  # the truth: x is part 'b' now
        _in_thread(lambda: x.fit(X + 1.0))
        with pytest.raises(LineageError) as error:
            fits.check("Pipeline")
    message = str(error.value)
    assert "step 'prep__b' was fitted in thread 'user'" in message, message
    assert "'prep__a'" not in message, message


def test_a_part_dropped_by_a_refit_is_no_longer_watched():
    X, _ = plain(*shifted_data(0, "refit_parts"))
    x, gone = StandardScaler(), MinMaxScaler()
    union = FeatureUnion([("a", x), ("b", gone)])
    with watch_step_fits(_pipe(union)) as fits:
        union.fit(X)
        union.set_params(transformer_list=[("a", x)])
        union.fit(X)
        assert not any(part is gone for part in _held(union))
        gone.data_min_ += 1.0  # (an object the step no longer holds)
        fits.check("Pipeline")
        x.mean_ += 1.0
        with pytest.raises(LineageError, match=r"step 'prep__a' had its fitted state"):
            fits.check("Pipeline")


class _Counts(TransformerMixin, BaseEstimator):
    """Passes rows through, counting its calls of ``transform`` in what it holds."""

    def fit(self, X, y=None):
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        self.transforms_ = getattr(self, "transforms_", 0) + 1
        return X


def test_a_moved_parts_own_calls_are_taken_as_its_new_names():
    # x's transform writes what it holds: taken as the call's under the name x has now
    X, _ = plain(*shifted_data(0, "refit_parts"))
    x, other = _Counts(), _Counts()
    union = FeatureUnion([("a", x), ("b", other)])
    with watch_step_fits(_pipe(union)) as fits:
        union.fit(X)
        union.set_params(transformer_list=[("a", other), ("b", x)])
        union.fit(X)
        x.transform(X)
        assert x.transforms_ == 1
        fits.check("Pipeline")
        x.transforms_ = 5  # (other code's change: still refused, by the new name)
        with pytest.raises(LineageError, match=r"step 'prep__b' had its fitted state"):
            fits.check("Pipeline")


def test_a_parts_calls_are_its_own_and_a_change_of_the_step_beside_them_is_not():
    # the traced fit's own calls of a part note what the part holds (not the whole
    # step): what they write is taken as theirs, a change of the step's list of parts
    # made beside them is still refused as the step's
    X, _ = plain(*shifted_data(0, "refit_parts"))
    ct = ColumnTransformer([("c", _Counts(), [0]), ("mm", MinMaxScaler(), [1])])
    with watch_step_fits(_pipe(ct)) as fits:
        ct.fit(X)
        part = ct.named_transformers_["c"]
        for _ in range(3):
            part.transform(X[:, :1])
        ct.transform(X)
        assert part.transforms_ == 5  # (one in the fit: fit().transform())
        fits.check("Pipeline")
        ct.transformers_[1] = ("mm", MinMaxScaler().fit(X[:, 1:] + 1.0), [1])
        part.transform(X[:, :1])
        with pytest.raises(LineageError, match=r"step 'prep' had its fitted .*transformers_"):
            fits.check("Pipeline")


#: The parts the step held before :class:`_RefitsPrep` refitted it (outside the model).
_BEFORE = []


class _RefitsPrep(LogisticRegression):
    """A final step that fits the pipeline's ``ColumnTransformer`` step (``prep``) again,
    on the rows it is given, before its own fit: the step fitted twice in one fit."""

    def __init__(self, prep=None, C=1.0):
        self.prep = prep
        super().__init__(C=C)

    def fit(self, X, y=None):
        _BEFORE[:] = [dict(self.prep.named_transformers_)]
        self.prep.fit(np.asarray(X))
        return super().fit(X, y)


def test_a_traced_fit_that_fits_its_column_transformer_twice_names_what_it_holds(monkeypatch):
    import sktraceprop as stp
    from sktraceprop.stores import MemoryStore
    from tests._gate import fit_while_other_code_fits

    X1, y1 = shifted_data(0, "refit_parts")
    X2, _ = plain(*shifted_data(1, "refit_parts"))
    ct = ColumnTransformer([("s", StandardScaler(), [0]), ("mm", MinMaxScaler(), [1])])
    store = MemoryStore()
    pipe = stp.TracedPipeline([("prep", ct), ("lr", _RefitsPrep(prep=ct))], store=store)

    def other():  # (the clone of the first fit: the step no longer holds it)
        old = _BEFORE[0]["mm"]
        assert not any(part is old for part in _held(ct))
        old.fit(X2[:, 1:])

    assert fit_while_other_code_fits(monkeypatch, pipe, X1, y1, other) is None
    assert store.list_runs()["run_id"].tolist() == [pipe.lineage_.run_id]

    def again():  # (the clone it holds now: refused, named)
        ct.named_transformers_["mm"].fit(X2[:, 1:])

    error = fit_while_other_code_fits(monkeypatch, pipe, X1, y1, again)
    assert isinstance(error, LineageError), "recorded a run"
    assert "step 'prep__mm' was fitted in thread 'MainThread'" in str(error), str(error)
