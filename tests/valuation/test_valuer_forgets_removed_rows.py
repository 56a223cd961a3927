"""A KNNShapleyValuer fitted on rows an unlearner then removes drops them: their feature
values are found neither in the valuer's __dict__ nor in its pickle bytes, and its values
of the rows kept equal those of a valuer fitted afresh on the rows kept (KNN-Shapley
depends on the training set only, not on the model the unlearner corrects)."""

import pickle
import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop import KNNShapleyValuer
from sktraceprop.unlearning import GradientCorrectionUnlearner


def _distinct(n, seed):
    rng = np.random.default_rng(seed)
    # values no other row holds, centred near 0 (no shift: stored as given)
    X = rng.random((n, 3)) - 0.5 + np.arange(n)[:, None] * 1e-9
    y = (rng.random(n) > 0.5).astype(int)
    y[:2] = [0, 1]
    return stp.from_numpy(X, source_id="forget"), y


@settings(deadline=None, max_examples=8)
@given(n=st.integers(12, 30), k=st.integers(1, 5), seed=st.integers(0, 100))
def test_removed_rows_are_dropped_and_values_match_a_fresh_valuer(n, k, seed):
    X, y = _distinct(n, seed)
    valuer = KNNShapleyValuer(n_neighbors=3).fit(X, y)
    unl = GradientCorrectionUnlearner(LogisticRegression()).fit(X, y)
    removed = np.random.default_rng(seed).choice(
        np.arange(2, n), size=min(k, n - 3), replace=False
    )
    ids = stp.row_ids(X)[removed]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        unl.unlearn(sample_id=ids)
    event = unl.unlearning_log_[-1]
    assert event["dropped_elsewhere"] == {"KNNShapleyValuer": removed.size}
    assert "KNNShapleyValuer" not in event.get("held_elsewhere", {})
    # truth 1: no removed row's value anywhere in the valuer's state or pickle
    raw = pickle.dumps(valuer)
    assert valuer._shift is None and valuer._scale is None  # (stored as given)
    arrays = [v for v in vars(valuer).values() if isinstance(v, np.ndarray)]
    for row in np.asarray(X)[removed]:
        for value in row:
            assert np.float64(value).tobytes() not in raw
            assert not any(np.isin(value, a).any() for a in arrays if a.dtype.kind == "f")
    # truth 2: a valuer fitted afresh on the rows kept
    keep = np.setdiff1d(np.arange(n), removed)
    fresh = KNNShapleyValuer(n_neighbors=3).fit(X.iloc[keep], y[keep])
    np.testing.assert_array_equal(valuer.row_ids_, fresh.row_ids_)
    Xv, yv = X.iloc[:5], y[:5]
    np.testing.assert_allclose(valuer.value(Xv, yv), fresh.value(Xv, yv), atol=1e-12)


def test_a_removal_not_recorded_says_which_objects_dropped_rows(monkeypatch):
    """The objects drop the rows while the removal's caveats are gathered, before the
    event is committed: where the commit then fails, the error says which objects no
    longer describe the model the unlearner still holds."""
    from sktraceprop.unlearning import _record

    X, y = _distinct(20, 3)
    valuer = KNNShapleyValuer(n_neighbors=3).fit(X, y)
    unl = GradientCorrectionUnlearner(LogisticRegression()).fit(X, y)

    def failing_commit(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(_record, "commit", failing_commit)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            unl.unlearn(sample_id=stp.row_ids(X)[[4, 5]])
        except OSError as err:
            notes = " ".join(getattr(err, "__notes__", []))
        else:
            raise AssertionError("the failing commit was not reached")
    assert "KNNShapleyValuer" in notes and "fit them again" in notes
    assert len(unl.unlearning_log_) == 0
    assert valuer.row_ids_.size == 18
