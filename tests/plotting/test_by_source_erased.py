"""BySourceDisplay says what it draws of rows erased at request, and only then.

Before: ``from_estimator`` of a valuer fitted on rows erased in this process warned in
``row_lineage``'s words ("their files and lines are shown (column erased is True) ...
this frame"), though the display shows no file line and holds their KNN-Shapley values;
and ``from_explanation`` of an explanation whose fit an erasure dropped drew the erased
rows' influence with no word, where the explanation's ``top()`` refuses. Now the first
names the values drawn, the second refuses as ``top()`` does, and a valuer that dropped
the rows draws them not and says nothing. The truth: the rows' positions requested.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop import _removed_rows
from sktraceprop.exceptions import ErasedRowsHeldWarning
from sktraceprop.plotting import BySourceDisplay
from sktraceprop.stores import MemoryStore

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

ERASED = [2, 5]


def _data(tmp_path):
    _removed_rows.clear()
    frame = pd.DataFrame({"a": np.arange(20.0), "b": np.arange(20.0) % 3, "y": [0, 1] * 10})
    frame.to_csv(tmp_path / "v.csv", index=False)
    X = stp.read_csv(tmp_path / "v.csv")
    store = MemoryStore()
    pipe = stp.make_traced_pipeline(LogisticRegression(), store=store)
    return X[["a", "b"]], X["y"], store, pipe.fit(X[["a", "b"]], X["y"])


def _erase(store, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        store.erase_rows(sample_id=stp.row_ids(X.iloc[ERASED]), reason="art. 17")


def _said(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = call()
    return out, [str(w.message) for w in caught if w.category is ErasedRowsHeldWarning]


def test_a_valuer_fitted_on_erased_rows_says_the_values_drawn(tmp_path):
    X, y, store, _ = _data(tmp_path)
    _erase(store, X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the refit on erased rows is warned of)
        valuer = stp.KNNShapleyValuer(n_neighbors=3).fit(X, y)
    display, said = _said(lambda: BySourceDisplay.from_estimator(valuer, X.iloc[:5], y.iloc[:5]))
    assert sum(map(len, display.values.values())) == len(X)  # (it draws them)
    (message,) = said
    assert message.startswith("BySourceDisplay.from_estimator: 2 of the 20 training row(s)")
    assert "KNN-Shapley values" in message and "files and lines are shown" not in message


def test_a_valuer_that_dropped_the_erased_rows_draws_them_not_and_says_nothing(tmp_path):
    X, y, store, _ = _data(tmp_path)
    valuer = stp.KNNShapleyValuer(n_neighbors=3).fit(X, y)
    _erase(store, X)
    display, said = _said(lambda: BySourceDisplay.from_estimator(valuer, X.iloc[:5], y.iloc[:5]))
    assert sum(map(len, display.values.values())) == len(X) - len(ERASED) and said == []


def test_an_explanation_whose_fit_an_erasure_dropped_is_refused_as_top_is(tmp_path):
    X, y, store, pipe = _data(tmp_path)
    explanation = stp.InfluenceExplainer(pipe).fit(X, y).explain(X.iloc[:3], keep_scores=True)
    _erase(store, X)
    with pytest.raises(ValueError) as top:
        explanation.top()
    for over in ("train_rows", "test_rows"):
        with pytest.raises(ValueError) as drawn:
            BySourceDisplay.from_explanation(explanation, over=over)
        assert str(drawn.value) == str(top.value)


def test_an_explanation_made_after_the_erasure_says_the_influence_drawn(tmp_path):
    X, y, store, pipe = _data(tmp_path)
    _erase(store, X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        explainer = stp.InfluenceExplainer(pipe).fit(X, y)
    explanation = explainer.explain(X.iloc[:3], keep_scores=True)
    display, said = _said(lambda: BySourceDisplay.from_explanation(explanation))
    assert sum(map(len, display.values.values())) == len(X)
    (message,) = said
    assert "2 of the 20 training row(s)" in message and "influence scores" in message
    seq = store.events(kind="store.erasure", include_store_events=True)[-1]["seq"]
    assert f"store.erasure event seq {seq}" in message
