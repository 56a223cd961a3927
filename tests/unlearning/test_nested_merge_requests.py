"""Removal requests that name a merge nested in another (``m`` of ``stp.merge(m, c)``),
by source or by its rows.

A request reached a training row through its own id or the file lines behind it only,
not through the merged rows of an inner merge: ``unlearn(source_id="m")`` and
``unlearn(sample_id=<rows of m>)`` raised that the model never trained on them, and
``forget=["m"]`` at fit removed nothing, warning that no training row was merged from
``m`` (the model kept every row it was asked to forget). An object fitted on the inner
merge's rows was not named as keeping removed data. The truth is the key each training
row was merged on (merges on a key 0..n-1: row i of m2 is built from row i of m).
"""

import warnings

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop.unlearning import GradientCorrectionUnlearner
from tests._row_keeper import RowKeeper

N = 12


def _training(path):
    """``(X, y, m)``: rows of m2 = merge(merge(a, b), c), then rows of another file d."""
    rng = np.random.default_rng(0)
    path.mkdir(parents=True, exist_ok=True)
    keys = np.arange(N)
    pd.DataFrame({"key": keys, "x": rng.normal(size=N)}).to_csv(path / "a.csv", index=False)
    pd.DataFrame({"key": keys, "y": keys % 2}).to_csv(path / "b.csv", index=False)
    pd.DataFrame({"key": keys, "w": rng.normal(size=N)}).to_csv(path / "c.csv", index=False)
    pd.DataFrame({"x": rng.normal(size=N), "w": rng.normal(size=N), "y": keys % 2}).to_csv(
        path / "d.csv", index=False
    )
    a, b, c, d = (stp.read_csv(path / f"{k}.csv") for k in "abcd")
    m = stp.merge(a, b, on="key", source_id="m")
    m2 = stp.merge(m, c, on="key", source_id="m2")
    rows = pd.concat([m2[["x", "w", "y"]], d])
    return rows[["x", "w"]], rows["y"], m


def _quiet(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = call()
    return out, [str(w.message) for w in caught]


def test_unlearn_by_the_source_of_an_inner_merge(tmp_path):
    X, y, _ = _training(tmp_path)
    unl = GradientCorrectionUnlearner(LogisticRegression()).fit(X, y)
    # the truth: the first N training rows were merged from m's rows, the rest from d
    assert (stp.row_lineage(X).groupby("row")["via"].first().eq("m2")).sum() == N
    _quiet(lambda: unl.unlearn(source_id="m"))  # old code: "never trained on"
    assert unl.retained_mask_.tolist() == [False] * N + [True] * N
    assert unl.unlearning_log_[-1]["n_removed"] == N


def test_unlearn_by_rows_of_an_inner_merge(tmp_path):
    X, y, m = _training(tmp_path)
    unl = GradientCorrectionUnlearner(LogisticRegression()).fit(X, y)
    named = [2, 5, 7]
    _quiet(lambda: unl.unlearn(sample_id=stp.row_ids(m)[named]))  # old code: raised
    # row i of m2 (training row i) was merged from row i of m
    assert np.flatnonzero(~unl.retained_mask_).tolist() == named
    assert unl.unlearning_log_[-1]["request"]["parents_of_merged_rows"] == len(named)


def test_forget_at_fit_names_an_inner_merge(tmp_path):
    X, y, _ = _training(tmp_path)
    unl, said = _quiet(
        lambda: GradientCorrectionUnlearner(LogisticRegression(), forget=["m"]).fit(X, y)
    )
    # old code: nothing removed, and a warning that no training row came from m
    assert not [s for s in said if "no training row of this fit" in s]
    assert unl.retained_mask_.tolist() == [False] * N + [True] * N
    # the model is the one retrained without them (lbfgs stops at tol 1e-4), far from
    # the one trained on every row
    refit = LogisticRegression().fit(X.iloc[N:], y.iloc[N:])
    full = LogisticRegression().fit(X, y)
    np.testing.assert_allclose(unl.estimator_.coef_, refit.coef_, atol=1e-3)
    assert np.abs(full.coef_ - refit.coef_).max() > 0.05


def test_an_object_fitted_on_the_inner_merge_is_named(tmp_path):
    X, y, m = _training(tmp_path)
    # (a RowKeeper keeps its rows and is named; a KNNShapleyValuer drops them)
    valuer = RowKeeper().fit(m[["x"]], m["y"])
    knn = stp.KNNShapleyValuer(n_neighbors=3).fit(m[["x"]], m["y"])
    unl = GradientCorrectionUnlearner(LogisticRegression()).fit(X, y)
    _quiet(lambda: unl.unlearn(source_id="m"))
    # the valuer keeps every row of m, which the request names whole: N rows
    assert np.array_equal(valuer._held_row_ids(), stp.row_ids(m))
    assert unl.unlearning_log_[-1]["held_elsewhere"] == {"RowKeeper": N}
    assert unl.unlearning_log_[-1]["dropped_elsewhere"] == {"KNNShapleyValuer": N}
    assert knn.n_samples_fit_ == 0
