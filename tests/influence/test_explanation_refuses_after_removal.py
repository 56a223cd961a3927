"""Every accessor of an Explanation refuses once a removal or erasure drops its fit.

A removal (an unlearner's ``unlearn``) or an erasure request of rows the explainer was
fitted on drops its fit; ``Explanation.top()`` then refused, but ``by_source()``,
``source_scores``, ``scores`` (and the margins, classes, top and bottom arrays, notes)
stayed readable: numbers of a model the removed rows trained, handed out with no word.
Now each public accessor (enumerated with ``dir``, so that a new one cannot escape)
raises the same error, naming the removal and saying to fit again, except those that
hold nothing of the fit (``n_test``, ``model_fingerprint``); a pickle of it holds none
of them, nor the training rows' ids (the truth: the raw bytes of its scores and of the
row ids, present before).
"""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop import InfluenceExplainer
from sktraceprop.influence import Explanation
from sktraceprop.unlearning import GradientCorrectionUnlearner

#: Accessors that hold nothing of the fit: the test rows' count, the model's identity.
_READABLE = {"n_test", "model_fingerprint"}


def _data(n=30, seed=3):
    rng = np.random.default_rng(seed)
    X = rng.random((n, 3)) - 0.5 + np.arange(n)[:, None] * 1e-9
    y = (X[:, 0] + 0.3 * rng.normal(size=n) > 0).astype(int)
    y[:2] = [0, 1]
    return stp.from_numpy(X, source_id=f"explanation_refuses{seed}"), y


def _accessors(explanation):
    """``{name: read}`` of every public name of ``explanation`` (its methods called
    with their defaults)."""
    out = {}
    for name in dir(explanation):
        if name.startswith("_"):
            continue
        if callable(getattr(Explanation, name, None)):
            out[name] = lambda name=name: getattr(explanation, name)()
        else:
            out[name] = lambda name=name: getattr(explanation, name)
    return out


def _remove(kind, X, y, rows):
    ids = stp.row_ids(X)[rows]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "unlearn":
            unl = GradientCorrectionUnlearner(LogisticRegression()).fit(X, y)
            unl.unlearn(sample_id=ids)
            return r"GradientCorrectionUnlearner\.unlearn \(event 0"
        store = stp.stores.MemoryStore()
        stp.make_traced_pipeline(LogisticRegression(), store=store).fit(X, y)
        store.erase_rows(sample_id=ids, reason="art. 17")
        return r"an erasure request \(store\.erase_rows\)"


@pytest.mark.parametrize("kind", ["unlearn", "erase"])
def test_every_accessor_refuses_once_a_removal_drops_the_fit(kind):
    X, y = _data(seed=3 if kind == "unlearn" else 4)
    explainer = InfluenceExplainer(LogisticRegression()).fit(X, y)
    explanation = explainer.explain(X.iloc[:3], top_k=4)
    accessors = _accessors(explanation)
    # (the enumeration finds what a user reads: a new accessor joins it)
    assert {"scores", "source_scores", "by_source", "top", "trace", "train_rows"} <= set(accessors)
    for read in accessors.values():
        read()  # (each readable before: the refusal below is the removal's)
    scores = np.asarray(explanation.scores, dtype=np.float64)
    ids = stp.row_ids(X).astype(np.int64)
    blob = pickle.dumps(explanation)
    assert all(v.tobytes() in blob for v in scores.ravel()[:5])
    assert all(v.tobytes() in blob for v in ids[[5, 6]])
    said = _remove(kind, X, y, [5, 6])

    for name, read in accessors.items():
        if name in _READABLE:
            read()
            continue
        with pytest.raises(ValueError, match=said) as info:
            read()
        assert "Fit it again" in str(info.value), name
    assert explanation.n_test == 3 and "dropped" in repr(explanation)

    # pickled, it holds none of the fit's numbers, and still refuses
    blob = pickle.dumps(explanation)
    assert not any(v.tobytes() in blob for v in scores.ravel())
    assert not any(v.tobytes() in blob for v in ids)  # (nor its rows' ids)
    loaded = pickle.loads(blob)
    for name, read in _accessors(loaded).items():
        if name in _READABLE:
            read()
            continue
        with pytest.raises(ValueError, match=said):
            read()
    assert loaded.n_test == 3 and "dropped" in repr(loaded)


def test_an_explanation_pickled_as_format_1_reads_its_attributes():
    X, y = _data(seed=5)
    explanation = InfluenceExplainer(LogisticRegression()).fit(X, y).explain(X.iloc[:2])
    state = explanation.__getstate__()
    # as format 1 held them: plain attributes
    old = {
        k.lstrip("_") if k.lstrip("_") in ("scores", "top_indices", "notes") else k: v
        for k, v in state.items()
    }
    old["_sktraceprop_state"] = {**state["_sktraceprop_state"], "format": 1}
    old.pop("_shape")
    loaded = Explanation.__new__(Explanation)
    loaded.__setstate__(old)
    np.testing.assert_array_equal(loaded.scores, explanation.scores)
    np.testing.assert_array_equal(loaded.top_indices, explanation.top_indices)
    assert loaded.notes == explanation.notes and loaded.n_test == 2
    assert loaded.top().equals(explanation.top())
