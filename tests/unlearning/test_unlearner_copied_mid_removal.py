"""A GradientCorrectionUnlearner copied while its removal is swapped in.

A removal is computed on copies, then swapped into the unlearner attribute by attribute
(the model, its removal method, the fingerprint, the retained rows, the certificate, the
log), holding the model's lock alone; pickle and ``copy.deepcopy`` do not wait for it. A
copy taken meanwhile in another thread carried no mark: it held the corrected model
with the log of before (its ``predict`` answered, its ``unlearning_log_`` listed no
removal). Each copy is now refused, naming the removal; so is an unlearner whose swap
raised part way, until it is fitted again. The removal is held between two of its
updates by an event (no sleep); the truth is the original's state once the removal
returned, and a retrain on the rows kept.
"""

import warnings

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop.unlearning import GradientCorrectionUnlearner, _record
from tests._gate import COPIES, HeldDrop, copy_while_removal_held, removal_data

REFUSED = (
    r"copied \(pickled or deep-copied\) while a removal of its rows by "
    r"GradientCorrectionUnlearner \(its unlearning event .*\) was under way"
)


def _data(n=30, seed=0):
    return removal_data("unlearner_copied", n, seed)


def _quiet(call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the removal's caveats: not what is tested)
        return call()


@pytest.mark.parametrize("how", list(COPIES))
@pytest.mark.parametrize("removed", [[3, 7, 11, 20], [0, 5]])
def test_an_unlearner_copied_during_its_removal_is_refused(how, removed):
    X, y = _data()
    unl = GradientCorrectionUnlearner(LogisticRegression()).fit(X, y)
    ids = stp.row_ids(X)[removed]

    def hold(held, go):
        # released when certificate_ is set: the model, the method and the rows kept
        # are the removal's, the log not yet
        unl.__dict__["certificate_"] = HeldDrop(held, go)

    copied = copy_while_removal_held(
        lambda: _quiet(lambda: unl.unlearn(sample_id=ids)), hold, lambda: COPIES[how](unl)
    )
    # the truth: the original, once the removal returned, equals a retrain on the rest
    kept = np.setdiff1d(np.arange(len(y)), removed)
    retrain = LogisticRegression(tol=1e-12, max_iter=10_000).fit(np.asarray(X)[kept], y[kept])
    np.testing.assert_allclose(unl.estimator_.coef_, retrain.coef_, atol=1e-6)
    assert len(unl.unlearning_log_) == 1 and unl.predict(X).shape == (len(y),)
    # the copy holds the corrected model with the log of before: refused, naming it
    assert len(copied.__dict__.get("unlearning_log_", [])) == 0
    for use in (
        lambda: copied.predict(X),
        lambda: copied.score(X, y),
        lambda: copied.unlearn(sample_id=stp.row_ids(X)[[1]]),
    ):
        with pytest.raises(ValueError, match=REFUSED):
            _quiet(use)
    assert "GradientCorrectionUnlearner" in copied._repr_html_()  # (shown, not fitted)
    # fitted again, it answers
    _quiet(lambda: copied.fit(X, y))
    assert copied.predict(X).shape == (len(y),) and copied.unlearning_log_ == []


def test_an_unlearner_whose_swap_raised_part_way_is_refused_until_refitted(monkeypatch):
    X, y = _data(seed=1)
    unl = GradientCorrectionUnlearner(LogisticRegression()).fit(X, y)

    def fails(*args, **kwargs):
        raise OSError("disk gone")

    monkeypatch.setattr(_record, "record_trained_rows", fails)
    with pytest.raises(OSError, match="disk gone"):
        _quiet(lambda: unl.unlearn(sample_id=stp.row_ids(X)[[2, 9]]))
    monkeypatch.undo()
    # its model is corrected, its rows kept and log are not: it answers nothing
    for use in (lambda: unl.predict(X), lambda: unl.unlearn(sample_id=stp.row_ids(X)[[4]])):
        with pytest.raises(ValueError, match="raised part way through this Gradient"):
            _quiet(use)
    unl.fit(X, y)
    assert unl.predict(X).shape == (len(y),)
    _quiet(lambda: unl.unlearn(sample_id=stp.row_ids(X)[[2, 9]]))
    assert len(unl.unlearning_log_) == 1
