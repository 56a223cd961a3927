"""An explainer or a valuer copied while another thread refits it, and fits that raised.

Queries wait for a fit under way in another thread (the object's lock), but pickle and
``copy.deepcopy`` do not: a copy made during a refit holds parts of two fits. Before, its
queries were refused as a fit that "did not complete (it raised)" (fit it again), when
no fit had raised; and a valuer without a transformer was not refused at all: a copy
made between its new labels and its new features valued the first fit's rows by the
second fit's labels (values off by up to 0.052 from either fit's, whose largest is
0.043). The refitting thread is held inside its fit by an event (no sleep).
"""

import copy
import pickle
import threading

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop.valuation import _fit_rows
from tests._gate import (
    FIT_ENTERED,
    FIT_RELEASE,
    REFITTER,
    WAIT_S,
    HeldFit,
    start_until_stopped,
)

COPIES = {"pickle": lambda obj: pickle.loads(pickle.dumps(obj)), "deepcopy": copy.deepcopy}


def _data(seed, n=40):
    rng = np.random.default_rng(seed)
    X = rng.normal(loc=seed, size=(n, 3))
    return X, (X[:, 0] + rng.normal(scale=0.5, size=n) > seed).astype(int)


def _explainer():
    return stp.InfluenceExplainer(make_pipeline(HeldFit(), LogisticRegression()))


def _valuer():
    return stp.KNNShapleyValuer(
        n_neighbors=3, transformer=make_pipeline(HeldFit(), StandardScaler())
    )


KINDS = {
    # (a new object, its query, the query's answer as an array)
    "explainer": (_explainer, lambda obj, X, y: obj.explain(X[:4], y[:4]).scores),
    "valuer": (_valuer, lambda obj, X, y: obj.value(X[:10], y[:10])),
}


def _refit_held(obj, X, y):
    """``obj.fit(X, y)`` started in the thread a HeldFit holds, once held there."""
    FIT_ENTERED.clear(), FIT_RELEASE.clear()
    refit = threading.Thread(target=lambda: obj.fit(X, y), name=REFITTER)
    refit.start()
    assert FIT_ENTERED.wait(WAIT_S)
    return refit


@pytest.mark.parametrize("how", list(COPIES))
@pytest.mark.parametrize("kind", list(KINDS))
def test_a_copy_made_during_a_refit_says_so(kind, how):
    new, query = KINDS[kind]
    X1, y1 = _data(0)
    X2, y2 = _data(1)
    obj = new().fit(X1, y1)
    refit = _refit_held(obj, X2, y2)
    try:
        copied = COPIES[how](obj)
        # the object itself: its query waits for the refit (its lock), and is not refused
        asking, waited, out = start_until_stopped(lambda: query(obj, X2, y2), [obj], "querier")
        assert waited
    finally:
        FIT_RELEASE.set()
        refit.join(WAIT_S)
    asking.join(WAIT_S)
    assert not refit.is_alive() and not asking.is_alive()
    assert "error" not in out, out.get("error")
    # the truth: the answer is the refit's, as of an object fitted on those rows alone
    np.testing.assert_allclose(out["value"], query(new().fit(X2, y2), X2, y2), rtol=1e-12)
    with pytest.raises(ValueError, match="was copied .* while a fit of it was under way") as no:
        query(copied, X2, y2)
    assert "did not complete" not in str(no.value) and "raised" not in str(no.value)
    # as said: fitted, the copy answers
    np.testing.assert_allclose(query(copied.fit(X2, y2), X2, y2), out["value"], rtol=1e-12)


def test_a_valuer_without_transformer_copied_between_labels_and_features_is_refused(
    monkeypatch,
):
    X1, y1 = _data(0)
    X2, y2 = _data(1)
    valuer = stp.KNNShapleyValuer(n_neighbors=3).fit(X1, y1)
    scale = _fit_rows.magnitude_scale

    def held(X):  # (the new labels are set, the features not yet)
        if threading.current_thread().name == REFITTER:
            FIT_ENTERED.set()
            assert FIT_RELEASE.wait(WAIT_S)
        return scale(X)

    monkeypatch.setattr(_fit_rows, "magnitude_scale", held)
    refit = _refit_held(valuer, X2, y2)
    try:
        copied = pickle.loads(pickle.dumps(valuer))
    finally:
        FIT_RELEASE.set()
        refit.join(WAIT_S)
    assert not refit.is_alive()
    assert np.array_equal(copied._fit_y, y2) and not np.array_equal(copied._fit_y, y1)
    # before: it valued X1's rows by y2's labels, as neither fit would
    with pytest.raises(ValueError, match="was copied .* while a fit of it was under way"):
        copied.value(X2[:10], y2[:10])
    np.testing.assert_array_equal(
        valuer.value(X2[:10], y2[:10]),
        stp.KNNShapleyValuer(n_neighbors=3).fit(X2, y2).value(X2[:10], y2[:10]),
    )


def test_a_valuer_without_transformer_whose_refit_raised_answers_nothing():
    X1, y1 = _data(0)
    valuer = stp.KNNShapleyValuer(n_neighbors=3, task="classification").fit(X1, y1)
    with pytest.raises(ValueError, match="Unknown label type"):
        valuer.fit(X1 + 1.0, X1[:, 0])  # continuous labels: raises after taking X
    # before: it answered with the rows of the fit before, as the explainer and a
    # valuer with a transformer refuse to
    with pytest.raises(ValueError, match=r"last fit did not complete \(it raised\)"):
        valuer.value(X1[:10], y1[:10])


#: A valuer whose transformer's fit asks it for values (see test below).
_ASKED = {}


class _Asks(StandardScaler):
    def fit(self, X, y=None, **params):
        valuer = _ASKED.get("valuer")
        if valuer is not None:
            try:
                valuer.value(X[:5], y[:5])
            except ValueError as e:
                _ASKED["error"] = str(e)
        return super().fit(X, y, **params)


def test_a_query_from_inside_its_own_fit_says_the_fit_is_under_way():
    X1, y1 = _data(0)
    valuer = stp.KNNShapleyValuer(n_neighbors=3, transformer=_Asks()).fit(X1, y1)
    _ASKED["valuer"] = valuer
    try:
        valuer.fit(X1, y1)
    finally:
        _ASKED.pop("valuer")
    said = _ASKED.pop("error")
    assert "a fit of this KNNShapleyValuer is under way" in said, said


def test_a_pickle_that_does_not_say_why_says_both():
    # an earlier version's pickle of a valuer whose fit did not complete carries no mark
    X1, y1 = _data(0)
    valuer = stp.KNNShapleyValuer(n_neighbors=3, transformer=StandardScaler()).fit(X1, y1)
    state = valuer.__getstate__()
    state["_transformer_fingerprint"] = "incomplete"
    earlier = stp.KNNShapleyValuer.__new__(stp.KNNShapleyValuer)
    earlier.__setstate__(state)
    with pytest.raises(ValueError, match=r"\(it raised, or this copy of it was made while"):
        earlier.value(X1[:10], y1[:10])
