"""An explainer or a valuer copied while a removal of its rows runs in another thread.

A removal (an unlearner's, an erasure request's) updates the object's fitted state in
place, one attribute after another, holding its lock alone: queries wait, but pickle
and ``copy.deepcopy`` do not. A copy made meanwhile carried no mark: a valuer copied
between its new rows and their norms answered with the rows kept and the norms and
distance statistics of every row, an explainer copied with some of its fitted state
dropped answered as a fit that "did not complete (it raised)", and an explanation
copied with it still traced rows. Each copy is now refused, naming the removal, and so
is a valuer whose removal raised part way. The removal is held between two of its
updates by an event (no sleep).
"""

import pickle
import threading
import warnings

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.unlearning import GradientCorrectionUnlearner
from sktraceprop.valuation import _fit_rows
from tests._gate import (
    COPIES,
    FIT_ENTERED,
    FIT_RELEASE,
    REFITTER,
    REMOVER,
    WAIT_S,
    HeldDrop,
    HeldFit,
    copy_while_removal_held,
    removal_data,
)

REFUSED = (
    r"copied \(pickled or deep-copied\) while a removal of its rows by "
    r"GradientCorrectionUnlearner.unlearn \(event 0 .* was under way"
)


def _data(n=30, seed=0):
    return removal_data("removal_under_way", n, seed)


def _unlearn(X, y, removed):
    unl = GradientCorrectionUnlearner(LogisticRegression()).fit(X, y)

    def remove():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            unl.unlearn(sample_id=stp.row_ids(X)[removed])

    return remove


@pytest.mark.parametrize("how", list(COPIES))
def test_a_valuer_copied_during_a_removal_is_refused(monkeypatch, how):
    X, y = _data()
    removed = np.array([3, 7, 11, 20])
    valuer = stp.KNNShapleyValuer(n_neighbors=3).fit(X, y)
    norms = _fit_rows._squared_norms

    def hold(held, go):  # (its rows and labels replaced, their norms not yet)
        def held_norms(Z):
            if threading.current_thread().name == REMOVER:
                held.set()
                assert go.wait(WAIT_S)
            return norms(Z)

        monkeypatch.setattr(_fit_rows, "_squared_norms", held_norms)

    copied = copy_while_removal_held(_unlearn(X, y, removed), hold, lambda: COPIES[how](valuer))
    assert copied.row_ids_.size == len(X) - removed.size  # (the rows kept, ...)
    assert copied._fit_norms.size == len(X)  # (... the norms of every row)
    Xv, yv = X.iloc[:6], y[:6]
    with pytest.raises(ValueError, match=REFUSED) as refused:
        copied.value(Xv, yv)
    assert "did not complete" not in str(refused.value)
    with pytest.raises(ValueError, match=REFUSED):
        copied.score(Xv, yv)
    # the truth: the valuer itself, and a valuer fitted afresh on the rows kept
    keep = np.setdiff1d(np.arange(len(X)), removed)
    fresh = stp.KNNShapleyValuer(n_neighbors=3).fit(X.iloc[keep], y[keep])
    np.testing.assert_allclose(valuer.value(Xv, yv), fresh.value(Xv, yv), atol=1e-12)
    # as said: fitted, the copy answers
    refit = copied.fit(X.iloc[keep], y[keep])
    np.testing.assert_allclose(refit.value(Xv, yv), fresh.value(Xv, yv), atol=1e-12)


@pytest.mark.parametrize("how", list(COPIES))
def test_an_explainer_and_its_explanation_copied_during_a_removal_are_refused(how):
    X, y = _data(seed=1)
    removed = np.array([4, 9])
    explainer = stp.InfluenceExplainer(LogisticRegression()).fit(X, y)
    explanation = explainer.explain(X.iloc[:2])

    def hold(held, go):  # (half of its fitted attributes dropped, half kept)
        items = list(explainer.__dict__.items())
        middle = len(items) // 2
        explainer.__dict__.clear()
        explainer.__dict__.update(items[:middle])
        explainer.__dict__["_held_drop"] = HeldDrop(held, go)
        explainer.__dict__.update(items[middle:])

    copied, copied_explanation = copy_while_removal_held(
        _unlearn(X, y, removed), hold, lambda: COPIES[how]((explainer, explanation))
    )
    kept = [k for k in vars(copied) if k.endswith("_") and k not in ("forgotten_",)]
    assert kept and "forgotten_" not in vars(copied)  # (part dropped, part kept)
    with pytest.raises(ValueError, match=REFUSED) as refused:
        copied.explain(X.iloc[:2])
    assert "did not complete" not in str(refused.value)
    for read in (lambda e: e.top(0), lambda e: e.trace(0, 0), lambda e: e.train_rows):
        with pytest.raises(ValueError, match=REFUSED):
            read(copied_explanation)
    # the explainer itself refuses as removed (the truth of what the removal did)
    with pytest.raises(ValueError, match="removed: it dropped its fitted state"):
        explainer.explain(X.iloc[:2])


def test_a_valuer_copied_during_a_fit_stays_refused_after_a_removal_of_its_rows():
    """A copy is registered as holding its rows when loaded: a removal of them reaches
    it, and before, took its mark away, so that it answered from two fits' parts."""
    X, y = _data(seed=2)
    X2, y2 = _data(seed=3)
    valuer = stp.KNNShapleyValuer(
        n_neighbors=3, transformer=make_pipeline(HeldFit(), StandardScaler())
    ).fit(X, y)
    FIT_ENTERED.clear(), FIT_RELEASE.clear()
    refit = threading.Thread(target=lambda: valuer.fit(X2, y2), name=REFITTER)
    refit.start()
    try:
        assert FIT_ENTERED.wait(WAIT_S)
        copied = pickle.loads(pickle.dumps(valuer))
    finally:
        FIT_RELEASE.set()
        refit.join(WAIT_S)
    assert not refit.is_alive()
    _unlearn(X, y, np.array([5, 6]))()
    assert copied.row_ids_.size == len(X) - 2  # (the removal reached the copy)
    with pytest.raises(ValueError, match="was copied .* while a fit of it was under way"):
        copied.value(X.iloc[:6], y[:6])


def test_a_valuer_whose_removal_raised_part_way_is_refused(monkeypatch):
    X, y = _data(seed=4)
    valuer = stp.KNNShapleyValuer(n_neighbors=3).fit(X, y)

    def failing(Z):  # (its rows and labels replaced, their norms not: out of memory)
        raise MemoryError("no room for the norms")

    monkeypatch.setattr(_fit_rows, "_squared_norms", failing)
    with pytest.raises(MemoryError):
        _unlearn(X, y, np.array([3, 4]))()
    assert valuer.row_ids_.size == len(X) - 2 and valuer._fit_norms.size == len(X)
    with pytest.raises(ValueError, match="a removal of its rows by .* raised part way"):
        valuer.value(X.iloc[:6], y[:6])
