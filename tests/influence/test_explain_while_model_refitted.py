"""An explainer given a fitted model, queried in one thread while the model is refitted
(or corrected by an unlearner) in another: a service explaining predictions of the model
it serves and retrains.

The explainer transforms the rows it explains with the model's fitted steps. Before,
a refit between its fingerprint check and those transforms gave an explanation of rows
transformed by the new steps, scored with the old model (margins 6.3 where the model
explained gives 0.44), logged under the old run. The truth is the same explanation
made with no refit in between; a gate in the steps (released by the test) makes the
interleaving certain rather than likely.
"""

import threading
import warnings

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop._lineage._fingerprint import fingerprint
from sktraceprop.stores import MemoryStore
from tests._gate import ENTERED, RELEASE, WAIT_S, Gate, start_until_stopped


def _data(seed, shift=0.0):
    rng = np.random.default_rng(seed)
    X = shift + (1 + shift) * rng.normal(size=(120, 3))
    return stp.from_numpy(X, f"refit_{seed}"), X[:, seed % 3] > shift


def _explain_while(refit, explainer, Xq, locked, **kw):
    """``explainer.explain(Xq)`` in a thread held inside the model's steps while
    ``refit()`` runs in another until it returns or waits for the lock of one of
    ``locked``; what the explain gave (or raised) and whether the refit waited for it."""
    ENTERED.clear()
    RELEASE.clear()
    out = {}

    def explain():
        try:
            out["explanation"] = explainer.explain(Xq, top_k=3, **kw)
        except Exception as e:
            out["error"] = e

    explaining = threading.Thread(target=explain, name="explainer")
    explaining.start()
    assert ENTERED.wait(WAIT_S)
    refitting, out["refit_waited"], _ = start_until_stopped(refit, locked, "refitter")
    RELEASE.set()
    explaining.join(WAIT_S)
    refitting.join(WAIT_S)
    return out


def test_a_traced_model_refitted_during_explain_waits_for_it():
    X1, y1 = _data(0)
    X2, y2 = _data(1, shift=3.0)
    store = MemoryStore()
    pipe = stp.make_traced_pipeline(Gate(), StandardScaler(), LogisticRegression(), store=store)
    pipe.fit(X1, y1)
    first = pipe.lineage_.run_id
    explainer = stp.InfluenceExplainer(pipe).fit(X1, y1)
    Xq = X1[:6]
    truth = explainer.explain(Xq, top_k=3)
    # independent of the explainer: the model's own margins before the refit
    margin = pipe.decision_function(Xq) * np.where(pipe.predict(Xq), 1, -1)
    np.testing.assert_allclose(truth.margins, margin, rtol=1e-10)
    out = _explain_while(lambda: pipe.fit(X2, y2), explainer, Xq, [pipe], log=True)
    assert "error" not in out, out.get("error")
    assert out["refit_waited"]
    got = out["explanation"]
    np.testing.assert_allclose(got.margins, truth.margins, rtol=1e-12)
    np.testing.assert_array_equal(got.top_indices, truth.top_indices)
    (event,) = store.events(kind="explanation")
    assert event["run_id"] == first
    assert pipe.lineage_.run_id != first  # the refit took place, after the explanation


def test_an_untraced_model_refitted_during_explain_is_refused():
    # a plain scikit-learn pipeline has no lock to wait on: the change is found after
    X1, y1 = _data(0)
    X2, y2 = _data(1, shift=3.0)
    pipe = make_pipeline(Gate(), StandardScaler(), LogisticRegression()).fit(X1, y1)
    explainer = stp.InfluenceExplainer(pipe).fit(X1, y1)
    out = _explain_while(lambda: pipe.fit(X2, y2), explainer, X1[:6], [pipe])
    assert not out["refit_waited"]
    assert "explanation" not in out
    assert "explained model changed" in str(out["error"])


