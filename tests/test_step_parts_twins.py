"""One object held as two parts of one ``ColumnTransformer`` or ``FeatureUnion`` step
(the same transformer given twice to a union, a ``FrozenEstimator`` a column transformer
does not clone), watched while a traced pipeline fits.

The watch gave such an object one name: a fit of it elsewhere was refused naming one
part only (where the fit left the state as it was, the other was not named at all),
and the traced fit's own calls of it, or its own refit of it in the fit's thread, were
taken as those of one name: the other name was refused as changed by other code.
"""

import re

import numpy as np
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop._lineage._fitted_elsewhere import watch_step_fits
from sktraceprop.exceptions import LineageError
from sktraceprop.stores import MemoryStore
from tests._gate import fit_while_other_code_fits, plain, shifted_data
from tests.test_step_parts_refit_watch import _Counts


def _data(seed):
    return shifted_data(seed, "twin_parts")


def _union(part):
    return FeatureUnion([("a", part), ("b", part)])


def _frozen_ct(part):
    frozen = FrozenEstimator(part)
    return ColumnTransformer([("a", frozen, [0, 1]), ("b", frozen, [0, 1])])


def _both_fitted(message, thread):
    """Whether ``message`` says the object of parts ``a`` and ``b`` was fitted in
    ``thread``, naming both, in one clause."""
    one = rf"step 'prep__(a|b)' was fitted in thread '{thread}' "
    other = r"\(the same object is held as step 'prep__(a|b)' too\)"
    found = re.search(one + other, message)
    return found is not None and {found.group(1), found.group(2)} == {"a", "b"}


@pytest.mark.parametrize("rows", ["other rows", "the same rows"])
def test_a_union_part_held_twice_fitted_elsewhere_is_named_by_both(monkeypatch, rows):
    X1, y1 = _data(0)
    X2, y2 = _data(1) if rows == "other rows" else (X1, y1)
    scale = StandardScaler()
    store = MemoryStore()
    pipe = stp.TracedPipeline([("prep", _union(scale)), ("lr", LogisticRegression())], store=store)

    error = fit_while_other_code_fits(
        monkeypatch, pipe, X1, y1, lambda: scale.fit(plain(X2, y2)[0])
    )
    # the truth: the one object both parts are holds the other fit's state
    np.testing.assert_array_equal(scale.mean_, plain(X2, y2)[0].mean(axis=0))
    assert isinstance(error, LineageError), f"recorded run {getattr(pipe, 'lineage_', None)}"
    message = str(error)
    assert _both_fitted(message, "MainThread"), message
    assert "changed in place" not in message and "'prep' " not in message, message
    assert store.list_runs().empty and not hasattr(pipe, "lineage_")


def test_a_frozen_part_held_twice_by_a_column_transformer_is_named_by_both(monkeypatch):
    # a FrozenEstimator is its own clone: the column transformer holds it twice
    X1, y1 = _data(0)
    frozen_scale = StandardScaler().fit(X1)
    store = MemoryStore()
    pipe = stp.TracedPipeline(
        [("prep", _frozen_ct(frozen_scale)), ("lr", LogisticRegression())], store=store
    )

    def other():  # (a fit of a FrozenEstimator leaves it as it was: only the call is seen)
        held = [t[1] for t in pipe.named_steps["prep"].transformers_[:2]]
        assert held[0] is held[1]  # the truth: one object, two parts
        held[0].fit(X1, y1)

    error = fit_while_other_code_fits(monkeypatch, pipe, X1, y1, other)
    assert isinstance(error, LineageError), "recorded a run"
    assert _both_fitted(str(error), "MainThread"), str(error)
    assert store.list_runs().empty


def test_a_part_held_twice_changed_in_place_is_one_clause_naming_both(monkeypatch):
    X1, y1 = _data(0)
    scale = StandardScaler()
    pipe = stp.TracedPipeline([("prep", _union(scale)), ("lr", LogisticRegression())])

    def other():
        scale.mean_ += 1.0

    error = fit_while_other_code_fits(monkeypatch, pipe, X1, y1, other)
    assert isinstance(error, LineageError), "recorded a run"
    message = str(error)
    said = re.findall(r"step '(prep__[ab])' had its fitted state replaced or changed", message)
    assert len(said) == 1, message
    other_name = {"prep__a": "prep__b", "prep__b": "prep__a"}[said[0]]
    assert f"(the same object is held as step {other_name!r} too)" in message, message


def _pipe(step):
    return Pipeline([("prep", step), ("lr", LogisticRegression())])


def test_the_fits_own_calls_and_refits_of_a_part_held_twice_are_its_own():
    # what the traced fit's own calls of the object write, and its own refit of it in
    # the fit's thread, are taken as its own under both names; other code's change of
    # it after them is refused, naming both
    X, _ = plain(*_data(0))
    counts = _Counts()
    union = _union(counts)
    with watch_step_fits(_pipe(union)) as fits:
        union.fit_transform(X)  # (each part's fit_transform: fit, then transform)
        counts.transform(X)
        union.transform(X)
        assert counts.transforms_ == 5
        fits.check("Pipeline")  # (no refusal: the calls were the fit's own)
        counts.fit(X[:, :1])
        assert counts.n_features_in_ == 1
        fits.check("Pipeline")  # (nor after its own refit)
        counts.transforms_ = 9  # (other code's change: refused, naming both)
        with pytest.raises(LineageError) as error:
            fits.check("Pipeline")
    message = str(error.value)
    assert re.search(r"step 'prep__(a|b)' had its fitted state", message), message
    assert "'prep__a'" in message and "'prep__b'" in message, message


def test_parts_held_twice_fitted_here_record_the_run_as_sklearn_fits():
    X, y = _data(0)
    store = MemoryStore()
    pipe = stp.TracedPipeline(
        [("prep", _union(StandardScaler())), ("lr", LogisticRegression())], store=store
    )
    truth = Pipeline([("prep", _union(StandardScaler())), ("lr", LogisticRegression())])
    pipe.fit(X, y)
    truth.fit(*plain(X, y))
    assert store.list_runs()["run_id"].tolist() == [pipe.lineage_.run_id]
    np.testing.assert_array_equal(pipe.predict_proba(X), truth.predict_proba(plain(X, y)[0]))
    np.testing.assert_array_equal(pipe.lineage_.row_ids, X.index.to_numpy())
