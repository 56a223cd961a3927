"""Rows removed from a model, seen by an explainer given a fitted model and by a JAX
adapter fitted alone.

Before, ``InfluenceExplainer(model)`` with ``model`` fitted (a traced pipeline that
writes to a store) checked only this process's removals: one made in another process
(after a restart: only the store records it) was credited silently. A JAX adapter
(``JaxClassifier``, ``JaxRegressor``) fitted alone on a traced frame trained on removed
rows without a word, though a traced fit says them. Truth: the raw bytes of the CSV
files (the line holding each removed row's own values).
"""

import re
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop import _removed_rows
from sktraceprop.exceptions import RefitOnRemovedWarning
from tests._removed_rows import REMOVED
from tests._removed_rows import hospital_frame as _frame
from tests._removed_rows import raw_lines as _raw_lines


def _said(fit):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        fit()
    return [str(w.message) for w in record if issubclass(w.category, RefitOnRemovedWarning)]


def _unlearned(estimator, X, y):
    """``estimator`` fitted by an unlearner, REMOVED taken out of it; the mask."""
    mask = np.zeros(len(y), dtype=bool)
    mask[REMOVED] = True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        unl = stp.GradientCorrectionUnlearner(estimator).fit(X, y)
        unl.unlearn(mask=mask)
    return mask


def _named(message, lines):
    assert sorted(int(n) for n in re.findall(r"hospital_b line (\d+)", message)) == sorted(lines)


def test_a_fitted_model_explained_reads_its_store_for_removals(tmp_path):
    frame, X, y = _frame(tmp_path)
    lines = _raw_lines(tmp_path, frame)
    store = stp.stores.SQLiteStore(tmp_path / "store.db")
    _removed_rows.clear()
    try:
        pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pipe.fit(X, y)  # on every row, then the rows removed from a clone of it
        mask = _unlearned(clone(pipe), X, y)
        _removed_rows.clear()  # as after a restart: the store alone says it
        (said,) = _said(lambda: stp.InfluenceExplainer(pipe).fit(X, y))
        assert said.startswith(
            "this fit of InfluenceExplainer takes as training rows of the model it was "
            "given fitted (not refitted here), and credits, 3 row(s) removed from a model"
        )
        assert re.search(r"by unlearning event \d+ of run \S+ in SQLiteStore", said)
        _named(said, lines)
        assert "trains on" not in said and "A refit learns" not in said
        # the model fitted without them is not warned of
        kept = stp.make_traced_pipeline(StandardScaler(), LogisticRegression(), store=store)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            kept.fit(X[~mask], y[~mask])
        assert not _said(lambda: stp.InfluenceExplainer(kept).fit(X[~mask], y[~mask]))
    finally:
        _removed_rows.clear()


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_a_jax_adapter_fitted_alone_on_removed_rows_says_so(tmp_path, kind):
    pytest.importorskip("jax")
    from sktraceprop.adapters import JaxClassifier, JaxRegressor, mlp

    frame, X, y = _frame(tmp_path)
    lines = _raw_lines(tmp_path, frame)
    X = (X - X.mean()) / X.std()  # (pandas keeps the traced index)
    init_fn, apply_fn = mlp(hidden=(4,))
    make = {"classifier": JaxClassifier, "regressor": JaxRegressor}[kind]
    net = make(apply_fn, init_fn, n_epochs=2, random_state=0)
    _removed_rows.clear()
    try:
        mask = _unlearned(stp.make_traced_pipeline(LogisticRegression()), X, y)
        yk = y if kind == "classifier" else y.astype(np.float32)
        (said,) = _said(lambda: clone(net).fit(X, yk))
        assert said.startswith(f"this fit of {make.__name__} trains on 3 row(s) removed")
        _named(said, lines)
        # rows of weight zero are not trained on; the kept rows are not said
        weights = (~mask).astype(float)
        assert not _said(lambda: clone(net).fit(X, yk, sample_weight=weights))
        assert not _said(lambda: clone(net).fit(X[~mask], yk[~mask]))
        # inside an explainer's fit, the explainer says them, once
        if kind == "classifier":
            (said,) = _said(lambda: stp.InfluenceExplainer(clone(net)).fit(X, yk))
            assert said.startswith("this fit of InfluenceExplainer trains on 3 row(s)")
    finally:
        _removed_rows.clear()