def test_a_removal_from_the_explained_model_during_explain_waits_for_it():
    # the unlearner's removal drops the explainer's fit (it holds removed rows): it
    # waits for the explain under way, which is of the model before the removal
    from sktraceprop.unlearning import GradientCorrectionUnlearner

    X1, y1 = _data(0)
    pipe = stp.make_traced_pipeline(Gate(), StandardScaler(), LogisticRegression())
    unlearner = GradientCorrectionUnlearner(pipe).fit(X1, y1)
    explainer = stp.InfluenceExplainer(unlearner).fit(X1, y1)
    Xq = X1[:6]
    truth = explainer.explain(Xq, top_k=3)
    gone = unlearner.train_row_ids_[:5]
    out = _explain_while(
        lambda: unlearner.unlearn(sample_id=gone),
        explainer,
        Xq,
        [unlearner, unlearner.estimator_, explainer],
    )
    assert "error" not in out, out.get("error")
    assert out["refit_waited"]
    # it is of the model before the removal: bound to the fit the removal dropped, so
    # it refuses its numbers as the explanation made before the removal does
    # (influence/_of_fit.py), and holds as many test rows
    assert out["explanation"].n_test == truth.n_test == len(Xq)
    for made in (out["explanation"], truth):
        with pytest.raises(ValueError, match="this explanation was made by the fit dropped"):
            _ = made.margins
    assert not unlearner.retained_mask_[:5].any()
    assert "removed" in explainer.forgotten_


def test_a_traced_model_refitted_during_the_explainers_fit_waits_for_it():
    # the fit reads a model given fitted (its rows checked against its run, its steps'
    # features, its fingerprint): before, a refit in between had it describe the new
    # model while crediting the rows of the old one's run
    X1, y1 = _data(0)
    X2, y2 = _data(1, shift=3.0)
    pipe = stp.make_traced_pipeline(Gate(), StandardScaler(), LogisticRegression())
    pipe.fit(X1, y1)
    truth = stp.InfluenceExplainer(pipe).fit(X1, y1)
    ENTERED.clear()
    RELEASE.clear()
    explainer = stp.InfluenceExplainer(pipe)
    fitting = threading.Thread(target=lambda: explainer.fit(X1, y1), name="explainer")
    fitting.start()
    assert ENTERED.wait(WAIT_S)
    refitting, waited, _ = start_until_stopped(lambda: pipe.fit(X2, y2), [pipe], "refitter")
    RELEASE.set()
    fitting.join(WAIT_S)
    refitting.join(WAIT_S)
    assert waited
    assert explainer.model_fingerprint_ == truth.model_fingerprint_
    # fitted on the model before the refit: it refuses to explain the new one
    with pytest.raises(ValueError, match="explained model changed"):
        explainer.explain(X1[:3])


def _fit_while_refitted(explainer, X, y, refit):
    """``explainer.fit(X, y)`` in a thread held inside the model's steps while
    ``refit()`` runs in this one; what the fit raised and the warnings it gave."""
    ENTERED.clear()
    RELEASE.clear()
    out = {}

    def fit():
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            try:
                explainer.fit(X, y)
            except ValueError as e:
                out["error"] = e
        out["said"] = [str(w.message) for w in said]

    fitting = threading.Thread(target=fit, name="explainer")
    fitting.start()
    assert ENTERED.wait(WAIT_S)
    refit()  # a plain pipeline: nothing to wait for, it is refitted under the fit
    RELEASE.set()
    fitting.join(WAIT_S)
    return out


def test_an_untraced_model_refitted_during_the_explainers_fit_is_refused():
    # Before: the fit took the training rows through the refitted scaler and the
    # refitted model's parameters, recorded the new model's fingerprint and warned the
    # model was "not at the minimum" (145%: blaming the solver); explain then scored
    # X1's rows for a model trained on X2, without an error.
    X1, y1 = _data(0)
    X2, y2 = _data(1, shift=3.0)
    pipe = make_pipeline(Gate(), StandardScaler(), LogisticRegression()).fit(X1, y1)
    explainer = stp.InfluenceExplainer(pipe).fit(X1, y1)  # an earlier fit, complete
    out = _fit_while_refitted(explainer, X1, y1, lambda: pipe.fit(X2, y2))
    assert "changed while InfluenceExplainer.fit read it" in str(out.get("error"))
    assert not [m for m in out["said"] if "not at the minimum" in m], out["said"]
    # neither the refused fit nor the one before it answers a query
    with pytest.raises(ValueError, match="last fit did not complete"):
        explainer.explain(X1[:3])
    with pytest.raises(ValueError, match="last fit did not complete"):
        explainer.influence_sums(X1[:3], None, np.ones((1, 120), dtype=bool))


