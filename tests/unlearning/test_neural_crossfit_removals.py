"""The crossfit target of a removal after earlier ones. Its retrain lacks every row
removed since ``fit``, so the holdout level is interpolated at that share of the fit's
rows (it was at this removal's rows over those still held: 3 of 60 where a retrain
lacks 33 of 90). Where the holdout is the skorch validation split, its rows of removed
data leave it: the two holdout levels were still means over them, a removal said "not
used by this removal" and kept their losses. Truths: the formula of the user guide on
the values measured at ``fit``, the fitted model's own loss on each validation row
(:func:`~sktraceprop.metrics.per_sample_loss`), and the row counts of the events."""

import copy
import warnings

import numpy as np
import pytest

import sktraceprop as stp
from sktraceprop.metrics import per_sample_loss
from sktraceprop.unlearning import GradientCorrectionUnlearner

torch = pytest.importorskip("torch")
skorch = pytest.importorskip("skorch")

from tests._torch_nets import tanh_classifier  # noqa: E402


def _data(name, n=90):
    rng = np.random.default_rng(0)
    raw = rng.normal(size=(n + 30, 4)).astype(np.float32)
    y = (np.arange(n + 30) % 3).astype(np.int64)
    ids = stp.row_ids(stp.from_numpy(raw[:n], f"neural_crossfit_removals_{name}"))
    return raw[:n], y[:n], ids, raw[n:], y[n:]


def _fit(name, train_split=None, **params):
    raw, y, ids, X_ho, y_ho = _data(name)
    torch.manual_seed(0)
    unl = GradientCorrectionUnlearner(
        tanh_classifier(max_epochs=3, train_split=train_split),
        calibration="crossfit",
        n_crossfit=3,
        crossfit_folds=3,
        random_state=0,
        n_steps=1,
        lr=0.05,
        **params,
    )
    holdout = {} if train_split is not None else {"X_holdout": X_ho, "y_holdout": y_ho}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the net's rows are an array's: said)
        unl.fit(raw, y, sample_id=ids, **holdout)
    return unl, raw, y, ids


def _unlearn(unl, **request):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        unl.unlearn(**request)
    return unl.unlearning_log_[-1]


def _target(cf, rows, fraction, model_level, clones_level):
    """The user guide's target, by hand."""
    level = model_level + (clones_level - model_level) * fraction / cf["left_out"]
    return cf["unseen"][rows].mean() * level / clones_level


def test_a_later_removal_is_corrected_to_every_row_removed_since_fit():
    unl, raw, y, ids = _fit("later")
    cf = copy.deepcopy(unl._method.crossfit)
    levels = cf["model_holdout"], cf["clones_holdout"]
    first = _unlearn(unl, sample_id=ids[:30])
    assert first["calibration_target"] == pytest.approx(
        _target(cf, np.arange(30), 30 / 90, *levels), rel=1e-12
    )
    second = _unlearn(unl, sample_id=ids[30:33])
    # its retrain trains on the 57 rows left: 33 of the 90 rows fitted on are missing
    assert second["n_retained"] == 57
    assert second["calibration_target"] == pytest.approx(
        _target(cf, np.arange(30, 33), 33 / 90, *levels), rel=1e-12
    )
    assert second["calibration_target"] != pytest.approx(
        _target(cf, np.arange(30, 33), 3 / 60, *levels), rel=1e-6
    )
    assert "33 of the 90 rows removed, 3 now" in second["calibration_source"]


@pytest.mark.parametrize("neural_method", ["correct", "refit"])
def test_validation_rows_of_removed_data_leave_the_crossfit_holdout(neural_method):
    unl, raw, y, ids = _fit(f"valid_{neural_method}", skorch.dataset.ValidSplit(5))
    trained_ids = unl.train_row_ids_
    valid = ~np.isin(ids, trained_ids)
    assert valid.sum() == 18
    cf = copy.deepcopy(unl._method.crossfit)
    # the truth for each validation row: the fitted model's own loss on it
    truth = per_sample_loss(unl.estimator_, raw[valid], y[valid])
    np.testing.assert_allclose(cf["holdout_full"], truth, rtol=1e-5)
    assert cf["model_holdout"] == pytest.approx(truth.mean(), rel=1e-5)
    unl.set_params(neural_method=neural_method)
    event = _unlearn(unl, sample_id=np.r_[ids[valid][:4], trained_ids[:3]])
    assert event["validation_rows_dropped"] == 4 and event["n_removed"] == 3
    kept = unl._method.crossfit
    # the dropped rows' losses are gone; the levels are those of the 14 rows that stay
    np.testing.assert_array_equal(kept["holdout_full"], cf["holdout_full"][4:])
    np.testing.assert_array_equal(kept["holdout_clones"], cf["holdout_clones"][:, 4:])
    assert kept["model_holdout"] == pytest.approx(truth[4:].mean(), rel=1e-5)
    assert kept["clones_holdout"] == pytest.approx(cf["holdout_clones"][:, 4:].mean())
    if neural_method == "correct":
        expected = _target(
            cf, np.arange(3), 3 / 72, truth[4:].mean(), cf["holdout_clones"][:, 4:].mean()
        )
        assert event["calibration_target"] == pytest.approx(expected, rel=1e-5)
        assert "4 row(s) of the validation split" in event["calibration_source"]
    # a later correction uses the levels measured without them
    event = _unlearn(unl.set_params(neural_method="correct"), sample_id=trained_ids[3:5])
    expected = _target(
        cf, np.arange(3, 5), 5 / 72, truth[4:].mean(), cf["holdout_clones"][:, 4:].mean()
    )
    assert event["calibration_target"] == pytest.approx(expected, rel=1e-5)


def test_a_removal_with_no_holdout_row_left_is_refused():
    unl, raw, y, ids = _fit("none_left", skorch.dataset.ValidSplit(5))
    valid = ~np.isin(ids, unl.train_row_ids_)
    with pytest.warns(UserWarning, match="validation split"):
        unl.unlearn(sample_id=ids[valid])  # only validation rows: dropped, no event
    kept = unl._method.crossfit
    assert kept["holdout_full"].size == 0 and kept["holdout_clones"].shape == (3, 0)
    assert kept["model_holdout"] is None and kept["holdout_dropped"] == 18
    before = unl.predict_proba(raw)
    with pytest.raises(ValueError, match="no holdout rows left"):
        unl.unlearn(sample_id=unl.train_row_ids_[:3])
    np.testing.assert_array_equal(unl.predict_proba(raw), before)
    assert unl.unlearning_log_ == [] and unl.retained_mask_.all()
    # the way out it names
    event = _unlearn(unl.set_params(calibration="none"), sample_id=unl.train_row_ids_[:3])
    assert event["calibration"] == "none" and event["n_removed"] == 3


def test_a_holdout_given_at_fit_is_kept_when_validation_rows_go():
    from sktraceprop.unlearning._crossfit import crossfit_holdout_kept

    unl, *_ = _fit("x_holdout")
    cf = unl._method.crossfit
    assert cf["holdout_source"] == "X_holdout"
    assert crossfit_holdout_kept(cf, np.zeros(0, dtype=bool)) is cf