def _refit_at_leverages(monkeypatch, refits):
    """Refit the model (``refits()``) when the explainer's fit has its Hessian and is
    about to take the rows' leverages: the step a thread refitting it may reach."""
    from sktraceprop.influence import _fit_parts

    leverages = _fit_parts.leverages

    def refitted_then(*args, **kwargs):
        refits()
        return leverages(*args, **kwargs)

    monkeypatch.setattr(_fit_parts, "leverages", refitted_then)


def test_a_bare_model_refitted_after_the_hessian_is_refused(monkeypatch):
    # Before: no warning at all; the Hessian was the first fit's and the gradients
    # (read from coef_ at explain) the second's: scores 0.17 where an explainer fitted
    # on the model as it ended gives 6.2, and the recorded fingerprint the new model's.
    X1, y1 = _data(0)
    X2, y2 = _data(1, shift=3.0)
    X1, X2 = X1.to_numpy(), X2.to_numpy()
    model = LogisticRegression().fit(X1, y1)
    _refit_at_leverages(monkeypatch, lambda: model.fit(X2, y2))
    explainer = stp.InfluenceExplainer(model)
    with pytest.raises(ValueError, match=r"changed while InfluenceExplainer.fit read it \(fing"):
        explainer.fit(X1, y1)
    with pytest.raises(ValueError, match="last fit did not complete"):
        explainer.explain(X1[:3])


def test_a_model_refitted_twice_back_to_its_state_during_the_fit_is_refused(monkeypatch):
    # two refits (to X2, then to X1 again) while the fit reads: the fingerprint at the
    # end is the one at the start, but the reads in between saw the X2 model
    X1, y1 = _data(0)
    X2, y2 = _data(1, shift=3.0)
    X1, X2 = X1.to_numpy(), X2.to_numpy()
    model = LogisticRegression().fit(X1, y1)
    before = fingerprint(model)
    _refit_at_leverages(monkeypatch, lambda: model.fit(X2, y2).fit(X1, y1))
    with pytest.raises(ValueError, match="coef_.* replaced"):
        stp.InfluenceExplainer(model).fit(X1, y1)
    assert fingerprint(model) == before  # (what a fingerprint alone cannot tell)
    monkeypatch.undo()
    explainer = stp.InfluenceExplainer(model).fit(X1, y1)  # unchanged: fitted as before
    assert explainer.model_fingerprint_ == before


def test_an_untraced_model_refitted_there_and_back_during_explain_is_refused():
    # refitted to other rows once the query has begun and back to its first state
    # before it ends, by another thread: the fingerprint before and after is the same,
    # but the rows were transformed by the middle fit's steps. Before: an explanation
    # of the middle model's margins (-3.53 where the model explained gives 0.44), scored
    # with the first one's Hessian, without an error.
    X1, y1 = _data(0)
    X2, y2 = _data(1, shift=3.0)
    pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(X1, y1)
    before = fingerprint(pipe)
    explainer = stp.InfluenceExplainer(pipe).fit(X1, y1)
    Xq = X1[:6]
    truth = explainer.explain(Xq, top_k=3)
    scored = explainer._explanation
    seen = {}

    def in_a_thread(fit):
        refitting = threading.Thread(target=fit, name="refitter")
        refitting.start()
        refitting.join(WAIT_S)
        assert not refitting.is_alive()

    def refitted_there_and_back(*args):
        in_a_thread(lambda: pipe.fit(X2, y2))
        seen["margins"] = scored(*args).margins
        in_a_thread(lambda: pipe.fit(X1, y1))
        return scored(*args)

    explainer._explanation = refitted_there_and_back
    with pytest.raises(ValueError, match="explained model changed while.*coef_.*replaced"):
        explainer.explain(Xq, top_k=3)
    assert fingerprint(pipe) == before  # (what a fingerprint alone cannot tell)
    assert not np.allclose(seen["margins"], truth.margins)  # (the middle model was read)
    del explainer._explanation
    np.testing.assert_allclose(explainer.explain(Xq, top_k=3).margins, truth.margins)
